"""Every example runs as printed, so none can drift (in the spirit of sqlite-utils' documentation tests).

- Each `Example:` line of every command's `--help` (the root's included) runs through the real CLI,
  in-process, on a fresh home with the shipped roadmap loaded and in an empty working directory; a
  command's examples run in order, on one home. It must exit 0 unless `HELP_EXIT_CODES` says otherwise.
- Each command in README.md's ```sh and ```console blocks (a line, or a part of a `&&` chain, that starts
  with `llmpath`; `$ llmpath` in console blocks) runs in order within its block, on one fresh home per
  block. In a ```console block, the lines printed under a `$ llmpath …` line are what the command prints
  (stdout and stderr, as a terminal shows them, at COLUMNS=100 with NO_COLOR=1), compared line by line
  with surrounding spaces stripped; a line `…` stands for any number of lines left out. A command with no
  lines under it is run but its output is not compared.

Shell syntax is read with `shlex`: `# comments` are dropped, `> FILE` writes the command's standard output
to FILE (later examples may read it), and in `llmpath … | tool` only the llmpath part runs.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from llmpath.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
WIDTH = "100"  # the terminal width README outputs are shown at

# An example meant to show an error says so here: command line -> exit code.
HELP_EXIT_CODES: dict[str, int] = {
    # sets up a PostgreSQL server's roles and row-level security; the examples run on the SQLite file, where
    # it says so in one line
    "llmpath team init": 1,
}
# Files a command's examples read, made first by running other commands' examples (each entry must be an
# example line of another command, so the set-up is something a reader of the help can run too).
HELP_SETUP: dict[str, list[str]] = {
    "llmpath import": ["llmpath export --format json -o backup.json"],
    "llmpath use": ["llmpath init my.yaml && llmpath use my.yaml"],
    "llmpath validate": ["llmpath init my.yaml && llmpath use my.yaml"],
    # a learner to show: ada, with some progress
    "llmpath team show": ["llmpath connect --local --as ada", "llmpath done linear-algebra python"],
    # a backup to put back: an import on a home with progress takes one first
    "llmpath restore": [
        "llmpath done linear-algebra python",
        "llmpath export --format json -o backup.json",
        "llmpath import backup.json",
    ],
}

# README commands that show an error on purpose: command -> exit code.
README_EXIT_CODES = {"llmpath done transformer-archtecture": 1}
# README commands not run, by an option they use, with the reason: they change the user's shell or need an
# editor. (None is in a block today; `--install-completion` is mentioned in the text only.)
README_SKIP = {
    "--install-completion": "changes the user's shell start-up files",
    "--show-completion": "prints the completion script of whichever shell runs the tests",
    "--edit": "opens $EDITOR",
}


# --- reading shell lines -----------------------------------------------------------------------------------


@dataclass
class Call:
    """One llmpath call of a shell line: its words, and the file its stdout is redirected to."""

    text: str  # the command as printed, without the comment: "llmpath status transformers"
    args: list[str]  # after "llmpath"
    stdout_to: str | None = None


def llmpath_calls(line: str) -> list[Call]:
    """The llmpath calls of a shell line, in order: `a && b` gives two; other programs are left out."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    calls: list[Call] = []
    words: list[str] = []
    tokens = [*lexer, "&&"]
    index = 0
    piped = False  # after `|`: the rest of this part belongs to another program
    redirect: str | None = None
    while index < len(tokens):
        token = tokens[index]
        if token in ("&&", ";"):
            if words and words[0] == "llmpath":
                calls.append(Call(shlex.join(words), words[1:], redirect))
            words, piped, redirect = [], False, None
        elif token == "|":
            piped = True
        elif token == ">" and not piped:
            index += 1
            redirect = tokens[index]
        elif not piped:
            words.append(token)
        index += 1
    return calls


def test_llmpath_calls_reads_shell_lines() -> None:
    assert [(c.args, c.stdout_to) for c in llmpath_calls("llmpath status   # all phases")] == [
        (["status"], None)
    ]
    assert [c.args for c in llmpath_calls("llmpath init my.yaml && llmpath use my.yaml")] == [
        ["init", "my.yaml"],
        ["use", "my.yaml"],
    ]
    calls = llmpath_calls("llmpath graph --format dot | dot -Tsvg > map.svg # Graphviz")
    assert [(c.args, c.stdout_to) for c in calls] == [(["graph", "--format", "dot"], None)]
    calls = llmpath_calls('llmpath note lora "rank 8, a 7B model" > out.txt')
    assert [(c.args, c.stdout_to) for c in calls] == [(["note", "lora", "rank 8, a 7B model"], "out.txt")]
    assert llmpath_calls("python3 -m venv .venv && pip install .") == []
    assert [c.text for c in llmpath_calls("pip install . && llmpath next")] == ["llmpath next"]


