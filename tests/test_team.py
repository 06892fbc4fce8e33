"""A study group: `llmpath team status/show/export/init`, the core behind them (`store.team_rows`,
`team.py`), and the security of a shared PostgreSQL database.

The team commands run on both engines (the `engine` fixture: several LLMPATH_LEARNER names in one SQLite
file, or one PostgreSQL database). The security tests run on a real server only: after `team init` by the
owner (the superuser `postgres` here), members alice and bob log in with roles of their own (GRANT
llmpath_member) and a mentor with a read-only one (GRANT llmpath_mentor); whatever they send, through
llmpath or as raw SQL, nobody changes another learner's rows. Expected counts come from the roadmap file,
never from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from llmpath import db, store, team
from llmpath.errors import LlmpathError
from llmpath.planner import Graph, PhaseInfo, TopicInfo, TrackInfo
from llmpath.vocab import local_time

from .conftest import MINI, Cli, Clock, _fresh_pg_database, _start_from, as_json, error_line, ok

ROADMAP = yaml.safe_load(MINI.read_text(encoding="utf-8"))
PHASE_OF = {t["id"]: p["id"] for p in ROADMAP["phases"] for t in p["topics"]}
PHASE_SIZE = {p["id"]: len(p["topics"]) for p in ROADMAP["phases"]}
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
LEARNER_TABLES = ("progress", "event", "note", "goal", "setting")


def expected_per_phase(finished: set[str]) -> dict[str, tuple[int, int]]:
    """phase id -> (finished, total), by brute force from the YAML."""
    return {
        phase: (sum(1 for t in finished if PHASE_OF[t] == phase), size) for phase, size in PHASE_SIZE.items()
    }


def per_phase(entry: dict) -> dict[str, tuple[int, int]]:
    return {g["id"]: (g["finished"], g["total"]) for g in entry["groups"]}


def as_learner(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("LLMPATH_LEARNER", name)


def record_the_group(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four learners of the mini roadmap, at known times on either engine:
    ada (09:00) finished all of Basics and started linear-models; bob (10:00) skipped python and did math;
    cy (11:00) only wrote a note; dee only set a goal (no time)."""
    clock = Clock(monkeypatch, T0)
    as_learner(monkeypatch, "ada")
    ok(cli("done", "python", "math", "numpy"))
    ok(cli("start", "linear-models"))
    clock(T0 + timedelta(hours=1))
    as_learner(monkeypatch, "bob")
    ok(cli("skip", "python"))
    ok(cli("done", "math"))
    clock(T0 + timedelta(hours=2))
    as_learner(monkeypatch, "cy")
    ok(cli("note", "python", "reading the tutorial"))
    as_learner(monkeypatch, "dee")
    ok(cli("goal", "nn"))


