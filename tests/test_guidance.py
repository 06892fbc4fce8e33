"""Guidance: goals, unlock-weighted `next`, `path`, the blocked-by tree, notes, history, pace, review and
`graph`, on mini.yaml and on the shipped roadmap.

Expected answers are computed here by brute force from the roadmap file itself (loaded with PyYAML), never
with llmpath's planner. Time is injected by replacing `llmpath.store.now`; nothing sleeps. History, pace and
review run on both engines (`engine`: SQLite and PostgreSQL).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from llmpath import pace, paths
from llmpath.cli import app

from .conftest import MINI, Cli, Clock, as_json, ok

SHIPPED = paths.shipped_roadmap_path()
SATISFIED = ("done", "skipped")


# --- brute force over the roadmap file --------------------------------------------------------------------


@dataclass(frozen=True)
class Plain:
    order: list[str]  # topic ids in roadmap order
    requires: dict[str, list[str]]
    hours: dict[str, float]
    title: dict[str, str]
    phase: dict[str, str]
    phases: list[str]

    def position(self, topic: str) -> int:
        return self.order.index(topic)

    def dependents(self, topic: str) -> list[str]:
        return [t for t in self.order if topic in self.requires[t]]


@functools.cache
def plain(path: Path) -> Plain:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    topics = [(p["id"], t) for p in document["phases"] for t in p["topics"]]
    return Plain(
        order=[t["id"] for _, t in topics],
        requires={t["id"]: list(t.get("requires", [])) for _, t in topics},
        hours={t["id"]: float(t.get("hours") or 0) for _, t in topics},
        title={t["id"]: t["title"] for _, t in topics},
        phase={t["id"]: phase for phase, t in topics},
        phases=[p["id"] for p in document["phases"]],
    )


def satisfied(statuses: dict[str, str], topic: str) -> bool:
    return statuses.get(topic, "todo") in SATISFIED


def open_ancestors(rm: Plain, statuses: dict[str, str], targets: list[str]) -> set[str]:
    """Unfinished targets plus every unfinished topic reachable from them through unfinished topics."""
    found: set[str] = set()
    frontier = [t for t in targets if not satisfied(statuses, t)]
    while frontier:
        topic = frontier.pop()
        if topic not in found:
            found.add(topic)
            frontier += [r for r in rm.requires[topic] if not satisfied(statuses, r)]
    return found


def available(rm: Plain, statuses: dict[str, str]) -> list[str]:
    """In `next` order: topics in progress first, then roadmap order."""
    ready = [
        t
        for t in rm.order
        if not satisfied(statuses, t) and all(satisfied(statuses, r) for r in rm.requires[t])
    ]
    return sorted(ready, key=lambda t: (statuses.get(t) != "doing", rm.position(t)))


def descendants(rm: Plain, topic: str) -> set[str]:
    found: set[str] = set()
    frontier = [topic]
    while frontier:
        for dependent in rm.dependents(frontier.pop()):
            if dependent not in found:
                found.add(dependent)
                frontier.append(dependent)
    return found


def greedy_topological(rm: Plain, members: set[str]) -> list[str]:
    """The study order that always takes the earliest topic (in roadmap order) whose prerequisites are in."""
    order: list[str] = []
    left = set(members)
    while left:
        ready = [t for t in rm.order if t in left and not (set(rm.requires[t]) & left)]
        order.append(ready[0])
        left.remove(ready[0])
    return order


def apply(cli: Cli, statuses: dict[str, str], **marks: list[str]) -> None:
    """`apply(cli, statuses, done=[...], skip=[...], start=[...])`: run the commands and track the result."""
    word = {"done": "done", "skip": "skipped", "start": "doing", "reset": "todo"}
    for command, topics in marks.items():
        if topics:
            ok(cli(command, *topics))
            statuses.update(dict.fromkeys(topics, word[command]))


# --- running the CLI --------------------------------------------------------------------------------------


def next_items(cli: Cli, *args: str) -> list[dict]:
    return as_json(cli("next", "--json", "-n", "1000", *args))


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


UTC = UTC


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, datetime(2026, 3, 18, 12, 0, tzinfo=UTC))


def _set_tz(value: str | None) -> None:
    if value is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = value
    time.tzset()


@pytest.fixture
def local_tz():
    """Run with a chosen local time zone (local days and weeks depend on it); `local_tz("UTC")`."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset to choose the local time zone")
    before = os.environ.get("TZ")
    yield _set_tz
    _set_tz(before)


@pytest.fixture
def utc(local_tz) -> None:
    local_tz("UTC")


# --- goals ------------------------------------------------------------------------------------------------

SHIPPED_PROGRESS = {
    "done": ["llm-overview", "python-programming", "linear-algebra", "calculus", "python-data-science"],
    "skip": ["probability-statistics", "sql-databases"],
    "start": ["dev-environment", "information-theory"],
}


