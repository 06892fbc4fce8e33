"""No traceback at the edges: deep graphs, odd and huge notes, huge or conflicting roadmaps, and bugs that
show themselves (issue 11, problems 7, 8, 11 and 12).

Each test here failed before its fix: a RecursionError in `show`, a UnicodeEncodeError from SQLite, minutes
and gigabytes in `validate`, a UNIQUE-constraint failure on a file `validate` passed, and programming errors
dressed up as database messages.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from llmpath import planner, store
from llmpath.errors import RoadmapError
from llmpath.roadmap import MAX_PROBLEMS, json_schema, parse_roadmap
from llmpath.roadmap_yaml import MAX_VALUES

from .conftest import MINI, Cli
from .harness import synthetic_roadmap

MINI_TEXT = MINI.read_text(encoding="utf-8")


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def one_line_error(result, code: int = 1) -> str:
    """The run ended with `code` and one `error:` line on stderr, never an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# --- graph walks on a 5,000-topic chain (problem 7) -------------------------------------------------------

CHAIN = 5_000


def test_a_5000_topic_chain_works_in_show_path_next_and_graph(tmp_path: Path) -> None:
    """The blocking tree of the chain's last topic is 4,999 levels deep: it was a RecursionError."""
    roadmap = tmp_path / "chain.yaml"
    roadmap.write_text(synthetic_roadmap(CHAIN, rid="chain", chain=True), encoding="utf-8")
    cli = Cli(roadmap)
    last = f"topic-{CHAIN - 1}"
    started = time.perf_counter()

    shown = json.loads(ok(cli("show", last, "--json")).stdout)
    assert [row["depth"] for row in shown["blocked_by"]] == list(range(CHAIN - 1))
    assert shown["blocked_by"][-1]["id"] == "topic-0" and not any(r["repeat"] for r in shown["blocked_by"])
    assert "└" in ok(cli("show", last)).stdout  # the rendered tree too

    path = json.loads(ok(cli("path", last, "--json")).stdout)
    assert [t["id"] for t in path["path"]] == [f"topic-{i}" for i in range(CHAIN)]

    (first,) = json.loads(ok(cli("next", "--sort", "unlocks", "--json")).stdout)
    assert (first["id"], first["unlocks_total"]) == ("topic-0", CHAIN - 1)

    graph = ok(cli("graph", "--goal", last)).stdout
    assert graph.count(" --> ") == CHAIN - 1
    assert time.perf_counter() - started < 10  # about 2 s; only a gross regression should fail here


def test_blocking_tree_keeps_its_depth_first_order_and_marks_repeats() -> None:
    """The iterative walk lists what the recursive one did: depth first, in roadmap order, repeats marked."""
    phases = [planner.PhaseInfo("p", "P")]
    topics = [planner.TopicInfo(t, t.upper(), "p", i) for i, t in enumerate("abcde")]
    # e requires c and d; c requires a and b; d requires b.
    edges = [("e", "d"), ("e", "c"), ("c", "b"), ("c", "a"), ("d", "b")]
    graph = planner.Graph.from_edges(phases, topics, edges)
    assert planner.blocking_tree(graph, {}, "e") == [
        (0, "c", False),
        (1, "a", False),
        (1, "b", False),
        (0, "d", False),
        (1, "b", True),
    ]
    assert planner.blocking_tree(graph, {"b": "done"}, "e") == [
        (0, "c", False),
        (1, "a", False),
        (0, "d", False),
    ]


# --- notes: text that is not UTF-8, and size (problems 7 and 8) -------------------------------------------


def test_a_note_with_undecodable_bytes_is_refused_in_one_line(cli: Cli, llmpath_home: Path) -> None:
    # `llmpath note python "$(printf 'a\xed\xa0\x80b')"`: Python hands the bytes over as lone surrogates
    # (os.fsdecode(b"a\xed\xa0\x80b") is exactly this string).
    argv = os.fsdecode(b"a\xed\xa0\x80b")
    assert argv == "a\udced\udca0\udc80b"
    line = one_line_error(cli("note", "python", argv))
    assert "not UTF-8 text" in line and "nothing saved" in line
    one_line_error(cli("note", "python", "\ud800"))
    con = sqlite3.connect(llmpath_home / "llmpath.db")
    try:
        assert con.execute("SELECT count(*) FROM note").fetchone() == (0,)
    finally:
        con.close()