@pytest.fixture(scope="session")
def group_sqlite_template(mini_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the group (recorded once per worker; each test starts from a copy)."""
    home = tmp_path_factory.mktemp("group") / "llmpath-home"
    _start_from(mini_template, home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMPATH_HOME", str(home))
        patch.delenv("LLMPATH_DATABASE_URL", raising=False)
        record_the_group(Cli(MINI), patch)
    assert not (home / "llmpath.db-wal").exists()  # checkpointed: the database file is all there is
    return home


@pytest.fixture(scope="session")
def group_pg_template(pg_server, pg_mini_template: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PostgreSQL database holding the group, copied per test (CREATE DATABASE … TEMPLATE)."""
    name = pg_server.create_database(pg_mini_template)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMPATH_HOME", str(tmp_path_factory.mktemp("group-pg") / "llmpath-home"))
        patch.setenv("LLMPATH_DATABASE_URL", pg_server.url(name))
        record_the_group(Cli(MINI), patch)
    pg_server.disconnect(name)  # a template is copied only while nobody is connected to it
    return name


@pytest.fixture
def group(
    engine: str, cli: Cli, llmpath_home: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    """The CLI on a store holding the group of `record_the_group`, read by a mentor-like learner with no
    progress of their own; the clock stays where the recording left it (11:00)."""
    if engine == "postgresql":
        monkeypatch.setenv(
            "LLMPATH_DATABASE_URL", _fresh_pg_database(request, request.getfixturevalue("group_pg_template"))
        )
    else:
        shutil.rmtree(llmpath_home)
        _start_from(request.getfixturevalue("group_sqlite_template"), llmpath_home)
    Clock(monkeypatch, T0 + timedelta(hours=2))
    monkeypatch.setenv("LLMPATH_LEARNER", "someone-else")
    return cli


FINISHED = {"ada": {"python", "math", "numpy"}, "bob": {"python", "math"}, "cy": set(), "dee": set()}
ACTIVE = {"ada": T0, "bob": T0 + timedelta(hours=1), "cy": T0 + timedelta(hours=2), "dee": None}


# --- the commands, on both engines -------------------------------------------------------------------------


def test_team_status_counts_each_learner_per_phase_and_sorts_by_progress_then_activity(group: Cli):
    data = as_json(group("team", "status", "--json"))
    assert data["roadmap"] == {"id": ROADMAP["id"], "title": ROADMAP["title"]}
    assert (data["by"], data["track"], data["sort"]) == ("phase", None, "progress")
    assert [(g["id"], g["total"]) for g in data["groups"]] == list(PHASE_SIZE.items())
    # ada finished most; cy and dee none, cy's note is the more recent activity.
    assert [e["learner"] for e in data["learners"]] == ["ada", "bob", "cy", "dee"]
    for entry in data["learners"]:
        name = entry["learner"]
        assert per_phase(entry) == expected_per_phase(FINISHED[name]), name
        total = len(PHASE_OF)
        assert (entry["total"]["finished"], entry["total"]["total"]) == (len(FINISHED[name]), total)
        assert entry["total"]["percent"] == round(100 * len(FINISHED[name]) / total, 1)
        shown = entry["last_activity"]
        assert (datetime.fromisoformat(shown) if shown else None) == ACTIVE[name], name
    ada, bob = data["learners"][:2]
    assert (ada["total"]["doing"], ada["total"]["skipped"]) == (1, 0)
    assert (bob["total"]["done"], bob["total"]["skipped"]) == (1, 1)  # skipped counts as finished


@pytest.mark.parametrize(
    ("sort", "order"),
    [("activity", ["cy", "bob", "ada", "dee"]), ("name", ["ada", "bob", "cy", "dee"])],
)
def test_team_status_sort_orders(group: Cli, sort: str, order: list[str]):
    data = as_json(group("team", "status", "--sort", sort, "--json"))
    assert [e["learner"] for e in data["learners"]] == order


def test_team_status_by_track_and_within_a_track(group: Cli):
    tracks = {t["id"]: t for t in ROADMAP["tracks"]}
    data = as_json(group("team", "status", "--by", "track", "--json"))
    assert [g["id"] for g in data["groups"]] == list(tracks)
    ada = next(e for e in data["learners"] if e["learner"] == "ada")
    # coder's goal is numpy: it and everything it requires (python, math) - all three finished by ada.
    assert per_phase(ada) == {"coder": (3, 3), "modeller": (3, 6)}
    assert ada["total"]["total"] == len(PHASE_OF)

    within = as_json(group("team", "status", "--track", "coder", "--json"))
    assert within["track"] == {"id": "coder", "title": "Coder"}
    assert [g["id"] for g in within["groups"]] == ["basics"]  # Models holds none of the track's topics
    bob = next(e for e in within["learners"] if e["learner"] == "bob")
    assert per_phase(bob) == {"basics": (2, 3)} and bob["total"]["total"] == 3


def test_team_status_table_names_every_learner_with_counts_and_times(group: Cli):
    text = ok(group("team", "status"))
    assert "Phases: 1 Basics · 2 Models" in text
    lines = text.splitlines()
    row = {line.split()[0]: line.split() for line in lines if line.split() and line.split()[0] in ACTIVE}
    assert list(row) == ["ada", "bob", "cy", "dee"]
    assert row["ada"][1:4] == ["3/3", "0/3", "3/6"]
    assert row["bob"][1:4] == ["2/3", "0/3", "2/6"]
    assert "—" in row["dee"]  # no activity to show
    assert local_time(T0).strftime("%Y-%m-%d %H:%M") in " ".join(row["ada"])


def test_team_status_fits_narrow_terminals(group: Cli, monkeypatch: pytest.MonkeyPatch):
    for width in (60, 80, 120):
        monkeypatch.setenv("COLUMNS", str(width))
        text = ok(group("team", "status"))
        assert max(map(len, text.splitlines())) <= width, (width, text)
        assert all(name in text for name in ACTIVE)


def test_team_status_refuses_track_with_by_track_before_any_io(group: Cli):
    result = group("team", "status", "--track", "coder", "--by", "track")
    assert result.exit_code == 2 and "--by track already shows every track" in result.output


def test_an_unknown_track_is_one_line(group: Cli):
    assert "no track 'nope'; tracks are: coder, modeller" in error_line(
        group("team", "status", "--track", "nope")
    )


def test_team_show_is_that_learners_status(group: Cli, monkeypatch: pytest.MonkeyPatch):
    shown = as_json(group("team", "show", "bob", "--json"))
    assert shown["learner"] == "bob"
    assert datetime.fromisoformat(shown["last_activity"]) == ACTIVE["bob"]
    as_learner(monkeypatch, "bob")
    own = as_json(group("status", "--json"))
    assert {k: v for k, v in shown.items() if k not in ("learner", "last_activity")} == own
    monkeypatch.setenv("LLMPATH_LEARNER", "someone-else")
    text = ok(group("team", "show", "ADA"))  # any case
    assert "Learner: ada" in text and "Basics" in text and "3/3" in text


def test_team_show_follows_the_learners_own_track(group: Cli, monkeypatch: pytest.MonkeyPatch):
    as_learner(monkeypatch, "bob")
    ok(group("track", "coder"))
    monkeypatch.setenv("LLMPATH_LEARNER", "someone-else")
    assert as_json(group("team", "show", "bob", "--json"))["track"]["id"] == "coder"
    assert as_json(group("team", "show", "bob", "--all", "--json"))["track"] is None
    assert as_json(group("team", "status", "--json"))["learners"][1]["following"] == "coder"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("bbo", "no learner 'bbo' in roadmap 'mini'; did you mean 'bob'? (learners: ada, bob, cy, dee)"),
        ("zed", "no learner 'zed' in roadmap 'mini' (learners: ada, bob, cy, dee)"),
        ("x\x1b[2Jy", "no learner 'x^[[2Jy' in roadmap 'mini' (learners: ada, bob, cy, dee)"),
    ],
)
def test_an_unknown_learner_is_one_line_naming_the_known_ones(group: Cli, typed: str, expected: str):
    assert error_line(group("team", "show", typed)) == f"error: {expected}"