# --- matching shown output ---------------------------------------------------------------------------------

GAP = "…"  # a README output line that stands for lines left out


def shown_lines(text: str) -> list[str]:
    """Lines as compared: surrounding spaces stripped, no blank lines at the start or end."""
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line, where a `…` line in `expected` matches any number of actual lines."""
    # reachable[j]: expected[:i] can match actual[:j]
    reachable = [True] + [False] * len(actual)
    for line in expected:
        if line == GAP:
            for j in range(1, len(actual) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            reachable = [False] + [reachable[j] and actual[j] == line for j in range(len(actual))]
    return reachable[-1]


def test_output_matches_with_gaps() -> None:
    assert output_matches(["a", "b"], ["a", "b"])
    assert not output_matches(["a", "b"], ["a", "b", "c"])
    assert not output_matches(["a", "c"], ["a", "b"])
    assert output_matches(["a", GAP, "d"], ["a", "b", "c", "d"])
    assert output_matches(["a", GAP, "b"], ["a", "b"])
    assert output_matches([GAP, "c"], ["a", "b", "c"])
    assert not output_matches(["a", GAP, "c"], ["a", "b"])
    assert output_matches(["a", GAP, "b", GAP], ["a", "x", "b", "y", "b"])


# --- running -----------------------------------------------------------------------------------------------


def run(call: Call, where: str) -> Any:
    """Run one call in-process; write its stdout to the file it is redirected to; fail naming `where`."""
    result = CliRunner().invoke(app, call.args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{where}: `{call.text}` raised {result.exception!r}") from result.exception
    if call.stdout_to is not None:
        Path(call.stdout_to).write_text(result.stdout, encoding="utf-8")
    return result


def check_exit(call: Call, result: Any, where: str, expected: int) -> None:
    assert result.exit_code == expected, (
        f"{where}: `{call.text}` exited {result.exit_code}, expected {expected}; it printed:\n{result.output}"
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, where examples write and read their files."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("COLUMNS", WIDTH)
    monkeypatch.setenv("NO_COLOR", "1")
    return work


# --- help examples -----------------------------------------------------------------------------------------


def all_commands(command: Any, path: str = "llmpath") -> Iterator[tuple[str, Any]]:
    """("llmpath NAME", Click command) for the root and every command under it."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from all_commands(sub, f"{path} {name}")


def examples(command: Any) -> list[str]:
    """The `Example:` lines of a command's help, in order, without the "Example:" word."""
    text = "\n".join(filter(None, [command.help, command.epilog]))
    return [m.group(1).strip() for m in re.finditer(r"^\s*Example:\s*(.+)$", text, flags=re.MULTILINE)]


HELP_EXAMPLES = {path: examples(command) for path, command in all_commands(typer.main.get_command(app))}
EVERY_EXAMPLE = {line for lines in HELP_EXAMPLES.values() for line in lines}


def test_every_command_has_an_example() -> None:
    without = [path for path, lines in HELP_EXAMPLES.items() if not lines and path != "llmpath"]
    assert not without, f"commands whose --help has no Example: line: {without}"


def test_help_setups_are_examples_too() -> None:
    """A set-up is itself an example a reader can run, not a hidden fix; and no entry is left stale."""
    assert set(HELP_SETUP) <= set(HELP_EXAMPLES)
    for path, lines in HELP_SETUP.items():
        assert set(lines) <= EVERY_EXAMPLE - set(HELP_EXAMPLES[path]), (path, lines)
    assert set(HELP_EXIT_CODES) <= EVERY_EXAMPLE


@pytest.mark.parametrize("path", [path for path, lines in HELP_EXAMPLES.items() if lines])
def test_help_examples_run(path: str, shipped_cli: Any, workdir: Path) -> None:
    for line in HELP_SETUP.get(path, []):
        for call in llmpath_calls(line):
            check_exit(call, run(call, f"set-up of `{path}`"), f"set-up of `{path}`", 0)
    for line in HELP_EXAMPLES[path]:
        calls = llmpath_calls(line)
        assert calls, f"`{path} --help`: example {line!r} runs no llmpath command"
        for call in calls:
            where = f"`{path} --help` example {line!r}"
            check_exit(call, run(call, where), where, HELP_EXIT_CODES.get(line, 0))


