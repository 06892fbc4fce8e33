"""Reliability: concurrent writers, SIGKILL at any moment, damaged databases, schema versions, roadmap edits.

Most tests here run llmpath in real processes, most of them forked from the "fork server" of
tests/harness.py (shared with benchmarks/reliability.py): it imports llmpath once, and each child reports
each call's exit code *after* the call returned, i.e. after its transaction committed. This makes a 0-0.4 s
kill land inside the database work instead of inside `import sqlalchemy`, and keeps the file fast. A few
tests start real `python -m llmpath` interpreters as well.

The data directory is always a temporary one: `LLMPATH_HOME` is passed to every child process and
monkeypatched for in-process calls. The roadmap-evolution tests run on both engines (`engine`); the
PostgreSQL side of concurrency and kills is in tests/test_postgres.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from llmpath.cli import app
from llmpath.migrations import DATABASE_VERSION, migrate

from .conftest import stored_rows
from .harness import (
    MINI,
    ForkServer,
    child_env,
    db_file,
    done_topics,
    integrity,
    query,
    synthetic_roadmap,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX fork and SIGKILL")


# --- environment and helpers ------------------------------------------------------------------------------


@pytest.fixture
def home(llmpath_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's fresh data directory (conftest's), used in-process and passed to subprocesses; no colour,
    so the lines the tests look for are plain."""
    monkeypatch.setenv("NO_COLOR", "1")
    return llmpath_home


def invoke(*args: str | Path):
    """The CLI in-process; a crash (anything but SystemExit) is re-raised so the test shows it."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def table_dump(path: Path, *tables: str) -> dict[str, list[tuple]]:
    return {t: sorted(query(path, f"SELECT * FROM {t}"), key=repr) for t in tables}


def learner_rows() -> dict[str, list[tuple]]:
    """The progress and history in the database in use (either engine), read straight from it."""
    return {t: sorted(stored_rows(f"SELECT * FROM {t}"), key=repr) for t in ("progress", "event")}


def synthetic_available(n: int, done: set[str]) -> list[str]:
    """What `next` must offer on `synthetic_roadmap(n)` when `done` are done (the dependency rule above)."""
    out = []
    for i in range(n):
        if f"topic-{i}" in done:
            continue
        if all(f"topic-{j}" in done for j in (i - 1, i - 7) if j >= 0):
            out.append(f"topic-{i}")
    return out


def write_roadmap(path: Path, text: str) -> None:
    """Rewrite a roadmap file with a strictly newer mtime, so the change is seen even at the same size."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    now = path.stat()
    if now.st_mtime_ns <= old:
        os.utime(path, ns=(now.st_atime_ns, old + 1_000_000))


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


# --- the fork server (tests/harness.py) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def forks(tmp_path_factory: pytest.TempPathFactory):
    server = ForkServer(tmp_path_factory.mktemp("forks"))
    yield server
    server.close()


# --- concurrent writers -----------------------------------------------------------------------------------

WRITERS = 4
TOPICS = 40


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(forks: ForkServer, home: Path, tmp_path: Path) -> None:
    roadmap = tmp_path / "synth.yaml"
    roadmap.write_text(synthetic_roadmap(TOPICS))
    per_writer = TOPICS // WRITERS
    # Writer w marks topics w, w+4, w+8, ...: neighbours are written by different processes.
    lanes = [[f"topic-{i}" for i in range(w, TOPICS, WRITERS)] for w in range(WRITERS)]
    assert sum(map(len, lanes)) == TOPICS and all(len(lane) == per_writer for lane in lanes)

    # A fresh data directory: the four processes also race to create, migrate and load the database.
    results = forks.run(home, [[["--roadmap", roadmap, "done", t] for t in lane] for lane in lanes])

    for result, lane in zip(results, lanes, strict=True):
        assert not result.killed and result.status == 0
        assert [args[-1] for args, _ in result.calls] == lane
        assert result.codes == [0] * len(lane), result.stderr
        assert "locked" not in result.stderr.lower(), result.stderr
        assert "Traceback" not in result.stderr and "error:" not in result.stderr, result.stderr

    assert integrity(db_file(home)) == "ok"
    assert done_topics(home, "synth") == {f"topic-{i}" for i in range(TOPICS)}
    # Exactly one recorded change per topic: no lost and no doubled writes.
    events = query(db_file(home), "SELECT topic_id, old_status, new_status FROM event")
    assert sorted(events) == sorted((f"topic-{i}", "todo", "done") for i in range(TOPICS))

    exported = invoke("--roadmap", roadmap, "export", "--format", "json")
    assert exported.exit_code == 0, exported.stderr
    statuses = {t["id"]: t["status"] for t in json.loads(exported.stdout)["topics"]}
    assert statuses == {f"topic-{i}": "done" for i in range(TOPICS)}


@dataclass
class LiteralRace:
    home: Path
    topics: list[str]
    procs: list[subprocess.Popen]