def test_team_export_csv_parses_and_matches_the_json(group: Cli, tmp_path: Path):
    data = as_json(group("team", "status", "--json"))
    out = tmp_path / "team.csv"
    result = group("team", "export", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0 and "4 learner(s)" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["learner"] for r in rows] == [e["learner"] for e in data["learners"]]
    for row, entry in zip(rows, data["learners"], strict=True):
        assert int(row["finished"]) == entry["total"]["finished"]
        assert int(row["total"]) == entry["total"]["total"]
        assert float(row["percent"]) == entry["total"]["percent"]
        for phase, (finished, total) in per_phase(entry).items():
            assert (int(row[phase]), int(row[f"{phase}_total"])) == (finished, total)
        shown = row["last_activity"]
        assert (datetime.fromisoformat(shown) if shown else None) == ACTIVE[row["learner"]]
    # An existing file is kept without --force; with it, replaced.
    assert "already exists" in error_line(group("team", "export", "--format", "csv", "-o", str(out)))
    ok(group("team", "export", "--format", "csv", "-o", str(out), "--force", "--sort", "name"))
    assert [r["learner"] for r in csv.DictReader(io.StringIO(out.read_text()))] == ["ada", "bob", "cy", "dee"]


def test_team_export_json_is_team_status_json_with_its_time(group: Cli, monkeypatch: pytest.MonkeyPatch):
    Clock(monkeypatch, T0 + timedelta(days=1))
    exported = json.loads(ok(group("team", "export", "--format", "json", "-o", "-")))
    assert datetime.fromisoformat(exported.pop("generated_at")) == T0 + timedelta(days=1)
    assert exported == as_json(group("team", "status", "--json"))


