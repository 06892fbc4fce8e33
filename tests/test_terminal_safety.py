"""Terminal-safe output: text from a roadmap file, a note, an import or a path reaches the terminal with every
control character made visible (`^[`, `<U+202E>`), in every command, error, warning, the graph output and the
markdown export, while the stored data stays as written (issue 11, problem 6)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from llmpath.terminal import json_escaped, visible

from .conftest import MINI, Cli

# What an attacker puts in a text field: a window title (OSC 0), clear screen (CSI 2J), a hidden hyperlink
# (OSC 8), a C1 CSI, bidi overrides and isolates, a right-to-left mark, BEL and DEL.
PAYLOAD = (
    "\x1b]0;pwned\x07"
    "\x1b[2J"
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
    "\x9b31m"
    "\u202eevil\u202c\u2066iso\u2069\u200f"
    "\x07\x7f"
)
SHOWN = "^[]0;pwned^G^[[2J"  # how the start of the payload reads once made visible
# Written independently of llmpath.terminal: the characters a terminal acts on or that reorder text.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def hostile(value: str) -> str:
    return f"{value} {PAYLOAD}"


def assert_safe(result, code: int = 0):
    """The command ran as expected and neither stream carries a raw control character."""
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    for name, stream in (("stdout", result.stdout), ("stderr", result.stderr)):
        found = RAW.search(stream)
        context = found and stream[max(0, found.start() - 60) : found.end() + 20]
        assert found is None, f"raw {found and found[0]!r} on {name}: {context!r}"
    return result


def hostile_roadmap_text(extra_topic_field: str | None = None) -> str:
    """mini.yaml with the payload in every text field (titles, summaries, concepts, tools, resources, tracks,
    sources). URLs take it too: their pattern refuses only whitespace."""
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["title"] = hostile(data["title"])
    data["description"] = hostile(data["description"])
    for source in data["sources"]:
        source["title"] = hostile(source["title"])
        source["url"] = f"https://example.com/source/{PAYLOAD}"
    for phase in data["phases"]:
        phase["title"] = hostile(phase["title"])
        phase["summary"] = hostile(phase.get("summary", "About"))
        for topic in phase["topics"]:
            topic["title"] = hostile(topic["title"])
            topic["summary"] = hostile(topic.get("summary", "About"))
            topic["concepts"] = [hostile("concept"), hostile("other")]
            topic["tools"] = [hostile("tool")]
            topic["resources"] = [
                {"title": hostile("Read me"), "url": f"https://example.com/{topic['id']}/{PAYLOAD}"}
            ]
    for track in data["tracks"]:
        track["title"] = hostile(track["title"])
        track["summary"] = hostile(track["summary"])
    if extra_topic_field is not None:
        data["phases"][0]["topics"][0][extra_topic_field] = "x"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    folder = tmp_path / "in \x1b]0;pwned\x07\x1b[2J\x9b\u202e folder"  # paths are shown too
    folder.mkdir()
    file = folder / "roadmap.yaml"
    file.write_text(hostile_roadmap_text(), encoding="utf-8")
    return file


@pytest.fixture
def hcli(hostile_file: Path) -> Cli:
    return Cli(hostile_file)


def test_the_hostile_roadmap_loads_with_its_payload_intact(hcli: Cli):
    """The premise of the tests below: every field holds the raw payload, and data (JSON) keeps it as is,
    with the controls JSON allows raw (DEL, C1, bidi) written as \\u escapes."""
    out = assert_safe(hcli("show", "python", "--json")).stdout
    assert "\\u001b]0;pwned\\u0007" in out and "\\u009b31m\\u202eevil" in out
    info = json.loads(out)
    assert info["title"] == hostile("Python")
    assert info["summary"] == hostile("The language.")
    assert info["resources"][0]["url"].endswith(PAYLOAD)
    assert info["concepts"][0] == hostile("concept")


def unsafe(result) -> str | None:
    """What is wrong with a command's output: None when it ran and both streams are free of raw controls."""
    for name, stream in (("stdout", result.stdout), ("stderr", result.stderr)):
        found = RAW.search(stream)
        if found:
            return f"raw {found[0]!r} on {name}: {stream[max(0, found.start() - 40) : found.end() + 10]!r}"
    if "pwned^G" not in result.stdout + result.stderr:  # the hostile text is there, made visible
        return (
            f"exit {result.exit_code}, payload not shown: {result.stdout[-300:]!r} {result.stderr[-300:]!r}"
        )
    return None


