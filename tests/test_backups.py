"""Backups that are there when needed, `restore` that names and locks what it replaces, a read-only `doctor`.

Kept per reason (re-loads never push out an import's backup), a daily backup by the first write of a day,
`llmpath backups`, restore in place under the write lock, leftovers of an interrupted restore cleaned and
reported, an unwritable backups folder, and `doctor` telling locked, full, read-only and damaged apart
without creating, migrating or writing anything.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from llmpath import db, doctor
from llmpath.migrations import DATABASE_VERSION, migrate

from .conftest import MINI, Cli

MINI_TEXT = MINI.read_text(encoding="utf-8")


def db_file(home: Path) -> Path:
    return home / "llmpath.db"


def statuses(home: Path, database: Path | None = None) -> dict[str, str]:
    con = sqlite3.connect(database or db_file(home))
    try:
        return dict(con.execute("SELECT topic_id, status FROM progress WHERE status != 'todo'"))
    finally:
        con.close()


def reasons(home: Path) -> list[str]:
    return [b.reason for b in db.backups()]


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Clock:
    """Replaces `db.datetime`: backups are named and kept by the local day this clock says it is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.day = 1
        ticks = itertools.count()
        clock = self

        class Fake(datetime):
            @classmethod
            def now(cls, tz=None):  # type: ignore[override]
                return cls(2026, 3, clock.day, 9, 0, next(ticks) % 60)

        monkeypatch.setattr(db, "datetime", Fake)


# --- backups kept per reason ------------------------------------------------------------------------------


def test_reloads_never_push_out_the_backups_taken_before_imports(
    cli: Cli, tmp_path: Path, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch
):
    """Problem 9: three `use` switches between a fork and the default pushed out both import backups."""
    assert db.KEPT["before-resync"] == db.KEPT["before-import"] == 5
    monkeypatch.setitem(db.KEPT, "before-resync", 3)  # fewer re-loads to push one out: a faster test
    cli("done", "python")
    export = tmp_path / "progress.json"
    assert cli("export", "--format", "json", "-o", str(export)).exit_code == 0
    for _ in range(2):
        assert cli("import", str(export)).exit_code == 0
    imports = [b.path for b in db.backups() if b.reason == "before-import"]
    assert len(imports) == 2

    # Two files of the same roadmap id: each switch re-loads it, and progress exists, so each backs up first.
    fork_a, fork_b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    fork_a.write_text(MINI_TEXT + "# fork a\n", encoding="utf-8")
    fork_b.write_text(MINI_TEXT + "# fork b, longer\n", encoding="utf-8")
    for _ in range(2):  # four re-loads: one more than kept, and six backups in all (five were kept)
        for fork in (fork_a, fork_b):
            result = Cli(fork)("next")
            assert result.exit_code == 0 and "backup of the previous state" in result.stderr, result.stderr
    kept = db.backups()
    assert [b.path for b in kept if b.reason == "before-import"] == imports, "a re-load pushed one out"
    assert sum(b.reason == "before-resync" for b in kept) == 3
    assert all(statuses(llmpath_home, b.path) == {"python": "done"} for b in kept if b.reason != "daily")


def test_the_first_write_of_each_day_takes_a_daily_backup_kept_a_week(
    cli: Cli, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch
):
    """Problem 9: a learner who only uses done/start/skip never got a backup."""
    clock = Clock(monkeypatch)
    assert cli("done", "python").exit_code == 0
    assert reasons(llmpath_home) == [], "nothing to lose before the first progress"
    assert cli("start", "math").exit_code == 0
    assert reasons(llmpath_home) == ["daily"]
    (daily,) = db.backups()
    assert statuses(llmpath_home, daily.path) == {"python": "done"}, "taken before the day's first change"
    assert cli("skip", "numpy").exit_code == 0
    assert cli("note", "python", "same day").exit_code == 0
    assert reasons(llmpath_home) == ["daily"], "one a day"

    clock.day = 2
    assert cli("done", "math").exit_code == 0
    for day in range(3, 11):  # the same hook as the command's, without the rest of a command
        clock.day = day
        db._take_daily_backup(db_file(llmpath_home))
        db._take_daily_backup(db_file(llmpath_home))
    kept = db.backups()
    assert [b.reason for b in kept] == ["daily"] * db.DAILY_KEPT == ["daily"] * 7
    assert [b.taken_at.day for b in kept] == list(range(10, 3, -1)), "the newest week, one per day"
    assert all(b.path.stat().st_mode & 0o077 == 0 for b in kept), "backups are private"
    assert not list((llmpath_home / "backups").glob("*-wal")), "a backup is one self-contained file"