def test_a_note_is_limited_to_64_kib_and_show_stays_fast(cli: Cli) -> None:
    largest = ("word " * (store.MAX_NOTE_BYTES // 5))[: store.MAX_NOTE_BYTES].strip()
    line = one_line_error(cli("note", "python", largest + " and more"))
    assert "longer than 64 KiB" in line and "nothing saved" in line
    line = one_line_error(cli("note", "python", "-", input="x" * (2 * 1024 * 1024)))
    assert "longer than 64 KiB" in line
    assert "é" * 40_000 not in largest  # (a multi-byte note counts bytes, not characters)
    one_line_error(cli("note", "python", "é" * 40_000))  # 80,000 bytes

    ok(cli("note", "python", largest))
    ok(cli("note", "python", "x" * store.MAX_NOTE_BYTES))  # one long word, which Rich has to break
    started = time.perf_counter()
    shown = ok(cli("show", "python")).stdout
    assert time.perf_counter() - started < 2.0  # a 15 MB note took 120 s
    assert "word word" in shown


def test_store_refuses_an_oversized_note_from_any_caller(cli: Cli) -> None:
    """The limit holds for imports and edits too: `add_note` and `update_note` check it."""
    with pytest.raises(Exception, match="longer than 64 KiB"):
        store.check_note("x" * (store.MAX_NOTE_BYTES + 1), "the note on 'python'")
    store.check_note("x" * store.MAX_NOTE_BYTES)


# --- roadmap limits (problem 8) ---------------------------------------------------------------------------


def _with_topic_field(field: str, value: str) -> bytes:
    return MINI_TEXT.replace("title: Math\n", f"title: Math\n        {field}: {value}\n", 1).encode()


@pytest.mark.parametrize(
    ("field", "item", "limit"),
    [
        ("concepts", "c", 100),
        ("tools", "t", 100),
        ("resources", "{title: T, url: 'https://e.com'}", 100),
        ("aliases", None, 50),
        ("replaces", None, 50),
        ("requires", "python", 100),
        ("sources", None, 50),
    ],
)
def test_a_topics_lists_have_a_maximum_length(field: str, item: str | None, limit: int) -> None:
    items = [item or f"name-{i}" for i in range(limit + 1)]
    with pytest.raises(RoadmapError) as info:
        parse_roadmap(_with_topic_field(field, "[" + ", ".join(items) + "]"), "x.yaml")
    assert f"{field}: {limit + 1} items; at most {limit} are allowed" in str(info.value)
    assert json_schema()["$defs"]["Topic"]["properties"][field]["maxItems"] == limit


def test_validate_refuses_1_5_million_values_early(tmp_path: Path) -> None:
    """4 MiB of `[1,1,…]` took 49 s and 3.3 GB in `validate`; it is refused before any node is built (the
    parser alone: `test_properties.test_a_million_and_a_half_values_are_refused_quickly`)."""
    big = tmp_path / "big.yaml"
    big.write_bytes(_with_topic_field("concepts", "[" + ",".join(["1"] * 1_500_000) + "]"))
    line = next(i for i, text in enumerate(big.read_bytes().splitlines(), 1) if b"concepts:" in text)
    started = time.perf_counter()
    result = Cli()("validate", str(big))
    assert time.perf_counter() - started < 3.0  # about 0.4 s
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {big}:{line}: more than {MAX_VALUES:,} values (scalars, lists and mappings); "
        "roadmaps are limited to that many",
        f"{big}: invalid — 1 error(s)",
    ]


def test_a_roadmap_file_whose_name_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    """The name `m\\xff.yaml` reaches Python as a lone surrogate, which SQLite cannot store."""
    path = tmp_path / "m\udcff.yaml"
    path.write_text(MINI_TEXT, encoding="utf-8")
    for args in (["--roadmap", str(path), "next"], ["use", str(path)]):
        line = one_line_error(Cli()(*args))
        assert "name is not UTF-8" in line and "<U+DCFF>" in line


def test_problems_are_capped_with_a_count_of_the_rest(tmp_path: Path) -> None:
    topics = "\n".join(f"      - {{id: t{i}, title: T{i}, requires: [nope-{i}]}}" for i in range(500))
    text = f"schema: 1\nid: many\ntitle: Many\nphases:\n  - id: p\n    title: P\n    topics:\n{topics}\n"
    with pytest.raises(RoadmapError) as info:
        parse_roadmap(text.encode(), "x.yaml")
    error = info.value
    assert (len(error.problems), error.total) == (MAX_PROBLEMS, 500)
    message = str(error).splitlines()
    assert message[-2:] == ["… and 480 more (llmpath validate x.yaml)", "500 problems in x.yaml"]

    path = tmp_path / "many.yaml"
    path.write_text(text, encoding="utf-8")
    result = Cli()("validate", str(path))
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert len(lines) == MAX_PROBLEMS + 2
    assert lines[-2:] == ["error: … and 300 more, not listed", f"{path}: invalid — 500 error(s)"]


def test_did_you_mean_hints_stop_after_a_budget() -> None:
    """difflib compares a name with every id: thousands of typos in a file of thousands of topics would take
    minutes (this file took about a minute before the budget)."""
    n = 1_500
    topics = "\n".join(
        f"      - {{id: topic-about-{i}, title: T, requires: [topic-abuot-{i}]}}" for i in range(n)
    )
    text = f"schema: 1\nid: typos\ntitle: Typos\nphases:\n  - id: p\n    title: P\n    topics:\n{topics}\n"
    started = time.perf_counter()
    with pytest.raises(RoadmapError) as info:
        parse_roadmap(text.encode(), "x.yaml")
    assert time.perf_counter() - started < 3.0
    hinted = [p for p in info.value.problems if "did you mean" in p.hint]
    assert hinted and hinted[0].hint.startswith("did you mean 'topic-about-0'")
    assert len(hinted) < len(info.value.problems) == MAX_PROBLEMS and info.value.total == n


# --- validate catches every conflict the loader would hit (problem 11) ------------------------------------

CONFLICTS = [
    # (aliases and replaces of topic math, of topic numpy, the message)
    ("aliases: [maths]", "replaces: [maths]", "topic 'numpy': 'maths' is already an alias of topic 'math'"),
    ("replaces: [maths]", "aliases: [maths]", "topic 'numpy': 'maths' is already replaced by topic 'math'"),
    ("aliases: [maths]\n        replaces: [maths]", "", "'maths' is listed under both aliases and replaces"),
    ("aliases: [maths, maths]", "", "topic 'math': lists 'maths' twice under aliases"),
    ("replaces: [maths, maths]", "", "topic 'math': lists 'maths' twice under replaces"),
    ("replaces: [maths]", "replaces: [maths]", "'maths' is already replaced by topic 'math'"),
    ("aliases: [maths]", "aliases: [maths]", "alias 'maths' is already an alias of topic 'math'"),
]


@pytest.mark.parametrize(("math", "numpy", "message"), CONFLICTS)
def test_validate_refuses_what_the_database_would(
    tmp_path: Path, math: str, numpy: str, message: str
) -> None:
    text = MINI_TEXT.replace("title: Math\n", f"title: Math\n        {math}\n", 1)
    if numpy:
        text = text.replace("title: NumPy Arrays\n", f"title: NumPy Arrays\n        {numpy}\n", 1)
    assert text != MINI_TEXT
    path = tmp_path / "conflict.yaml"
    path.write_text(text, encoding="utf-8")
    result = Cli()("validate", str(path))
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    # Every command gives the same one-line reason (it used to blame the database with a UNIQUE constraint).
    line = one_line_error(Cli(path)("next"))
    assert message in line and "UNIQUE" not in line


# --- the error boundary (problem 12) ----------------------------------------------------------------------


def _break_load_state(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(store, "load_state", broken)


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (sqlite3.OperationalError("no such column: x"), "OperationalError: no such column: x"),
        (RuntimeError("something broke\nsecond line"), "RuntimeError: something broke"),
        (sqlite3.IntegrityError("UNIQUE constraint failed: topic_alias.alias"), "IntegrityError: UNIQUE"),
    ],
)
def test_a_bug_is_reported_as_one_and_exits_70(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, error: Exception, shown: str
) -> None:
    _break_load_state(monkeypatch, error)
    line = one_line_error(cli("next"), code=70)
    assert line.startswith(f"error: internal error: {shown}")
    assert line.endswith("(this is a bug; rerun with --debug for the traceback)")

    for debug in (["--debug", "next"], ["next"]):
        if debug == ["next"]:
            monkeypatch.setenv("LLMPATH_DEBUG", "1")
        result = cli(*debug)
        assert result.exit_code == 70
        assert "Traceback (most recent call last)" in result.stderr and "in broken" in result.stderr
        assert result.stderr.splitlines()[-1].startswith(f"error: internal error: {shown}")


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("database is locked", "stayed locked"),
        ("database or disk is full", "no space left"),
        ("attempt to write a readonly database", "cannot be written"),
        ("file is not a database", "is damaged"),
        ("unable to open database file", "cannot open"),
        ("disk I/O error", "cannot read or write"),
    ],
)
def test_operational_database_failures_stay_one_line_user_errors(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, detail: str, expected: str
) -> None:
    _break_load_state(monkeypatch, sqlite3.OperationalError(detail))
    line = one_line_error(cli("next"))
    assert expected in line and "internal error" not in line