@pytest.fixture(scope="module", autouse=True)
def literal_race(tmp_path_factory: pytest.TempPathFactory):
    """Four `python -m llmpath --roadmap R done T` interpreters, started together on a fresh data dir.

    Started when this module starts and checked by test_concurrent_python_m_llmpath_processes: each needs
    ~1 s of CPU to start Python and import llmpath, which this way overlaps the in-process tests.
    """
    base = tmp_path_factory.mktemp("literal")
    roadmap = base / "synth.yaml"
    roadmap.write_text(synthetic_roadmap(TOPICS))
    home = base / "home"  # does not exist yet: they also race to create it
    topics = ["topic-3", "topic-17", "topic-25", "topic-39"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "llmpath", "--roadmap", str(roadmap), "done", topic],
            env=child_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for topic in topics
    ]
    race = LiteralRace(home, topics, procs)
    yield race
    for proc in procs:  # only if the checking test did not run
        if proc.poll() is None:
            proc.communicate(timeout=120)


@pytest.mark.slow
def test_concurrent_python_m_llmpath_processes(literal_race: LiteralRace) -> None:
    """The race of the test above with four separate interpreters (`python -m llmpath done T`)."""
    home = literal_race.home
    for proc in literal_race.procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert "locked" not in stderr.lower() and "Traceback" not in stderr, stderr
    assert integrity(db_file(home)) == "ok"
    assert done_topics(home, "synth") == set(literal_race.topics)
    assert _mode(home) == 0o700 and _mode(db_file(home)) == 0o600


# --- SIGKILL at varied moments ----------------------------------------------------------------------------

KILL_DELAYS = [0.4 * i / 5 for i in range(6)]  # 0, 0.08, ... 0.4 s
BIG = 600  # topics: loading them into a fresh database takes about 0.2 s


@pytest.mark.slow
def test_kill_during_first_load(forks: ForkServer, tmp_path: Path) -> None:
    """Killed while creating, migrating and loading a 600-topic roadmap: never a damaged database.

    The six processes run at once, each in its own fresh data directory, each killed after its own delay.
    """
    roadmap = tmp_path / "big.yaml"
    roadmap.write_text(synthetic_roadmap(BIG))
    homes = [tmp_path / f"home-{i}" for i in range(len(KILL_DELAYS))]
    calls = [["--roadmap", roadmap, "next", "-n", "1"]]
    results = forks.run(homes, [calls] * len(homes), kill_after=KILL_DELAYS)
    interrupted = 0
    for home, delay, result in zip(homes, KILL_DELAYS, results, strict=True):
        assert result.killed or result.codes == [0], result.stderr
        interrupted += result.killed and db_file(home).exists()
        if db_file(home).exists():
            assert integrity(db_file(home)) == "ok", f"kill after {delay:.2f} s"
            tables = {r[0] for r in query(db_file(home), "SELECT name FROM sqlite_master")}
            if "topic" in tables:
                # The load is one transaction: all of the roadmap or none of it.
                assert query(db_file(home), "SELECT count(*) FROM topic")[0][0] in (0, BIG)
    assert interrupted >= 1, "no kill landed while the database was being written; the test proved nothing"

    # Every one of the killed homes still works, and loads the whole roadmap.
    after = forks.run(homes, [[["--roadmap", roadmap, "next", "--json"]] for _ in homes])
    for home, result in zip(homes, after, strict=True):
        assert result.codes == [0], result.stderr
        assert [item["id"] for item in json.loads(result.stdout)] == ["topic-0"]
        assert "Traceback" not in result.stderr
        assert query(db_file(home), "SELECT count(*) FROM topic")[0][0] == BIG
        assert query(db_file(home), "PRAGMA user_version")[0][0] == DATABASE_VERSION


@pytest.mark.slow
def test_kill_during_done_keeps_every_finished_done(forks: ForkServer, home: Path, tmp_path: Path) -> None:
    topics = 150  # more than six kill rounds of one-topic `done` calls can get through
    roadmap = tmp_path / "synth.yaml"
    roadmap.write_text(synthetic_roadmap(topics))
    assert forks.one(home, ["--roadmap", roadmap, "next"]).codes == [0]
    finished: set[str] = set()  # dones that exited 0 before some kill
    remaining = [f"topic-{i}" for i in range(topics)]
    interrupted_midway = 0
    for delay in KILL_DELAYS:
        (result,) = forks.run(
            home, [[["--roadmap", roadmap, "done", t] for t in remaining]], kill_after=delay
        )
        completed = [args[-1] for args, code in result.calls if code == 0]
        assert len(completed) == len(result.calls), result.stderr  # no call failed
        assert result.killed or completed == remaining
        in_flight = remaining[len(completed)] if len(completed) < len(remaining) else None
        interrupted_midway += bool(completed) and result.killed
        finished |= set(completed)

        assert integrity(db_file(home)) == "ok", f"kill after {delay:.2f} s"
        recorded = done_topics(home, "synth")
        assert finished <= recorded, f"lost commits: {sorted(finished - recorded)}"
        assert recorded <= finished | {in_flight}, "a topic nobody marked is done"
        finished = recorded  # the in-flight one may have committed just before the kill
        remaining = [t for t in remaining if t not in recorded]
    assert interrupted_midway >= 1, "no kill landed between two finished dones"

    # llmpath still works on the killed-into database and reports the right next topics.
    after = forks.one(home, ["--roadmap", roadmap, "next", "--json", "-n", "1000"])
    assert after.codes == [0], after.stderr
    assert [item["id"] for item in json.loads(after.stdout)] == synthetic_available(topics, finished)