def test_team_export_markdown_is_a_table_per_learner(group: Cli):
    text = ok(group("team", "export"))
    assert text.startswith("# Study group: Mini Path\n")
    assert "| Learner | Basics | Models | Finished | % | Last activity |" in text
    assert "| ada | 3/3 | 0/3 | 3/6 | 50% |" in text
    assert "| dee | 0/3 | 0/3 | 0/6 | 0% | — |" in text


def test_team_commands_with_nobody_yet(engine: str, cli: Cli):
    assert "Nobody has progress in this roadmap yet" in ok(cli("team", "status"))
    assert as_json(cli("team", "status", "--json"))["learners"] == []
    assert "no learner 'ada': nobody has progress in roadmap 'mini' yet" in error_line(
        cli("team", "show", "ada")
    )
    assert ok(cli("team", "export", "--format", "csv")).count("\n") == 1  # the header alone


def test_team_init_on_sqlite_is_one_line(cli: Cli, llmpath_home: Path):
    line = error_line(cli("team", "init"))
    assert "sets up row-level security on a PostgreSQL database" in line
    assert str(llmpath_home / "llmpath.db") in line


def test_global_options_work_after_a_team_command(group: Cli):
    """`llmpath team status -r FILE` as `llmpath -r FILE team status`: the global options reach
    subcommands of a group too."""
    result = Cli()("team", "status", "--json", "-r", str(MINI))
    assert as_json(result)["roadmap"]["id"] == "mini"


# --- names that would act on a terminal ---------------------------------------------------------------------


def test_learner_names_with_control_characters_are_shown_inert(cli: Cli, llmpath_home: Path):
    """A name no llmpath command accepts, but a role name on a server may hold (CREATE ROLE "…"): every
    output that is not JSON shows it visibly; JSON keeps it exactly; CSV never starts a formula."""
    ok(cli("done", "python"))
    evil = "eve\x1b]0;pwned\x07\u202e"
    con = sqlite3.connect(llmpath_home / "llmpath.db")
    with con:
        con.execute(
            "INSERT INTO progress (learner, roadmap_id, topic_id, status, updated_at) "
            "VALUES (?, 'mini', 'math', 'done', '2024-05-01 09:00:00.000000')",
            (evil,),
        )
        con.execute(
            "INSERT INTO progress (learner, roadmap_id, topic_id, status, updated_at) "
            "VALUES ('=HYPERLINK(1)', 'mini', 'math', 'done', '2024-05-01 09:00:00.000000')"
        )
    con.close()
    shown = {
        ("team", "status"): "eve^[]0;pwned^G<U+202E>",
        ("team", "export", "--format", "csv"): "eve^[]0;pwned^G<U+202E>",
        ("team", "export"): "eve^\\[\\]0;pwned^G\\<U+202E\\>",  # markdown-escaped too
    }
    for args, expected in shown.items():
        text = ok(cli(*args))
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, args
        assert expected in text, args
    assert "\n'=HYPERLINK(1)," in ok(cli("team", "export", "--format", "csv"))
    names = [e["learner"] for e in as_json(cli("team", "status", "--json"))["learners"]]
    assert evil in names
    text = ok(cli("team", "show", "eve\x1b"))  # a unique prefix
    assert "Learner: eve^[]0;pwned^G<U+202E> · last active" in text and "\x1b" not in text
    assert "eve^[]0;pwned^G<U+202E>" in error_line(cli("team", "show", "zzz"))  # the list of learners


