"""Direct tests of the core modules (no CLI): lookup, pace, store + sync, transfer, files.

Times are explicit, timezone-aware UTC datetimes. The storage tests run on both engines (the `engine`
fixture of conftest.py): a real SQLite file in the test's LLMPATH_HOME, and a fresh database of a real
PostgreSQL server; only what is about the SQLite file (its backups) runs on SQLite alone.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from llmpath import db, files, pace, paths, store, sync, transfer
from llmpath import export as exporting
from llmpath.errors import LlmpathError, TopicNotFound
from llmpath.lookup import resolve_phase, resolve_topic, resolve_topics, resolve_track
from llmpath.models import Progress
from llmpath.planner import Graph, PhaseInfo, TopicInfo, TrackInfo

from .conftest import MINI

MINI_TEXT = MINI.read_text(encoding="utf-8")


def at(day: int, hour: int = 12, minute: int = 0, month: int = 5) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


def variant(*replacements: tuple[str, str]) -> str:
    """mini.yaml with each `(old, new)` replaced exactly once (so a stale replacement fails loudly)."""
    text = MINI_TEXT
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


# The mini roadmap with `numpy` renamed to `arrays`, which `replaces` the old id.
RENAMED = variant(
    (
        "      - id: numpy\n        title: NumPy Arrays\n",
        "      - id: arrays\n        title: NumPy Arrays\n        replaces: [numpy]\n",
    ),
    ("requires: [numpy]", "requires: [arrays]"),
    ("goals: [numpy]", "goals: [arrays]"),
)
# The mini roadmap without `build-mlp`.
WITHOUT_MLP = variant(
    (
        "      - id: build-mlp\n        title: Build an MLP\n        kind: project\n"
        "        requires: [neural-nets]\n        hours: 6\n",
        "",
    ),
    ("goals: [build-mlp]", "goals: [neural-nets]"),
)


# --- lookup -----------------------------------------------------------------------------------------------


@pytest.fixture
def graph() -> Graph:
    phases = [PhaseInfo("basics", "Basics"), PhaseInfo("models", "Models")]
    topics = [
        TopicInfo("python", "Python", "basics", 0, 10.0),
        TopicInfo("math", "Math", "basics", 1, 20.0),
        TopicInfo("numpy", "NumPy Arrays", "basics", 2, 5.0),
        TopicInfo("linear-models", "Linear Models", "models", 3, 8.0),
        TopicInfo("neural-nets", "Neural Networks", "models", 4, 12.0),
        TopicInfo("build-mlp", "Build an MLP", "models", 5, 6.0, "project"),
    ]
    edges = [
        ("numpy", "python"),
        ("numpy", "math"),
        ("linear-models", "numpy"),
        ("neural-nets", "linear-models"),
        ("build-mlp", "neural-nets"),
    ]
    return Graph.from_edges(phases, topics, edges)


ALIASES = {"py": "python", "nn": "neural-nets"}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("numpy", "numpy"),
        ("  NumPy  ", "numpy"),  # an id in any case, surrounding spaces ignored
        ("py", "python"),  # an alias wins over the prefix `py` of `python`
        ("NN", "neural-nets"),
        ("numpy arrays", "numpy"),
        ("LINEAR MODELS", "linear-models"),
        ("build an mlp", "build-mlp"),
        ("lin", "linear-models"),  # a unique prefix
        ("neu", "neural-nets"),
        ("b", "build-mlp"),
    ],
)
def test_resolve_topic_by_id_alias_title_and_prefix(graph: Graph, typed: str, expected: str) -> None:
    assert resolve_topic(graph, ALIASES, typed) == expected


def test_resolve_topic_ambiguous_prefix_lists_candidates_in_roadmap_order(graph: Graph) -> None:
    with pytest.raises(TopicNotFound) as caught:
        resolve_topic(graph, ALIASES, "n")
    assert str(caught.value) == "'n' matches 2 topics: numpy, neural-nets; type more of the id"


def test_resolve_topic_ambiguous_title_is_reported() -> None:
    twins = Graph.from_edges(
        [PhaseInfo("p", "P")],
        [TopicInfo("intro-a", "Intro", "p", 0), TopicInfo("intro-b", "Intro", "p", 1)],
        [],
    )
    with pytest.raises(TopicNotFound) as caught:
        resolve_topic(twins, {}, "intro")
    assert str(caught.value) == "'intro' matches 2 topics: intro-a, intro-b; type more of the id"


def test_resolve_topic_ambiguity_shows_at_most_five() -> None:
    many = Graph.from_edges(
        [PhaseInfo("p", "P")], [TopicInfo(f"t{i}", f"T {i}", "p", i) for i in range(7)], []
    )
    with pytest.raises(TopicNotFound) as caught:
        resolve_topic(many, {}, "t")
    assert str(caught.value) == "'t' matches 7 topics: t0, t1, t2, t3, t4 …; type more of the id"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("pyton", "no topic 'pyton'; did you mean 'python'?"),  # close to an id
        ("nueral-nets", "no topic 'nueral-nets'; did you mean 'neural-nets'?"),
        ("linear modles", "no topic 'linear modles'; did you mean 'linear-models'?"),  # close to a title
        ("zzzz", "no topic 'zzzz'"),
        ("", "no topic ''"),
    ],
)
def test_resolve_topic_not_found_suggests(graph: Graph, typed: str, message: str) -> None:
    with pytest.raises(TopicNotFound) as caught:
        resolve_topic(graph, ALIASES, typed)
    assert str(caught.value) == message


def test_resolve_topic_suggests_by_substring_with_or(graph: Graph) -> None:
    with pytest.raises(TopicNotFound) as caught:
        resolve_topic(graph, ALIASES, "models")
    # `models` is inside the id `linear-models`; no other topic is close
    assert str(caught.value) == "no topic 'models'; did you mean 'linear-models'?"
    with pytest.raises(TopicNotFound) as caught:
        resolve_topic(graph, ALIASES, "-")
    assert str(caught.value) == "no topic '-'; did you mean 'linear-models', 'neural-nets' or 'build-mlp'?"


def test_resolve_topics_is_all_or_nothing_and_deduplicates(graph: Graph) -> None:
    assert resolve_topics(graph, ALIASES, ["py", "python", "Math", "nn"]) == ["python", "math", "neural-nets"]
    with pytest.raises(TopicNotFound) as caught:
        resolve_topics(graph, ALIASES, ["python", "nope", "also-nope"])
    assert str(caught.value) == "no topic 'nope'"


@pytest.mark.parametrize(
    ("typed", "expected"), [("models", "models"), ("BASICS", "basics"), ("Models", "models"), ("b", "basics")]
)
def test_resolve_phase(graph: Graph, typed: str, expected: str) -> None:
    assert resolve_phase(graph, typed) == expected


def test_resolve_phase_not_found(graph: Graph) -> None:
    with pytest.raises(TopicNotFound) as caught:
        resolve_phase(graph, "modle")
    assert str(caught.value) == "no phase 'modle'; did you mean 'models'?"
    with pytest.raises(TopicNotFound) as caught:
        resolve_phase(graph, "zzz")
    assert str(caught.value) == "no phase 'zzz'; phases are: basics, models"


TRACKS = [
    TrackInfo("coder", "Coder", "", ("numpy",), ("python", "math", "numpy")),
    TrackInfo("modeller", "Full Modeller", "", ("build-mlp",), ("python",)),
]


@pytest.mark.parametrize(
    ("typed", "expected"), [("coder", "coder"), ("FULL MODELLER", "modeller"), ("mod", "modeller")]
)
def test_resolve_track(typed: str, expected: str) -> None:
    assert resolve_track(TRACKS, typed) == next(t for t in TRACKS if t.id == expected)


def test_resolve_track_errors() -> None:
    with pytest.raises(TopicNotFound) as caught:
        resolve_track(TRACKS, "codr")
    assert str(caught.value) == "no track 'codr'; did you mean 'coder' or 'modeller'?"
    with pytest.raises(TopicNotFound) as caught:
        resolve_track(TRACKS, "xyz")
    assert str(caught.value) == "no track 'xyz'; tracks are: coder, modeller"
    with pytest.raises(TopicNotFound) as caught:
        resolve_track([], "coder")
    assert str(caught.value) == "this roadmap has no tracks (a roadmap file lists them under `tracks:`)"


# --- pace -------------------------------------------------------------------------------------------------


@pytest.fixture
def utc_local_time():
    """Local time is UTC, so the local calendar days pace counts in are known exactly."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