@pytest.fixture(scope="module")
def _shipped_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the shipped roadmap loaded and SHIPPED_PROGRESS made, built once per module."""
    home = tmp_path_factory.mktemp("shipped-template")
    env = {"LLMPATH_HOME": str(home), "LLMPATH_ROADMAP": None}
    runner = CliRunner()
    for command, topics in SHIPPED_PROGRESS.items():
        result = runner.invoke(app, [command, *topics], env=env)
        assert result.exit_code == 0, result.output
    return home / "llmpath.db"


@pytest.fixture
def shipped(_shipped_template: Path, llmpath_home: Path) -> tuple[Cli, dict[str, str]]:
    """The CLI on the shipped roadmap with SHIPPED_PROGRESS made, and the statuses that gives."""
    llmpath_home.mkdir(mode=0o700)
    source, target = sqlite3.connect(_shipped_template), sqlite3.connect(llmpath_home / "llmpath.db")
    with source, target:
        source.backup(target)
    source.close()
    target.close()
    word = {"done": "done", "skip": "skipped", "start": "doing"}
    statuses = {t: word[command] for command, topics in SHIPPED_PROGRESS.items() for t in topics}
    return Cli(), statuses


def test_shipped_fixture_has_the_progress(shipped):
    cli, _ = shipped
    status = as_json(cli("status", "--json"))
    assert (status["total"]["done"], status["total"]["skipped"], status["total"]["doing"]) == (5, 2, 2)
    assert "Loaded" not in cli("next").stderr  # no re-load: the copy is up to date


def test_goal_restricts_next_exactly_to_its_available_open_ancestors(shipped):
    cli, statuses = shipped
    rm = plain(SHIPPED)
    everything = available(rm, statuses)
    assert ids(next_items(cli)) == everything
    assert everything[:2] == ["dev-environment", "information-theory"]  # in progress first
    for goals in (
        ["rag-fundamentals"],
        ["tiny-gpt"],
        ["ai-agents", "llm-deployment"],
        ["ai-governance"],
        ["information-theory"],
    ):
        ok(cli("goal", *goals))
        on_the_way = open_ancestors(rm, statuses, goals)
        expected = [t for t in everything if t in on_the_way]
        assert ids(next_items(cli)) == expected, goals
        assert ids(next_items(cli, "--all")) == everything
    assert expected == ["information-theory"]
    apply(cli, statuses, done=["information-theory"])  # the goal is reached
    assert next_items(cli) == []
    assert f"Goal reached: {rm.title['information-theory']} (information-theory) is done." in ok(cli("next"))


def test_goal_show_and_clear(shipped):
    cli, statuses = shipped
    rm = plain(SHIPPED)
    assert "No goal set." in ok(cli("goal"))
    ok(cli("goal", "rag"))  # an alias
    shown = as_json(cli("goal", "--json"))
    remaining = open_ancestors(rm, statuses, ["rag-fundamentals"])
    assert shown["goals"] == ["rag-fundamentals"]
    assert shown["remaining"] == greedy_topological(rm, remaining)
    assert shown["hours_left"] == sum(rm.hours[t] for t in remaining)
    text = ok(cli("goal"))
    title = rm.title["rag-fundamentals"]
    assert text.startswith(f"Goal: {title} (rag-fundamentals) — {len(remaining)} topics, about ")
    header = ok(cli("next")).splitlines()[0]
    assert header == f"Goal: {title} — showing only topics on the way (--all for everything)"
    assert "Goal:" not in ok(cli("next", "--all"))
    assert "(cleared)" in ok(cli("goal", "--clear"))
    assert as_json(cli("goal", "--json")) == {"goals": [], "remaining": [], "hours_left": 0}
    assert ids(next_items(cli)) == available(rm, statuses)
    assert "Goal:" not in ok(cli("next"))


def test_goal_on_mini_and_unknown_goal(cli: Cli):
    ok(cli("goal", "nn"))
    assert ids(next_items(cli)) == ["python", "math"]
    ok(cli("done", "python", "math", "numpy"))
    assert ids(next_items(cli)) == ["linear-models"]
    bad = cli("goal", "nope")
    assert bad.exit_code == 1 and bad.stderr.startswith("error: no topic 'nope'")
    assert as_json(cli("goal", "--json"))["goals"] == ["neural-nets"]  # unchanged


# --- path -------------------------------------------------------------------------------------------------


def test_path_is_a_topological_order_of_exactly_the_open_ancestors(shipped):
    cli, statuses = shipped
    rm = plain(SHIPPED)
    for targets in (
        ["rag-fundamentals"],
        ["gpt2-scale-training"],
        ["ai-governance", "multimodal-apps"],
        ["tiny-gpt", "rag"],
        ["information-theory"],
    ):
        result = as_json(cli("path", *targets, "--json"))
        resolved = [{"rag": "rag-fundamentals"}.get(t, t) for t in targets]
        assert result["targets"] == resolved
        order = [item["id"] for item in result["path"]]
        assert len(order) == len(set(order))
        assert set(order) == open_ancestors(rm, statuses, resolved), targets
        seen: set[str] = set()
        for topic in order:
            assert all(r in seen for r in rm.requires[topic] if r in order), f"{topic} before a prerequisite"
            seen.add(topic)
        assert order == greedy_topological(rm, set(order))  # and it prefers roadmap order
        assert result["hours"] == sum(rm.hours[t] for t in order)
        assert result["hours"] == sum(item["hours"] for item in result["path"])
        assert [item["status"] for item in result["path"]] == [statuses.get(t, "todo") for t in order]
    assert order == ["information-theory"]


def test_path_text_and_a_finished_target(cli: Cli):
    ok(cli("done", "python"))
    text = ok(cli("path", "numpy"))
    assert "Math" in text and "NumPy Arrays" in text and "Python" not in text
    assert re.search(r"Total\s+25 h", text)
    ok(cli("done", "math", "numpy"))
    assert as_json(cli("path", "numpy", "--json")) == {"targets": ["numpy"], "path": [], "hours": 0}
    assert "Nothing left: numpy already done or skipped." in ok(cli("path", "numpy"))


# --- next --sort unlocks ------------------------------------------------------------------------------------


def test_unlocks_total_counts_unfinished_transitive_dependents(shipped):
    shipped_cli, statuses = shipped
    rm = plain(SHIPPED)
    # the last one out of order; the two in progress are finished
    more = [
        "ml-fundamentals",
        "text-preprocessing",
        "rag-fundamentals",
        "dev-environment",
        "information-theory",
    ]
    apply(shipped_cli, statuses, done=more)
    items = next_items(shipped_cli, "--sort", "unlocks")
    ready = available(rm, statuses)
    assert sorted(ids(items)) == sorted(ready)

    def total(topic: str) -> int:
        return sum(not satisfied(statuses, d) for d in descendants(rm, topic))

    for item in items:
        assert item["unlocks_total"] == total(item["id"]), item["id"]
        direct = [
            d
            for d in rm.dependents(item["id"])
            if not satisfied(statuses, d)
            and all(r == item["id"] or satisfied(statuses, r) for r in rm.requires[d])
        ]
        assert item["unlocks"] == direct, item["id"]
        assert item["review"] is False
    assert ids(items) == sorted(ready, key=lambda t: (-total(t), rm.position(t)))
    assert len({item["unlocks_total"] for item in items}) > 2  # the order is not trivially roadmap order
    # the default order reports the same numbers
    by_roadmap = {item["id"]: item["unlocks_total"] for item in next_items(shipped_cli)}
    assert by_roadmap == {item["id"]: item["unlocks_total"] for item in items}


def test_unlocks_with_a_goal_count_only_topics_on_the_way(shipped):
    shipped_cli, statuses = shipped
    rm = plain(SHIPPED)
    apply(shipped_cli, statuses, reset=["dev-environment", "information-theory"])  # ties in roadmap order
    ok(shipped_cli("goal", "rag-fundamentals"))
    on_the_way = open_ancestors(rm, statuses, ["rag-fundamentals"])
    items = next_items(shipped_cli, "--sort", "unlocks")
    assert ids(items) and set(ids(items)) <= on_the_way

    def total(topic: str) -> int:
        return len({d for d in descendants(rm, topic) if d in on_the_way and not satisfied(statuses, d)})

    for item in items:
        assert item["unlocks_total"] == total(item["id"]), item["id"]
    assert ids(items) == sorted(ids(items), key=lambda t: (-total(t), rm.position(t)))


def test_unlocks_on_mini_and_the_total_in_the_text(cli: Cli):
    ok(cli("done", "math"))
    items = next_items(cli, "--sort", "unlocks")
    assert [(i["id"], i["unlocks_total"], i["unlocks"]) for i in items] == [("python", 4, ["numpy"])]
    row = next(line for line in ok(cli("next", "--sort", "unlocks")).splitlines() if "python" in line)
    assert re.search(r"\b1 \(4\)\s+10 h$", row), row
    assert "(4)" not in ok(cli("next"))
    ok(cli("skip", "python", "numpy"))
    ok(cli("done", "neural-nets"))  # out of order: linear-models now leads only to build-mlp
    assert [(i["id"], i["unlocks_total"]) for i in next_items(cli, "--sort", "unlocks")] == [
        ("linear-models", 1),
        ("build-mlp", 0),
    ]


# --- show: blocked by ---------------------------------------------------------------------------------------


def test_blocked_by_lists_exactly_the_open_transitive_prerequisites(shipped):
    cli, statuses = shipped
    rm = plain(SHIPPED)
    for topic in ("ai-governance", "tiny-gpt", "rag-fundamentals", "pretraining", "docker-basics"):
        info = as_json(cli("show", topic, "--json"))
        rows = info["blocked_by"]
        expected = open_ancestors(rm, statuses, [topic]) - {topic}
        assert expected, topic
        first = [row["id"] for row in rows if not row["repeat"]]
        assert len(first) == len(set(first)), f"{topic}: a prerequisite is expanded twice"
        assert set(first) == expected, topic
        assert {row["id"] for row in rows} == expected
        # a tree: each row is an open prerequisite of the row it hangs from; each first listing is expanded
        listed: set[str] = set()
        parents = [topic]  # the rows above the current one, by depth
        children: dict[str, set[str]] = {}
        for row in rows:
            assert row["title"] == rm.title[row["id"]]
            assert row["repeat"] == (row["id"] in listed)
            assert 0 <= row["depth"] < len(parents), (topic, row)
            parent = parents[row["depth"]]
            children.setdefault(parent, set()).add(row["id"])
            parents = parents[: row["depth"] + 1] + ([] if row["repeat"] else [row["id"]])
            listed.add(row["id"])
        for parent in [topic, *first]:
            open_direct = {r for r in rm.requires[parent] if not satisfied(statuses, r)}
            assert children.get(parent, set()) == open_direct, (topic, parent)
        assert info["state"] == "blocked"


def test_blocked_by_is_empty_for_available_and_done_topics(shipped):
    cli, _ = shipped
    for topic, state in [
        ("dev-environment", "doing"),
        ("ml-fundamentals", "available"),
        ("python-programming", "done"),
        ("sql-databases", "skipped"),
    ]:
        info = as_json(cli("show", topic, "--json"))
        assert (info["blocked_by"], info["state"]) == ([], state), topic


# --- notes ------------------------------------------------------------------------------------------------


def test_notes_show_in_show_and_both_exports_and_survive_sync_and_import(
    cli: Cli, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None
):
    clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    ok(cli("note", "python", "first note"))
    clock(datetime(2026, 3, 3, 10, 30, tzinfo=UTC))
    ok(cli("note", "py", "second: `code` and *stars*"))
    assert "Noted on NumPy Arrays (numpy)" in ok(cli("note", "numpy", "arrays are views"))
    ok(cli("done", "python"))

    expected = [
        {"at": "2026-03-02T09:00:00+00:00", "text": "first note"},
        {"at": "2026-03-03T10:30:00+00:00", "text": "second: `code` and *stars*"},
    ]
    assert as_json(cli("show", "python", "--json"))["notes"] == expected
    assert as_json(cli("show", "math", "--json"))["notes"] == []
    assert "first note" in ok(cli("show", "python"))

    lines = ok(cli("export")).splitlines()
    at = lines.index("- [x] Python `python` · done 2026-03-03")
    assert lines[at + 1 : at + 4] == [
        "  - 2026-03-02: first note",
        "  - 2026-03-03: second: \\`code\\` and \\*stars\\*",
        "- [ ] Math `math`",
    ]
    at = lines.index("- [ ] NumPy Arrays `numpy`")
    assert lines[at + 1] == "  - 2026-03-03: arrays are views"

    backup = tmp_path / "backup.json"
    ok(cli("export", "--format", "json", "-o", str(backup)))
    topics = {t["id"]: t for t in json.loads(backup.read_text())["topics"]}
    assert topics["python"]["notes"] == expected
    assert topics["numpy"]["notes"] == [{"at": "2026-03-03T10:30:00+00:00", "text": "arrays are views"}]

    ok(cli("sync"))
    assert as_json(cli("show", "python", "--json"))["notes"] == expected
    assert "0 notes added" in ok(cli("import", str(backup)))
    assert as_json(cli("show", "python", "--json"))["notes"] == expected

    monkeypatch.setenv("LLMPATH_HOME", str(tmp_path / "another-home"))  # a new machine
    assert as_json(cli("show", "python", "--json"))["notes"] == []
    assert "3 notes added" in ok(cli("import", str(backup)))
    assert "0 notes added" in ok(cli("import", str(backup)))
    assert as_json(cli("show", "python", "--json"))["notes"] == expected
    assert as_json(cli("show", "python", "--json"))["status"] == "done"
    assert len(as_json(cli("show", "numpy", "--json"))["notes"]) == 1


def test_reimporting_a_backup_never_duplicates_notes_written_at_subsecond_times(
    cli: Cli, clock: Clock, tmp_path: Path
):
    clock(datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=UTC))  # what the real clock gives
    ok(cli("note", "python", "only once"))
    backup = tmp_path / "backup.json"
    ok(cli("export", "--format", "json", "-o", str(backup)))
    ok(cli("import", str(backup)))
    assert [n["text"] for n in as_json(cli("show", "python", "--json"))["notes"]] == ["only once"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_note_is_refused(cli: Cli, text: str):
    result = cli("note", "python", text)
    assert result.exit_code == 1
    assert result.stderr == "error: the note is empty; nothing saved\n"
    assert as_json(cli("show", "python", "--json"))["notes"] == []
    assert cli("note", "python").exit_code == 1  # no text at all


def _editor(tmp_path: Path, text: str) -> str:
    script = tmp_path / "editor.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{text}' '# a comment line' > \"$1\"\n")
    script.chmod(0o755)
    return str(script)


def test_note_edit_saves_what_the_editor_wrote(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "written in my editor"))
    monkeypatch.setenv("VISUAL", _editor(tmp_path, "written in my editor"))
    result = cli("note", "python", "--edit")
    assert result.exit_code == 0, result.exception
    assert [n["text"] for n in as_json(cli("show", "python", "--json"))["notes"]] == ["written in my editor"]


# --- history ----------------------------------------------------------------------------------------------


def test_every_status_change_is_an_event_listed_newest_first(engine: str, cli: Cli, clock: Clock):
    day = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    steps = [
        (day, "done", "python"),
        (day + timedelta(hours=1), "start", "math"),
        (day + timedelta(hours=2), "done", "math"),
        (day + timedelta(hours=3), "start", "math"),  # done -> doing
        (day + timedelta(hours=4), "done", "math"),
        (day + timedelta(days=2, hours=4), "reset", "python"),
        (day + timedelta(days=2, hours=5), "skip", "numpy"),
        (day + timedelta(days=3), "done", "math"),  # a review: done -> done
    ]
    for at, command, topic in steps:
        clock(at)
        ok(cli(command, topic))
    clock(day + timedelta(days=3, hours=1))
    ok(cli("reset", "build-mlp"))  # already to-do: no event
    ok(cli("start", "linear-models"))
    ok(cli("start", "linear-models"))  # already in progress: no event
    events = as_json(cli("log", "--json", "-n", "100"))
    expected = [
        (day + timedelta(days=3, hours=1), "linear-models", "todo", "doing"),
        (day + timedelta(days=3), "math", "done", "done"),
        (day + timedelta(days=2, hours=5), "numpy", "todo", "skipped"),
        (day + timedelta(days=2, hours=4), "python", "done", "todo"),
        (day + timedelta(hours=4), "math", "doing", "done"),
        (day + timedelta(hours=3), "math", "done", "doing"),
        (day + timedelta(hours=2), "math", "doing", "done"),
        (day + timedelta(hours=1), "math", "todo", "doing"),
        (day, "python", "todo", "done"),
    ]
    assert [(e["at"], e["id"], e["from"], e["to"]) for e in events] == [
        (at.isoformat(), topic, old, new) for at, topic, old, new in expected
    ]
    assert events[0]["title"] == "Linear Models"
    assert ids(as_json(cli("log", "--json", "--limit", "2"))) == ["linear-models", "math"]
    text = ok(cli("log")).splitlines()
    assert re.search(r"Math \(math\) +reviewed", text[1]), text
    assert re.search(r"Linear Models \(linear-models\) +todo → doing", text[0]), text


def test_log_since(engine: str, cli: Cli, clock: Clock):
    for at, topic in [
        (datetime(2026, 3, 10, 10, tzinfo=UTC), "python"),
        (datetime(2026, 3, 10, 11, tzinfo=UTC), "math"),
        (datetime(2026, 3, 12, 14, tzinfo=UTC), "numpy"),
        (datetime(2026, 3, 17, 14, tzinfo=UTC), "linear-models"),
    ]:
        clock(at)
        ok(cli("done", topic))
    clock(datetime(2026, 3, 18, 12, tzinfo=UTC))
    assert as_json(cli("log", "--json", "--since", "2099-01-01")) == []
    assert "No changes recorded since 2099-01-01." in ok(cli("log", "--since", "2099-01-01"))
    assert ids(as_json(cli("log", "--json", "--since", "7d"))) == ["linear-models", "numpy"]
    assert ids(as_json(cli("log", "--json", "--since", "1w"))) == ["linear-models", "numpy"]
    assert ids(as_json(cli("log", "--json", "--since", "12h"))) == []
    assert ids(as_json(cli("log", "--json", "--since", "30h"))) == ["linear-models"]
    assert ids(as_json(cli("log", "--json", "--since", "2026-03-12"))) == ["linear-models", "numpy"]
    assert len(as_json(cli("log", "--json", "--since", "2026-01-01"))) == 4


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("yesterday", "'yesterday' is not a date like 2026-11-01 or a span like 7d, 2w or 12h"),
        ("7x", "'7x' is not a date like 2026-11-01 or a span like 7d, 2w or 12h"),
        ("0d", "'0d' must be more than 0 and at most 100 years"),
        ("-3d", "'-3d' must be more than 0 and at most 100 years"),
        ("2026-13-45", "'2026-13-45' is not a date (month must be in 1..12): dates like 2026-11-01"),
    ],
)
def test_bad_since_is_a_usage_error(cli: Cli, since: str, message: str):
    result = cli("log", "--since", since)
    assert result.exit_code == 2
    assert f"Invalid value for '--since': {message}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("log", "--since", "nan"), ("review", "--every", "nan")])
def test_nan_durations_are_a_usage_error(cli: Cli, args: tuple[str, ...]):
    result = cli(*args)
    assert result.exit_code == 2
    assert f"Invalid value for '{args[1]}': 'nan' is not a " in result.stderr


# --- pace ---------------------------------------------------------------------------------------------------

TODAY = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday


def _pace_history(cli: Cli, clock: Clock) -> None:
    for at, command, topic in [
        (datetime(2026, 2, 17, 10, tzinfo=UTC), "done", "python"),  # 10 h, week of 02-16
        (datetime(2026, 2, 24, 10, tzinfo=UTC), "done", "math"),  # 20 h, week of 02-23
        (datetime(2026, 3, 10, 10, tzinfo=UTC), "done", "numpy"),  # 5 h, week of 03-09
        (datetime(2026, 3, 16, 9, tzinfo=UTC), "done", "linear-models"),  # 8 h, this week (Monday)
        (datetime(2026, 3, 17, 20, tzinfo=UTC), "start", "neural-nets"),  # activity, no completion
    ]:
        clock(at)
        ok(cli(command, topic))
    clock(TODAY)


def test_stats_weeks_streak_pace_and_eta(cli: Cli, clock: Clock, utc: None):
    _pace_history(cli, clock)
    stats = as_json(cli("stats", "--json", "--eta"))
    mondays = [date(2026, 3, 16) - timedelta(weeks=i) for i in range(7, -1, -1)]
    assert [w["start"] for w in stats["weeks"]] == [m.isoformat() for m in mondays]
    assert [w["topics"] for w in stats["weeks"]] == [0, 0, 0, 1, 1, 0, 1, 1]
    assert [w["hours"] for w in stats["weeks"]] == [0, 0, 0, 10, 20, 0, 5, 8]
    assert stats["streak_days"] == 2  # yesterday and Monday; nothing yet today
    assert stats["hours_per_week"] == (20 + 0 + 5 + 8) / 4
    assert (stats["done"], stats["total"]) == (4, 6)
    per_week = (20 + 0 + 5 + 8) / 4
    hours_left = {"basics": 0, "models": 18, "total": 18}
    assert [e["phase"] for e in stats["eta"]] == ["basics", "models", "total"]
    for estimate in stats["eta"]:
        left = hours_left[estimate["phase"]]
        assert estimate["hours_left"] == left
        assert estimate["finish"] == (TODAY + timedelta(days=7 * left / per_week)).date().isoformat()
    assert stats["eta"][1]["finish"] == "2026-04-02"  # 15.3 days after Wednesday noon

    clock(TODAY + timedelta(hours=6))
    ok(cli("done", "neural-nets"))
    stats = as_json(cli("stats", "--json", "--eta", "--weeks", "4"))
    assert [w["topics"] for w in stats["weeks"]] == [1, 0, 1, 2]
    assert [w["hours"] for w in stats["weeks"]] == [20, 0, 5, 20]
    assert stats["streak_days"] == 3  # today, yesterday, Monday
    assert stats["hours_per_week"] == 11.25
    assert stats["eta"][-1] == {"phase": "total", "title": "Total", "hours_left": 6, "finish": "2026-03-22"}


def test_stats_text_output(cli: Cli, clock: Clock, utc: None):
    _pace_history(cli, clock)
    text = ok(cli("stats", "--eta"))
    assert "Streak: 2 day(s) in a row · pace 8.2 h/week over the last 28 days" in text
    assert "Models: 18 h left → 2026-04-02" in text
    assert re.search(r"^2026-02-23\s+1\s+20\b", text, re.M)
    assert "left →" not in ok(cli("stats"))


def test_eta_is_off_unless_asked_for_or_configured(cli: Cli, clock: Clock, utc: None):
    _pace_history(cli, clock)
    assert as_json(cli("stats", "--json"))["eta"] is None
    assert ok(cli("config", "eta")) == "eta = off\n"
    assert ok(cli("config", "eta", "on")) == "eta = on\n"
    assert len(as_json(cli("stats", "--json"))["eta"]) == 3
    assert as_json(cli("stats", "--json", "--no-eta"))["eta"] is None
    ok(cli("config", "eta", "off"))
    assert as_json(cli("stats", "--json"))["eta"] is None
    bad = cli("config", "eta", "maybe")
    assert bad.exit_code == 2 and "Invalid value for 'VALUE': eta takes on or off, not 'maybe'" in bad.stderr
    assert cli("config", "colour", "on").exit_code == 2


def test_eta_without_recent_pace_is_none(cli: Cli, clock: Clock, utc: None):
    clock(datetime(2026, 1, 5, 12, tzinfo=UTC))
    ok(cli("done", "python"))
    clock(TODAY)
    stats = as_json(cli("stats", "--json", "--eta"))
    assert stats["hours_per_week"] == 0 and stats["streak_days"] == 0
    assert [e["finish"] for e in stats["eta"]] == [None, None, None]
    assert "no estimate yet" in ok(cli("stats", "--eta"))


def test_pace_does_not_depend_on_how_many_weeks_are_charted(cli: Cli, clock: Clock, utc: None):
    _pace_history(cli, clock)
    default = as_json(cli("stats", "--json", "--eta"))
    short = as_json(cli("stats", "--json", "--eta", "--weeks", "2"))
    assert short["hours_per_week"] == default["hours_per_week"]
    assert short["eta"] == default["eta"]


def at_utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_pace_weekly_unit(utc: None):
    now = at_utc(2026, 3, 18, 12)
    hours = {"a": 2.0, "b": 3.5, "c": None}
    completions = [
        pace.Completion("a", at_utc(2026, 3, 16, 0, 0)),  # Monday 00:00: this week
        pace.Completion("b", at_utc(2026, 3, 15, 23, 59)),  # Sunday: last week
        pace.Completion("c", at_utc(2026, 3, 17)),  # no hours: counts as a topic, 0 h
        pace.Completion("a", datetime(2026, 3, 9, 12)),  # naive: taken as UTC
        pace.Completion("b", at_utc(2026, 1, 1)),  # before the window
        pace.Completion("b", at_utc(2026, 3, 30)),  # in the future
    ]
    weeks = pace.weekly(completions, hours, now, weeks=3)
    assert [(w.start, w.topics, w.hours) for w in weeks] == [
        (date(2026, 3, 2), 0, 0.0),
        (date(2026, 3, 9), 2, 5.5),
        (date(2026, 3, 16), 2, 2.0),
    ]
    assert len(pace.weekly([], hours, now, weeks=8)) == 8


def test_pace_streak_unit(utc: None):
    now = at_utc(2026, 3, 18, 12)
    assert pace.streak([], now) == 0
    assert pace.streak([at_utc(2026, 3, 18, 1)], now) == 1
    assert pace.streak([at_utc(2026, 3, 17, 23)], now) == 1  # yesterday still counts
    assert pace.streak([at_utc(2026, 3, 16, 12)], now) == 0  # two days ago: broken
    days = [at_utc(2026, 3, d, 12) for d in (18, 17, 17, 16, 14, 13)]
    assert pace.streak(days, now) == 3
    assert pace.streak(days[1:], now) == 2


def test_pace_uses_local_days(local_tz):
    local_tz("JST-9")  # UTC+9 all year, no tz database needed
    sunday_evening_utc = at_utc(2026, 3, 15, 20)  # Monday 05:00 in Tokyo
    now = at_utc(2026, 3, 16, 3)  # Monday 12:00 in Tokyo
    weeks = pace.weekly([pace.Completion("a", sunday_evening_utc)], {"a": 1.0}, now, weeks=2)
    assert [(w.start, w.topics) for w in weeks] == [(date(2026, 3, 9), 0), (date(2026, 3, 16), 1)]
    assert pace.streak([sunday_evening_utc], now) == 1  # the same local day
    assert pace.finish_date(0, 1, now) == date(2026, 3, 16)


def test_pace_hours_per_week_and_finish_date_unit(utc: None):
    now = at_utc(2026, 3, 18, 12)
    hours = {"a": 100.0, "b": 1.0, "c": 2.0, "d": 3.0, "e": None}
    done = [
        pace.Completion("a", now - timedelta(days=28)),  # just outside the 28 days
        pace.Completion("b", now - timedelta(days=27, hours=23)),
        pace.Completion("c", now - timedelta(days=10)),
        pace.Completion("d", now),
        pace.Completion("e", now - timedelta(days=1)),  # no hours: counted as a topic, 0 h
        pace.Completion("a", now + timedelta(minutes=1)),  # in the future
    ]
    assert pace.measure([], hours, now) == pace.Pace(0.0, 0, 28)
    assert pace.measure(done, hours, now) == pace.Pace((1 + 2 + 3) / 4, 4, 28)
    assert pace.measure(done, hours, now, days=7) == pace.Pace(3.0, 2, 7)
    assert pace.finish_date(0, 0, now) == date(2026, 3, 18)
    assert pace.finish_date(10, 0, now) is None
    assert pace.finish_date(10, 10, now) == date(2026, 3, 25)
    assert pace.finish_date(10.5, 10, now) == date(2026, 3, 25)  # 7.35 days after noon: that evening
    assert pace.finish_date(1, 70, now) == date(2026, 3, 18)  # 2.4 hours from noon
    assert pace.finish_date(1, 1e-9, now) == date.max  # beyond the calendar: no crash


# --- review -------------------------------------------------------------------------------------------------

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _review_items(cli: Cli) -> list[tuple[str, bool]]:
    return [(item["id"], item["review"]) for item in next_items(cli)]


def test_review_brings_done_topics_back_after_the_interval(engine: str, cli: Cli, clock: Clock):
    clock(T)
    assert "Review is on: done topics come back after 30 day(s). 0 due now." in ok(
        cli("review", "--every", "30d")
    )
    ok(cli("done", "python"))
    clock(T + timedelta(days=1))
    ok(cli("done", "math"))

    clock(T + timedelta(days=29))
    assert _review_items(cli) == [("numpy", False)]
    assert "0 due now" in ok(cli("review"))

    clock(T + timedelta(days=31, hours=1))
    items = next_items(cli)
    assert [(i["id"], i["review"]) for i in items] == [("numpy", False), ("python", True), ("math", True)]
    assert items[1]["status"] == "done" and items[1]["unlocks"] == []
    text = ok(cli("review"))
    assert "2 due now" in text and "↻ Python (python)" in text and "↻ Math (math)" in text
    assert "Python" in ok(cli("next"))

    assert "Python (python) reviewed: done again" in ok(cli("done", "python"))
    assert _review_items(cli) == [("numpy", False), ("math", True)]
    assert re.search(r"Python \(python\) +reviewed", ok(cli("log")))
    assert as_json(cli("log", "--json", "-n", "1"))[0] | {"at": None} == {
        "at": None,
        "id": "python",
        "title": "Python",
        "from": "done",
        "to": "done",
    }

    clock(T + timedelta(days=61, hours=2))  # 30 days after the review
    assert _review_items(cli) == [("numpy", False), ("math", True), ("python", True)]

    ok(cli("review", "--off"))
    assert _review_items(cli) == [("numpy", False)]
    assert "Review is off" in ok(cli("review"))


def test_review_items_come_after_new_topics_even_with_a_small_count(cli: Cli, clock: Clock):
    clock(T)
    ok(cli("review", "--every", "2w"))
    ok(cli("done", "python"))
    clock(T + timedelta(weeks=3))
    assert [(i["id"], i["review"]) for i in as_json(cli("next", "--json", "-n", "1"))] == [("math", False)]
    assert _review_items(cli) == [("math", False), ("python", True)]


def test_review_off_says_it_is_off(cli: Cli):
    ok(cli("review", "--every", "30d"))
    assert "Review is off" in ok(cli("review", "--off"))


@pytest.mark.parametrize("every", ["soon", "0d", "-5d", "30x", "200000d"])
def test_bad_review_interval_is_a_usage_error(cli: Cli, every: str):
    result = cli("review", "--every", every)
    assert result.exit_code == 2
    assert f"Invalid value for '--every': '{every}' " in result.stderr
    assert "Review is off" in ok(cli("review"))


# --- graph --------------------------------------------------------------------------------------------------

NODE = re.compile(r'^    (    )?(t_[a-z0-9_]+)\["([^"]*)"\]$')
SUBGRAPH = re.compile(r'^    subgraph (p_[a-z0-9_]+)\["([^"]*)"\]$')
EDGE = re.compile(r"^    (t_[a-z0-9_]+) --> (t_[a-z0-9_]+)$")
CLASSDEF = re.compile(r"^    classDef (done|skipped|doing|available|blocked) [a-z-]+:[^\s;]+$")
CLASS = re.compile(r"^    class (t_[a-z0-9_]+(?:,t_[a-z0-9_]+)*) (done|skipped|doing|available|blocked)$")
STATES = ("done", "skipped", "doing", "available", "blocked")


@dataclass
class Mermaid:
    nodes: dict[str, str]  # node -> label
    edges: list[tuple[str, str]]
    classes: dict[str, str]  # node -> state
    phases: dict[str, str]  # node -> its subgraph (phase), when the chart has more than one phase


def parse_mermaid(text: str) -> Mermaid:
    lines = text.splitlines()
    assert lines[0] == "flowchart TB"
    assert text.endswith("\n")
    graph = Mermaid({}, [], {}, {})
    defined = []
    subgraph = None
    for line in lines[1:]:
        if match := NODE.match(line):
            assert match[2] not in graph.nodes, f"node {match[2]} twice"
            assert bool(match[1]) == (subgraph is not None), f"node {match[2]} indented wrongly"
            graph.nodes[match[2]] = match[3]
            if subgraph is not None:
                graph.phases[match[2]] = subgraph
        elif (match := SUBGRAPH.match(line)) and subgraph is None:
            subgraph = match[1]
        elif line == "    end" and subgraph is not None:
            subgraph = None
        elif match := EDGE.match(line):
            graph.edges.append((match[1], match[2]))
        elif match := CLASSDEF.match(line):
            defined.append(match[1])
        elif match := CLASS.match(line):
            for node in match[1].split(","):
                assert node not in graph.classes, f"{node} in two classes"
                graph.classes[node] = match[2]
        else:
            raise AssertionError(f"unexpected mermaid line: {line!r}")
    assert sorted(defined) == sorted(STATES)
    assert set(graph.classes) == set(graph.nodes)
    assert all(a in graph.nodes and b in graph.nodes for a, b in graph.edges)
    return graph


def node(topic: str) -> str:
    return "t_" + topic.replace("-", "_")


def expected_state(rm: Plain, statuses: dict[str, str], topic: str) -> str:
    status = statuses.get(topic, "todo")
    if status != "todo":
        return status
    return "available" if all(satisfied(statuses, r) for r in rm.requires[topic]) else "blocked"


def expected_edges(rm: Plain, members: set[str]) -> set[tuple[str, str]]:
    return {(node(r), node(t)) for t in members for r in rm.requires[t] if r in members}


def test_mermaid_graph_of_mini_with_status_classes(cli: Cli):
    rm, statuses = plain(MINI), {}
    apply(cli, statuses, done=["python"], skip=["math"], start=["linear-models"])
    graph = parse_mermaid(ok(cli("graph")))
    assert graph.nodes == {node(t): rm.title[t] for t in rm.order}
    assert len(graph.edges) == sum(len(r) for r in rm.requires.values()) == 5
    assert set(graph.edges) == expected_edges(rm, set(rm.order))
    assert graph.classes == {
        "t_python": "done",
        "t_math": "skipped",
        "t_numpy": "available",
        "t_linear_models": "doing",
        "t_neural_nets": "blocked",
        "t_build_mlp": "blocked",
    }
    assert graph.phases == {node(t): "p_" + rm.phase[t] for t in rm.order}  # a subgraph per phase


def test_mermaid_graph_of_the_shipped_roadmap(shipped):
    shipped_cli, statuses = shipped
    rm = plain(SHIPPED)
    graph = parse_mermaid(ok(shipped_cli("graph")))
    assert len(graph.nodes) == len(rm.order) > 100
    assert len(graph.edges) == sum(len(r) for r in rm.requires.values())
    assert set(graph.edges) == expected_edges(rm, set(rm.order))
    assert graph.classes == {node(t): expected_state(rm, statuses, t) for t in rm.order}
    assert graph.nodes[node("docker-basics")] == "Containers #amp; Docker Basics"
    assert graph.phases == {node(t): "p_" + rm.phase[t].replace("-", "_") for t in rm.order}

    on_the_way = open_ancestors(rm, statuses, ["rag-fundamentals"]) | {"rag-fundamentals"}
    goal = parse_mermaid(ok(shipped_cli("graph", "--goal", "rag")))
    assert set(goal.nodes) == {node(t) for t in on_the_way}
    assert set(goal.edges) == expected_edges(rm, on_the_way)

    phase = [t for t in rm.order if rm.phase[t] == "transformers"]
    only_phase = parse_mermaid(ok(shipped_cli("graph", "--phase", "transformers")))
    assert list(only_phase.nodes) == [node(t) for t in phase]
    assert only_phase.phases == {}  # one phase: no subgraph
    assert set(only_phase.edges) == expected_edges(rm, set(phase))

    both = parse_mermaid(ok(shipped_cli("graph", "--phase", "applications", "--goal", "rag")))
    assert set(both.nodes) == {node(t) for t in on_the_way if rm.phase[t] == "applications"}

    done_goal = parse_mermaid(ok(shipped_cli("graph", "--goal", "calculus")))  # already done: just itself
    assert done_goal.nodes == {"t_calculus": rm.title["calculus"]} and done_goal.edges == []


def test_graph_labels_are_escaped(tmp_path: Path):
    roadmap = tmp_path / "odd.yaml"
    roadmap.write_text(
        "schema: 1\nid: odd\ntitle: Odd\nphases:\n  - id: one\n    title: One\n    topics:\n"
        "      - id: a\n        title: 'Say \"hi\" <b> & C:\\path'\n"
        "      - id: b\n        title: B\n        requires: [a]\n"
    )
    cli = Cli(roadmap)
    graph = parse_mermaid(ok(cli("graph")))
    assert graph.nodes["t_a"] == "Say #quot;hi#quot; #lt;b#gt; #amp; C:\\path"
    dot = ok(cli("graph", "--format", "dot"))
    assert '    "a" [label="Say \\"hi\\" <b> &amp; C:\\\\path", ' in dot
    check_dot(dot, {"a", "b"}, {("a", "b")})


DOT_NODE = re.compile(r'^    "([a-z0-9-]+)" \[label="((?:[^"\\]|\\.)*)", (.*)\];$')
DOT_EDGE = re.compile(r'^    "([a-z0-9-]+)" -> "([a-z0-9-]+)";$')


def check_dot(text: str, nodes: set[str], edges: set[tuple[str, str]]) -> dict[str, str]:
    """Check the DOT text line by line; returns each node's attributes."""
    lines = text.splitlines()
    assert lines[0] == "digraph llmpath {" and lines[-1] == "}"
    depth = 0
    for char in re.sub(r'"(?:[^"\\]|\\.)*"', '""', text):  # braces outside strings balance
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    found_nodes: dict[str, str] = {}
    found_edges: set[tuple[str, str]] = set()
    for line in lines[1:-1]:
        if match := DOT_NODE.match(line):
            found_nodes[match[1]] = match[3]
        elif match := DOT_EDGE.match(line):
            found_edges.add((match[1], match[2]))
        else:
            assert line in (
                "    rankdir=LR;",
                '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
            )
    assert set(found_nodes) == nodes
    assert found_edges == edges
    return found_nodes


