"""Text made safe to show: control characters made visible, the way `git` and `less` show them.

Titles, notes, paths and imported text come from files that anyone may have written. Printed as they are,
an ESC starts a terminal escape sequence (set the window title, clear the screen, a hidden hyperlink) and a
bidi override reorders what the reader sees. `visible` is applied wherever such text enters output (render.py,
the stderr lines of cli.py, graphs.py, completion, the markdown export); stored data is never changed.
Standard library only, so any module may import it at start-up.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline; DEL; C1 controls; the Arabic letter mark, LRM and RLM; line and paragraph
# separators; bidi embeddings, overrides and isolates; the deprecated format controls after them; interlinear
# annotations; lone surrogates (which a UTF-8 stream cannot even encode). A CR right before a newline is a
# Windows line end and is dropped, as `less` does.
UNSAFE = re.compile(
    "\r(?=\n)|[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u206f\ufff9-\ufffb\ud800-\udfff]"
)


def _shown(match: re.Match[str]) -> str:
    char = match[0]
    code = ord(char)
    if char == "\r" and match.end() < len(match.string) and match.string[match.end()] == "\n":
        return ""
    if code < 0x20:
        return "^" + chr(code + 0x40)  # ESC -> ^[, BEL -> ^G, NUL -> ^@
    if code == 0x7F:
        return "^?"
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """`text` with every control character that could act on a terminal (or reorder what it shows) made
    visible: C0 controls as `^[`, `^G`, DEL as `^?`, the rest as `<U+202E>`. Newlines and tabs stay.
    Idempotent, and the text comes back unchanged (the same object) when there is nothing to replace."""
    if UNSAFE.search(text) is None:
        return text
    return UNSAFE.sub(_shown, text)


def json_escaped(json_text: str) -> str:
    """JSON text (as `json.dumps` writes it, which escapes C0 controls itself) with DEL, C1 and the other
    characters above written as `\\uXXXX` escapes: programs read the same data, a terminal gets no raw
    control. Outside strings JSON is ASCII, so every match is inside a string, where the escape is valid."""
    return UNSAFE.sub(lambda match: f"\\u{ord(match[0]):04x}", json_text)
