"""Layouts for the terminal you have (issue 12): tables and panels at 60, 80 and 120 columns.

Through the real CLI on the shipped roadmap, with COLUMNS set as a terminal of that width sets it: no line is
wider than the terminal, no title is cut short with `…` (at 60 a title may wrap, at 80 and 120 each topic is
one row), hours and ids never break across lines, and plain output (piped, or NO_COLOR) keeps a title and its
id apart: `Linear Algebra (linear-algebra)`.

The screen captures in tests/data/screens/ are what `next`, `status` and `show rag` print at 60 and 80
columns, so a change of layout is a reviewed change of those files. A test never rewrites them on its own; to
accept a new layout, run `LLMPATH_UPDATE_SCREENS=1 python -m pytest tests/test_layout.py` and review the
`git diff` of tests/data/screens/.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from .conftest import Cli, ok

SCREENS = Path(__file__).parent / "data" / "screens"
NOTE = "Watched 3Blue1Brown chapters 1-4"


@pytest.fixture
def learner(shipped_cli: Cli) -> Cli:
    """A learner a few days in: three topics done, one in progress, a note."""
    ok(shipped_cli("done", "llm-overview", "python-programming", "linear-algebra"))
    ok(shipped_cli("start", "sql-databases"))
    ok(shipped_cli("note", "linear-algebra", NOTE))
    return shipped_cli


def at_width(cli: Cli, monkeypatch: pytest.MonkeyPatch, width: int, *args: str) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    return ok(cli(*args))


def named(cli: Cli, *args: str) -> list[tuple[str, str]]:
    """(title, id) of the topics a command shows, from its --json."""
    data = json.loads(ok(cli(*args, "--json")))
    if args[0] == "status":
        return [(t["title"], t["id"]) for t in data["topics"]]
    if args[0] == "path":
        return [(t["title"], t["id"]) for t in data["path"]]
    if args[0] == "show":
        return [(t["title"], t["id"]) for key in ("requires", "required_by", "blocked_by") for t in data[key]]
    return [(t["title"], t["id"]) for t in data]


def tokens(output: str) -> set[str]:
    return {word.strip("│()") for word in output.split()}


# Each command that lists topics, by the name its --json gives them.
LISTS = [
    ("next", "-n", "5"),
    ("next", "--sort", "unlocks"),
    ("status", "foundations"),
    ("status", "efficiency-architectures"),
    ("path", "rag"),
    ("track",),
    ("log",),
    ("show", "rag"),
]
OTHERS = [(), ("status",), ("roadmaps",), ("notes",), ("backups",), ("stats",), ("show", "modern-llm"),
          ("show", "tokenization")]  # fmt: skip


@pytest.mark.parametrize("width", [60, 80, 120])
def test_every_view_fits_the_width_and_cuts_no_title(learner: Cli, monkeypatch, width: int):
    for args in LISTS + OTHERS:
        out = at_width(learner, monkeypatch, width, *args)
        where = f"`llmpath {' '.join(args)}` at {width} columns:\n{out}"
        assert all(cell_len(line) <= width for line in out.splitlines()), where
        assert not re.search(r"\S…", out), where  # a word cut short: `Progra…`, `Foundat…`
        assert not re.search(r"\d[ │]*\n[ │]*h\b", out), where  # `10` at the end of a line, `h` on the next
        if args not in LISTS:
            continue
        shown = tokens(out)
        for title, topic_id in named(learner, *args):
            assert topic_id in shown, f"{topic_id} broken or missing; {where}"
            assert tokens(title) <= shown, f"{title!r} cut; {where}"
            lines = out.splitlines()
            rows = [i for i, line in enumerate(lines) if title in line]
            if width == 120:  # one row per topic: its whole title and its id on one line
                assert any(topic_id in lines[i] for i in rows), where
            elif width == 80:  # that, or (a title too long for both) the id on the line under the title
                assert any(topic_id in lines[i] or topic_id in lines[i + 1 : i + 2][0] for i in rows), where


@pytest.mark.parametrize("width", [80, 120])
def test_one_row_per_topic_phase_track_and_file_at_80(learner: Cli, monkeypatch, width: int):
    out = at_width(learner, monkeypatch, width, "next", "-n", "5").splitlines()
    assert len(out) == 1 + 5 + 2, out  # header, five topics, "… and 2 more", the count line
    assert [line.split()[0] for line in out[1:6]] == ["▶", "○", "○", "○", "○"], out

    out = at_width(learner, monkeypatch, width, "status")
    phases = json.loads(ok(learner("status", "--json")))["phases"]
    rows = out.splitlines()[2:-1]  # the roadmap's title and the header above, the total below
    assert [row.split("  ")[0] for row in rows] == [p["title"] for p in phases], out

    out = at_width(learner, monkeypatch, width, "track")
    for track in json.loads(ok(learner("track", "--json"))):
        assert any(track["title"] in line and track["id"] in line for line in out.splitlines()), out

    out = at_width(learner, monkeypatch, width, "roadmaps")
    (source,) = [r["source_path"] for r in json.loads(ok(learner("roadmaps", "--json")))]
    # The file's path is shown whole: on the roadmap's row where it fits, else under it (an installed
    # package's path can be wider than the screen), wrapped but never cut.
    lines = out.splitlines()
    (row,) = [i for i, line in enumerate(lines) if "llm-engineer" in line]
    assert source in "".join(line.strip() for line in lines[row:]), out
    assert "…" not in out, out

    out = at_width(learner, monkeypatch, width, "backups")
    (name,) = [row["file"] for row in json.loads(ok(learner("backups", "--json")))]
    assert any(Path(name).name in line and re.search(r"[kM]B", line) for line in out.splitlines()), out

    out = at_width(learner, monkeypatch, width, "notes")
    assert any(line.strip().startswith("1 ") and line.rstrip().endswith(NOTE) for line in out.splitlines())


@pytest.mark.parametrize("width", [60, 80])
def test_show_keeps_hours_and_ids_whole(learner: Cli, monkeypatch, width: int):
    out = at_width(learner, monkeypatch, width, "show", "rag")
    assert any(re.search(r"(│ |  ·  )10 h ", line) for line in out.splitlines()), out  # whole, not `10` | `h`
    meta = out.splitlines()[1]
    assert meta.startswith("│ rag-fundamentals  ·  Building LLM Applications  ·  "), out
    out = at_width(learner, monkeypatch, width, "show", "tokenization")  # was `·  5` | `h` at 80
    assert any(re.search(r"(│ |  ·  )5 h ", line) for line in out.splitlines()), out

    # a title longer than the panel's border goes inside the panel, whole, instead of being cut
    out = at_width(learner, monkeypatch, width, "show", "modern-llm")
    title = "Modern Open LLM Architectures (Llama, Qwen, DeepSeek, Gemma, Mistral)"
    assert tokens(title) <= tokens(out), out


@pytest.mark.parametrize("no_color", [False, True])
def test_plain_output_keeps_title_and_id_apart(learner: Cli, monkeypatch, no_color: bool):
    """Piped (the CliRunner is not a terminal) or NO_COLOR: no colour tells a title from its id, so they are
    written `Title (id)` in running text, as in every message."""
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    log = ok(learner("log"))
    assert re.search(r"Linear Algebra \(linear-algebra\) +todo → done", log), log
    shown = ok(learner("show", "calculus"))
    assert "✓ Linear Algebra (linear-algebra)" in shown, shown  # under Requires, done
    shown = ok(learner("show", "rag"))
    assert "└ Vector Databases & Similarity Search (vector-databases)" in shown, shown
    assert "Linear Algebra (linear-algebra)" in ok(learner("notes"))
    assert "Linear Algebra linear-algebra" not in log + shown


# --- screen captures ---------------------------------------------------------------------------------------

SCREEN_COMMANDS = {"next": ("next",), "status": ("status",), "show-rag": ("show", "rag")}


@pytest.mark.parametrize("width", [60, 80])
@pytest.mark.parametrize("name", list(SCREEN_COMMANDS))
def test_screen_capture(learner: Cli, monkeypatch, name: str, width: int):
    actual = [
        line.rstrip() for line in at_width(learner, monkeypatch, width, *SCREEN_COMMANDS[name]).splitlines()
    ]
    screen = SCREENS / f"{name}-{width}.txt"
    if os.environ.get("LLMPATH_UPDATE_SCREENS"):
        screen.parent.mkdir(parents=True, exist_ok=True)
        screen.write_text("\n".join(actual) + "\n", encoding="utf-8")
    expected = screen.read_text(encoding="utf-8").splitlines() if screen.exists() else []
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(expected, actual, str(screen), "printed", lineterm=""))
        pytest.fail(
            f"`llmpath {' '.join(SCREEN_COMMANDS[name])}` at {width} columns differs from {screen.name}; "
            f"if the new layout is right, rerun with LLMPATH_UPDATE_SCREENS=1 and review the diff:\n{diff}"
        )