def test_daily_backups_of_one_day_count_once(llmpath_home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch):
    """Several processes may take the day's backup at once: the day keeps its first, not a week's worth."""
    clock = Clock(monkeypatch)
    cli("done", "python")
    for day in (1, 2):
        clock.day = day
        for _ in range(3):
            db.backup_database(db_file(llmpath_home), db.DAILY)
    assert [b.taken_at.day for b in db.backups()] == [2, 1]


def test_backups_lists_reason_date_and_size(cli: Cli, tmp_path: Path, llmpath_home: Path):
    assert json.loads(cli("backups", "--json").stdout) == []
    assert "No backups yet" in cli("backups").stdout
    cli("done", "python")
    cli("start", "math")  # the day's first write with progress: daily
    export = tmp_path / "p.json"
    cli("export", "--format", "json", "-o", str(export))
    cli("import", str(export))  # before-import
    listed = json.loads(cli("backups", "--json").stdout)
    assert [row["reason"] for row in listed] == ["before-import", "daily"]
    for row in listed:
        assert set(row) == {"file", "reason", "taken_at", "bytes"}
        assert Path(row["file"]).parent == llmpath_home / "backups"
        assert row["bytes"] == Path(row["file"]).stat().st_size > 0
        assert datetime.fromisoformat(row["taken_at"]).utcoffset() is not None
    text = cli("backups").stdout
    assert "before-import" in text and "daily" in text and ("kB" in text or "MB" in text)
    assert Path(listed[0]["file"]).name in text


# --- restore ----------------------------------------------------------------------------------------------


def test_restore_backs_up_a_sound_database_instead_of_calling_it_damaged(cli: Cli, llmpath_home: Path):
    cli("done", "python")
    cli("start", "math")  # daily backup: python done
    cli("done", "math")
    result = cli("restore")
    assert result.exit_code == 0, result.stderr
    assert statuses(llmpath_home) == {"python": "done"}
    assert not list(llmpath_home.glob("*damaged*")), "a healthy database is not 'damaged'"
    (aside,) = [b for b in db.backups() if b.reason == "before-restore"]
    assert statuses(llmpath_home, aside.path) == {"python": "done", "math": "done"}
    assert f"backed up as {aside.path}" in result.stdout.replace("\n", " ")
    # The message says how to undo it, and that works.
    assert cli("restore", str(aside.path)).exit_code == 0
    assert statuses(llmpath_home) == {"python": "done", "math": "done"}
    assert cli("next").exit_code == 0