# --- the core, called directly ---------------------------------------------------------------------------


@contextmanager
def count_queries(engine) -> Iterator[list[str]]:
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_team_rows_reads_any_number_of_learners_in_three_queries(engine: str, cli: Cli, monkeypatch):
    ok(cli("status"))  # loads the roadmap
    database = db.open_database()
    costs = []
    for learners in (2, 40):
        with db.writing(database) as session:
            for n in range(learners):
                session.info[db.LEARNER] = f"learner{n:03d}"
                store.set_status(
                    session, roadmap_id="mini", topic_ids=["python", "math"], status="done", at=T0
                )
        with db.reading(database) as session:
            session.connection()  # the transaction's own statements (BEGIN, isolation) are not counted
            with count_queries(database) as seen:
                rows = store.team_rows(session, "mini")
            costs.append(len(seen))
        assert len(rows) == learners
        assert all(r.statuses == {"python": "done", "math": "done"} for r in rows)
    assert costs == [3, 3]


def tiny_graph() -> Graph:
    phases = [PhaseInfo("a", "A"), PhaseInfo("b", "B")]
    topics = [TopicInfo("t1", "T1", "a", 0), TopicInfo("t2", "T2", "a", 1), TopicInfo("t3", "T3", "b", 2)]
    return Graph.from_edges(phases, topics, [])


def learner(name: str, statuses: dict[str, str], at: datetime | None = None) -> store.LearnerProgress:
    return store.LearnerProgress(name, statuses, at, None)


def test_build_counts_only_the_scope_and_ignores_orphans():
    people = [
        learner("ann", {"t1": "done", "t3": "skipped", "gone": "done"}, T0),
        learner("ben", {"t2": "doing", "t1": "todo"}, T0),
    ]
    report = team.build(tiny_graph(), people, roadmap_id="r", roadmap_title="R")
    ann, ben = report.rows
    assert [(c.finished, c.total) for c in ann.groups] == [(1, 2), (1, 1)]
    assert (ann.total.finished, ann.total.total, ann.total.skipped) == (2, 3, 1)
    assert (ben.total.finished, ben.total.doing) == (0, 1)
    track = TrackInfo("tr", "Tr", "", ("t2",), ("t2", "t3", "missing"))
    within = team.build(tiny_graph(), people, roadmap_id="r", roadmap_title="R", track=track)
    assert [(g.id, len(g.topics)) for g in within.groups] == [("a", 1), ("b", 1)]
    assert [(r.learner, r.total.finished, r.total.total) for r in within.rows] == [
        ("ann", 1, 2),
        ("ben", 0, 2),
    ]
    by_track = team.build(tiny_graph(), people, roadmap_id="r", roadmap_title="R", by="track", tracks=[track])
    assert [(c.finished, c.total) for c in by_track.rows[0].groups] == [(1, 2)]
    assert by_track.rows[0].total.total == 3


def test_sort_rows_breaks_ties_by_recent_activity_then_name():
    rows = team.build(
        tiny_graph(),
        [
            learner("cat", {"t1": "done"}, T0),
            learner("Bea", {"t1": "done"}, T0 + timedelta(minutes=1)),
            learner("abe", {"t1": "done"}, T0),
            learner("dan", {}, None),
            learner("eli", {}, T0),
            learner("fay", {"t1": "done", "t2": "done"}, None),
        ],
        roadmap_id="r",
        roadmap_title="R",
    ).rows
    assert [r.learner for r in rows] == ["fay", "Bea", "abe", "cat", "eli", "dan"]
    assert [r.learner for r in team.sort_rows(rows, "activity")] == ["Bea", "abe", "cat", "eli", "fay", "dan"]
    assert [r.learner for r in team.sort_rows(rows, "name")] == ["abe", "Bea", "cat", "dan", "eli", "fay"]


