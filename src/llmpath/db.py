"""Opening the database safely: pragmas, transactions, schema version, backups, damage reports.

SQLite in the data folder is the default; with a PostgreSQL URL configured (`config.target`),
`open_database` hands over to `postgres.py` and nothing below about files applies. Both engines share
`reading`/`writing` (which name the learner on the session: `learner_of`) and the migrations.

- WAL journaling and a busy timeout let several `llmpath` processes read and write at once.
- Write transactions start with `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of one
  failing with "database is locked" when it upgrades a read lock.
- `synchronous=FULL`: a finished command's change survives a crash or power loss.
- The schema version lives in `PRAGMA user_version`; it is read once per process, and migrations run only
  when it is behind, after a backup.
- Backups are kept per reason (`KEPT`), plus one a day (`DAILY`) taken by the first write of the day. Each
  is written with SQLite's backup API into a `.partial` file that its writer holds an `flock` on, then
  renamed into place; `clean_leftovers` removes the `.partial` files nobody holds (left by a kill).
- `restore_backup` writes a backup into a sound database in place, under its write lock; a damaged one is
  kept aside and replaced by a rename.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from llmpath import config, doctor, paths, vocab
from llmpath.errors import DatabaseError, LlmpathError
from llmpath.files import fsync_folder
from llmpath.migrations import DATABASE_VERSION, migrate, read_version

try:  # POSIX: the writer of a `.partial` file holds an flock on it, so others can tell it is in use
    import fcntl
except ImportError:  # pragma: no cover - Windows: an open file cannot be removed there anyway
    fcntl = None  # type: ignore[assignment]  # the module is absent on Windows; every use checks for None

BUSY_TIMEOUT_MS = 30_000
_WRITE = "llmpath_write"
LEARNER = vocab.LEARNER_KEY  # the learner an engine's sessions act for (an option, then the session's `info`)

# Why a backup was taken, and how many of each are kept (newest first). Kept per reason, so that harmless
# roadmap re-loads never push out the backup taken before an import.
BEFORE_IMPORT = "before-import"
BEFORE_MIGRATION = "before-migration"
BEFORE_RESYNC = "before-resync"
BEFORE_RESTORE = "before-restore"
KEPT: dict[str, int] = {BEFORE_IMPORT: 5, BEFORE_MIGRATION: 5, BEFORE_RESYNC: 5, BEFORE_RESTORE: 5}
KEPT_OTHER = 5  # any other reason
# The daily backup: taken by the first write of a (local) day when there is progress; the first of each day
# is kept, for the newest DAILY_KEPT days.
DAILY = "daily"
DAILY_KEPT = 7

_STAMP = "%Y%m%d-%H%M%S-%f"
_NAME = re.compile(r"llmpath-(\d{8}-\d{6}-\d{6})-(.+)\.db")
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def open_database(path: Path | None = None, *, learner: str | None = None) -> Engine:
    """An engine on the database in use, migrated to this version: the PostgreSQL URL configured, else the
    SQLite file at `path` (default: the data directory's). `learner` overrides the configured one."""
    if path is None:
        target = config.target()
        learner = learner or target.learner
        if target.url:
            from llmpath import postgres

            return postgres.open_database(target.url, learner)
    learner = learner or config.target().learner
    path = path or paths.db_path()
    _create_private_file(path)
    clean_leftovers(path)
    # No pool: each session's connection closes when it ends, and the last one to close checkpoints the WAL,
    # so after every command llmpath.db alone holds everything (safe to copy or back up as a single file).
    # Reconnecting costs well under a millisecond per session.
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, execution_options={LEARNER: learner})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    try:
        with engine.connect() as conn:
            version = read_version(conn)
        if version != DATABASE_VERSION:
            _upgrade(engine, path, version, learner)
    except sa_exc.DBAPIError as exc:
        raise user_error(exc, path) or exc from None
    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def learner_of(session: Session) -> str:
    """The learner a session reads and writes for (set by `reading`/`writing`)."""
    return str(session.info[LEARNER])


