"""Help that reads well, the conventions a daily user relies on, and a roadmap file that moves or breaks.

- `--help` of every command at 80 columns: no value placeholder after a flag, paragraphs wrapped as one
  text (never a line ended early where the source had a line break), examples one per line and aligned.
- Global options (`--roadmap`/`-r`, `--debug`) work after the command name too; a relative `LLMPATH_HOME`
  is refused (real processes in two working directories); a bad option value is a usage error (exit 2)
  that lists what is accepted, and it is refused before the database is opened.
- A roadmap file that moved or has an error: commands go on from the copy last loaded into the database,
  with one warning line that names the file and the fix; `validate` and `sync` still report the errors.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from llmpath.cli import app

from .conftest import MINI, Cli, ok, run_llmpath

WIDTH = 80


def invoke(*args: str, env: dict[str, str | None] | None = None):
    """The app in-process with no `--roadmap` in front (the `cli` fixture always puts one there)."""
    return CliRunner().invoke(app, list(args), env=env)


# --- help ---------------------------------------------------------------------------------------------------


def command_names() -> list[str]:
    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def help_text(*command: str) -> str:
    result = invoke(*command, "--help", env={"COLUMNS": str(WIDTH)})
    return ok(result)


def prose_blocks(text: str) -> list[list[str]]:
    """The paragraphs above the first panel (the command's description), as lists of stripped lines."""
    head = text.split("╭", 1)[0]
    blocks: list[list[str]] = [[]]
    for line in head.splitlines()[1:]:  # [0] is blank; then Usage, then the description
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b and not b[0].startswith("Usage:")]


def ended_early(lines: list[str], capacity: int) -> list[str]:
    """Lines that end although the next line's first word would have fitted after them: a source line
    break shown as is, which Rich's greedy wrapping never does on its own."""
    return [
        f"{line!r} / {following!r}"
        for line, following in itertools.pairwise(lines)
        if len(line) + 1 + len(following.split()[0]) <= capacity
    ]


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    return {"": help_text(), **{name: help_text(name) for name in command_names()}}


def test_flags_show_no_value_placeholder(helps: dict[str, str]) -> None:
    for name, text in helps.items():
        assert "<bool>" not in text, f"`llmpath {name} --help` shows <bool>:\n{text}"
    for flag in ("--json", "--all", "--help"):
        row = next(line for line in helps["next"].splitlines() if flag in line)
        assert "<" not in row.split(flag, 1)[1].split("  ")[0], row
    # and options that take a value still say which
    assert re.search(r"--since\s+DATE\|SPAN", helps["log"]), helps["log"]
    assert re.search(r"--roadmap\s+-r\s+FILE", helps[""]), helps[""]


def test_description_paragraphs_wrap_as_one_text_at_80_columns(helps: dict[str, str]) -> None:
    problems = []
    for name, text in helps.items():
        assert max(len(line) for line in text.splitlines()) <= WIDTH, name
        for block in prose_blocks(text):
            if block[0].startswith("Example:"):
                continue
            problems += [f"{name}: {p}" for p in ended_early(block, WIDTH - 2)]
    assert not problems, "\n".join(problems)


def test_the_command_list_wraps_each_summary_as_one_text(helps: dict[str, str]) -> None:
    panel = helps[""].split("Commands", 1)[1].split("╰", 1)[0]
    cells: dict[str, list[str]] = {}
    name = ""
    for row in panel.splitlines()[1:]:
        inner = row.strip("│ ").rstrip()
        match = re.match(r"(\S+)\s{2,}(.*)", inner)
        if match and match.group(1) in command_names():
            name = match.group(1)
            cells[name] = [match.group(2).strip()]
        elif name:
            cells[name].append(inner.strip())
    assert len(cells) == len(command_names())
    capacity = max(len(line) for lines in cells.values() for line in lines)
    problems = [f"{n}: {p}" for n, lines in cells.items() for p in ended_early(lines, capacity)]
    assert not problems, "\n".join(problems)


def test_examples_are_one_per_line_and_aligned(helps: dict[str, str]) -> None:
    for name in command_names():
        blocks = [b for b in prose_blocks(helps[name]) if b[0].startswith("Example:")]
        assert len(blocks) == 1, (name, helps[name])
        lines = [line for line in helps[name].splitlines() if line.strip() in blocks[0]]
        assert all(line.strip().startswith("Example: llmpath ") for line in lines), lines  # none wrapped
        starts = {line.index("llmpath") for line in lines}
        assert len(starts) == 1, f"`{name}` examples are not aligned:\n" + "\n".join(lines)


# --- global options after the command -----------------------------------------------------------------------