def test_resolve_learner():
    known = ["alice", "Alan", "bob", "bobby"]
    assert team.resolve_learner(known, "alice") == "alice"
    assert team.resolve_learner(known, "alan") == "Alan"  # any case
    assert team.resolve_learner(known, "ali") == "alice"  # a unique prefix
    assert team.resolve_learner(known, "bob") == "bob"  # exact beats the prefix of bobby
    with pytest.raises(LlmpathError, match=r"no learner 'al' in this roadmap; did you mean .*'alice'"):
        team.resolve_learner(known, "al")  # two learners start with it
    many = [f"l{n:02d}" for n in range(15)]
    with pytest.raises(LlmpathError, match=r"learners: l00, .*, l09 and 5 more"):
        team.resolve_learner(many, "zzz")


# --- a shared PostgreSQL database: row-level security -------------------------------------------------------


class Study:
    """One PostgreSQL database after `team init` by its owner, with login roles for two members and a
    mentor (unique names per worker's server: roles belong to the whole server)."""

    def __init__(
        self, server, url: str, monkeypatch: pytest.MonkeyPatch, cli: Cli, roles: Study | None = None
    ):
        """New roles, or those of `roles` (a copy of its database has their rows and grants)."""
        from sqlalchemy.engine import make_url

        self.server, self.dbname, self.monkeypatch, self.cli = (
            server,
            make_url(url).database,
            monkeypatch,
            cli,
        )
        if roles is not None:
            self.alice, self.bob, self.mentor = roles.alice, roles.bob, roles.mentor
            return
        self.alice = server.create_role(prefix="alice")
        self.bob = server.create_role(prefix="bob")
        self.mentor = server.create_role(prefix="mentor")

    def grant(self) -> None:
        self.server.execute(f"GRANT llmpath_member TO {self.alice}, {self.bob}")
        self.server.execute(f"GRANT llmpath_mentor TO {self.mentor}")

    def as_role(self, role: str, learner: str | None = None) -> Cli:
        """The CLI connected as `role` (no password: loopback is trusted here), as `learner` if given."""
        self.monkeypatch.setenv("LLMPATH_DATABASE_URL", self.server.url(self.dbname, user=role))
        if learner is None:
            self.monkeypatch.delenv("LLMPATH_LEARNER", raising=False)
        else:
            self.monkeypatch.setenv("LLMPATH_LEARNER", learner)
        return self.cli

    def owner(self) -> Cli:
        return self.as_role("postgres")

    def sql(self, role: str):
        """A raw psycopg connection as `role` (autocommit): what a member could send by hand."""
        import psycopg

        return psycopg.connect(self.server.conninfo(self.dbname, user=role), autocommit=True)

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of the learners' tables, read by the superuser."""
        return {
            t: self.server.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3", self.dbname) for t in LEARNER_TABLES
        }

    def security(self) -> list:
        """Roles, grants, policies and RLS flags: what `team init` sets up."""
        return [
            self.server.execute(query, self.dbname)
            for query in (
                "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'llmpath%' ORDER BY 1",
                "SELECT relname, relrowsecurity, relforcerowsecurity, relacl::text FROM pg_class "
                "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1",
                "SELECT tablename, policyname, roles::text, cmd, qual, with_check FROM pg_policies "
                "ORDER BY 1, 2",
                "SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'",
            )
        ]


def set_up_the_study(group: Study) -> None:
    """`team init` by the owner, alice and bob members, a mentor; alice and bob record progress."""
    text = ok(group.owner()("team", "init"))
    assert "row-level security policy progress_own" in text  # (the group roles may exist: server-wide)
    group.grant()
    alice = group.as_role(group.alice)
    ok(alice("done", "python", "math"))
    ok(alice("note", "python", "alice's note"))
    bob = group.as_role(group.bob)
    ok(bob("start", "python"))
    ok(bob("note", "python", "bob's note"))
    ok(bob("goal", "nn"))


