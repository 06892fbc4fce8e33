"""What a daily user meets first (issue 12): notes that can be listed, fixed and removed; goals that end
well; finish estimates that do not jump when a new week starts.

Each problem the issue reported has a test here that failed before the fix. Time is injected by replacing
`llmpath.store.now`; nothing sleeps. The notes, goals and estimates run on both engines (`engine`).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from llmpath import db, pace, planner, render, store
from llmpath.errors import LlmpathError
from llmpath.planner import Graph, PhaseInfo, TopicInfo, TrackInfo

from .conftest import MINI, Cli, Clock, as_json, error_line, ok


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def utc():
    """Local time is UTC, so local days and weeks are known exactly."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset to choose the local time zone")
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def notes_of(cli: Cli, topic: str) -> list[str]:
    return [n["text"] for n in as_json(cli("show", topic, "--json"))["notes"]]


def _editor(tmp_path: Path, script: str) -> str:
    """An $EDITOR: a shell script run on the draft file ("$1")."""
    path = tmp_path / "editor.sh"
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


# --- notes you can fix ------------------------------------------------------------------------------------


def _three_notes(cli: Cli, clock: Clock) -> None:
    for day, topic, text in [
        (2, "python", "first"),
        (3, "numpy", "views, not copies"),
        (4, "py", "second\nover two lines"),
    ]:
        clock(datetime(2026, 3, day, 9, 0, tzinfo=UTC))
        ok(cli("note", topic, text))


def test_notes_lists_every_note_numbered_per_topic_oldest_first(
    engine: str, cli: Cli, clock: Clock, utc: None
):
    assert "No notes yet." in ok(cli("notes"))
    assert as_json(cli("notes", "--json")) == []
    _three_notes(cli, clock)
    listed = as_json(cli("notes", "--json"))
    assert [(n["topic"], n["title"], n["number"], n["text"]) for n in listed] == [
        ("python", "Python", 1, "first"),
        ("python", "Python", 2, "second\nover two lines"),
        ("numpy", "NumPy Arrays", 1, "views, not copies"),  # topics in roadmap order
    ]
    assert listed[0]["at"] == "2026-03-02T09:00:00+00:00"
    assert as_json(cli("notes", "py", "--json")) == listed[:2]  # an alias works; the same numbers
    assert as_json(cli("notes", "math", "--json")) == []

    text = ok(cli("notes")).splitlines()
    assert text[0] == "Python (python)"
    assert text[1].split() == ["1", "2026-03-02", "09:00", "first"]
    assert text[2].split() == ["2", "2026-03-04", "09:00", "second"]
    assert text[3].split() == ["over", "two", "lines"]
    assert text[4] == "NumPy Arrays (numpy)"
    one = ok(cli("notes", "numpy")).splitlines()
    assert one[0] == "NumPy Arrays (numpy)" and one[1].split() == [
        "1",
        "2026-03-03",
        "09:00",
        "views,",
        "not",
        "copies",
    ]
    assert "No notes on Math (math) yet." in ok(cli("notes", "math"))
    assert error_line(cli("notes", "nope")).startswith("error: no topic 'nope'")


def test_note_delete_n_removes_that_note_only(engine: str, cli: Cli, clock: Clock):
    _three_notes(cli, clock)
    assert "Deleted note 1 on Python (python): first" in ok(cli("note", "python", "--delete", "1"))
    assert notes_of(cli, "python") == ["second\nover two lines"]
    assert notes_of(cli, "numpy") == ["views, not copies"]
    assert [n["number"] for n in as_json(cli("notes", "python", "--json"))] == [1]  # renumbered
    ok(cli("note", "python", "--delete", "1"))
    assert notes_of(cli, "python") == []