@pytest.mark.slow
def test_kill_during_import_is_all_or_nothing(forks: ForkServer, tmp_path: Path) -> None:
    roadmap = tmp_path / "synth.yaml"
    roadmap.write_text(synthetic_roadmap(TOPICS))
    template = tmp_path / "template"
    first = forks.one(template, ["--roadmap", roadmap, "done", *[f"topic-{i}" for i in range(5)]])
    assert first.codes == [0], first.stderr
    notes_per_topic = 5
    export = {
        "format": "llmpath-progress",
        "version": 1,
        "roadmap": {"id": "synth"},
        "topics": [
            {
                "id": f"topic-{i}",
                "status": "done",
                "finished_at": "2024-01-02T00:00:00+00:00",
                "notes": [
                    {"at": f"2024-01-01T00:00:{k:02d}+00:00", "text": f"note {k} on topic {i}"}
                    for k in range(notes_per_topic)
                ],
            }
            for i in range(TOPICS)
        ],
    }
    backup_json = tmp_path / "backup.json"
    backup_json.write_text(json.dumps(export))
    everything = {f"topic-{i}" for i in range(TOPICS)}
    calls = [
        ["--roadmap", roadmap, "done", "topic-20"],
        ["--roadmap", roadmap, "done", "topic-21"],
        ["--roadmap", roadmap, "import", backup_json],
    ]
    # Kills that came after a finished call, yet before the import's commit.
    killed_before_import_committed = 0
    for i, delay in enumerate(KILL_DELAYS):
        home = tmp_path / f"home-{i}"
        shutil.copytree(template, home)
        (result,) = forks.run(home, [calls], kill_after=delay)
        assert all(code == 0 for code in result.codes), result.stderr
        completed = [args for args, _ in result.calls]

        assert integrity(db_file(home)) == "ok", f"kill after {delay:.2f} s"
        recorded = done_topics(home, "synth")
        notes = query(db_file(home), "SELECT count(*) FROM note")[0][0]
        for args in completed:
            if args[-2] == "done":
                assert args[-1] in recorded, f"lost commit: {args}"
        if notes:  # the import committed: all of it
            assert notes == TOPICS * notes_per_topic
            assert recorded == everything
        else:  # it did not: nothing of it
            assert len(completed) < 3, "import exited 0 but its notes are missing"
            assert recorded <= {f"topic-{i}" for i in range(5)} | {"topic-20", "topic-21"}
            killed_before_import_committed += len(completed) >= 1
    assert killed_before_import_committed >= 1, "no kill landed between a finished done and the import commit"

    homes = [tmp_path / f"home-{i}" for i in range(len(KILL_DELAYS))]
    for result in forks.run(homes, [[["--roadmap", roadmap, "next", "--json"]] for _ in homes]):
        assert result.codes == [0], result.stderr


# --- damaged databases ------------------------------------------------------------------------------------