@pytest.fixture(scope="session")
def study_template(pg_server, mini_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Study:
    """The study set up once per worker in a database that each test copies. Its roles are the server's
    (roles are server-wide), shared by the tests: none of them changes a role or a grant to one."""
    url = pg_server.url(pg_server.create_database())
    home = tmp_path_factory.mktemp("study") / "llmpath-home"
    _start_from(mini_template, home)  # as the `cli` fixture has it
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMPATH_HOME", str(home))
        template = Study(pg_server, url, patch, Cli(MINI))
        set_up_the_study(template)
    pg_server.disconnect(template.dbname)  # a template is copied only while nobody is connected to it
    return template


@pytest.fixture
def study(
    pg_server,
    study_template: Study,
    cli: Cli,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Study:
    """A copy of the study's database after `team init`, with alice's and bob's progress; connected as bob."""
    url = _fresh_pg_database(request, study_template.dbname)
    group = Study(pg_server, url, monkeypatch, cli, roles=study_template)
    group.as_role(group.bob)
    return group


def test_members_read_each_others_progress(study: Study):
    bob = study.as_role(study.bob)
    data = as_json(bob("team", "status", "--json"))
    by_name = {e["learner"]: e for e in data["learners"]}
    assert set(by_name) == {study.alice, study.bob}
    assert per_phase(by_name[study.alice]) == expected_per_phase({"python", "math"})
    assert by_name[study.bob]["total"]["doing"] == 1
    shown = as_json(bob("team", "show", study.alice, "--json"))
    assert shown["total"]["done"] == 2
    assert as_json(bob("status", "--json"))["total"]["doing"] == 1  # and bob's own is still bob's


@pytest.mark.parametrize(
    "args",
    [
        ["done", "numpy"],  # a new row for bob
        ["reset", "python"],  # bob's existing row
        ["note", "python", "forged"],
        ["note", "python", "--delete", "1"],  # RLS would let this DELETE match nothing, in silence
        ["goal", "--clear"],
        ["track", "coder"],
        ["config", "eta", "on"],
    ],
)
def test_a_member_acting_as_another_learner_is_refused_in_one_line(study: Study, args: list[str]):
    before = study.snapshot()
    forged = study.as_role(study.alice, learner=study.bob)
    line = error_line(forged(*args))
    assert f"you are learner '{study.bob}' but connected as role {study.alice}" in line
    assert study.snapshot() == before


def test_forged_sql_from_a_members_role_changes_nothing(study: Study):
    import psycopg
    from psycopg import errors

    before = study.snapshot()
    bob = study.bob
    with study.sql(study.alice) as conn:
        assert conn.execute("SELECT count(*) FROM progress WHERE learner = %s", (bob,)).fetchone() == (1,)
        # Another learner's rows: UPDATE and DELETE find nothing to change (the policy hides them) ...
        assert conn.execute("UPDATE progress SET status = 'done' WHERE learner = %s", (bob,)).rowcount == 0
        assert conn.execute("DELETE FROM note WHERE learner = %s", (bob,)).rowcount == 0
        assert conn.execute("DELETE FROM goal").rowcount == 0  # only bob has a goal
        # ... and a row written for them, or one of one's own handed over to them, is refused.
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO progress (learner, roadmap_id, topic_id, status, updated_at) "
                "VALUES (%s, 'mini', 'numpy', 'done', now())",
                (bob,),
            )
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE progress SET learner = %s WHERE learner = current_user", (bob,))
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO event (learner, roadmap_id, topic_id, at, old_status, new_status) "
                "VALUES (%s, 'mini', 'numpy', now(), 'todo', 'done')",
                (bob,),
            )
        # Nor can the role step around the policies.
        for statement in (
            "ALTER TABLE progress DISABLE ROW LEVEL SECURITY",
            "DROP POLICY progress_own ON progress",
            f"SET ROLE {bob}",
        ):
            with pytest.raises(psycopg.Error):
                conn.execute(statement)
        conn.execute("SET row_security = off")  # then a query RLS applies to fails instead of bypassing it
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE progress SET status = 'done' WHERE learner = %s", (bob,))
    assert study.snapshot() == before
    # The same role does change its own rows: the policy tells learners apart, it does not block everything.
    with study.sql(study.alice) as conn:
        assert conn.execute("UPDATE progress SET status = 'skipped' WHERE topic_id = 'math'").rowcount == 1
    after = study.snapshot()["progress"]
    assert [r for r in after if r not in before["progress"]] == [
        r for r in after if r[0] == study.alice and r[2] == "math"
    ]


