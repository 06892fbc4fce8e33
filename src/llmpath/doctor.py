"""`llmpath doctor`: check the database and the roadmap, and say what was found. Strictly read-only.

It uses the standard library's `sqlite3` alone, so it works on a database the ORM cannot open, and it never
creates, migrates or writes anything: on a fresh home it creates no folder, on an old schema it says that the
next command will migrate it. When no other process has the database open (no `-wal`, `-shm` or `-journal`
file), it is read as an immutable file, so not even SQLite's side files appear; if the file changed during the
check, the check is repeated as an ordinary read-only connection.

`classify` tells the operational failures of SQLite apart (locked, disk full, read-only, damaged);
`db.user_error` uses it too, so a command and `doctor` name a failure the same way.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from llmpath import paths, queries, vocab
from llmpath.migrations import DATABASE_VERSION

# What kind of failure an SQLite error is; only DAMAGED calls for `llmpath restore`.
LOCKED = "locked"
DISK_FULL = "disk-full"
READ_ONLY = "read-only"
DAMAGED = "damaged"
CANNOT_OPEN = "cannot-open"
IO_ERROR = "io-error"

LOCK_WAIT_SECONDS = 5.0  # how long doctor waits for a database another process has locked
MIN_FREE_BYTES = 1024 * 1024  # below this, SQLite cannot finish a transaction: the disk counts as full
SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    warning: bool = False  # worth knowing, not a failure
    problem: str | None = None  # LOCKED, DISK_FULL, READ_ONLY, DAMAGED…: what kind of failure it is


def classify(exc: BaseException) -> str | None:
    """The kind of an SQLite failure (LOCKED, DISK_FULL, READ_ONLY, DAMAGED, CANNOT_OPEN, IO_ERROR), or None.

    Decided by SQLite's error name where the error carries one, else by its message (an error built by hand,
    or one SQLAlchemy wraps, carries only the message).
    """
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.Error):
        return None
    name = getattr(orig, "sqlite_errorname", None) or ""
    text = str(orig).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "is locked" in text:
        return LOCKED
    if name == "SQLITE_FULL" or "disk is full" in text:
        return DISK_FULL
    if name.startswith("SQLITE_READONLY") or "readonly database" in text or "read-only" in text:
        return READ_ONLY
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or any(
        word in text for word in ("not a database", "malformed", "corrupt")
    ):
        return DAMAGED
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return CANNOT_OPEN
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return IO_ERROR
    return None


def run_checks(db_file: Path, roadmap_override: str | None = None) -> list[Finding]:
    """Read-only checks, each independent: one failing does not hide the others.

    The roadmap checked is the one the other commands would use (`--roadmap`, LLMPATH_ROADMAP, the one chosen
    with `llmpath use`, the shipped one), read from the database when it can be read.
    """
    findings: list[Finding] = []
    settings: dict[str, str] | None = {}
    if not db_file.exists():
        findings.append(
            Finding("database", True, f"no database yet at {db_file} (the first llmpath command creates it)")
        )
    else:
        found, settings = _database_checks(db_file)
        findings += found
    findings += _leftover_checks(db_file)
    findings.append(roadmap_check(settings, roadmap_override))
    folder = paths.data_dir()
    if folder.is_dir():
        mode = stat.S_IMODE(folder.stat().st_mode)
        findings.append(
            Finding(
                "privacy",
                mode & 0o077 == 0,
                f"{folder} is mode {mode:03o}" + ("" if mode & 0o077 == 0 else " (others can read it)"),
                warning=True,
            )
        )
    backups = paths.backups_dir()
    if backups.exists() and not (backups.is_dir() and os.access(backups, os.W_OK | os.X_OK)):
        findings.append(
            Finding(
                "backups",
                False,
                f"{backups} is not a folder llmpath can write: imports and roadmap re-loads stop until it "
                "is, and daily backups are skipped",
                warning=True,
            )
        )
    return findings


def leftover_files(db_file: Path) -> list[Path]:
    """`.partial` files: what a restore or a backup that was killed leaves behind."""
    found = [db_file.with_name(db_file.name + ".partial")]
    backups = paths.backups_dir()
    if backups.is_dir():
        found += sorted(backups.glob("*.partial"))
    return [p for p in found if p.is_file()]


def _leftover_checks(db_file: Path) -> list[Finding]:
    leftovers = leftover_files(db_file)
    if not leftovers:
        return []
    listed = ", ".join(f"{p} ({_size(p)})" for p in leftovers)
    return [
        Finding(
            "leftovers",
            False,
            f"left by an interrupted restore or backup: {listed}; the next llmpath command removes "
            + ("it" if len(leftovers) == 1 else "them"),
            warning=True,
        )
    ]


def _database_checks(db_file: Path) -> tuple[list[Finding], dict[str, str] | None]:
    """Findings on the database file, and its settings (None when they cannot be read)."""
    storage = _storage_finding(db_file)
    findings = [storage] if storage else []
    quiet = not any(Path(f"{db_file}{suffix}").exists() for suffix in SIDE_FILES)
    read_only_fs = storage is not None and storage.problem == READ_ONLY
    before = _stamp(db_file)
    try:
        checked, settings = _inspect(db_file, immutable=quiet or read_only_fs)
        if quiet and not read_only_fs and (_stamp(db_file) != before or not _quiet(db_file)):
            # Another process wrote while the file was read as immutable: read it again, the ordinary way.
            checked, settings = _inspect(db_file, immutable=False)
    except sqlite3.Error as exc:
        return [*findings, _failure(db_file, exc, storage)], None
    return findings + checked, settings


def _inspect(db_file: Path, *, immutable: bool) -> tuple[list[Finding], dict[str, str] | None]:
    findings = []
    with _connect_read_only(db_file, immutable=immutable) as conn:
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.Error as exc:
            if classify(exc) != DAMAGED:
                raise
            return [Finding("integrity", False, f"{db_file} is damaged: {exc}", problem=DAMAGED)], None
        ok = result == [("ok",)]
        detail = "integrity check passed" if ok else "; ".join(r[0] for r in result[:3])
        findings.append(Finding("integrity", ok, f"{db_file}: {detail}", problem=None if ok else DAMAGED))
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        findings.append(_schema_finding(version))
        journal = _journal_mode(db_file)
        findings.append(Finding("journal", journal == "wal", f"journal mode {journal}", warning=True))
        settings: dict[str, str] = {}
        if version >= 1:
            orphans = conn.execute(queries.ORPHANED_PROGRESS_ANYONE, {"roadmap_id": None}).fetchall()
            findings.append(orphans_finding(orphans))
            from llmpath import config

            settings = queries.learner_settings(conn, version, config.target().learner)
        if version >= 2:  # history and notes arrived with schema 2
            findings.append(_dates_finding(conn))
    return findings, settings


def _dates_finding(conn: sqlite3.Connection) -> Finding:
    """Stored times outside the years llmpath accepts: every command still shows them, but they are wrong."""
    years = {"first": f"{vocab.FIRST_YEAR:04d}", "last": f"{vocab.LAST_YEAR:04d}"}
    odd = conn.execute(queries.OUT_OF_RANGE_DATES, years).fetchall()
    if not odd:
        return Finding("dates", True, f"every stored time is within {vocab.FIRST_YEAR}-{vocab.LAST_YEAR}")
    listed = ", ".join(f"{roadmap}/{topic} ({where})" for where, roadmap, topic in odd[:5])
    return Finding(
        "dates",
        False,
        f"{len(odd)} stored time(s) outside {vocab.FIRST_YEAR}-{vocab.LAST_YEAR}: {listed}; "
        "`llmpath reset TOPIC` then `done` again gives a topic today's date",
        warning=True,
    )


def _schema_finding(version: int) -> Finding:
    if version > DATABASE_VERSION:
        return Finding(
            "schema",
            False,
            f"schema version {version} (this llmpath: {DATABASE_VERSION}) — written by a newer llmpath: "
            "upgrade llmpath (pip install -U llmpath)",
        )
    if version < DATABASE_VERSION:
        return Finding(
            "schema",
            True,
            f"schema version {version} (this llmpath: {DATABASE_VERSION}): the next llmpath command backs "
            f"it up, then upgrades it to version {DATABASE_VERSION}",
        )
    return Finding("schema", True, f"schema version {version} (this llmpath: {DATABASE_VERSION})")


@contextmanager
def _connect_read_only(db_file: Path, *, immutable: bool) -> Iterator[sqlite3.Connection]:
    uri = f"file:{quote(str(db_file))}?mode=ro" + ("&immutable=1" if immutable else "")
    conn = sqlite3.connect(uri, uri=True, timeout=LOCK_WAIT_SECONDS)
    try:
        yield conn
    finally:
        conn.close()


def _failure(db_file: Path, exc: sqlite3.Error, storage: Finding | None) -> Finding:
    """The finding for a database that could not be read, with the advice that fits its kind of failure."""
    kind = classify(exc)
    if kind in (CANNOT_OPEN, IO_ERROR, None) and storage is not None:
        kind = storage.problem  # "unable to open" on a full or read-only disk: say which
    folder = db_file.parent
    if kind == LOCKED:
        return Finding(
            "database",
            False,
            f"{db_file} is locked by another process (another llmpath, or a program that opened it): let it "
            "finish or close that program, then try again; the database is not damaged",
            problem=LOCKED,
        )
    if kind == DISK_FULL:
        return Finding(
            "database",
            False,
            f"the disk holding {folder} is full ({exc}): free some space, then try again; the database is "
            "not damaged",
            problem=DISK_FULL,
        )
    if kind == READ_ONLY:
        return Finding(
            "database",
            False,
            f"{db_file} is on a read-only file system or in a folder you cannot write ({exc}): remount it "
            "read-write or set LLMPATH_HOME to a writable folder; the database is not damaged",
            problem=READ_ONLY,
        )
    if kind == DAMAGED:
        return Finding("integrity", False, f"{db_file} is damaged: {exc}", problem=DAMAGED)
    return Finding("database", False, f"cannot read {db_file}: {exc}", problem=kind)


def _storage_finding(db_file: Path) -> Finding | None:
    """A read-only file system, a full disk or a folder you cannot write, before SQLite trips over it."""
    folder = db_file.parent
    read_only, free = storage_state(folder)
    if read_only:
        return Finding(
            "storage",
            False,
            f"{folder} is on a read-only file system: llmpath cannot use its database there; remount it "
            "read-write or set LLMPATH_HOME to a writable folder (the database is not damaged)",
            problem=READ_ONLY,
        )
    if free is not None and free < MIN_FREE_BYTES:
        return Finding(
            "storage",
            False,
            f"the disk holding {folder} is full ({free} bytes free): free some space, then try again (the "
            "database is not damaged)",
            problem=DISK_FULL,
        )
    if not (os.access(folder, os.W_OK | os.X_OK) and os.access(db_file, os.R_OK | os.W_OK)):
        return Finding(
            "storage",
            False,
            f"{db_file} or its folder is read-only for you: llmpath cannot record progress; give yourself "
            "write permission (chmod u+w) or set LLMPATH_HOME to a writable folder",
            problem=READ_ONLY,
        )
    return None


def storage_state(folder: Path) -> tuple[bool, int | None]:
    """(the file system is mounted read-only, bytes free to you or None if unknown)."""
    statvfs = getattr(os, "statvfs", None)  # not on Windows
    if statvfs is None:
        return False, None
    try:
        info = statvfs(folder)
    except OSError:
        return False, None
    return bool(info.f_flag & getattr(os, "ST_RDONLY", 1)), info.f_bavail * info.f_frsize


def _journal_mode(db_file: Path) -> str:
    """From the file header (bytes 18-19 are 2 in WAL mode): an immutable connection always says "delete"."""
    with db_file.open("rb") as handle:
        header = handle.read(20)
    return "wal" if header[18:20] == b"\x02\x02" else "delete"


def _stamp(db_file: Path) -> tuple[int, int, int]:
    info = db_file.stat()
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _quiet(db_file: Path) -> bool:
    return not any(Path(f"{db_file}{suffix}").exists() for suffix in SIDE_FILES)


def _size(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "gone"
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size} bytes"


def orphans_finding(orphans: Sequence[Sequence[str]]) -> Finding:
    """Progress kept on topics their roadmap no longer has: `(roadmap id, topic id, status)` rows."""
    listed = ", ".join(f"{r}/{t} ({s})" for r, t, s in orphans[:5])
    detail = f"progress kept on {len(orphans)} topic(s) no longer in their roadmap: {listed}"
    return Finding("orphans", not orphans, detail if orphans else "no orphaned progress", warning=True)


def roadmap_check(settings: dict[str, str] | None, override: str | None) -> Finding:
    from llmpath.errors import RoadmapError
    from llmpath.roadmap import load_roadmap

    roadmap_file = paths.roadmap_path_in_use(settings or {}, override)
    unknown_choice = settings is None and not (override or os.environ.get(paths.ROADMAP_ENV))
    note = (
        " (the roadmap chosen with `llmpath use` is stored in the database, which cannot be read: "
        "this is the default)"
        if unknown_choice
        else ""
    )
    try:
        roadmap = load_roadmap(roadmap_file)
    except RoadmapError as exc:
        first = exc.problems[0].format(str(roadmap_file))
        more = f" (+{len(exc.problems) - 1} more; see `llmpath validate`)" if len(exc.problems) > 1 else ""
        return Finding("roadmap", False, first + more + note)
    return Finding(
        "roadmap",
        True,
        f"{roadmap_file}: '{roadmap.id}' is valid "
        f"({len(roadmap.topics())} topics, {len(roadmap.phases)} phases)" + note,
    )