def test_restore_holds_the_write_lock_while_it_replaces_the_database(
    cli: Cli, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch
):
    cli("done", "python")
    cli("start", "math")
    cli("done", "math")
    tried: list[str] = []
    real_write_backup = db._write_backup

    def another_writer_tries(source, reason):
        kept = real_write_backup(source, reason)
        if reason == "before-restore":  # the restore has copied the current database and is replacing it
            other = sqlite3.connect(db_file(llmpath_home), timeout=0.05, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                tried.append("wrote")
                other.execute("ROLLBACK")
            except sqlite3.OperationalError as exc:
                tried.append(str(exc))
            finally:
                other.close()
        return kept

    monkeypatch.setattr(db, "_write_backup", another_writer_tries)
    assert cli("restore").exit_code == 0
    assert tried == ["database is locked"]
    # Writers that waited write into the restored database, not into a replaced file.
    assert cli("done", "numpy").exit_code == 0
    assert statuses(llmpath_home) == {"python": "done", "numpy": "done"}


def test_restore_waits_for_a_writer_then_gives_up_without_changing_anything(
    cli: Cli, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch
):
    cli("done", "python")
    cli("start", "math")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    writer = sqlite3.connect(db_file(llmpath_home), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE progress SET status = 'skipped' WHERE topic_id = 'math'")
    try:
        result = cli("restore")
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "locked" in line and "nothing was restored" in line, line
    assert statuses(llmpath_home) == {"python": "done", "math": "skipped"}, "the writer's commit is kept"
    assert reasons(llmpath_home) == ["daily"], "no before-restore backup of a restore that did not happen"
    assert not list(llmpath_home.rglob("*.partial"))


def test_leftovers_of_an_interrupted_restore_are_reported_then_removed(cli: Cli, llmpath_home: Path):
    """Problem 9: a killed restore left a 60 MB `.partial` file that nothing cleaned or reported."""
    cli("done", "python")
    (llmpath_home / "backups").mkdir()
    leftovers = [llmpath_home / "llmpath.db.partial", llmpath_home / "backups" / "llmpath-x-daily.partial"]
    for leftover in leftovers:
        leftover.write_bytes(b"\0" * 200_000)
    in_use = llmpath_home / "backups" / "llmpath-y-before-import.partial"
    in_use.write_bytes(b"being written")

    import fcntl

    with in_use.open("rb") as handle:  # another process is writing this one right now
        fcntl.flock(handle, fcntl.LOCK_EX)
        report = {c["check"]: c for c in json.loads(cli("doctor", "--json").stdout)}
        assert report["leftovers"]["warning"] and not report["leftovers"]["ok"]
        for leftover in (*leftovers, in_use):
            assert str(leftover) in report["leftovers"]["detail"]
        assert "0.2 MB" in report["leftovers"]["detail"]
        assert all(p.exists() for p in leftovers), "doctor is read-only"

        assert cli("status").exit_code == 0  # the next run
        assert not any(p.exists() for p in leftovers)
        assert in_use.exists(), "a partial file another process holds is not touched"
    assert cli("status").exit_code == 0
    assert not in_use.exists()
    report = {c["check"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    assert "leftovers" not in report


# --- an unwritable backups folder -------------------------------------------------------------------------


def _block_backups_folder(home: Path) -> None:
    """Make `backups/` impossible to use even for root: a file takes its name."""
    shutil.rmtree(home / "backups", ignore_errors=True)
    (home / "backups").write_text("not a folder")


def test_an_unwritable_backups_folder_stops_an_import_before_it_changes_anything(
    cli: Cli, tmp_path: Path, llmpath_home: Path
):
    """Problem 7: an unwritable `backups/` folder during import was a traceback."""
    cli("done", "python")
    export = tmp_path / "p.json"
    cli("export", "--format", "json", "-o", str(export))
    cli("reset", "python")
    _block_backups_folder(llmpath_home)
    before = statuses(llmpath_home)
    result = cli("import", str(export))
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith("error: cannot write a before-import backup in ") and str(llmpath_home) in line
    assert "nothing was changed" in line
    assert statuses(llmpath_home) == before == {}
    # The daily backup is best effort: small changes still work, and doctor says what is wrong.
    assert cli("done", "math").exit_code == 0
    report = {c["check"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    assert report["backups"]["warning"] and "not a folder llmpath can write" in report["backups"]["detail"]


def test_an_unwritable_backups_folder_stops_a_reload_before_it_changes_anything(
    cli: Cli, tmp_path: Path, llmpath_home: Path
):
    cli("done", "python")
    _block_backups_folder(llmpath_home)
    edited = tmp_path / "mini.yaml"
    edited.write_text(MINI_TEXT.replace("title: Math\n", "title: Mathematics\n"), encoding="utf-8")
    result = Cli(edited)("show", "math", "--json")
    assert result.exit_code == 1
    assert "cannot write a before-resync backup" in one_line(result.stderr)
    assert json.loads(cli("show", "math", "--json").stdout)["title"] == "Math", "not re-loaded"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_backups_folder_stops_an_import(cli: Cli, tmp_path: Path, llmpath_home: Path):
    cli("done", "python")
    export = tmp_path / "p.json"
    cli("export", "--format", "json", "-o", str(export))
    (llmpath_home / "backups").mkdir(exist_ok=True)
    (llmpath_home / "backups").chmod(0o500)
    try:
        result = cli("import", str(export))
    finally:
        (llmpath_home / "backups").chmod(0o700)
    assert result.exit_code == 1
    assert "Permission denied" in one_line(result.stderr)


# --- doctor: read-only ------------------------------------------------------------------------------------


def test_doctor_on_a_fresh_home_creates_nothing(llmpath_home: Path):
    """Problem 10: doctor created the data folder and the database before checking them."""
    result = Cli(MINI)("doctor")
    assert result.exit_code == 0, result.output
    assert "no database yet" in result.stdout
    assert not llmpath_home.exists()
    report = json.loads(Cli()("doctor", "--json").stdout)
    assert {c["check"]: c["ok"] for c in report} == {"database": True, "roadmap": True}
    assert not llmpath_home.exists()


def test_doctor_leaves_an_old_schema_to_the_next_command(llmpath_home: Path):
    """Problem 10: doctor migrated an old database before checking it."""
    from sqlalchemy import create_engine

    llmpath_home.mkdir(mode=0o700)
    engine = create_engine(f"sqlite:///{db_file(llmpath_home)}")
    with engine.begin() as conn:
        migrate(conn, 0, 1, learner="me")
        conn.exec_driver_sql("PRAGMA journal_mode = WAL")
    engine.dispose()
    before = digest(db_file(llmpath_home))
    files = sorted(p.name for p in llmpath_home.iterdir())

    report = {c["check"]: c for c in json.loads(Cli(MINI)("doctor", "--json").stdout)}
    assert report["schema"]["ok"]
    assert f"schema version 1 (this llmpath: {DATABASE_VERSION})" in report["schema"]["detail"]
    assert "next llmpath command backs it up, then upgrades it" in report["schema"]["detail"]
    assert digest(db_file(llmpath_home)) == before
    assert sorted(p.name for p in llmpath_home.iterdir()) == files, "not even a -wal or -shm file"
    assert Cli(MINI)("next").exit_code == 0  # what doctor said happens
    assert reasons(llmpath_home) == ["before-migration"]


def test_doctor_reads_a_database_in_use_without_leaving_files(cli: Cli, llmpath_home: Path):
    cli("done", "python")
    reader = sqlite3.connect(db_file(llmpath_home))  # another process has it open: -wal and -shm exist
    reader.execute("SELECT * FROM progress").fetchall()
    try:
        report = {c["check"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    finally:
        reader.close()
    assert report["integrity"]["ok"] and report["journal"]["detail"] == "journal mode wal"
    before = sorted(p.name for p in llmpath_home.iterdir())
    assert cli("doctor").exit_code == 0
    assert sorted(p.name for p in llmpath_home.iterdir()) == before == ["llmpath.db"]


# --- doctor: locked, full, read-only, damaged -------------------------------------------------------------


def test_doctor_says_locked_not_damaged(cli: Cli, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch):
    """Problem 10: a database locked by another process was reported as damaged, with advice to move it."""
    cli("done", "python")
    monkeypatch.setattr(doctor, "LOCK_WAIT_SECONDS", 0.1)
    holder = sqlite3.connect(db_file(llmpath_home), isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")  # readers are locked out too, as by some DB browsers
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE progress SET status = 'skipped'")
    try:
        result = cli("doctor")
        report = {c["check"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert "locked by another process" in result.stdout
    assert "damaged" not in result.stdout.replace("not damaged", "") and "restore" not in result.stdout
    assert report["database"]["problem"] == "locked"
    assert "integrity" not in report
    assert cli("doctor").exit_code == 0  # once the other process lets go


def test_doctor_says_damaged_and_only_then_suggests_restore(cli: Cli, llmpath_home: Path):
    cli("done", "python")
    cli("start", "math")  # a daily backup to restore
    db_file(llmpath_home).write_bytes(b"not a database at all, " * 200)
    result = cli("doctor")
    assert result.exit_code == 1
    assert "damaged" in result.stdout and "llmpath restore" in result.stdout
    report = {c["check"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    assert report["integrity"]["problem"] == "damaged"


@pytest.mark.parametrize(
    ("state", "problem", "words"),
    [((True, 10**9), "read-only", "read-only file system"), ((False, 4096), "disk-full", "is full")],
)
def test_doctor_says_read_only_or_full_not_damaged(
    cli: Cli, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch, state, problem, words
):
    cli("done", "python")
    monkeypatch.setattr(doctor, "storage_state", lambda folder: state)
    result = cli("doctor")
    assert result.exit_code == 1
    assert words in result.stdout and "llmpath restore" not in result.stdout
    report = {c["check"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    assert report["storage"]["problem"] == problem and report["integrity"]["ok"]


def test_doctor_checks_the_roadmap_the_commands_would_use_even_when_the_database_is_damaged(
    cli: Cli, tmp_path: Path, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch
):
    """Problem 10: doctor ignored LLMPATH_ROADMAP when the database was damaged."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINI_TEXT.replace("requires: [python, math]", "requires: [pyhton]"), encoding="utf-8")
    db_file(llmpath_home).write_bytes(b"garbage" * 1000)
    monkeypatch.setenv("LLMPATH_ROADMAP", str(broken))
    report = {c["check"]: c for c in json.loads(Cli()("doctor", "--json").stdout)}
    assert not report["roadmap"]["ok"] and str(broken) in report["roadmap"]["detail"]
    assert "pyhton" in report["roadmap"]["detail"]
    monkeypatch.delenv("LLMPATH_ROADMAP")
    report = {c["check"]: c for c in json.loads(Cli()("doctor", "--json").stdout)}
    assert "cannot be read" in report["roadmap"]["detail"]  # the `use` choice is in the damaged database


def test_doctor_checks_the_roadmap_chosen_with_use(cli: Cli, tmp_path: Path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(MINI_TEXT.replace("id: mini\n", "id: mine\n"), encoding="utf-8")
    assert Cli()("use", str(mine)).exit_code == 0
    report = {c["check"]: c for c in json.loads(Cli()("doctor", "--json").stdout)}
    assert report["roadmap"]["ok"] and str(mine) in report["roadmap"]["detail"]


def _real_error(setup: str, statement: str, **connect) -> sqlite3.Error:
    con = sqlite3.connect(":memory:", **connect)
    con.executescript(setup)
    try:
        con.execute(statement)
    except sqlite3.Error as exc:
        return exc
    finally:
        con.close()
    raise AssertionError("no error")


def test_classify_tells_operational_failures_apart(tmp_path: Path):
    full = _real_error(
        "CREATE TABLE t (x); PRAGMA max_page_count = 2;", "INSERT INTO t SELECT zeroblob(100000)"
    )
    assert str(full) == "database or disk is full"
    assert doctor.classify(full) == doctor.DISK_FULL
    assert doctor.classify(sqlite3.OperationalError("database or disk is full")) == doctor.DISK_FULL

    path = tmp_path / "x.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as read_only:
        ro.execute("INSERT INTO t VALUES (1)")
    ro.close()
    assert doctor.classify(read_only.value) == doctor.READ_ONLY
    readonly_text = sqlite3.OperationalError("attempt to write a readonly database")
    assert doctor.classify(readonly_text) == doctor.READ_ONLY

    assert doctor.classify(sqlite3.OperationalError("database is locked")) == doctor.LOCKED
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(sqlite3.DatabaseError) as damaged:
        sqlite3.connect(path).execute("SELECT * FROM t")
    assert doctor.classify(damaged.value) == doctor.DAMAGED
    assert doctor.classify(sqlite3.DatabaseError("database disk image is malformed")) == doctor.DAMAGED
    assert doctor.classify(sqlite3.OperationalError("no such column: x")) is None
    assert doctor.classify(ValueError("database is locked")) is None


@pytest.mark.parametrize(
    ("message", "expected", "unexpected"),
    [
        ("database or disk is full", "no space left", "restore"),
        ("attempt to write a readonly database", "read-only", "restore"),
        ("database is locked", "locked by another process", "restore"),
        ("file is not a database", "damaged", "no space"),
    ],
)
def test_commands_name_the_failure_the_same_way(message: str, expected: str, unexpected: str):
    error = db.user_error(sqlite3.OperationalError(message))
    assert error is not None and expected in str(error) and unexpected not in str(error)


# --- real read-only and full file systems (root with mount(8) only) --------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs: a real disk that can be filled and remounted read-only."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("needs root on Linux to mount a tmpfs")
    mount = tmp_path / "fs"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_real_read_only_file_system(small_tmpfs: Path, monkeypatch: pytest.MonkeyPatch):
    home = small_tmpfs / "home"
    monkeypatch.setenv("LLMPATH_HOME", str(home))
    assert Cli(MINI)("done", "python").exit_code == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    result = Cli(MINI)("doctor")
    assert result.exit_code == 1
    assert "read-only file system" in result.stdout and "llmpath restore" not in result.stdout
    assert "integrity check passed" in result.stdout, "a read-only disk is still read"
    done = Cli(MINI)("done", "math")
    assert done.exit_code == 1
    line = one_line(done.stderr)
    assert "read-only" in line and "damaged" not in line, line


def test_a_real_full_disk(small_tmpfs: Path, monkeypatch: pytest.MonkeyPatch):
    home = small_tmpfs / "home"
    monkeypatch.setenv("LLMPATH_HOME", str(home))
    assert Cli(MINI)("done", "python").exit_code == 0
    with (small_tmpfs / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass
    result = Cli(MINI)("note", "python", "x" * 60_000)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert ("no space left" in line or "cannot write" in line) and "damaged" not in line, line
    report = {c["check"]: c for c in json.loads(Cli(MINI)("doctor", "--json").stdout)}
    assert report["storage"]["problem"] == "disk-full"
    (small_tmpfs / "filler").unlink()
    assert statuses(home) == {"python": "done"}
