"""Opening the SQLite database safely: pragmas, transactions, schema version, backups, damage reports.

- WAL journaling and a busy timeout let several `llmpath` processes read and write at once.
- Write transactions start with `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of one
  failing with "database is locked" when it upgrades a read lock.
- `synchronous=FULL`: a finished command's change survives a crash or power loss.
- The schema version lives in `PRAGMA user_version`; it is read once per process, and migrations run only
  when it is behind.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from llmpath import paths
from llmpath.errors import DatabaseError, LlmpathError
from llmpath.migrations import DATABASE_VERSION, migrate

BUSY_TIMEOUT_MS = 30_000
KEEP_BACKUPS = 5
_WRITE = "llmpath_write"


def open_database(path: Path | None = None) -> Engine:
    """An engine on the database at `path` (default: the data directory's), migrated to this version."""
    path = path or paths.db_path()
    _create_private_file(path)
    # No pool: each session's connection closes when it ends, and the last one to close checkpoints the WAL,
    # so after every command llmpath.db alone holds everything (safe to copy or back up as a single file).
    # Reconnecting costs well under a millisecond per session.
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    try:
        with engine.connect() as conn:
            version: int = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        if version != DATABASE_VERSION:
            _upgrade(engine, path, version)
    except sa_exc.DBAPIError as exc:
        raise user_error(exc, path) or exc from None
    return engine


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read-only session: a consistent snapshot that never blocks writers (WAL)."""
    with Session(engine) as session:
        yield session


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A write transaction that holds the write lock from its first statement; commits on success."""
    with Session(engine.execution_options(**{_WRITE: True})) as session:
        yield session
        session.commit()


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


def _upgrade(engine: Engine, path: Path, version: int) -> None:
    if version > DATABASE_VERSION:
        raise DatabaseError(
            f"{path} was written by a newer llmpath (schema {version}; this one knows {DATABASE_VERSION}): "
            "upgrade llmpath (pip install -U llmpath)"
        )
    if version > 0:
        backup_database(path, f"schema-v{version}")
    with engine.execution_options(**{_WRITE: True}).begin() as conn:
        # Another process may have migrated while we waited for the write lock.
        current: int = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        if current < DATABASE_VERSION:
            migrate(conn, current)


# --- backups ----------------------------------------------------------------------------------------------


def backup_database(path: Path, reason: str) -> Path | None:
    """Copy the database with SQLite's online backup API, keeping the newest few copies."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    folder = paths.ensure_private_dir(paths.backups_dir())
    for leftover in folder.glob("*.partial"):  # from a backup a crash interrupted
        leftover.unlink(missing_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"llmpath-{stamp}-{reason}.db"
    partial = target.with_suffix(".partial")
    _copy_database(path, partial)
    os.replace(partial, target)
    for old in list_backups()[KEEP_BACKUPS:]:
        old.unlink(missing_ok=True)
    return target


def list_backups() -> list[Path]:
    """Backups, newest first."""
    folder = paths.backups_dir()
    if not folder.is_dir():
        return []
    return sorted(folder.glob("llmpath-*.db"), reverse=True)


# --- turning SQLite failures into messages ----------------------------------------------------------------


def user_error(exc: BaseException, path: Path | None = None) -> LlmpathError | None:
    """The user-facing error for a database failure, or None if it is not one we can explain."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.Error):
        return None
    path = path or paths.db_path()
    detail = str(orig)
    if isinstance(orig, sqlite3.OperationalError) and "locked" in detail:
        return DatabaseError(
            f"{path} stayed locked by another llmpath for {BUSY_TIMEOUT_MS // 1000} s; try again"
        )
    if isinstance(orig, sqlite3.DatabaseError) and (
        "not a database" in detail or "malformed" in detail or "corrupt" in detail
    ):
        return DatabaseError(f"{path} is damaged ({detail}); {recovery_hint(path)}")
    if isinstance(orig, sqlite3.OperationalError) and "unable to open" in detail:
        return DatabaseError(f"cannot open {path} ({detail}); check that its folder is writable")
    return DatabaseError(f"{path}: {detail}")


def recovery_hint(path: Path) -> str:
    backups = list_backups()
    if backups:
        return f"to recover, run `llmpath restore` (puts back the newest backup, {backups[0].name})"
    return (
        f"to recover, move {path.name} away (with its -wal and -shm files) and restore progress from an "
        "export with `llmpath import FILE`"
    )


def restore_backup(path: Path, backup: Path | None = None) -> tuple[Path, Path | None]:
    """Put a backup in place of the database; the current files are kept aside, never deleted.

    Returns the backup used and where the previous database was kept (None if there was none). Crash-safe
    at every step: the restored copy is complete before it atomically replaces the database file.
    """
    backups = list_backups()
    chosen = backup or (backups[0] if backups else None)
    if chosen is None:
        raise DatabaseError(
            f"no backups in {paths.backups_dir()}; restore from an export with `llmpath import`"
        )
    if not chosen.is_file():
        raise DatabaseError(f"{chosen}: no such backup")
    if not _is_sound(chosen):
        raise DatabaseError(f"{chosen} is not a usable backup; try an older one (ls {paths.backups_dir()})")
    partial = path.with_name(path.name + ".partial")
    _copy_database(chosen, partial)
    kept: Path | None = None
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
    return chosen, kept


def _is_sound(database: Path) -> bool:
    try:
        check = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            return check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            check.close()
    except sqlite3.DatabaseError:
        return False


def _copy_database(source_file: Path, target: Path) -> None:
    """A private, consistent copy through SQLite's backup API."""
    fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    source = sqlite3.connect(source_file)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()


def _free_name(candidate: Path) -> Path:
    """`candidate`, or `candidate-2`, `-3`… if taken: a kept database is never overwritten."""
    name, number = candidate, 1
    while name.exists():
        number += 1
        name = candidate.with_name(f"{candidate.name}-{number}")
    return name
