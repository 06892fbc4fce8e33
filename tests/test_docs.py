"""The README's command reference stays complete: every command and every long option of the CLI is in it.

The Click command is built in-process from the Typer app, so a new command or option that is not added to
README.md's "## Commands" section fails here, with the list of what is missing.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from llmpath.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"

# Options every command has or that Typer adds; they are not part of the command reference.
UNDOCUMENTED_FLAGS = {"--help", "--install-completion", "--show-completion"}


def commands_section(text: str) -> str:
    """The "## Commands" section: its table and the lines after it, up to the next "## " heading."""
    match = re.search(r"^## Commands[ \t]*\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, 'README.md has no "## Commands" section'
    return match.group(1)


def long_flags(command: Any) -> list[str]:
    """The visible long flags (`--json`, and both halves of `--eta/--no-eta`) of one command."""
    flags = []
    for param in command.params:
        if param.param_type_name != "option" or getattr(param, "hidden", False):
            continue
        for flag in [*param.opts, *param.secondary_opts]:
            if flag.startswith("--") and flag not in UNDOCUMENTED_FLAGS:
                flags.append(flag)
    return flags


def subcommands(group: Any, prefix: str = "llmpath") -> Iterator[tuple[str, Any]]:
    """("llmpath NAME", command) for every visible command, nested groups included."""
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if getattr(command, "hidden", False):
            continue
        invocation = f"{prefix} {name}"
        yield invocation, command
        yield from subcommands(command, invocation)


def _mentions(text: str, word: str) -> bool:
    """`word` is in `text` as a whole: `llmpath path` is not in `llmpath paths`, `--all` not in `--all-x`."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _table_rows(section: str) -> list[tuple[str, str]]:
    """(first cell, whole row) of each body row of the section's table(s)."""
    rows = []
    for line in section.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[\s|:-]*", line):
            continue
        cells = re.split(r"(?<!\\)\|", line)
        rows.append((cells[1], line))
    return rows


def missing_docs(root: Any, section: str) -> list[str]:
    """What the Commands section leaves out, one line each; empty when it is complete."""
    missing = []
    for flag in long_flags(root):
        if not _mentions(section, flag):
            missing.append(f"global option {flag}")
    rows = _table_rows(section)
    global_flags = set(long_flags(root))  # every command takes them too; documented once, as global
    for invocation, command in subcommands(root):
        if not _mentions(section, invocation):
            missing.append(f"command `{invocation}`")
        own_rows = [row for first_cell, row in rows if _mentions(first_cell, invocation)]
        for flag in long_flags(command):
            if flag in global_flags:
                continue
            if not any(_mentions(row, flag) for row in own_rows):
                where = "its table row" if own_rows else "a table row (there is none)"
                missing.append(f"`{invocation}` option {flag} in {where}")
    return missing


def test_readme_documents_every_command_and_option() -> None:
    root = typer.main.get_command(app)
    missing = missing_docs(root, commands_section(README.read_text(encoding="utf-8")))
    assert not missing, 'README.md "## Commands" is missing:\n' + "\n".join(f"  - {item}" for item in missing)


def test_the_walk_sees_the_cli() -> None:
    """Guard against a walk that finds nothing and so passes vacuously (e.g. after a Typer/Click change)."""
    root = typer.main.get_command(app)
    found = dict(subcommands(root))
    assert {"llmpath next", "llmpath log", "llmpath stats"} <= found.keys()
    assert {"--roadmap", "--version"} <= set(long_flags(root))
    assert {"--limit", "--json"} <= set(long_flags(found["llmpath log"]))


def test_the_check_reports_what_is_missing() -> None:
    """The checker fails on an incomplete section and names exactly the gaps."""
    root = typer.main.get_command(app)
    section = commands_section(README.read_text(encoding="utf-8"))
    log_row = next(line for line in section.splitlines() if line.startswith("| `llmpath log"))
    incomplete = (
        section.replace(log_row, log_row.replace("--limit", ""))
        .replace("--version", "")
        .replace("`llmpath sync`", "`llmpath resync`")
    )
    already_missing = set(missing_docs(root, section))
    new_gaps = [item for item in missing_docs(root, incomplete) if item not in already_missing]
    assert new_gaps == [
        "global option --version",
        "`llmpath log` option --limit in its table row",
        "command `llmpath sync`",
    ]