def test_note_edit_n_changes_that_note_in_the_editor_and_keeps_its_date(
    engine: str, cli: Cli, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _three_notes(cli, clock)
    seen = tmp_path / "seen.txt"
    # The editor sees the note, then puts a markdown heading on top and changes a word.
    script = f"cp \"$1\" '{seen}'\nsed -i.bak -e '1s/^/# Heading\\n/' -e 's/second/2nd/' \"$1\""
    monkeypatch.setenv("VISUAL", _editor(tmp_path, script))
    clock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    assert "Changed note 2 on Python (python)." in ok(cli("note", "python", "--edit", "2"))
    assert seen.read_text(encoding="utf-8").startswith("second\nover two lines\n\n# ---")
    listed = as_json(cli("notes", "python", "--json"))
    assert [n["text"] for n in listed] == ["first", "# Heading\n2nd\nover two lines"]  # the heading is kept
    assert listed[1]["at"] == "2026-03-04T09:00:00+00:00"  # when it was first written

    monkeypatch.setenv("VISUAL", _editor(tmp_path, "true"))  # saved as it was
    assert "Note 1 on Python (python) is unchanged." in ok(cli("note", "python", "-e", "1"))
    monkeypatch.setenv("VISUAL", _editor(tmp_path, ': > "$1"'))  # emptied
    line = error_line(cli("note", "python", "--edit", "1"))
    assert line == "error: the note is empty; nothing saved (`llmpath note python --delete 1` deletes it)"
    assert notes_of(cli, "python") == ["first", "# Heading\n2nd\nover two lines"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("python", "--edit", "3"), "error: topic 'python' has 2 notes, so there is no note 3; "),
        (("python", "--delete", "9"), "error: topic 'python' has 2 notes, so there is no note 9; "),
        (("numpy", "--delete", "2"), "error: topic 'numpy' has 1 note, so there is no note 2; "),
        (("math", "--delete", "1"), "error: topic 'math' has no notes, so there is no note 1"),
    ],
)
def test_an_unknown_note_number_names_the_topic_and_its_count(
    cli: Cli, clock: Clock, args: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
):
    _three_notes(cli, clock)
    monkeypatch.setenv("VISUAL", "false")  # never reached
    before = as_json(cli("notes", "--json"))
    assert error_line(cli("note", *args)).startswith(message)
    assert as_json(cli("notes", "--json")) == before