def _damage_garbage(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _damage_truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _damage_pages(path: Path) -> None:
    # Keep page 1 (header and schema) intact; fill every later page with garbage.
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(4096)
        handle.write(os.urandom(size - 4096))


@pytest.fixture
def loaded_home(forks: ForkServer, home: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A data dir with the 40-topic roadmap loaded and a few topics done; the database cleanly closed."""
    roadmap = tmp_path / "synth.yaml"
    roadmap.write_text(synthetic_roadmap(TOPICS))
    result = forks.one(home, ["--roadmap", roadmap, "done", "topic-0", "topic-1", "topic-2"])
    assert result.codes == [0], result.stderr
    assert not Path(f"{db_file(home)}-wal").exists()
    return home, roadmap


def test_garbage_database_is_one_line_error_with_recovery(
    forks: ForkServer, loaded_home: tuple[Path, Path]
) -> None:
    home, roadmap = loaded_home
    _damage_garbage(db_file(home))
    before = hashlib.sha256(db_file(home).read_bytes()).hexdigest()
    result = forks.one(home, ["--roadmap", roadmap, "next"])
    assert result.codes == [1]
    line = one_line_error(result.stderr)
    assert str(db_file(home)) in line
    assert "damaged" in line and "llmpath import" in line, line  # no backup yet: restore from an export
    assert "-wal" in line, line  # move the damaged database's WAL away with it
    assert hashlib.sha256(db_file(home).read_bytes()).hexdigest() == before, "llmpath wrote to it"


@pytest.mark.parametrize("damage", [_damage_garbage, _damage_truncate, _damage_pages])
def test_damaged_database_every_command_then_restore(
    forks: ForkServer, loaded_home: tuple[Path, Path], damage
) -> None:
    home, roadmap = loaded_home
    # With a backup around, the recovery hint names the newest one.
    from llmpath.db import backup_database

    backups = [backup_database(db_file(home), reason) for reason in ("older", "newer")]
    saved = table_dump(db_file(home), "progress")
    damage(db_file(home))
    commands = [["next"], ["done", "topic-5"], ["status", "--json"], ["export"]]
    results = forks.run(home, [[["--roadmap", roadmap, *command]] for command in commands])
    for command, result in zip(commands, results, strict=True):
        assert result.codes == [1], command
        line = one_line_error(result.stderr)
        assert line.startswith("error: ") and str(db_file(home)) in line
        assert "damaged" in line and ("malformed" in line or "not a database" in line), line
        assert "llmpath restore" in line and backups[-1].name in line, line

    # The recovery it names works: the newest backup is back, the damaged file kept aside.
    restored = forks.one(home, ["restore"])
    assert restored.codes == [0], restored.stderr
    assert integrity(db_file(home)) == "ok"
    assert table_dump(db_file(home), "progress") == saved
    assert list(home.glob("llmpath.db.damaged*")), "the damaged database must be kept"
    after = forks.one(home, ["--roadmap", roadmap, "status", "--json"])
    assert after.codes == [0], after.stderr
    assert json.loads(after.stdout)["total"]["done"] == 3


def test_restore_after_a_crash_ignores_the_stale_wal(
    forks: ForkServer, loaded_home: tuple[Path, Path]
) -> None:
    """A crash leaves llmpath.db-wal behind; restoring a backup must not let SQLite replay it onto it."""
    from llmpath.db import backup_database

    home, roadmap = loaded_home
    db = db_file(home)
    backup = backup_database(db, "good")
    assert backup is not None
    saved = table_dump(backup, "progress")
    more = forks.one(home, ["--roadmap", roadmap, "done", *[f"topic-{i}" for i in range(3, 30)]])
    assert more.codes == [0], more.stderr
    # What a crash leaves behind: a -wal holding committed frames (copied while a writer has it open).
    con = sqlite3.connect(db)
    con.execute("UPDATE progress SET status = 'skipped'")
    con.commit()
    stale = {suffix: Path(f"{db}{suffix}").read_bytes() for suffix in ("-wal", "-shm")}
    con.close()
    for suffix, data in stale.items():
        Path(f"{db}{suffix}").write_bytes(data)
    _damage_garbage(db)

    line = one_line_error(forks.one(home, ["--roadmap", roadmap, "next"]).stderr)
    assert "llmpath restore" in line, line
    restored = forks.one(home, ["restore"])  # do what the message says
    assert restored.codes == [0], restored.stderr
    after = forks.one(home, ["--roadmap", roadmap, "status", "--json"])
    assert after.codes == [0], after.stderr
    assert integrity(db) == "ok"
    assert table_dump(db, "progress") == saved


# --- schema versions --------------------------------------------------------------------------------------


def test_database_from_a_newer_llmpath_is_refused(forks: ForkServer, loaded_home: tuple[Path, Path]) -> None:
    home, roadmap = loaded_home
    con = sqlite3.connect(db_file(home))
    con.execute(f"PRAGMA user_version = {DATABASE_VERSION + 1}")
    con.close()
    before = table_dump(db_file(home), "progress", "event")
    for command in (["next"], ["done", "topic-9"]):
        result = forks.one(home, ["--roadmap", roadmap, *command])
        assert result.codes == [1]
        line = one_line_error(result.stderr)
        assert "newer llmpath" in line and str(db_file(home)) in line, line
    assert query(db_file(home), "PRAGMA user_version")[0][0] == DATABASE_VERSION + 1
    assert table_dump(db_file(home), "progress", "event") == before


def test_version_1_database_is_migrated_with_backup(home: Path) -> None:
    from datetime import datetime

    from sqlalchemy import create_engine, text

    home.mkdir(mode=0o700)
    engine = create_engine(f"sqlite:///{db_file(home)}")
    with engine.begin() as conn:
        migrate(conn, 0, 1, learner="me")
        # Version 1's learner tables had no learner column: as that release made them.
        conn.exec_driver_sql("DROP TABLE progress")
        conn.exec_driver_sql("DROP TABLE setting")
        conn.exec_driver_sql(
            "CREATE TABLE progress (roadmap_id VARCHAR NOT NULL, topic_id VARCHAR NOT NULL, status VARCHAR "
            "NOT NULL, started_at DATETIME, finished_at DATETIME, updated_at DATETIME NOT NULL, "
            "PRIMARY KEY (roadmap_id, topic_id))"
        )
        conn.exec_driver_sql(
            "CREATE TABLE setting (key VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY (key))"
        )
        conn.execute(
            text(
                "INSERT INTO progress VALUES "
                "(:roadmap_id, :topic_id, :status, :started_at, :finished_at, :updated_at)"
            ),
            [
                {
                    "roadmap_id": "mini",
                    "topic_id": "python",
                    "status": "done",
                    "started_at": datetime(2024, 1, 1, 9, tzinfo=UTC),
                    "finished_at": datetime(2024, 1, 3, 9, tzinfo=UTC),
                    "updated_at": datetime(2024, 1, 3, 9, tzinfo=UTC),
                },
                {
                    "roadmap_id": "mini",
                    "topic_id": "math",
                    "status": "skipped",
                    "started_at": None,
                    "finished_at": datetime(2024, 1, 2, 9, tzinfo=UTC),
                    "updated_at": datetime(2024, 1, 2, 9, tzinfo=UTC),
                },
                {
                    "roadmap_id": "mini",
                    "topic_id": "numpy",
                    "status": "doing",
                    "started_at": datetime(2024, 1, 4, 9, tzinfo=UTC),
                    "finished_at": None,
                    "updated_at": datetime(2024, 1, 4, 9, tzinfo=UTC),
                },
            ],
        )
    engine.dispose()
    assert query(db_file(home), "PRAGMA user_version")[0][0] == 1
    assert not query(db_file(home), "SELECT name FROM sqlite_master WHERE name = 'event'")

    result = invoke("--roadmap", MINI, "status", "--json")
    assert result.exit_code == 0, result.stderr
    total = json.loads(result.stdout)["total"]
    assert (total["done"], total["skipped"], total["doing"]) == (1, 1, 1)

    assert query(db_file(home), "PRAGMA user_version")[0][0] == DATABASE_VERSION
    events = query(db_file(home), "SELECT topic_id, at, old_status, new_status FROM event ORDER BY at")
    assert [(t, at[:10], old, new) for t, at, old, new in events] == [
        ("python", "2024-01-01", "todo", "doing"),
        ("math", "2024-01-02", "todo", "skipped"),
        ("python", "2024-01-03", "doing", "done"),
        ("numpy", "2024-01-04", "todo", "doing"),
    ]
    backups = list((home / "backups").glob("*-before-migration.db"))
    assert len(backups) == 1, list((home / "backups").iterdir())
    assert query(backups[0], "PRAGMA user_version")[0][0] == 1
    assert len(query(backups[0], "SELECT * FROM progress")) == 3

    # Migrations run once: opening again neither backs up again nor replays history twice.
    assert invoke("--roadmap", MINI, "next").exit_code == 0
    assert len(list((home / "backups").glob("*-before-migration.db"))) == 1
    assert len(query(db_file(home), "SELECT * FROM event")) == 4


class SimulatedCrash(BaseException):
    """Raised where a SIGKILL could land; BaseException so that nothing on the way catches it."""


def test_interrupted_restore_never_leaves_no_database(
    loaded_home: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sound database is restored in place, in one SQLite transaction: a crash in the middle leaves it."""
    from llmpath import db as database

    home, roadmap = loaded_home
    database.backup_database(db_file(home), "good")
    assert invoke("--roadmap", roadmap, "done", "topic-3").exit_code == 0
    real_write_backup = database._write_backup

    def crash_after_the_copy_aside(source, reason):  # the restore's pages are being written now
        kept = real_write_backup(source, reason)
        if reason == "before-restore":
            raise SimulatedCrash
        return kept

    with monkeypatch.context() as patch:
        patch.setattr(database, "_write_backup", crash_after_the_copy_aside)
        with pytest.raises(SimulatedCrash):
            database.restore_backup(db_file(home))
    assert integrity(db_file(home)) == "ok"
    result = invoke("--roadmap", roadmap, "status", "--json")
    assert json.loads(result.stdout)["total"]["done"] == 4, "the interrupted restore changed the database"


def test_interrupted_restore_of_a_damaged_database_leaves_it_and_cleans_up_next_time(
    loaded_home: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged database is replaced by a rename; a crash before it leaves the damaged file, and a
    `.partial` copy that `doctor` reports and the next run removes."""
    from llmpath import db as database

    home, roadmap = loaded_home
    database.backup_database(db_file(home), "good")
    _damage_garbage(db_file(home))
    real_replace = os.replace

    def crash_on_last_rename(src, dst):  # the moment before the restored copy takes the database's name
        if Path(dst) == db_file(home):
            raise SimulatedCrash
        return real_replace(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash_on_last_rename)
        with pytest.raises(SimulatedCrash):
            database.restore_backup(db_file(home))
    assert db_file(home).exists(), "neither the old nor the restored database is at llmpath.db"
    leftover = home / "llmpath.db.partial"
    assert leftover.exists()
    checks = {c["check"]: c for c in json.loads(invoke("doctor", "--json").stdout)}
    assert str(leftover) in checks["leftovers"]["detail"] and checks["leftovers"]["warning"]
    assert invoke("restore").exit_code == 0
    assert not leftover.exists()
    result = invoke("--roadmap", roadmap, "status", "--json")
    assert json.loads(result.stdout)["total"]["done"] == 3


def test_two_restores_in_one_second_keep_both_previous_databases(
    loaded_home: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime

    from llmpath import db as database

    home, _ = loaded_home
    database.backup_database(db_file(home), "good")

    class SameSecond(datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2024, 1, 1, 12, 0, 0)

    monkeypatch.setattr(database, "datetime", SameSecond)
    assert invoke("restore").exit_code == 0
    assert invoke("restore").exit_code == 0
    kept = list((home / "backups").glob("*-before-restore*.db"))
    assert len(kept) == 2, sorted(p.name for p in (home / "backups").iterdir())
    assert not list(home.glob("*.damaged*")), "a sound database is not called damaged"


# The schema a database written by llmpath's first release (commit f0ecbc2, schema version 2) has: frozen
# here, since building "old" databases from today's model classes would silently include today's columns.
FIRST_RELEASE_SCHEMA_V2 = (
    "CREATE TABLE roadmap (id VARCHAR NOT NULL, title VARCHAR NOT NULL, description VARCHAR NOT NULL, "
    "sources_json VARCHAR NOT NULL, source_path VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, "
    "file_size INTEGER NOT NULL, file_mtime_ns INTEGER NOT NULL, loaded_at DATETIME NOT NULL, "
    "PRIMARY KEY (id))",
    "CREATE INDEX ix_roadmap_source_path ON roadmap (source_path)",
    "CREATE TABLE phase (roadmap_id VARCHAR NOT NULL, id VARCHAR NOT NULL, position INTEGER NOT NULL, "
    "title VARCHAR NOT NULL, summary VARCHAR NOT NULL, PRIMARY KEY (roadmap_id, id))",
    "CREATE TABLE topic (roadmap_id VARCHAR NOT NULL, id VARCHAR NOT NULL, phase_id VARCHAR NOT NULL, "
    "position INTEGER NOT NULL, title VARCHAR NOT NULL, summary VARCHAR NOT NULL, difficulty VARCHAR, "
    "hours FLOAT, kind VARCHAR NOT NULL, details_json VARCHAR NOT NULL, PRIMARY KEY (roadmap_id, id))",
    "CREATE TABLE topic_alias (roadmap_id VARCHAR NOT NULL, alias VARCHAR NOT NULL, "
    "topic_id VARCHAR NOT NULL, PRIMARY KEY (roadmap_id, alias))",
    "CREATE TABLE prerequisite (roadmap_id VARCHAR NOT NULL, topic_id VARCHAR NOT NULL, "
    "requires_id VARCHAR NOT NULL, PRIMARY KEY (roadmap_id, topic_id, requires_id))",
    "CREATE TABLE progress (roadmap_id VARCHAR NOT NULL, topic_id VARCHAR NOT NULL, "
    "status VARCHAR NOT NULL, started_at DATETIME, finished_at DATETIME, updated_at DATETIME NOT NULL, "
    "PRIMARY KEY (roadmap_id, topic_id))",
    'CREATE TABLE setting ("key" VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY ("key"))',
    "CREATE TABLE event (id INTEGER NOT NULL, roadmap_id VARCHAR NOT NULL, topic_id VARCHAR NOT NULL, "
    "at DATETIME NOT NULL, old_status VARCHAR NOT NULL, new_status VARCHAR NOT NULL, PRIMARY KEY (id))",
    "CREATE INDEX ix_event_roadmap_id ON event (roadmap_id)",
    "CREATE INDEX ix_event_at ON event (at)",
    "CREATE TABLE note (id INTEGER NOT NULL, roadmap_id VARCHAR NOT NULL, topic_id VARCHAR NOT NULL, "
    "at DATETIME NOT NULL, text VARCHAR NOT NULL, PRIMARY KEY (id))",
    "CREATE INDEX ix_note_roadmap_id ON note (roadmap_id)",
    "CREATE TABLE goal (roadmap_id VARCHAR NOT NULL, topic_id VARCHAR NOT NULL, "
    "PRIMARY KEY (roadmap_id, topic_id))",
)


def test_first_release_database_still_opens(home: Path) -> None:
    home.mkdir(mode=0o700)
    con = sqlite3.connect(db_file(home))
    for statement in FIRST_RELEASE_SCHEMA_V2:
        con.execute(statement)
    con.execute("PRAGMA user_version = 2")
    con.execute(
        "INSERT INTO progress VALUES ('mini', 'python', 'done', NULL, "
        "'2024-01-03 09:00:00.000000', '2024-01-03 09:00:00.000000')"
    )
    con.execute(
        "INSERT INTO event (roadmap_id, topic_id, at, old_status, new_status) "
        "VALUES ('mini', 'python', '2024-01-03 09:00:00.000000', 'todo', 'done')"
    )
    con.commit()
    con.close()

    result = invoke("--roadmap", MINI, "status", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total"]["done"] == 1
    again = invoke("--roadmap", MINI, "done", "math")  # a second open, with the roadmap cached
    assert again.exit_code == 0, again.stderr
    assert done_topics(home, "mini") == {"python", "math"}


# --- roadmap evolution ------------------------------------------------------------------------------------


def roadmap_doc(topics: list[dict], *, rid: str = "evo") -> str:
    doc = {
        "schema": 1,
        "id": rid,
        "title": "Evolving",
        "phases": [{"id": "only", "title": "Only", "topics": topics}],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def export_statuses(roadmap: Path) -> tuple[dict[str, str], dict[str, str]]:
    result = invoke("--roadmap", roadmap, "export", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    return (
        {t["id"]: t["status"] for t in data["topics"]},
        {t["id"]: t["status"] for t in data["orphaned"]},
    )


def next_ids(roadmap: Path) -> list[str]:
    result = invoke("--roadmap", roadmap, "next", "--json", "-n", "100")
    assert result.exit_code == 0, result.stderr
    return [item["id"] for item in json.loads(result.stdout)]


@pytest.mark.parametrize("link", ["replaces", "aliases"])
def test_renamed_topic_keeps_progress(engine: str, home: Path, tmp_path: Path, link: str) -> None:
    roadmap = tmp_path / "evo.yaml"
    write_roadmap(
        roadmap,
        roadmap_doc(
            [
                {"id": "basics", "title": "Basics"},
                {"id": "attention", "title": "Attention", "requires": ["basics"]},
                {"id": "rag", "title": "RAG", "requires": ["attention"]},
            ]
        ),
    )
    assert invoke("--roadmap", roadmap, "done", "basics", "attention").exit_code == 0
    finished = stored_rows("SELECT finished_at FROM progress WHERE topic_id = 'attention'")

    write_roadmap(
        roadmap,
        roadmap_doc(
            [
                {"id": "basics", "title": "Basics"},
                {
                    "id": "self-attention",
                    "title": "Self-attention",
                    "requires": ["basics"],
                    link: ["attention"],
                },
                {"id": "rag", "title": "RAG", "requires": ["self-attention"]},
            ]
        ),
    )
    result = invoke("--roadmap", roadmap, "status", "--json")
    assert result.exit_code == 0, result.stderr
    assert "'attention' moved to its new id 'self-attention'" in result.stderr
    status = json.loads(result.stdout)
    assert status["total"]["done"] == 2 and status["orphaned"] == []
    assert export_statuses(roadmap) == ({"basics": "done", "self-attention": "done", "rag": "todo"}, {})
    assert stored_rows("SELECT finished_at FROM progress WHERE topic_id = 'self-attention'") == finished
    assert stored_rows("SELECT count(*) FROM event WHERE topic_id = 'attention'") == [(0,)]
    assert stored_rows("SELECT count(*) FROM event WHERE topic_id = 'self-attention'") == [(1,)]
    assert next_ids(roadmap) == ["rag"]


def test_removed_topic_progress_is_kept_and_reported(engine: str, home: Path, tmp_path: Path) -> None:
    roadmap = tmp_path / "evo.yaml"
    full = [
        {"id": "alpha", "title": "Alpha"},
        {"id": "beta", "title": "Beta", "requires": ["alpha"]},
        {"id": "gamma", "title": "Gamma"},
    ]
    write_roadmap(roadmap, roadmap_doc(full))
    assert invoke("--roadmap", roadmap, "done", "beta").exit_code == 0
    assert invoke("--roadmap", roadmap, "start", "gamma").exit_code == 0

    write_roadmap(roadmap, roadmap_doc([full[0]]))
    result = invoke("--roadmap", roadmap, "status")
    assert result.exit_code == 0, result.stderr
    assert "no longer in the roadmap" in result.stdout and "beta (done)" in result.stdout
    assert "gamma (doing)" in result.stdout
    as_json = json.loads(invoke("--roadmap", roadmap, "status", "--json").stdout)
    assert sorted(as_json["orphaned"], key=lambda o: o["id"]) == [
        {"id": "beta", "status": "done"},
        {"id": "gamma", "status": "doing"},
    ]
    assert as_json["total"]["total"] == 1
    assert export_statuses(roadmap)[1] == {"beta": "done", "gamma": "doing"}

    # Put the topics back: their progress was never gone.
    write_roadmap(roadmap, roadmap_doc(full))
    assert export_statuses(roadmap) == ({"alpha": "todo", "beta": "done", "gamma": "doing"}, {})
    assert json.loads(invoke("--roadmap", roadmap, "status", "--json").stdout)["orphaned"] == []


def test_changed_prerequisites_change_next_not_progress(engine: str, home: Path, tmp_path: Path) -> None:
    roadmap = tmp_path / "evo.yaml"
    a, b, c, d = ({"id": x, "title": x.title()} for x in ("aa", "bb", "cc", "dd"))
    write_roadmap(roadmap, roadmap_doc([a, {**b, "requires": ["aa"]}, {**c, "requires": ["bb"]}, d]))
    assert invoke("--roadmap", roadmap, "done", "aa").exit_code == 0
    assert invoke("--roadmap", roadmap, "skip", "dd").exit_code == 0
    assert next_ids(roadmap) == ["bb"]
    progress = learner_rows()

    write_roadmap(roadmap, roadmap_doc([a, {**b, "requires": ["cc"]}, {**c, "requires": ["aa", "dd"]}, d]))
    assert next_ids(roadmap) == ["cc"]
    assert learner_rows() == progress

    write_roadmap(roadmap, roadmap_doc([{**a, "requires": ["dd"]}, b, c, {**d, "title": "Renamed D"}]))
    assert next_ids(roadmap) == ["bb", "cc"]
    assert learner_rows() == progress
    assert export_statuses(roadmap)[0] == {"aa": "done", "bb": "todo", "cc": "todo", "dd": "skipped"}


def test_resync_with_progress_leaves_a_backup(home: Path, tmp_path: Path) -> None:
    roadmap = tmp_path / "evo.yaml"
    topics = [{"id": "alpha", "title": "Alpha"}, {"id": "beta", "title": "Beta"}]
    write_roadmap(roadmap, roadmap_doc(topics))
    assert invoke("--roadmap", roadmap, "next").exit_code == 0
    write_roadmap(roadmap, roadmap_doc([*topics, {"id": "gamma", "title": "Gamma"}]))
    assert invoke("--roadmap", roadmap, "next").exit_code == 0
    backups = home / "backups"
    assert not list(backups.glob("*.db")), "no progress yet: nothing to back up"

    assert invoke("--roadmap", roadmap, "done", "alpha").exit_code == 0
    write_roadmap(roadmap, roadmap_doc([*topics, {"id": "delta", "title": "Delta"}]))
    result = invoke("--roadmap", roadmap, "next")
    assert result.exit_code == 0
    found = list(backups.glob("*before-resync*.db"))
    assert len(found) == 1, list(backups.iterdir())
    assert str(found[0]) in result.stderr
    assert query(found[0], "SELECT topic_id, status FROM progress") == [("alpha", "done")]
    assert {r[0] for r in query(found[0], "SELECT id FROM topic")} == {"alpha", "beta", "gamma"}


GOOD_ROADMAP = """\
schema: 1
id: evo
title: Evolving
phases:
  - id: only
    title: Only
    topics:
      - id: alpha
        title: Alpha
      - id: beta
        title: Beta
        requires: [alpha]
      - id: gamma
        title: Gamma
"""

BROKEN_EDITS = {
    "cycle": lambda t: t.replace("requires: [alpha]", "requires: [alpha, gamma]").replace(
        "title: Gamma", "title: Gamma\n        requires: [beta]"
    ),
    "unknown-prerequisite": lambda t: t.replace("requires: [alpha]", "requires: [alpah]"),
    "yaml-syntax": lambda t: t + "      - id: [unclosed\n",
    "duplicate-id": lambda t: t.replace("id: gamma", "id: beta"),
    "unknown-field": lambda t: t.replace("title: Beta", "title: Beta\n        hourz: 3"),
    "empty": lambda t: "",
    "not-utf8": lambda t: t.replace("Gamma", "Gamma \udcff"),
    "python-tag": lambda t: t.replace("title: Beta", "title: !!python/object/apply:os.getcwd []"),
    "tagged-value": lambda t: t.replace("title: Gamma", "title: !!int Gamma"),
}


@pytest.mark.parametrize("edit", sorted(BROKEN_EDITS))
def test_invalid_roadmap_edit_never_touches_progress(home: Path, tmp_path: Path, edit: str) -> None:
    roadmap = tmp_path / "evo.yaml"
    good = GOOD_ROADMAP
    write_roadmap(roadmap, good)
    assert invoke("--roadmap", roadmap, "done", "alpha", "beta").exit_code == 0
    tables = ("progress", "event", "topic", "prerequisite", "roadmap")
    before = table_dump(db_file(home), *tables)

    broken = BROKEN_EDITS[edit](good)
    assert broken != good
    roadmap.write_bytes(broken.encode("utf-8", "surrogateescape"))
    os.utime(roadmap, ns=(0, roadmap.stat().st_mtime_ns + 1_000_000))
    for command in (["next"], ["show", "alpha"]):  # on from the copy loaded before, with one warning
        result = invoke("--roadmap", roadmap, *command)
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
        assert result.stderr.startswith(f"warning: roadmap file {roadmap} has "), result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
    result = invoke("--roadmap", roadmap, "sync")  # loading the file itself: its problems are errors
    assert result.exit_code == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {roadmap}"), result.stderr
    assert table_dump(db_file(home), *tables) == before

    write_roadmap(roadmap, good + "# fixed\n")
    assert next_ids(roadmap) == ["gamma"]
    assert export_statuses(roadmap)[0] == {"alpha": "done", "beta": "done", "gamma": "todo"}


def test_same_size_rewrite_with_same_mtime_is_picked_up(home: Path, tmp_path: Path) -> None:
    """`cp -p`, `rsync -t` or `tar x` restore the mtime: a same-size edit must still be re-read."""
    roadmap = tmp_path / "mini.yaml"
    v1 = MINI.read_text()
    v2 = v1.replace("title: Math\n", "title: Meth\n")
    assert len(v1) == len(v2) and v1 != v2
    roadmap.write_text(v1)
    first = roadmap.stat()
    assert json.loads(invoke("--roadmap", roadmap, "show", "math", "--json").stdout)["title"] == "Math"
    roadmap.write_text(v2)
    os.utime(roadmap, ns=(first.st_atime_ns, first.st_mtime_ns))
    assert json.loads(invoke("--roadmap", roadmap, "show", "math", "--json").stdout)["title"] == "Meth"


# --- private files ----------------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_files_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "not" / "yet" / "home"
    monkeypatch.setenv("LLMPATH_HOME", str(home))
    monkeypatch.delenv("LLMPATH_ROADMAP", raising=False)
    roadmap = tmp_path / "mini.yaml"
    write_roadmap(roadmap, MINI.read_text())
    old_umask = os.umask(0)  # the most permissive umask: privacy must not depend on it
    try:
        assert invoke("--roadmap", roadmap, "done", "python").exit_code == 0
        assert _mode(home) == 0o700
        assert _mode(db_file(home)) == 0o600
        for suffix in ("-wal", "-shm"):
            extra = Path(f"{db_file(home)}{suffix}")
            if extra.exists():
                assert _mode(extra) == 0o600, suffix
        write_roadmap(roadmap, MINI.read_text() + "# changed\n")
        assert invoke("--roadmap", roadmap, "next").exit_code == 0  # re-sync with progress: a backup
        backups = list((home / "backups").iterdir())
        assert backups
        assert _mode(home / "backups") == 0o700
        for backup in backups:
            assert _mode(backup) == 0o600, backup.name
    finally:
        os.umask(old_umask)