NOW = at(15)  # Wednesday 2024-05-15, noon UTC


@pytest.mark.usefixtures("utc_local_time")
def test_weekly_counts_topics_and_hours_per_monday_week() -> None:
    completions = [
        pace.Completion("python", at(13, 0, 30)),  # Monday of this week, just after midnight
        pace.Completion("math", at(12, 23, 59)),  # Sunday: last week
        pace.Completion("numpy", at(6, 0, 0)),  # Monday of last week; no hours known
        pace.Completion("neural-nets", at(20)),  # next week: not shown
        pace.Completion("linear-models", at(1, month=1)),  # long ago: not shown
    ]
    hours = {"python": 10.0, "math": 20.0, "numpy": None, "neural-nets": 12.0, "linear-models": 8.0}
    weeks = pace.weekly(completions, hours, NOW, weeks=3)
    assert weeks == [
        pace.Week(date(2024, 4, 29), 0, 0.0),
        pace.Week(date(2024, 5, 6), 2, 20.0),
        pace.Week(date(2024, 5, 13), 1, 10.0),
    ]
    assert len(pace.weekly([], {}, NOW)) == 8
    assert pace.weekly([], {}, NOW)[0].start == date(2024, 3, 25)


@pytest.mark.usefixtures("utc_local_time")
def test_streak() -> None:
    three_days = [at(15, 8), at(15, 20), at(14), at(13), at(11)]
    assert pace.streak(three_days, NOW) == 3
    assert pace.streak([at(14), at(13, 1), at(12)], NOW) == 3  # today not yet active: counts to yesterday
    assert pace.streak([at(13), at(12)], NOW) == 0  # yesterday missed: broken
    assert pace.streak([], NOW) == 0