@contextmanager
def reading(engine: Engine, *, learner: str | None = None) -> Iterator[Session]:
    """A read-only session: a consistent snapshot that never blocks writers (WAL on SQLite, REPEATABLE READ
    on PostgreSQL), for the engine's learner or `learner`."""
    if is_postgres(engine):
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine) as session:
        session.info[LEARNER] = learner or engine.get_execution_options()[LEARNER]
        yield session


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A write transaction for the engine's learner; commits on success.

    SQLite: the write lock from the first statement (`BEGIN IMMEDIATE`), and the first write of a day takes
    the day's backup first (when there is progress to lose). PostgreSQL: an advisory lock on the learner
    from the first statement, so one learner's writes from several clients queue (no lost update) while
    other learners' run at once; the same statement refuses, in one line, a write the role may not make
    (`postgres.begin_write`: a mentor, or a member acting as another learner).
    """
    learner = engine.get_execution_options()[LEARNER]
    postgres = is_postgres(engine)
    if not postgres:
        database = engine.url.database
        if database and database != ":memory:":
            _take_daily_backup(Path(database))
    with Session(engine.execution_options(**{_WRITE: True})) as session:
        session.info[LEARNER] = learner
        if postgres:
            from llmpath import postgres as pg

            pg.begin_write(session, learner)  # the learner's lock; a write RLS would refuse stops here
        yield session
        session.commit()


def lock(session: Session, name: str) -> None:
    """Hold a lock named `name` until the session's transaction ends. PostgreSQL: a transaction advisory
    lock (`roadmap:ID` lets one of twenty clients load a roadmap while the others wait, then find it
    loaded). SQLite: nothing to do, a writer already holds the whole database."""
    if is_postgres(session.get_bind()):  # type: ignore[arg-type]  # a Session bound to one engine
        from llmpath import postgres

        postgres.advisory_lock(session, name)


def backup_before(engine: Engine, reason: str) -> Path | None:
    """The backup taken before a risky change (`before-import`, `before-resync`): SQLite's file copy; on
    PostgreSQL none (the server's own tools and `llmpath export --format json` are its backups)."""
    if is_postgres(engine):
        return None
    return backup_database(Path(engine.url.database or paths.db_path()), reason)


def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself, so writers can ask for IMMEDIATE.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous = FULL")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _create_private_file(path: Path) -> None:
    try:
        paths.ensure_private_dir(path.parent)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
    except OSError as exc:
        where = exc.filename or path
        raise DatabaseError(
            f"cannot create {where}: {exc.strerror or exc}; set LLMPATH_HOME to a folder you can write"
        ) from None


def _upgrade(engine: Engine, path: Path, version: int, learner: str) -> None:
    if version > DATABASE_VERSION:
        raise DatabaseError(
            f"{path} was written by a newer llmpath (schema {version}; this one knows {DATABASE_VERSION}): "
            "upgrade llmpath (pip install -U llmpath)"
        )
    if version > 0:
        backup_database(path, BEFORE_MIGRATION)  # no backup, no migration: it raises
    with engine.execution_options(**{_WRITE: True}).begin() as conn:
        # Another process may have migrated while we waited for the write lock.
        current = read_version(conn)
        if current < DATABASE_VERSION:
            migrate(conn, current, learner=learner)


# --- backups ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    """One backup in the backups folder: why and when it was taken (local time, aware), its size."""

    path: Path
    reason: str
    taken_at: datetime
    size: int


def backup_database(path: Path, reason: str) -> Path | None:
    """Copy the database into the backups folder, then keep the newest few of each reason.

    None when there is nothing to back up (no database yet, or an empty file). A backup that cannot be
    written raises `DatabaseError` with one line: the caller must not go on without it. A daily backup
    is taken once a day: a second one the same day returns the first.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    if reason == DAILY:
        existing = _daily_of(datetime.now())
        if existing:
            return existing[0].path
    target = _write_backup(path, reason)
    _prune()
    return target


def backups() -> list[Backup]:
    """The backups, newest first."""
    folder = paths.backups_dir()
    if not folder.is_dir():
        return []
    found = []
    for file in folder.glob("llmpath-*.db"):
        match = _NAME.fullmatch(file.name)
        if not match:
            continue
        try:
            taken_at = datetime.strptime(match[1], _STAMP).astimezone()
            size = file.stat().st_size
        except (ValueError, OSError):  # not one of ours, or removed meanwhile
            continue
        found.append(Backup(file, match[2], taken_at, size))
    found.sort(key=lambda b: (b.taken_at, b.path.name), reverse=True)
    return found


def list_backups() -> list[Path]:
    """The backups' files, newest first."""
    return [b.path for b in backups()]


def _take_daily_backup(path: Path) -> Path | None:
    """The day's backup, taken before its first write when there is progress to lose. Best effort: a
    failure here never stops a command (`doctor` reports a backups folder it cannot write)."""
    try:
        if _daily_of(datetime.now()) or not path.is_file() or not _has_progress(path):
            return None
        return backup_database(path, DAILY)
    except (OSError, sqlite3.Error, LlmpathError):
        return None


def _daily_of(day: datetime) -> list[Backup]:
    folder = paths.backups_dir()
    if not folder.is_dir():
        return []
    stamp = day.strftime("%Y%m%d")
    return [b for b in backups() if b.reason == DAILY and b.path.name.startswith(f"llmpath-{stamp}-")]


def _has_progress(path: Path) -> bool:
    """Whether the database holds anything a learner made (progress or notes)."""
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        row = con.execute("SELECT EXISTS (SELECT 1 FROM progress) OR EXISTS (SELECT 1 FROM note)").fetchone()
        return bool(row[0])
    except sqlite3.OperationalError:  # no tables yet
        return False
    finally:
        con.close()


def _write_backup(source: Path, reason: str) -> Path:
    """A private, self-contained copy of `source` in the backups folder, named by the time and `reason`.

    Written into a `.partial` file (held with an flock while it is written), fsynced, renamed into place.
    Raises `DatabaseError` naming the reason and the folder when the copy cannot be written.
    """
    folder = paths.backups_dir()
    try:
        paths.ensure_private_dir(folder)
        target = _free_backup_name(folder, reason)
        with _partial(target.with_suffix(".partial")) as partial:
            _copy_database(source, partial)
            os.replace(partial, target)
        fsync_folder(folder)
    except OSError as exc:
        why = "it is not a folder" if folder.exists() and not folder.is_dir() else exc.strerror or str(exc)
        raise _unwritable(reason, folder, why) from None
    except sqlite3.Error as exc:
        if doctor.classify(exc) in (doctor.DAMAGED, doctor.LOCKED):
            raise user_error(exc, source) or exc from None  # the database itself, not the folder
        raise _unwritable(reason, folder, str(exc)) from None
    return target


def _unwritable(reason: str, folder: Path, why: str) -> DatabaseError:
    return DatabaseError(
        f"cannot write a {reason} backup in {folder}: {why}; nothing was changed (make it a folder you can "
        "write, with free space, then try again)"
    )


def _free_backup_name(folder: Path, reason: str) -> Path:
    """A backup name that is not taken: two backups in one microsecond (or one clock tick) get two names,
    one a microsecond later, so both are kept and sort in the order they were taken."""
    at = datetime.now()
    while True:
        target = folder / f"llmpath-{at.strftime(_STAMP)}-{reason}.db"
        if not target.exists() and not target.with_suffix(".partial").exists():
            return target
        at += timedelta(microseconds=1)


def _prune() -> None:
    """Keep the newest `KEPT[reason]` backups of each reason, and the first daily one of each of the
    newest `DAILY_KEPT` days."""
    by_reason: dict[str, list[Backup]] = {}
    for backup in backups():
        by_reason.setdefault(backup.reason, []).append(backup)
    doomed: list[Backup] = []
    for reason, group in by_reason.items():
        if reason == DAILY:
            first_of_day: dict[str, Backup] = {}
            for backup in reversed(group):  # oldest first: each day keeps its first
                day = backup.path.name.split("-")[1]
                if day in first_of_day:
                    doomed.append(backup)
                else:
                    first_of_day[day] = backup
            days = sorted(first_of_day, reverse=True)
            doomed += [first_of_day[day] for day in days[DAILY_KEPT:]]
        else:
            doomed += group[KEPT.get(reason, KEPT_OTHER) :]
    for backup in doomed:
        backup.path.unlink(missing_ok=True)


def _copy_database(source_file: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API: one file in rollback-journal mode, fsynced once."""
    source = sqlite3.connect(source_file, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        copy = sqlite3.connect(target)
        try:
            copy.execute("PRAGMA synchronous = OFF")  # one fsync below, once the copy is complete
            source.backup(copy)
            # The copied header says WAL (the source's mode): make the copy a single self-contained file.
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
    finally:
        source.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _partial(partial: Path) -> Iterator[Path]:
    """A private `.partial` file this process holds an flock on while it is written.

    An error removes it; a crash (or a kill) leaves it, unlocked, for `clean_leftovers` to remove.
    """
    while True:
        fd = os.open(partial, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            if not _try_lock(fd):
                raise DatabaseError(
                    f"{partial} is being written by another llmpath; try again when it is done"
                )
            if _same_file(fd, partial):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # a cleaner removed it between our open and our lock: make it again
    try:
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 0)
        try:
            yield partial
        except Exception:
            partial.unlink(missing_ok=True)
            raise
    finally:
        os.close(fd)


def clean_leftovers(db_file: Path) -> list[Path]:
    """Remove the `.partial` files nobody is writing (left by a killed backup or restore). Best effort."""
    removed = []
    for leftover in doctor.leftover_files(db_file):
        try:
            fd = os.open(leftover, os.O_RDONLY)
        except OSError:
            continue
        try:
            if _try_lock(fd) and _same_file(fd, leftover):
                leftover.unlink()
                removed.append(leftover)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _try_lock(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd` (not removed or replaced since it was opened)."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


# --- turning SQLite failures into messages ----------------------------------------------------------------


def user_error(exc: BaseException, path: Path | None = None) -> LlmpathError | None:
    """The one line for an operational database failure (locked, disk full, read-only, damaged, cannot
    open, I/O error), or None for anything else: a failure the user cannot act on is a bug."""
    orig = getattr(exc, "orig", exc)
    if type(orig).__module__.startswith("psycopg"):
        from llmpath import postgres

        return postgres.user_error(exc)
    kind = doctor.classify(exc)
    if kind is None:
        return None
    path = path or paths.db_path()
    detail = str(orig)
    if kind in (doctor.CANNOT_OPEN, doctor.IO_ERROR):
        read_only, free = doctor.storage_state(path.parent)
        if read_only:
            kind = doctor.READ_ONLY
        elif free is not None and free < doctor.MIN_FREE_BYTES:
            kind = doctor.DISK_FULL
    if kind == doctor.LOCKED:
        return DatabaseError(
            f"{path} stayed locked by another process (another llmpath, or a program that opened it) for "
            f"{BUSY_TIMEOUT_MS // 1000} s; try again once it is done"
        )
    if kind == doctor.DISK_FULL:
        return DatabaseError(
            f"no space left on the disk holding {path.parent} ({detail}); free some space, then try again"
        )
    if kind == doctor.READ_ONLY:
        return DatabaseError(
            f"{path} cannot be written: it is read-only, on a read-only file system or in a folder you "
            f"cannot write ({detail}); remount it read-write, give yourself write permission, or set "
            "LLMPATH_HOME to a writable folder"
        )
    if kind == doctor.DAMAGED:
        return DatabaseError(f"{path} is damaged ({detail}); {recovery_hint(path)}")
    if kind == doctor.CANNOT_OPEN:
        return DatabaseError(
            f"cannot open {path} ({detail}); check that it and its folder exist and that you can write them, "
            "or set LLMPATH_HOME to a folder you can write"
        )
    return DatabaseError(
        f"cannot read or write {path} ({detail}): the disk or file system reported an error; check the disk, "
        "then run `llmpath doctor`"
    )


def recovery_hint(path: Path) -> str:
    newest = list_backups()
    if newest:
        return f"to recover, run `llmpath restore` (puts back the newest backup, {newest[0].name})"
    return (
        f"to recover, move {path.name} away (with its -wal and -shm files) and restore progress from an "
        "export with `llmpath import FILE`"
    )


# --- restore ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    """What `restore_backup` did: the backup put back, and where the previous database is (a
    `before-restore` backup, or the damaged file kept aside; None if there was none)."""

    backup: Path
    previous: Path | None
    damaged: bool


def restore_backup(path: Path, backup: Path | None = None) -> Restored:
    """Put a backup (default: the newest) in place of the database; the current one is never deleted.

    A sound database is written over in place with SQLite's backup API, one page per step: the first step
    takes the write lock, held until the restore commits, and only then is the current database copied to
    a `before-restore` backup (the last state anyone wrote). Other writers wait, then write into the restored
    database; a crash leaves the old one (the transaction rolls back). A damaged database, which SQLite
    cannot lock, is copied aside as `llmpath.db.damaged-…` (with its -wal and -shm) and replaced by a rename.
    """
    clean_leftovers(path)
    newest = list_backups()
    chosen = backup or (newest[0] if newest else None)
    if chosen is None:
        raise DatabaseError(
            f"no backups in {paths.backups_dir()}; restore from an export with `llmpath import`"
        )
    if not chosen.is_file():
        raise DatabaseError(f"{chosen}: no such backup")
    if not _backup_is_sound(chosen):
        raise DatabaseError(f"{chosen} is not a usable backup; try an older one (llmpath backups)")
    if path.exists() and _is_sound(path):
        return Restored(chosen, _restore_in_place(path, chosen), damaged=False)
    return _restore_by_rename(path, chosen)


def _backup_is_sound(database: Path) -> bool:
    try:
        check = sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True)
        try:
            return check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            check.close()
    except sqlite3.Error:
        return False


def _is_sound(database: Path) -> bool:
    """Whether the current database passes a quick check; locked, full, read-only… raise (not damaged)."""
    try:
        check = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            return check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            check.close()
    except sqlite3.Error as exc:
        if doctor.classify(exc) == doctor.DAMAGED:
            return False
        explained = user_error(exc, database)
        if explained is None:
            raise
        raise DatabaseError(f"{explained}; nothing was restored") from None


def _restore_in_place(path: Path, chosen: Path) -> Path:
    """Write `chosen` into the database under its write lock; returns the `before-restore` backup."""
    taken: list[Path] = []

    def step(status: int, remaining: int, total: int) -> None:
        if status in (_SQLITE_BUSY, _SQLITE_LOCKED):
            raise DatabaseError(
                f"{path} stayed locked by another process for {BUSY_TIMEOUT_MS // 1000} s; nothing was "
                "restored (try again once it is done)"
            )
        if not taken:  # the first page is written: this connection holds the write lock
            taken.append(_write_backup(path, BEFORE_RESTORE))

    source = sqlite3.connect(f"file:{quote(str(chosen))}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            target.execute("PRAGMA synchronous = FULL")
            source.backup(target, pages=1, progress=step)
        finally:
            target.close()
    finally:
        source.close()
    _prune()
    return taken[0]


def _restore_by_rename(path: Path, chosen: Path) -> Restored:
    """A damaged (or missing) database: keep it aside byte for byte, then rename a copy of `chosen` in."""
    kept: Path | None = None
    with _partial(path.with_name(path.name + ".partial")) as partial:
        _copy_database(chosen, partial)
        if path.exists():
            kept = _free_name(path.with_name(f"{path.name}.damaged-{datetime.now():%Y%m%d-%H%M%S}"))
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{path}{suffix}").exists():
                    shutil.copy2(f"{path}{suffix}", f"{kept}{suffix}")
        # The -wal and -shm files belong to the database being replaced: left in place, SQLite would replay
        # them onto the restored copy. They are kept aside above; remove them before the switch.
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(partial, path)
    fsync_folder(path.parent)
    return Restored(chosen, kept, damaged=kept is not None)


def _free_name(candidate: Path) -> Path:
    """`candidate`, or `candidate-2`, `-3`… if taken: a kept database is never overwritten."""
    name, number = candidate, 1
    while name.exists():
        number += 1
        name = candidate.with_name(f"{candidate.name}-{number}")
    return name