def next_ids(*args: str) -> list[str]:
    return [t["id"] for t in json.loads(ok(invoke(*args)))]


def test_roadmap_option_works_after_the_command_name(tmp_path: Path) -> None:
    side = tmp_path / "side.yaml"
    side.write_text(MINI.read_text().replace("id: mini", "id: side"), encoding="utf-8")
    before = next_ids("--roadmap", str(side), "next", "--json")
    assert before == ["python", "math"]
    for args in (
        ["next", "-r", str(side), "--json"],
        ["next", "--json", "--roadmap", str(side)],
        ["next", f"--roadmap={side}", "--json"],
    ):
        assert next_ids(*args) == before, args
    ok(invoke("done", "python", "-r", str(side)))  # to the side roadmap, not the shipped one
    assert next_ids("next", "--json", "-r", str(side)) == ["math"]
    shipped = json.loads(ok(invoke("status", "--json")))
    assert shipped["roadmap"]["id"] == "llm-engineer" and shipped["total"]["done"] == 0
    # after the command it wins over the one before it, as a repeated option does
    both = json.loads(ok(invoke("-r", str(MINI), "status", "-r", str(side), "--json")))
    assert both["roadmap"]["id"] == "side"


def test_debug_works_after_the_command_name(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmpath import planner

    def broken(*args, **kwargs):
        raise RuntimeError("planner broke")

    monkeypatch.setattr(planner, "next_topics", broken)
    plain = cli("next")
    assert plain.exit_code == 70 and "Traceback" not in plain.stderr
    after = cli("next", "--debug")
    assert after.exit_code == 70
    assert "Traceback (most recent call last)" in after.stderr
    assert after.stderr.splitlines()[-1].startswith("error: internal error: RuntimeError: planner broke")


def test_tab_completion_sees_a_roadmap_given_after_the_command(tmp_path: Path, llmpath_home: Path) -> None:
    side = tmp_path / "side.yaml"
    side.write_text(MINI.read_text().replace("id: mini", "id: side"), encoding="utf-8")
    ok(invoke("--roadmap", str(side), "done", "python"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("_LLMPATH", "_TYPER", "COMP_"))},
        "_LLMPATH_COMPLETE": "complete_bash",
        "COMP_WORDS": f"llmpath done -r {side} n",
        "COMP_CWORD": "4",
    }
    result = subprocess.run(
        [sys.executable, "-m", "llmpath"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["numpy", "neural-nets", "nn"]


# --- LLMPATH_HOME -------------------------------------------------------------------------------------------


def test_a_relative_llmpath_home_is_refused_in_every_working_directory(tmp_path: Path) -> None:
    """A relative LLMPATH_HOME would be a different folder in each working directory, so a learner's
    progress would silently split across databases. It is refused, naming the absolute path to use."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    for where in (first, second):
        result = run_llmpath("next", env={"LLMPATH_HOME": "relative-home", "COLUMNS": "200"}, cwd=where)
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        assert result.stderr == (
            "error: LLMPATH_HOME must be an absolute path, not 'relative-home' (relative to the working "
            f"directory, each folder would get a database of its own); for example "
            f"LLMPATH_HOME={where / 'relative-home'}\n"
        )
        assert not (where / "relative-home").exists()
    # `~` is expanded first, so a home-relative value is absolute
    home = ok(invoke("paths", env={"HOME": str(tmp_path), "LLMPATH_HOME": "~/data"}))
    assert f"data folder:  {tmp_path / 'data'}" in home


# --- bad option values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["review", "--every", "1y"], ["Invalid value for '--every'", "'1y'", "60d", "8w", "12h"]),
        (["review", "--every", "0d"], ["Invalid value for '--every'", "more than 0"]),
        (["log", "--since", "yesterday"], ["Invalid value for '--since'", "2026-11-01", "7d", "2w"]),
        (["log", "--since", "2026-13-01"], ["Invalid value for '--since'", "not a date", "2026-11-01", "7d"]),
        (["log", "--since", "2026-02-30"], ["Invalid value for '--since'", "not a date"]),
        (["config", "eta", "maybe"], ["Invalid value for 'VALUE'", "'maybe'", "on", "off"]),
        (["config", "colour"], ["Invalid value for 'KEY'", "'colour'", "eta"]),
    ],
)
def test_a_bad_value_is_a_usage_error_that_lists_what_is_accepted(
    args: list[str], says: list[str], llmpath_home: Path
) -> None:
    result = invoke(*args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    for word in says:
        assert word in result.stderr, (word, result.stderr)
    assert not llmpath_home.exists()  # refused before the database was opened (or created)


def test_good_values_still_work(cli: Cli) -> None:
    ok(cli("review", "--every", "8w"))
    ok(cli("log", "--since", "2026-11-01"))
    ok(cli("log", "--since", "12h"))
    assert ok(cli("config", "eta", "on")) == "eta = on\n"


# --- a roadmap file that moved or broke ---------------------------------------------------------------------


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """A custom roadmap in use (`llmpath use`), with some progress."""
    path = tmp_path / "plans" / "mine.yaml"
    path.parent.mkdir()
    shutil.copy(MINI, path)
    ok(invoke("use", str(path)))
    ok(invoke("done", "python"))
    return path.resolve()


def warning_of(result) -> str:
    """The one stderr line of a command that worked from the stored copy."""
    assert result.exit_code == 0, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_moved_roadmap_file_does_not_lock_anyone_out(own: Path, tmp_path: Path) -> None:
    before = ok(invoke("next", "--json"))
    moved = tmp_path / "elsewhere.yaml"
    own.rename(moved)

    result = invoke("next", "--json")
    assert result.stdout == before
    line = warning_of(result)
    assert line == (
        f"warning: roadmap file {own} is missing; using the copy of 'Mini Path' loaded "
        f"{loaded_day()}. If it moved: `llmpath use NEWPATH`; or `llmpath use default`"
    )
    assert warning_of(invoke("done", "math")) == line  # writes work too, on the stored copy
    assert warning_of(invoke("status")) == line
    assert warning_of(invoke("use", "mini")).startswith(f"warning: roadmap file {own} is missing")
    assert "Now using 'Mini Path' (mini)" in invoke("use", "mini").stdout
    failed = invoke("sync")  # the file itself is the point: an error, with the same hint
    assert failed.exit_code == 1
    assert failed.stderr == (
        f"error: {own}: roadmap file not found "
        "(if it moved: `llmpath use NEWPATH`; or `llmpath use default`)\n"
    )

    back = invoke("use", str(moved))
    assert back.exit_code == 0 and back.stderr == ""
    result = invoke("next", "--json")
    assert result.stderr == ""
    assert [t["id"] for t in json.loads(result.stdout)] == ["numpy"]  # python and math done: progress kept


def test_a_roadmap_file_with_an_error_falls_back_to_the_last_good_copy(own: Path) -> None:
    before = ok(invoke("next", "--json"))
    own.write_text(own.read_text(encoding="utf-8") + "  - id: [unclosed\n", encoding="utf-8")

    result = invoke("next", "--json")
    assert result.stdout == before
    line = warning_of(result)
    assert line.startswith(f"warning: roadmap file {own} has an error ({own}:")
    assert line.endswith(
        f"; using the copy of 'Mini Path' loaded {loaded_day()} until it is fixed "
        f"(`llmpath validate {own}`), or `llmpath use default`"
    )
    assert warning_of(invoke("show", "python")) == line

    # the file's errors are still errors where the file itself is the point
    for command in (["sync"], ["validate", str(own)]):
        failed = invoke(*command)
        assert failed.exit_code == 1, command
        assert "warning: roadmap file" not in failed.stderr
        assert f"{own}:" in failed.stderr
    # `use FILE` loads the file itself: an invalid one is refused
    assert invoke("use", str(own)).exit_code == 1


def test_a_moved_roadmap_given_with_roadmap_says_how_to_point_at_it(tmp_path: Path) -> None:
    path = tmp_path / "side.yaml"
    shutil.copy(MINI, path)
    ok(invoke("--roadmap", str(path), "next"))
    path.unlink()
    result = invoke("--roadmap", str(path), "next", "--json")
    line = warning_of(result)
    assert line.startswith(f"warning: roadmap file {path} is missing; using the copy of 'Mini Path'")
    assert line.endswith("If it moved: point --roadmap (or LLMPATH_ROADMAP) at its new place")


def test_a_roadmap_never_loaded_still_fails_clearly(tmp_path: Path, llmpath_home: Path) -> None:
    missing = tmp_path / "never.yaml"
    result = invoke("--roadmap", str(missing), "next")
    assert result.exit_code == 1
    assert result.stderr == f"error: {missing}: roadmap file not found\n"
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema: 1\nid: [\n", encoding="utf-8")
    result = invoke("--roadmap", str(broken), "next")
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {broken}:")


def loaded_day() -> str:
    """The local calendar day the copy in use was loaded (today, in these tests)."""
    from datetime import datetime

    from llmpath.vocab import local_time

    with sqlite3.connect(Path(os.environ["LLMPATH_HOME"]) / "llmpath.db") as conn:
        (value,) = conn.execute("SELECT loaded_at FROM roadmap WHERE id = 'mini'").fetchone()
    return local_time(datetime.fromisoformat(value)).date().isoformat()