def test_pace_is_the_hours_of_the_last_28_days_per_week() -> None:
    hours = {"old": 100.0, "a": 2.0, "b": 4.0, "c": 6.0, "d": 8.0}
    done = [pace.Completion("old", NOW - timedelta(days=29))] + [
        pace.Completion(topic, NOW - timedelta(days=days))
        for topic, days in [("a", 27), ("b", 14), ("c", 3), ("d", 0)]
    ]
    assert pace.measure(done, hours, NOW).hours_per_week == 5.0
    assert pace.measure(done[:2], hours, NOW).hours_per_week == 0.5
    assert pace.measure([], hours, NOW).hours_per_week == 0.0


@pytest.mark.usefixtures("utc_local_time")
def test_finish_date() -> None:
    assert pace.finish_date(10, 4, NOW) == date(2024, 6, 2)  # 17.5 days after noon
    assert pace.finish_date(7, 7, NOW) == date(2024, 5, 22)
    assert pace.finish_date(0, 0, NOW) == date(2024, 5, 15)  # nothing left: today, pace or not
    assert pace.finish_date(-1, 5, NOW) == date(2024, 5, 15)
    assert pace.finish_date(5, 0, NOW) is None
    assert pace.finish_date(5, -1, NOW) is None


@dataclass
class Change:
    topic_id: str
    at: datetime
    old_status: str
    new_status: str


def test_completions_count_each_topic_once_at_its_latest_completion() -> None:
    events = [
        # python: started, finished, then reviewed (done -> done is not a completion)
        Change("python", at(3), "done", "done"),
        Change("python", at(1), "todo", "doing"),
        Change("python", at(2), "doing", "done"),
        # math: done, reset, done again: one completion, at the second
        Change("math", at(4), "todo", "done"),
        Change("math", at(5), "done", "todo"),
        Change("math", datetime(2024, 5, 6, 12), "todo", "done"),  # naive, as SQLite may hand it back: UTC
        # numpy: done, then reset: no longer counts
        Change("numpy", at(4), "todo", "done"),
        Change("numpy", at(7), "done", "todo"),
        # skipped is not studied
        Change("linear-models", at(4), "todo", "skipped"),
    ]
    statuses = {"python": "done", "math": "done", "numpy": "todo", "linear-models": "skipped"}
    found = {c.topic_id: c.at for c in pace.completions(events, statuses)}
    assert found == {"python": at(2), "math": datetime(2024, 5, 6, 12)}
    assert len(pace.completions(events, statuses)) == 2
    assert pace.completions(events, {}) == []


def test_completions_keep_the_latest_whatever_the_event_order() -> None:
    forward = [
        Change("math", at(4), "todo", "done"),
        Change("math", at(5), "done", "todo"),
        Change("math", at(6), "todo", "done"),
    ]
    for events in (forward, forward[::-1]):
        assert pace.completions(events, {"math": "done"}) == [pace.Completion("math", at(6))]


@pytest.mark.usefixtures("utc_local_time")
def test_finish_estimates_accumulate_phases_in_order() -> None:
    phases = [("a", "A", 10.0), ("b", "B", 4.0), ("c", "C", 0.0)]
    assert pace.finish_estimates(phases, 7.0, NOW) == [
        pace.Estimate("a", "A", 10.0, date(2024, 5, 25)),  # 10 days
        pace.Estimate("b", "B", 4.0, date(2024, 5, 29)),  # 14 hours through b: 14 days
        pace.Estimate("c", "C", 0.0, date(2024, 5, 29)),
    ]
    assert pace.finish_estimates(phases, 0.0, NOW) == [
        pace.Estimate("a", "A", 10.0, None),
        pace.Estimate("b", "B", 4.0, None),
        pace.Estimate("c", "C", 0.0, None),
    ]
    assert pace.finish_estimates([], 7.0, NOW) == []