@pytest.mark.parametrize(
    "args",
    [
        ("python", "--edit", "x"),
        ("python", "--edit", "0"),
        ("python", "--delete", "0"),
        ("python", "--delete", "1", "text"),
        ("python", "--delete", "1", "--edit"),
    ],
)
def test_bad_note_numbers_are_usage_errors(cli: Cli, args: tuple[str, ...]):
    result = cli("note", *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def test_a_lone_dash_reads_the_note_from_standard_input(cli: Cli):
    """Before: `note X -` saved a note "-"."""
    assert "Noted on Python (python)." in ok(cli("note", "python", "-", input="read from a pipe\nline two\n"))
    assert notes_of(cli, "python") == ["read from a pipe\nline two"]
    assert error_line(cli("note", "python", "-", input="  \n")) == "error: the note is empty; nothing saved"
    assert notes_of(cli, "python") == ["read from a pipe\nline two"]
    ok(cli("note", "python", "a dash - inside is text"))
    assert notes_of(cli, "python")[-1] == "a dash - inside is text"


def without_build_mlp(tmp_path: Path) -> Cli:
    """The CLI on a copy of the mini roadmap whose last topic, build-mlp, was removed (the track that aimed
    for it now aims for neural-nets)."""
    smaller = tmp_path / "mini.yaml"
    text = MINI.read_text(encoding="utf-8")
    build = text.index("      - id: build-mlp")
    smaller.write_text(
        text[:build] + text[text.index("tracks:") :].replace("goals: [build-mlp]", "goals: [neural-nets]"),
        encoding="utf-8",
    )
    return Cli(smaller)


def test_notes_of_a_removed_topic_can_be_listed_and_deleted(engine: str, cli: Cli, tmp_path: Path):
    ok(cli("note", "build-mlp", "XOR first"))
    other = without_build_mlp(tmp_path)
    listed = as_json(other("notes", "--json"))
    assert [(n["topic"], n["title"], n["number"]) for n in listed] == [("build-mlp", "build-mlp", 1)]
    ok(other("note", "build-mlp", "--delete", "1"))
    assert as_json(other("notes", "--json")) == []


def test_store_numbers_edits_and_deletes_notes(engine: str, cli: Cli, clock: Clock):
    _three_notes(cli, clock)
    database = db.open_database()
    with db.writing(database) as session:
        second = store.note_by_number(session, roadmap_id="mini", topic_id="python", number=2)
        assert (second.topic_id, second.text) == ("python", "second\nover two lines")
        assert isinstance(second.id, int)
        store.update_note(session, roadmap_id="mini", note_id=second.id, text="fixed")
        first = store.note_by_number(session, roadmap_id="mini", topic_id="python", number=1)
        store.delete_note(session, roadmap_id="mini", note_id=first.id)
        with pytest.raises(LlmpathError, match="topic 'python' has 1 note, so there is no note 2"):
            store.note_by_number(session, roadmap_id="mini", topic_id="python", number=2)
        with pytest.raises(LlmpathError, match="deleted meanwhile"):
            store.update_note(session, roadmap_id="mini", note_id=first.id, text="too late")
        with pytest.raises(LlmpathError):  # another roadmap's note is not this roadmap's
            store.update_note(session, roadmap_id="other", note_id=second.id, text="no")
    with db.reading(database) as session:
        rows = store.list_notes(session, roadmap_id="mini")
    assert [(n.topic_id, n.text) for n in rows] == [("numpy", "views, not copies"), ("python", "fixed")]
    database.dispose()


# --- goals that end well ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marks", "goal", "message"),
    [
        (
            {"done": ["python"]},
            ["python"],
            "error: Python (python) is already done: a goal must be a topic still",
        ),
        ({"skip": ["math"]}, ["math"], "error: Math (math) is already skipped: a goal must be a topic still"),
        ({"done": ["python"]}, ["nn", "py"], "error: Python (python) is already done: "),  # all or nothing
    ],
)
def test_a_goal_already_done_or_skipped_is_refused_and_nothing_changes(
    cli: Cli, marks: dict[str, list[str]], goal: list[str], message: str
):
    """Before: accepted, with "0 topics, about 0 h"."""
    ok(cli("goal", "linear-models"))
    for command, topics in marks.items():
        ok(cli(command, *topics))
    assert error_line(cli("goal", *goal)).startswith(message)
    assert as_json(cli("goal", "--json"))["goals"] == ["linear-models"]


def test_the_dashboard_and_next_say_the_goal_is_reached_and_what_now(engine: str, cli: Cli):
    """Before: the dashboard showed no next topics and no "goal reached"."""
    ok(cli("goal", "math"))
    ok(cli("done", "math"))
    dashboard = ok(cli())
    assert "Goal reached: Math (math) is done." in dashboard
    assert "`llmpath goal TOPIC` sets a new goal" in dashboard
    assert "`llmpath goal --clear` offers the whole roadmap again" in dashboard
    assert "`llmpath track` lists tracks to follow" in dashboard  # the roadmap has tracks
    assert "Next up" not in dashboard
    text = ok(cli("next"))
    assert "Goal reached: Math (math) is done." in text and "`llmpath goal TOPIC`" in text
    assert "Nothing is available" not in text
    assert as_json(cli("next", "--json")) == []
    goal = ok(cli("goal"))
    assert goal.startswith("Goal reached: Math (math) is done.") and "0 topics" not in goal

    ok(cli("track", "coder"))  # clearing the goal now leads back to the track
    assert "`llmpath goal --clear` goes back to your track Coder" in ok(cli())
    ok(cli("goal", "--clear"))
    assert "Goal reached" not in ok(cli())


def test_next_says_the_goal_is_reached_while_reviews_are_offered(cli: Cli, clock: Clock):
    """Reviews follow no goal, so `next` still lists them; it says the goal is reached above them."""
    ok(cli("review", "--every", "7d"))
    ok(cli("goal", "python"))
    ok(cli("done", "python"))
    clock(clock.at + timedelta(days=8))
    assert [(i["id"], i["review"]) for i in as_json(cli("next", "--json"))] == [("python", True)]
    text = ok(cli("next"))
    assert "Goal reached: Python (python) is done." in text and "review" in text