def test_a_mentor_reads_everything_and_changes_nothing(study: Study):
    from psycopg import errors

    before = study.snapshot()
    mentor = study.as_role(study.mentor)
    data = as_json(mentor("team", "status", "--json"))
    assert {e["learner"] for e in data["learners"]} == {study.alice, study.bob}
    assert "Learner" in ok(mentor("team", "status")) and study.alice in ok(mentor("team", "status"))
    assert as_json(mentor("team", "show", study.bob, "--json"))["total"]["doing"] == 1
    csv_text = ok(mentor("team", "export", "--format", "csv"))
    assert len(list(csv.DictReader(io.StringIO(csv_text)))) == 2
    for args in (["done", "python"], ["note", "python", "from the mentor"]):
        assert "may read this study group's progress but not change any" in error_line(mentor(*args))
    forged = study.as_role(study.mentor, learner=study.alice)
    assert "may read" in error_line(forged("done", "numpy"))
    with study.sql(study.mentor) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("UPDATE progress SET status = 'done'")
    assert study.snapshot() == before


def test_team_init_twice_changes_nothing(study: Study):
    before, rows = study.security(), study.snapshot()
    assert "already set up for a study group; nothing changed" in ok(study.owner()("team", "init"))
    assert study.security() == before and study.snapshot() == rows
    policies = {(r[0], r[1]) for r in before[2]}
    assert policies == {(t, f"{t}_{kind}") for t in LEARNER_TABLES for kind in ("own", "read")}
    assert all(flag for name, flag, *_ in before[1] if name in LEARNER_TABLES)


def test_team_init_by_a_member_is_refused_in_one_line(study: Study):
    before = study.security()
    line = error_line(study.as_role(study.alice)("team", "init"))
    assert "run by the database's owner" in line and "nothing was changed" in line
    assert study.security() == before


def test_the_team_table_prints_what_a_rich_table_of_its_layout_prints():
    """The table is written row by row for speed (a group has hundreds of learners); it must read exactly as
    the Rich table of the same layout, at every width, and keep the cells' styles."""
    from rich.console import Console

    from llmpath import render

    people = [
        learner("ann", {"t1": "done", "t3": "skipped"}, T0),
        store.LearnerProgress("benedict-the-long-named", {"t2": "doing"}, None, "tr"),
        learner("cé", {"t1": "done", "t2": "done", "t3": "done"}, T0 + timedelta(days=3)),
    ]
    report = team.build(tiny_graph(), people, roadmap_id="r", roadmap_title="R")
    layouts = set()
    for width in (30, 45, 60, 75, 200):
        fast, rich = (Console(width=width, color_system=None, file=io.StringIO()) for _ in range(2))
        table = render.team_table(report)
        fast.print(table)
        layout = table.layout(rich, rich.options)
        layouts.add(tuple(layout))
        if any(key.startswith("group") for key in layout):
            rich.print(table.legend)
        rich.print(table.table(layout))
        lines = [[line.rstrip() for line in c.file.getvalue().splitlines()] for c in (fast, rich)]
        assert lines[0] == lines[1], width
        assert max(len(line) for line in lines[0]) <= width, width
    assert len(layouts) >= 4  # the widths went through most layouts
    styled = Console(width=200, color_system="standard", file=io.StringIO())
    styled.print(render.team_table(report))
    printed = styled.file.getvalue()
    assert "\x1b[1mLearner\x1b[0m" in printed and "\x1b[32m2/2\x1b[0m" in printed  # bold header, full: green