# --- store + sync -----------------------------------------------------------------------------------------


@pytest.fixture
def engine(engine: str):
    """The database in use, on each engine in turn (conftest's `engine` names it and points llmpath at it)."""
    return db.open_database()


@pytest.fixture
def sqlite_engine():
    """The SQLite file alone, for what only it has (backups)."""
    return db.open_database()


@pytest.fixture
def roadmap_file(tmp_path: Path) -> Path:
    path = tmp_path / "roadmaps" / "mini.yaml"
    path.parent.mkdir()
    path.write_text(MINI_TEXT, encoding="utf-8")
    return path


@pytest.fixture
def loaded(engine, roadmap_file: Path) -> str:
    roadmap, report = sync.ensure_synced(engine, roadmap_file)
    assert report.loaded
    return roadmap.id


def rewrite(path: Path, text: str) -> None:
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size != before.st_size  # the cheap check must see this change


def backups_but_daily() -> list[Path]:
    """The backups a re-load or import took (the day's first write also takes a daily one)."""
    return [b.path for b in db.backups() if b.reason != db.DAILY]


def mark(engine, topic_ids: list[str], status: str, when: datetime) -> list[store.Change]:
    with db.writing(engine) as session:
        return store.set_status(session, roadmap_id="mini", topic_ids=topic_ids, status=status, at=when)


def test_first_load_then_unchanged_file_is_not_reloaded(engine, roadmap_file: Path) -> None:
    roadmap, report = sync.ensure_synced(engine, roadmap_file)
    assert roadmap == sync.LoadedRoadmap("mini", "Mini Path")
    assert report == sync.SyncReport(loaded=True, first_load=True, topics=6, moved=[], backup=None)

    roadmap, report = sync.ensure_synced(engine, roadmap_file)
    assert roadmap == sync.LoadedRoadmap("mini", "Mini Path")
    assert report == sync.SyncReport()

    # Same bytes, new mtime: the hash says nothing changed.
    os.utime(roadmap_file, ns=(roadmap_file.stat().st_atime_ns, roadmap_file.stat().st_mtime_ns + 10**9))
    assert sync.ensure_synced(engine, roadmap_file)[1] == sync.SyncReport()

    # force reloads the same bytes, without a backup
    mark(engine, ["python"], "done", at(1))
    forced = sync.ensure_synced(engine, roadmap_file, force=True)[1]
    assert (forced.loaded, forced.first_load, forced.topics, forced.backup) == (True, False, 6, None)
    assert backups_but_daily() == []