def test_a_finished_track_and_a_finished_roadmap_say_what_now(cli: Cli):
    ok(cli("track", "coder"))
    ok(cli("done", "python", "math", "numpy"))
    for text in (ok(cli()), ok(cli("next"))):
        assert "Track finished: all 3 of its topics are done or skipped." in text
        assert "`llmpath track` lists the other tracks" in text and "`llmpath track --clear`" in text
    ok(cli("done", "linear-models", "neural-nets"))
    ok(cli("skip", "build-mlp"))
    for text in (ok(cli()), ok(cli("next"))):
        assert "All 6 topics are finished (5 done, 1 skipped)" in text
        assert "`llmpath review --every 60d` brings done topics back" in text
    ok(cli("review", "--every", "60d"))
    assert "llmpath review --every" not in ok(cli("next"))


def test_a_goal_on_a_topic_the_roadmap_dropped_is_ignored_with_a_note(engine: str, cli: Cli, tmp_path: Path):
    """Before: `next` and the dashboard crashed with a KeyError."""
    ok(cli("goal", "build-mlp"))
    other = without_build_mlp(tmp_path)
    for args in ((), ("next",), ("next", "--json")):
        result = other(*args)
        assert result.exit_code == 0, (result.stderr, result.exception)
        assert "goal 'build-mlp' is no longer in this roadmap; ignored" in result.stderr
    assert [i["id"] for i in json.loads(other("next", "--json").stdout)] == ["python", "math"]


def _graph(statuses_needed: int = 3) -> Graph:
    topics = [TopicInfo(t, t.upper(), "p", i, 1.0) for i, t in enumerate(["a", "b", "c"][:statuses_needed])]
    return Graph.from_edges([PhaseInfo("p", "P")], topics, [("b", "a"), ("c", "b")])


def test_aim_reached_and_what_now_unit():
    graph = _graph()
    track = TrackInfo("t", "T", "", ("b",), ("a", "b"))
    assert planner.aim_reached(graph, {}, goals=["b"], track=track) is None
    reached = planner.aim_reached(graph, {"a": "done", "b": "skipped"}, goals=["b"], track=track)
    assert reached == planner.Reached("goal", ("b",), 1, 0, 1)
    assert planner.aim_reached(graph, {"a": "done", "b": "done"}, track=track) == planner.Reached(
        "track", (), 2, 2, 0
    )
    # A goal the roadmap no longer has does not count; the roadmap finished is the biggest news.
    assert planner.aim_reached(graph, {"a": "done"}, goals=["gone"]) is None
    everything = {"a": "done", "b": "done", "c": "skipped"}
    assert planner.aim_reached(graph, everything, goals=["b"], track=track) == planner.Reached(
        "roadmap", (), 3, 2, 1
    )

    def now(reached, **kw):
        return planner.what_now(reached, **{"track": None, "track_left": False, "has_tracks": False} | kw)

    goal = planner.Reached("goal", ("b",), 1, 1, 0)
    assert now(goal, review_on=False) == ("new-goal", "clear-goal")
    assert now(goal, review_on=False, has_tracks=True) == ("new-goal", "clear-goal", "pick-track")
    assert now(goal, review_on=False, track=track, track_left=True) == ("new-goal", "clear-goal-to-track")
    assert now(goal, review_on=False, track=track) == ("new-goal", "clear-goal-to-track", "other-track")
    assert now(planner.Reached("track", (), 2, 2, 0), review_on=False, track=track) == (
        "other-track",
        "new-goal",
        "clear-track",
    )
    assert now(planner.Reached("roadmap", (), 3, 3, 0), review_on=False) == ("review",)
    assert now(planner.Reached("roadmap", (), 3, 3, 0), review_on=True) == ()
    assert planner.already_finished({"a": "done", "b": "doing", "c": "skipped"}, ["a", "b", "c"]) == [
        "a",
        "c",
    ]


def test_number_notes_unit():
    graph = _graph()
    at = datetime(2026, 3, 2, tzinfo=UTC)
    rows = [("c", at, "c1"), ("gone", at, "g1"), ("a", at, "a1"), ("c", at, "c2")]
    assert [(n["topic"], n["title"], n["number"], n["text"]) for n in planner.number_notes(graph, rows)] == [
        ("a", "A", 1, "a1"),
        ("c", "C", 1, "c1"),
        ("c", "C", 2, "c2"),
        ("gone", "gone", 1, "g1"),
    ]