def test_every_command_shows_roadmap_text_note_and_paths_made_visible(
    hcli: Cli, hostile_file: Path, monkeypatch: pytest.MonkeyPatch
):
    from llmpath import store

    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    monkeypatch.setattr(store, "now", lambda: at)
    problems: dict[str, str | None] = {}

    def check(*args: str) -> None:
        problems[" ".join(args) or "(dashboard)"] = unsafe(hcli(*args))

    check("next")
    check()  # the dashboard
    check("note", "python", f"first line {PAYLOAD}\r\nsecond\rline")
    check("start", "math")
    check("done", "python", "math")  # and "Now available: …"
    check("done", "linear-models")
    for args in (
        ("next", "--sort", "unlocks"),
        ("status",),
        ("status", "basics"),
        ("show", "python"),
        ("show", "build-mlp"),  # requires, blocked-by tree
        ("show", "numpy"),  # unlocks
        ("path", "build-mlp"),
        ("log",),
        ("roadmaps",),
        ("paths",),
        ("sync",),
        ("goal", "numpy"),
        ("track",),
        ("track", "coder"),
        ("stats", "--eta"),
        ("graph",),
        ("graph", "--format", "dot"),
        ("export",),
        ("export", "--graph"),
        ("validate", str(hostile_file)),
        ("notes",),
        ("notes", "python"),
        ("doctor",),
        ("init", str(hostile_file.parent / "starter.yaml")),
    ):
        check(*args)
    hostile_file.write_text(hostile_file.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    check("status", "--json")  # the re-load notice names the roadmap on stderr
    monkeypatch.setattr(store, "now", lambda: at + timedelta(days=3))
    check("review", "--every", "1d")
    check("use", str(hostile_file))
    assert {command: problem for command, problem in problems.items() if problem} == {}
    # Tab completion shows titles next to ids (zsh, fish): from the roadmap `use` chose.
    from llmpath.completion import complete_phase, complete_topic, complete_track

    offered = complete_topic(None, "") + complete_phase(None, "") + complete_track(None, "")
    assert {"python", "py", "math", "basics", "coder"} <= {name for name, _ in offered}
    assert all(RAW.search(title) is None and "pwned^G" in title for _, title in offered)
    shown = hcli("show", "python").stdout
    assert "<U+202E>evil<U+202C>" in shown and "first line" in shown and "second^Mline" in shown


def test_rich_terminal_output_carries_only_richs_own_escapes(hcli: Cli, monkeypatch: pytest.MonkeyPatch):
    """With colours on (a terminal), the only ESC left are Rich's styles and links, and no link target
    carries a control character."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert hcli("note", "python", PAYLOAD).exit_code == 0
    assert hcli("start", "python").exit_code == 0
    for args in (("show", "python"), ("next",), ("status",), ("log",), ()):
        out = hcli(*args).stdout
        assert "\x1b[" in out, args  # styled: the test does look at a terminal's output
        links = re.findall(r"\x1b\]8;[^;\x1b]*;([^\x1b]*)\x1b\\", out)
        stripped = re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;[^;\x1b]*;[^\x1b]*\x1b\\", "", out)
        assert RAW.search(stripped) is None, (args, stripped)
        assert all(RAW.search(link) is None for link in links)
    show = hcli("show", "python").stdout
    assert any(
        link.startswith("https://example.com/python/^[")
        for link in re.findall(r"\x1b\]8;[^;]*;(h[^\x1b]*)", show)
    )


def test_imports_errors_and_validate_show_file_text_made_visible(hcli: Cli, tmp_path: Path):
    checklist = tmp_path / f"list{PAYLOAD[:12]}.md"
    checklist.write_text(
        f"# x\n\n- [x] {PAYLOAD} `no-such-topic`\n- [x] {PAYLOAD}\n- [x] Math `math`\n", encoding="utf-8"
    )
    result = assert_safe(hcli("import", str(checklist)))
    assert result.stderr.count("warning:") == 2 and SHOWN in result.stderr

    backup = {
        "format": "llmpath-progress",
        "version": 1,
        "roadmap": {"id": "mini", "title": PAYLOAD},
        "topics": [
            {
                "id": "python",
                "title": PAYLOAD,
                "status": "done",
                "notes": [{"at": "2026-01-02T03:04:05Z", "text": PAYLOAD}],
            },
            {"id": "ghost-topic", "title": PAYLOAD, "status": "done"},
        ],
    }
    backup_file = tmp_path / f"backup{PAYLOAD[:12]}.json"
    backup_file.write_text(json.dumps(backup), encoding="utf-8")
    assert "pwned^G" in assert_safe(hcli("import", str(backup_file))).stdout  # "Imported … from FILE"
    assert SHOWN in assert_safe(hcli("show", "python")).stdout  # the imported note

    backup["roadmap"]["id"] = "other-roadmap"
    backup_file.write_text(json.dumps(backup), encoding="utf-8")
    assert "pwned^G" in assert_safe(hcli("import", str(backup_file)), code=1).stderr  # the error boundary
    assert "^[" in assert_safe(hcli("show", f"nothing{PAYLOAD}"), code=1).stderr
    assert "pwned^G" in assert_safe(hcli("note", "python", PAYLOAD, "--edit"), code=2).stderr  # Typer's

    bad = tmp_path / "bad.yaml"
    bad.write_text(hostile_roadmap_text(extra_topic_field=f"field{PAYLOAD}"), encoding="utf-8")
    result = assert_safe(Cli()("validate", str(bad)), code=1)
    assert "error:" in result.stderr and "field^[" in result.stderr
    result = assert_safe(Cli(bad)("next"), code=1)  # the same file as the roadmap of a command
    assert "field^[" in result.stderr


def test_markdown_export_file_has_no_raw_control_characters(hcli: Cli, tmp_path: Path):
    assert hcli("note", "python", f"a note {PAYLOAD}").exit_code == 0
    out = tmp_path / "progress.md"
    assert_safe(hcli("export", "--graph", "-o", str(out)))
    text = out.read_text(encoding="utf-8")
    assert RAW.search(text) is None
    assert "Python ^\\[\\]0;pwned^G" in text  # visible, then markdown-escaped
    assert "a note ^\\[" in text


# --- the function -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;pwned\x07", "^[]0;pwned^G"),
        ("\x1b[2J", "^[[2J"),
        ("a\x00b\x08c\x0bd\x0ce\x1f", "a^@b^Hc^Kd^Le^_"),
        ("lone\rcarriage", "lone^Mcarriage"),
        ("windows\r\nline end", "windows\nline end"),
        ("del\x7f", "del^?"),
        ("c1\x9b31m\x85\x80\x9f", "c1<U+009B>31m<U+0085><U+0080><U+009F>"),
        ("\u202eevil\u202c", "<U+202E>evil<U+202C>"),
        (
            "\u202a\u202b\u202d\u2066\u2067\u2068\u2069",
            "<U+202A><U+202B><U+202D><U+2066><U+2067><U+2068><U+2069>",
        ),
        ("\u200e\u200f\u061c", "<U+200E><U+200F><U+061C>"),
        ("\u2028\u2029", "<U+2028><U+2029>"),
        ("\ud800 lone surrogate", "<U+D800> lone surrogate"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("Ça va — naïve 日本語 👩‍💻 ∑", "Ça va — naïve 日本語 👩‍💻 ∑"),  # the ZWJ of an emoji stays
        ("^[ already visible <U+202E>", "^[ already visible <U+202E>"),
    ],
)
def test_visible_shows_controls_as_git_and_less_do(raw: str, shown: str):
    assert visible(raw) == shown


def test_json_escaped_is_the_same_data_without_raw_controls():
    data = {"t": PAYLOAD + "\ud800 é 日本 👩‍💻", "\u202ekey": [1, "\x85"]}
    text = json_escaped(json.dumps(data, ensure_ascii=False, indent=2))
    assert RAW.search(text) is None and "é 日本 👩‍💻" in text
    text.encode("utf-8")
    assert json.loads(text) == data


def test_visible_returns_clean_text_itself():
    text = "Plain title (with brackets) [x]"
    assert visible(text) is text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_visible_leaves_nothing_a_terminal_acts_on(text: str):
    shown = visible(text)
    assert RAW.search(shown) is None
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in shown)
    shown.encode("utf-8")  # printable on any UTF-8 terminal
    assert visible(shown) == shown
    if RAW.search(text) is None and "\r" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert shown == text


def test_render_link_targets_and_graph_labels_are_safe():
    """The OSC 8 target Rich writes for a resource, and the Mermaid and DOT labels, carry no control."""
    from rich.console import Console

    from llmpath import graphs, render
    from llmpath.planner import Graph, PhaseInfo, TopicInfo

    info = {
        "id": "t",
        "title": PAYLOAD,
        "phase_title": PAYLOAD,
        "kind": "topic",
        "hours": 1.0,
        "state": "available",
        "status": "todo",
        "summary": PAYLOAD,
        "concepts": [PAYLOAD],
        "tools": [PAYLOAD],
        "resources": [{"title": PAYLOAD, "url": f"https://e.example/{PAYLOAD}"}],
        "notes": [{"at": datetime(2026, 1, 1, tzinfo=UTC), "text": PAYLOAD}],
    }
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, color_system="truecolor", width=300).print(
        render.topic_panel(info)
    )
    out = buffer.getvalue()
    links = re.findall(r"\x1b\]8;[^;\x1b]*;([^\x1b]+)\x1b\\", out)
    assert links and all(RAW.search(link) is None for link in links)
    stripped = re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;[^;\x1b]*;[^\x1b]*\x1b\\", "", out)
    assert RAW.search(stripped) is None

    graph = Graph([PhaseInfo("p", PAYLOAD)], {"t": TopicInfo("t", PAYLOAD, "p", 0, 1.0)}, {"t": []})
    for text in (graphs.mermaid(graph, {}), graphs.dot(graph, {})):
        assert RAW.search(text) is None and "^[]0;pwned^G" in text
    assert render.topic_ref(PAYLOAD, "t").startswith("^[]0;pwned^G")
    assert RAW.search(render.line(PAYLOAD, (PAYLOAD, "bold")).plain) is None


def test_the_console_shows_even_a_text_built_without_safe_text_safely():
    """The last line of defence: a `Text` that still holds controls is shown visibly, its styles kept."""
    from rich.table import Table
    from rich.text import Text

    from llmpath import render

    buffer = io.StringIO()
    console = render.SafeConsole(file=buffer, force_terminal=True, color_system="standard", width=200)
    table = Table()
    table.add_column("x")
    table.add_row(Text.assemble(("bold\x1b[2J", "bold"), " plain\u202e"))
    console.print(Text.assemble(("bold\x1b[2J", "bold"), " plain\u202e"), table, f"a string {PAYLOAD}")
    out = buffer.getvalue()
    assert "\x1b[1m^[\x1b[0m" in out  # still bold
    shown = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert RAW.search(shown) is None
    assert "bold^[[2J plain<U+202E>" in shown and "a string ^[]0;pwned^G" in shown
    # In the table it was measured as it came (ESC and U+202E take no width), so the cell wraps; still safe.
    assert shown.count("bold^[[2J") == 2 and shown.count("plain<U+202E>") == 2