def test_dot_graph(cli: Cli):
    rm, statuses = plain(MINI), {}
    apply(cli, statuses, done=["python"], start=["math"])
    text = ok(cli("graph", "--format", "dot"))
    attributes = check_dot(text, set(rm.order), {(r, t) for t in rm.order for r in rm.requires[t]})
    assert attributes["python"].startswith('fillcolor="#2da44e"')
    assert attributes["math"] == 'fillcolor="#f5c518"'
    assert attributes["numpy"] == 'fillcolor="#eeeeee", fontcolor="#666666"'
    goal = ok(cli("graph", "--format", "dot", "--goal", "linear-models"))
    check_dot(goal, {"math", "numpy", "linear-models"}, {("math", "numpy"), ("numpy", "linear-models")})


def test_dot_graph_parses_with_graphviz(shipped):
    text = ok(shipped[0]("graph", "--format", "dot"))
    if shutil.which("dot"):
        drawn = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=60)
        assert drawn.returncode == 0, drawn.stderr
        assert "<svg" in drawn.stdout
        return
    try:
        import pydot  # type: ignore[import-not-found]
    except ImportError:
        pydot = None
    if pydot is not None:
        (graph,) = pydot.graph_from_dot_data(text)
        assert len(graph.get_edges()) == sum(len(r) for r in plain(SHIPPED).requires.values())
        return
    try:
        import graphviz  # type: ignore[import-not-found]
    except ImportError:
        pytest.skip("neither the dot binary nor pydot is available to parse DOT")
    graphviz.Source(text).pipe(format="svg")  # needs the dot binary, so not reached without it


def test_graph_unknown_phase_or_goal(cli: Cli):
    for args in (("--phase", "nope"), ("--goal", "nope")):
        result = cli("graph", *args)
        assert result.exit_code == 1 and result.stderr.startswith("error: no ")


def test_export_graph_appends_a_mermaid_block(cli: Cli):
    ok(cli("done", "python"))
    graph = ok(cli("graph"))
    text = ok(cli("export", "--graph"))
    assert text.endswith("## Prerequisite graph\n\n```mermaid\n" + graph + "```\n")
    assert text.startswith("# Mini Path\n")
    assert "```mermaid" not in ok(cli("export"))
    parse_mermaid(text.split("```mermaid\n")[1].split("```")[0])