# --- estimates that don't jump ----------------------------------------------------------------------------

SUNDAY_LATE = datetime(2026, 3, 15, 23, 59, tzinfo=UTC)
MONDAY_EARLY = datetime(2026, 3, 16, 0, 1, tzinfo=UTC)


def test_the_estimate_does_not_move_from_sunday_night_to_monday_morning(
    engine: str, cli: Cli, clock: Clock, utc: None
):
    """Before: at Monday 00:01 the new, empty week counted as one of the last four, and every estimate
    slipped (here from 7.5 to 2.5 h a week) with no activity at all."""
    clock(datetime(2026, 2, 20, 10, tzinfo=UTC))  # 20 h, 23 days before Sunday
    ok(cli("done", "math"))
    clock(datetime(2026, 3, 11, 10, tzinfo=UTC))  # 10 h, this (Sunday's) week
    ok(cli("done", "python"))
    clock(SUNDAY_LATE)
    sunday = as_json(cli("stats", "--json", "--eta"))
    sunday_text = ok(cli("stats", "--eta"))
    clock(MONDAY_EARLY)
    monday = as_json(cli("stats", "--json", "--eta"))
    assert sunday["hours_per_week"] == monday["hours_per_week"] == 30 / 4  # 30 h in 28 days
    assert sunday["eta"] == monday["eta"]
    assert ok(cli("stats", "--eta")).split("Streak")[1] == sunday_text.split("Streak")[1]
    # Time passing still moves the estimate: the 20 h leave the window 28 days after they were done.
    clock(datetime(2026, 3, 20, 11, tzinfo=UTC))
    assert as_json(cli("stats", "--json"))["hours_per_week"] == 10 / 4


def test_the_finish_date_is_counted_from_the_moment_not_from_the_day(utc: None):
    for hours_left, pace_per_week in [(5, 7.5), (31, 7.5), (100, 3), (0.5, 40)]:
        assert pace.finish_date(hours_left, pace_per_week, SUNDAY_LATE) == pace.finish_date(
            hours_left, pace_per_week, MONDAY_EARLY
        )


def test_no_estimate_is_said_once_with_its_reason(shipped_cli: Cli, clock: Clock, utc: None):
    """Before: "no estimate yet (…)" once per phase, ten times on the shipped roadmap."""
    text = ok(shipped_cli("stats", "--eta"))
    assert text.count("no estimate yet") == 1
    assert "no topic finished in the last 28 days" in text
    assert "→" not in text  # no phase lines without a date
    clock(clock.at - timedelta(days=40))
    ok(shipped_cli("done", "llm-overview"))
    clock(clock.at + timedelta(days=40))
    assert ok(shipped_cli("stats", "--eta")).count("no estimate yet") == 1  # done, but too long ago
    assert [e["finish"] for e in as_json(shipped_cli("stats", "--json", "--eta"))["eta"]] == [None] * 10


def test_the_no_estimate_line_names_its_reason():
    assert "no topic finished in the last 28 days" in render.no_estimate_line(0, 28, 12).plain
    assert (
        "the topic finished in the last 28 days has no hour estimate"
        in render.no_estimate_line(1, 28, 12).plain
    )
    assert (
        "the 3 topics finished in the last 28 days have no hour estimates"
        in render.no_estimate_line(3, 28, 12).plain
    )
    assert pace.measure(
        [pace.Completion("x", datetime(2026, 3, 1, tzinfo=UTC))],
        {"x": None},
        datetime(2026, 3, 2, tzinfo=UTC),
    ) == pace.Pace(0.0, 1, 28)


def test_a_done_topic_in_the_future_does_not_count(utc: None):
    now = datetime(2026, 3, 2, tzinfo=UTC)
    assert pace.measure([pace.Completion("x", now + timedelta(seconds=1))], {"x": 5.0}, now).topics == 0
    assert date.max == pace.finish_date(10, 1e-12, now)