def test_missing_roadmap_file(engine, tmp_path: Path) -> None:
    with pytest.raises(LlmpathError) as caught:
        sync.ensure_synced(engine, tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: roadmap file not found"


def test_changed_file_without_progress_reloads_without_backup(
    engine, roadmap_file: Path, loaded: str
) -> None:
    rewrite(roadmap_file, MINI_TEXT.replace("title: Math\n", "title: Mathematics\n"))
    roadmap, report = sync.ensure_synced(engine, roadmap_file)
    assert roadmap == sync.LoadedRoadmap("mini", "Mini Path")
    assert report == sync.SyncReport(loaded=True, first_load=False, topics=6, moved=[], backup=None)
    assert db.list_backups() == []
    with db.reading(engine) as session:
        assert store.load_graph(session, loaded).topics["math"].title == "Mathematics"


def test_changed_file_with_progress_is_backed_up_first(sqlite_engine, roadmap_file: Path) -> None:
    engine = sqlite_engine
    loaded = sync.ensure_synced(engine, roadmap_file)[0].id
    mark(engine, ["python"], "done", at(1))
    rewrite(roadmap_file, MINI_TEXT.replace("title: Math\n", "title: Mathematics\n"))
    report = sync.ensure_synced(engine, roadmap_file)[1]
    assert (report.loaded, report.first_load, report.topics) == (True, False, 6)
    assert report.backup is not None
    assert report.backup.parent == paths.backups_dir()
    assert report.backup.name.endswith("-before-resync.db")
    assert backups_but_daily() == [report.backup]
    with db.reading(engine) as session:
        assert store.load_statuses(session, loaded) == {"python": "done"}


def test_rename_moves_progress_notes_events_and_goals(engine, roadmap_file: Path, loaded: str) -> None:
    mark(engine, ["numpy"], "doing", at(1))
    mark(engine, ["numpy"], "done", at(2))
    with db.writing(engine) as session:
        store.add_note(session, roadmap_id="mini", topic_id="numpy", text="broadcasting!", at=at(2, 13))
        store.set_goals(session, roadmap_id="mini", topic_ids=["numpy"])

    rewrite(roadmap_file, RENAMED)
    report = sync.ensure_synced(engine, roadmap_file)[1]
    assert report.moved == [("numpy", "arrays")]
    with db.reading(engine) as session:
        assert store.load_statuses(session, loaded) == {"arrays": "done"}
        row = store.load_topic_progress(session, loaded, "arrays")
        assert (row.status, row.started_at, row.finished_at) == ("done", at(1), at(2))
        assert store.load_topic_progress(session, loaded, "numpy") is None
        assert [tuple(n) for n in store.load_notes(session, loaded)] == [
            ("arrays", at(2, 13), "broadcasting!")
        ]
        events = [(e.topic_id, e.old_status, e.new_status, e.at) for e in store.load_events(session, loaded)]
        assert events == [("arrays", "doing", "done", at(2)), ("arrays", "todo", "doing", at(1))]
        assert store.load_goals(session, loaded) == ["arrays"]
        assert store.orphaned_progress(session, loaded) == []
        assert store.load_aliases(session, loaded) == {"py": "python", "nn": "neural-nets", "numpy": "arrays"}
        assert store.load_tracks(session, loaded)[0].topics == ("python", "math", "arrays")

    # Loading it again moves nothing more.
    assert sync.ensure_synced(engine, roadmap_file, force=True)[1].moved == []


def test_rename_keeps_the_new_ids_own_progress(engine, roadmap_file: Path, loaded: str) -> None:
    """Progress under the new id (an orphan from before) wins; the old id's progress stays an orphan."""
    mark(engine, ["numpy"], "done", at(2))
    mark(engine, ["arrays"], "doing", at(3))  # progress stored under an id the roadmap does not have yet
    rewrite(roadmap_file, RENAMED)
    assert sync.ensure_synced(engine, roadmap_file)[1].moved == []
    with db.reading(engine) as session:
        assert store.load_statuses(session, loaded) == {"numpy": "done", "arrays": "doing"}
        assert store.orphaned_progress(session, loaded) == [("numpy", "done")]


def test_rename_moves_notes_and_goals_of_a_topic_without_progress(
    engine, roadmap_file: Path, loaded: str
) -> None:
    with db.writing(engine) as session:
        store.add_note(session, roadmap_id="mini", topic_id="numpy", text="read the docs", at=at(2))
        store.set_goals(session, roadmap_id="mini", topic_ids=["numpy"])
    rewrite(roadmap_file, RENAMED)
    report = sync.ensure_synced(engine, roadmap_file)[1]
    with db.reading(engine) as session:
        assert [n.topic_id for n in store.load_notes(session, loaded)] == ["arrays"]
        assert store.load_goals(session, loaded) == ["arrays"]
    assert report.moved == [("numpy", "arrays")]


def test_removed_topic_keeps_its_progress_as_an_orphan(engine, roadmap_file: Path, loaded: str) -> None:
    mark(engine, ["build-mlp", "python"], "done", at(2))
    mark(engine, ["math"], "doing", at(2))
    rewrite(roadmap_file, WITHOUT_MLP)
    assert sync.ensure_synced(engine, roadmap_file)[1].topics == 5
    with db.reading(engine) as session:
        graph, statuses = store.load_state(session, loaded)
        assert list(graph.topics) == ["python", "math", "numpy", "linear-models", "neural-nets"]
        assert sorted(graph.requires["numpy"]) == ["math", "python"]  # edges come in no set order
        assert statuses == {"build-mlp": "done", "python": "done", "math": "doing"}
        assert store.orphaned_progress(session, loaded) == [("build-mlp", "done")]


def test_set_status_records_events_and_dates(engine, loaded: str) -> None:
    def dates(topic_id: str):
        with db.reading(engine) as session:
            row = store.load_topic_progress(session, loaded, topic_id)
        return (row.status, row.started_at, row.finished_at, row.updated_at)

    assert mark(engine, ["python", "py", "python"], "doing", at(1)) == [
        store.Change("python", "todo", "doing"),
        store.Change("py", "todo", "doing"),  # set_status takes resolved ids; it does not resolve aliases
    ]
    assert dates("python") == ("doing", at(1), None, at(1))
    assert mark(engine, ["python"], "doing", at(2)) == []  # no change, no event, no new date
    assert dates("python") == ("doing", at(1), None, at(1))
    assert mark(engine, ["python"], "done", at(3)) == [store.Change("python", "doing", "done")]
    assert dates("python") == ("done", at(1), at(3), at(3))
    assert mark(engine, ["python"], "done", at(4)) == [store.Change("python", "done", "done")]  # a review
    assert dates("python") == ("done", at(1), at(4), at(4))
    assert mark(engine, ["python"], "doing", at(5)) == [store.Change("python", "done", "doing")]
    assert dates("python") == ("doing", at(1), None, at(5))
    assert mark(engine, ["python"], "todo", at(6)) == [store.Change("python", "doing", "todo")]
    assert dates("python") == ("todo", None, None, at(6))
    assert mark(engine, ["math"], "skipped", at(7)) == [store.Change("math", "todo", "skipped")]
    assert dates("math") == ("skipped", None, at(7), at(7))
    assert mark(engine, ["numpy"], "todo", at(7)) == []  # never touched: already todo

    with db.reading(engine) as session:
        events = [(e.topic_id, e.old_status, e.new_status, e.at) for e in store.load_events(session, loaded)]
        assert events == [
            ("math", "todo", "skipped", at(7)),
            ("python", "doing", "todo", at(6)),
            ("python", "done", "doing", at(5)),
            ("python", "done", "done", at(4)),
            ("python", "doing", "done", at(3)),
            ("py", "todo", "doing", at(1)),
            ("python", "todo", "doing", at(1)),
        ]
        assert len(store.load_events(session, loaded, since=at(5), limit=10)) == 3
        assert [e.at for e in store.load_events(session, loaded, limit=2)] == [at(7), at(6)]
        assert store.load_statuses(session, loaded) == {"math": "skipped", "py": "doing"}
        assert store.last_finished(session, loaded) == {}
        assert store.orphaned_progress(session, loaded) == [("py", "doing")]


@pytest.mark.parametrize(
    ("status", "before", "known", "expected"),
    [
        ("todo", (at(1), at(2)), (None, None), (None, None)),
        ("doing", (None, None), (None, None), (at(9), None)),
        ("doing", (at(1), at(2)), (None, None), (at(1), None)),
        ("doing", (at(1), None), (at(3), None), (at(3), None)),
        ("done", (at(1), None), (None, None), (at(1), at(9))),
        ("done", (at(1), at(2)), (None, None), (at(1), at(9))),  # done -> done moves finished_at
        ("done", (at(1), None), (at(3), at(4)), (at(3), at(4))),  # known dates (an import) win
        ("skipped", (None, None), (None, None), (None, at(9))),
    ],
)
def test_set_dates(status: str, before: tuple, known: tuple, expected: tuple) -> None:
    row = Progress(roadmap_id="mini", topic_id="python", status=status, updated_at=at(1))
    row.started_at, row.finished_at = before
    store.set_dates(row, at(9), started_at=known[0], finished_at=known[1])
    assert (row.started_at, row.finished_at) == expected


def test_tracks_and_followed_track(engine, loaded: str) -> None:
    with db.reading(engine) as session:
        tracks = store.load_tracks(session, loaded)
    assert tracks == [
        TrackInfo(
            "coder", "Coder", "Just enough to write numerical code.", ("numpy",), ("python", "math", "numpy")
        ),
        TrackInfo(
            "modeller",
            "Modeller",
            "All the way to a trained network.",
            ("build-mlp",),
            ("python", "math", "numpy", "linear-models", "neural-nets", "build-mlp"),
        ),
    ]
    assert store.followed_track({}, tracks, "mini") is None
    assert store.followed_track({"track:mini": "modeller"}, tracks, "mini") == tracks[1]
    assert store.followed_track({"track:mini": "gone"}, tracks, "mini") is None
    assert store.followed_track({"track:other": "coder"}, tracks, "mini") is None
    with db.reading(engine) as session:
        assert store.load_tracks(session, "unknown-roadmap") == []


def test_roadmap_without_tracks(engine, tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(MINI_TEXT.split("tracks:\n")[0].replace("id: mini\n", "id: plain\n"), encoding="utf-8")
    roadmap = sync.ensure_synced(engine, path)[0]
    with db.reading(engine) as session:
        tracks = store.load_tracks(session, roadmap.id)
    assert (roadmap.id, tracks) == ("plain", [])
    with pytest.raises(TopicNotFound):
        resolve_track(tracks, "coder")


def test_settings_set_update_and_clear(engine) -> None:
    with db.writing(engine) as session:
        store.set_setting(session, "eta", "on")
        store.set_setting(session, "track:mini", "coder")
        assert store.load_settings(session) == {"eta": "on", "track:mini": "coder"}  # seen in the transaction
    with db.writing(engine) as session:
        store.set_setting(session, "eta", "off")
        store.set_setting(session, "track:mini", None)
        store.set_setting(session, "never-set", None)  # clearing what is not there is a no-op
    with db.reading(engine) as session:
        assert store.load_settings(session) == {"eta": "off"}


# --- transfer ---------------------------------------------------------------------------------------------


def test_plan_import_matches_by_id_then_alias_then_title(engine, loaded: str) -> None:
    entries = [
        exporting.ImportedTopic("math", "Python", "done"),  # the id wins over another topic's title
        exporting.ImportedTopic("py", "Math", "doing"),  # an alias wins over a title
        exporting.ImportedTopic(None, "numpy ARRAYS", "done"),  # markdown without an id: the title
        exporting.ImportedTopic("old-id", "Linear Models", "skipped"),  # unknown id: the title
        exporting.ImportedTopic("gone", "Gone", "done"),
        exporting.ImportedTopic(None, "Nothing like it", "todo"),
    ]
    with db.reading(engine) as session:
        plan = transfer.plan_import(session, loaded, exporting.ParsedProgress(None, entries))
    assert plan.matched == [
        ("math", entries[0]),
        ("python", entries[1]),
        ("numpy", entries[2]),
        ("linear-models", entries[3]),
    ]
    assert plan.unmatched == [entries[4], entries[5]]


def import_entries() -> list[exporting.ImportedTopic]:
    return [
        exporting.ImportedTopic(
            "python",
            "Python",
            "done",
            started_at=at(1),
            finished_at=at(2),
            notes=[exporting.NoteItem(at(2, 9), "loops"), exporting.NoteItem(at(2, 10), "classes")],
        ),
        exporting.ImportedTopic("nn", "Neural Networks", "doing", started_at=at(3)),
        exporting.ImportedTopic("math", "Math", "skipped", finished_at=at(4)),
        exporting.ImportedTopic("numpy", "NumPy Arrays", "todo"),
    ]


def test_apply_import_keeps_dates_and_adds_notes_once(engine, loaded: str) -> None:
    parsed = exporting.ParsedProgress("mini", import_entries())
    with db.writing(engine) as session:
        plan = transfer.plan_import(session, loaded, parsed)
        result = transfer.apply_import(session, loaded, plan, at=at(20))
    assert result == transfer.ImportResult(changed=3, notes_added=2)
    with db.reading(engine) as session:
        rows = {t: store.load_topic_progress(session, loaded, t) for t in ("python", "neural-nets", "math")}
        assert {t: (r.status, r.started_at, r.finished_at) for t, r in rows.items()} == {
            "python": ("done", at(1), at(2)),
            "neural-nets": ("doing", at(3), None),
            "math": ("skipped", None, at(4)),
        }
        events = [(e.topic_id, e.old_status, e.new_status, e.at) for e in store.load_events(session, loaded)]
        assert events == [
            ("math", "todo", "skipped", at(4)),
            ("neural-nets", "todo", "doing", at(3)),
            ("python", "todo", "done", at(2)),
        ]
        assert [tuple(n) for n in store.load_notes(session, loaded)] == [
            ("python", at(2, 9), "loops"),
            ("python", at(2, 10), "classes"),
        ]

    # The same file again changes nothing and adds no note, even with sub-second differences.
    again = import_entries()
    again[0].notes[0] = exporting.NoteItem(at(2, 9) + timedelta(microseconds=400_000), "loops")
    with db.writing(engine) as session:
        plan = transfer.plan_import(session, loaded, exporting.ParsedProgress("mini", again))
        assert transfer.apply_import(session, loaded, plan, at=at(21)) == transfer.ImportResult(0, 0)
    with db.reading(engine) as session:
        assert len(store.load_notes(session, loaded)) == 2
        assert len(store.load_events(session, loaded)) == 3
        assert store.load_topic_progress(session, loaded, "python").finished_at == at(2)


def test_apply_import_resets_and_records_the_change(engine, loaded: str) -> None:
    mark(engine, ["numpy"], "done", at(5))
    entries = [exporting.ImportedTopic("numpy", "NumPy Arrays", "todo")]
    with db.writing(engine) as session:
        plan = transfer.plan_import(session, loaded, exporting.ParsedProgress(None, entries))
        assert transfer.apply_import(session, loaded, plan, at=at(20)) == transfer.ImportResult(1, 0)
    with db.reading(engine) as session:
        row = store.load_topic_progress(session, loaded, "numpy")
        assert (row.status, row.started_at, row.finished_at) == ("todo", None, None)
        assert store.load_events(session, loaded)[0].at == at(20)  # no date in the file: the import's time


def test_markdown_reimport_keeps_the_finish_date_of_a_done_topic(engine, loaded: str) -> None:
    mark(engine, ["python"], "done", at(2))
    parsed = exporting.parse_progress("- [x] Python `python`\n", "progress.md")
    with db.writing(engine) as session:
        plan = transfer.plan_import(session, loaded, parsed)
        assert transfer.apply_import(session, loaded, plan, at=at(20)) == transfer.ImportResult(0, 0)
    with db.reading(engine) as session:
        assert store.load_topic_progress(session, loaded, "python").finished_at == at(2)


def test_snapshot_includes_orphaned_progress(engine, roadmap_file: Path, loaded: str) -> None:
    mark(engine, ["build-mlp"], "done", at(2))
    mark(engine, ["python"], "doing", at(1))
    with db.writing(engine) as session:
        store.add_note(session, roadmap_id="mini", topic_id="build-mlp", text="it learned XOR", at=at(2, 13))
    rewrite(roadmap_file, WITHOUT_MLP)
    sync.ensure_synced(engine, roadmap_file)
    with db.reading(engine) as session:
        snap = transfer.snapshot(session, loaded, at=at(10))
    assert (snap.roadmap_id, snap.roadmap_title, snap.exported_at) == ("mini", "Mini Path", at(10))
    assert len(snap.content_hash) == 64
    assert [(p.id, [t.id for t in p.topics]) for p in snap.phases] == [
        ("basics", ["python", "math", "numpy"]),
        ("models", ["linear-models", "neural-nets"]),
    ]
    assert snap.phases[0].topics[0] == exporting.TopicItem(
        "python", "Python", "basics", "doing", at(1), None, []
    )
    assert snap.orphaned == [
        exporting.TopicItem(
            "build-mlp",
            "build-mlp",
            None,
            "done",
            None,
            at(2),
            [exporting.NoteItem(at(2, 13), "it learned XOR")],
        )
    ]
    # and the JSON export carries the orphan back in
    parsed = exporting.parse_progress(exporting.to_json(snap), "backup.json")
    assert [(t.id, t.status, t.finished_at) for t in parsed.topics if t.status != "todo"] == [
        ("python", "doing", None),
        ("build-mlp", "done", at(2)),
    ]


def test_snapshot_includes_orphaned_notes_without_progress(engine, roadmap_file: Path, loaded: str) -> None:
    with db.writing(engine) as session:
        store.add_note(session, roadmap_id="mini", topic_id="build-mlp", text="plan: XOR", at=at(2))
    rewrite(roadmap_file, WITHOUT_MLP)
    sync.ensure_synced(engine, roadmap_file)
    with db.reading(engine) as session:
        snap = transfer.snapshot(session, loaded, at=at(10))
    assert snap.orphaned == [
        exporting.TopicItem(
            "build-mlp", "build-mlp", None, "todo", None, None, [exporting.NoteItem(at(2), "plan: XOR")]
        )
    ]


# --- files ------------------------------------------------------------------------------------------------


def test_write_file_atomically(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "out.md"
    files.write_file_atomically(target, "first\n", overwrite=False)
    assert target.read_text(encoding="utf-8") == "first\n"

    with pytest.raises(LlmpathError) as caught:
        files.write_file_atomically(target, "second\n", overwrite=False)
    assert str(caught.value) == f"{target} already exists; use --force to overwrite it"
    assert target.read_text(encoding="utf-8") == "first\n"

    with pytest.raises(LlmpathError) as caught:
        files.write_file_atomically(target, "second\n", overwrite=False, exists_hint="choose another name")
    assert str(caught.value) == f"{target} already exists; choose another name"

    files.write_file_atomically(target, "second\n", overwrite=True)
    assert target.read_text(encoding="utf-8") == "second\n"
    assert [p.name for p in folder.iterdir()] == ["out.md"]


def test_write_file_atomically_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    files.write_file_atomically(folder / "a.json", "{}\n", overwrite=False)
    files.write_file_atomically(folder / "a.json", "[]\n", overwrite=True)
    with pytest.raises(LlmpathError):
        files.write_file_atomically(folder / "a.json", "x", overwrite=False)
    assert [p.name for p in folder.iterdir()] == ["a.json"]
    assert (folder / "a.json").read_text(encoding="utf-8") == "[]\n"


def test_write_file_atomically_refuses_a_file_that_appears_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exists() check can race; the final link() still refuses to overwrite, and cleans up."""
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "a.md"
    target.write_text("theirs\n", encoding="utf-8")
    real_exists = Path.exists
    monkeypatch.setattr(
        Path, "exists", lambda self, **kw: False if self == target else real_exists(self, **kw)
    )
    with pytest.raises(LlmpathError) as caught:
        files.write_file_atomically(target, "ours\n", overwrite=False)
    assert str(caught.value) == f"{target} already exists; use --force to overwrite it"
    assert target.read_text(encoding="utf-8") == "theirs\n"
    assert [p.name for p in folder.iterdir()] == ["a.md"]