# --- README ------------------------------------------------------------------------------------------------


@dataclass
class Shown:
    """A command of a README block, with the output printed under it (console blocks), and its line."""

    lineno: int
    line: str
    output: list[str] | None  # None: not shown, not compared


@dataclass
class Block:
    lineno: int
    language: str
    commands: list[Shown]


def readme_blocks(text: str) -> list[Block]:
    """The ```sh and ```console blocks that run llmpath, with their commands."""
    blocks: list[Block] = []
    block: Block | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if block is None:
            match = re.match(r"```(\w+)\s*$", line)
            if match and match.group(1) in ("sh", "console"):
                block = Block(lineno, match.group(1), [])
            elif line.startswith("```") and line.strip() != "```":
                block = Block(lineno, "other", [])
            continue
        if line.strip() == "```":
            if block.language != "other" and block.commands:
                blocks.append(block)
            block = None
        elif block.language == "sh":
            if llmpath_calls(line):
                block.commands.append(Shown(lineno, line.strip(), None))
        elif block.language == "console":
            if line.startswith("$ "):
                block.commands.append(Shown(lineno, line[2:].strip(), []))
            elif block.commands:
                output = block.commands[-1].output
                assert output is not None
                output.append(line)
    for block in blocks:
        for shown in block.commands:
            if shown.output is not None:
                shown.output = shown_lines("\n".join(shown.output)) or None
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_readme_blocks_are_found() -> None:
    languages = [block.language for block in BLOCKS]
    assert "sh" in languages and "console" in languages
    assert any(shown.output for block in BLOCKS for shown in block.commands)


def test_readme_exit_codes_are_current() -> None:
    """An entry of README_EXIT_CODES names a command that is in a README block."""
    calls = {call.text for block in BLOCKS for shown in block.commands for call in llmpath_calls(shown.line)}
    assert set(README_EXIT_CODES) <= calls


def test_readme_counts_match_the_shipped_roadmap(shipped_cli: Any) -> None:
    """Counts the README states in words (they drifted once: "36 topics" where `path` listed 37)."""
    import json

    readme = README.read_text(encoding="utf-8")
    status = json.loads(shipped_cli("status", "--all", "--json").stdout)
    stated = re.search(r"(\d+) topics in (\d+) phases", readme)
    assert stated, "README.md no longer says how many topics and phases the roadmap has"
    assert (int(stated.group(1)), int(stated.group(2))) == (status["total"]["total"], len(status["phases"]))
    checked = 0
    for block in BLOCKS:
        for shown in block.commands:
            at_start = re.search(r"#.*\((\d+) at the start\)", shown.line)
            if at_start is None:
                continue
            (call,) = llmpath_calls(shown.line)
            path = json.loads(shipped_cli(*call.args, "--json").stdout)["path"]
            assert len(path) == int(at_start.group(1)), (
                f"README.md:{shown.lineno}: `{call.text}` lists {len(path)}"
            )
            checked += 1
    assert checked, 'no README command says "(N at the start)" any more: drop this part of the test'


@pytest.mark.parametrize("block", BLOCKS, ids=[f"README.md:{b.lineno}" for b in BLOCKS])
def test_readme_commands_run(block: Block, shipped_cli: Any, workdir: Path) -> None:
    for shown in block.commands:
        calls = llmpath_calls(shown.line)
        printed = []
        for call in calls:
            if README_SKIP.keys() & set(call.args):
                continue
            where = f"README.md:{shown.lineno}"
            result = run(call, where)
            check_exit(call, result, where, README_EXIT_CODES.get(call.text, 0))
            printed.append(result.output if call.stdout_to is None else "")
        if shown.output is None:
            continue
        actual = shown_lines("".join(printed))
        if not output_matches(shown.output, actual):
            diff = "\n".join(
                difflib.unified_diff(shown.output, actual, "README.md", "printed", lineterm="", n=2)
            )
            pytest.fail(
                f"README.md:{shown.lineno}: `{shown.line}` prints something else than the README shows "
                f"(COLUMNS={WIDTH}, NO_COLOR=1; a line '{GAP}' stands for lines left out):\n{diff}"
            )
