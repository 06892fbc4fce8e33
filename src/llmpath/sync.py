"""Keeping the database in step with a roadmap file, and the workspace every data command starts from.

`open_workspace` opens the database, reads the settings and syncs the roadmap in use. `ensure_synced` is
cheap when nothing changed (a stat, then a hash) and parses only a changed file; an invalid file raises
before anything is written, and a changed roadmap with progress is backed up before it is re-loaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Engine, delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from llmpath import db, paths, store
from llmpath.errors import LlmpathError
from llmpath.models import (
    Event,
    Goal,
    Note,
    PhaseRow,
    Prerequisite,
    Progress,
    RoadmapRecord,
    TopicAlias,
    TopicRow,
)

if TYPE_CHECKING:
    from os import stat_result

    from llmpath.roadmap import Roadmap


@dataclass
class SyncReport:
    loaded: bool = False  # the file was parsed and written to the database this time
    first_load: bool = False
    topics: int = 0
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id) whose progress moved
    backup: Path | None = None
    # The file is missing or invalid, so the copy loaded before is in use: the one line that says so.
    warning: str | None = None


@dataclass
class Workspace:
    """An open database and the roadmap in use: what every data command starts from."""

    engine: Engine
    roadmap_id: str
    title: str
    source_path: Path
    sync: SyncReport
    settings: dict[str, str]  # read once per command: the hot path then needs no more queries for them


def roadmap_file_in_use(override: str | None = None) -> Path:
    """The roadmap file a command would use, without loading it (for `paths`)."""
    with db.reading(db.open_database()) as session:
        return paths.roadmap_path_in_use(store.load_settings(session), override)


def open_workspace(roadmap: str | None = None, *, force_sync: bool = False) -> Workspace:
    """The database and the roadmap in use. A roadmap file that moved or broke since it was last loaded
    does not stop a command: the copy in the database is used, with a warning (`report.warning`);
    `force_sync` (`llmpath sync`) is about the file itself, so there its problems are errors."""
    import os

    engine = db.open_database()
    with db.reading(engine) as session:
        settings = store.load_settings(session)
    path = paths.roadmap_path_in_use(settings, roadmap)
    one_off = bool(roadmap or os.environ.get(paths.ROADMAP_ENV))
    loaded, report = ensure_synced(engine, path, force=force_sync, keep_last=not force_sync, one_off=one_off)
    return Workspace(engine, loaded.id, loaded.title, path, report, settings)


class LoadedRoadmap(NamedTuple):
    id: str
    title: str


def ensure_synced(
    engine: Engine, path: Path, *, force: bool = False, keep_last: bool = False, one_off: bool = False
) -> tuple[LoadedRoadmap, SyncReport]:
    """Load the roadmap file into the database if it changed since the last load (or if `force`).

    The check is cheap first: size and times against the stored ones, then the content hash; only a
    changed file is parsed. An invalid file raises before anything is written.

    With `keep_last`, a file that is missing or invalid but was loaded from this path before is no error:
    the copy in the database is used, and `report.warning` says so, how to fix it and how to point
    llmpath elsewhere (`one_off`: the file came from --roadmap or LLMPATH_ROADMAP, not `llmpath use`).
    A file never loaded before has no copy to fall back on and still raises.
    """
    if not str(path).isascii():
        try:  # the path is stored as text: a name with bytes that are not UTF-8 cannot be
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            raise LlmpathError(f"{path}: the file's name is not UTF-8 text; rename the file") from None
    try:
        stat: stat_result | None = path.stat()
    except OSError:
        stat = None
    with db.reading(engine) as session:
        record = (
            session.connection()
            .execute(
                # SQLAlchemy's own select: SQLModel's is typed for at most four columns.
                sa_select(
                    col(RoadmapRecord.id),
                    col(RoadmapRecord.title),
                    col(RoadmapRecord.content_hash),
                    col(RoadmapRecord.file_size),
                    col(RoadmapRecord.file_mtime_ns),
                    col(RoadmapRecord.file_ctime_ns),
                )
                .where(col(RoadmapRecord.source_path) == str(path))
                .order_by(col(RoadmapRecord.loaded_at).desc())
            )
            .first()
        )
    if stat is None:
        if keep_last and record is not None:
            return _last_copy(engine, record.id, record.title, path, None, one_off)
        hint = f" (if it moved: {_point_elsewhere(one_off)})" if record is not None else ""
        raise LlmpathError(f"{path}: roadmap file not found{hint}")
    if (
        record is not None
        and not force
        and (record.file_size, record.file_mtime_ns, record.file_ctime_ns)
        == (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    ):
        return LoadedRoadmap(record.id, record.title), SyncReport()

    try:
        data = _read_small_file(path, stat.st_size)
    except LlmpathError as problem:
        if keep_last and record is not None:
            return _last_copy(engine, record.id, record.title, path, problem, one_off)
        raise
    content_hash = hashlib.sha256(data).hexdigest()
    shared = db.is_postgres(engine)
    if shared and not force and (record is None or record.content_hash == content_hash):
        # One database, several computers: each has the file at its own path with its own times, and the
        # stored path and times are whichever computer loaded it last. The same bytes are the same roadmap:
        # nothing to load and nothing to write (so a read-only mentor's commands write nothing either).
        with db.reading(engine) as session:
            same = (
                session.connection()
                .execute(
                    sa_select(col(RoadmapRecord.id), col(RoadmapRecord.title)).where(
                        col(RoadmapRecord.content_hash) == content_hash
                    )
                )
                .first()
            )
        if same is not None:
            return LoadedRoadmap(same.id, same.title), SyncReport()
    if record is not None and not force and record.content_hash == content_hash:
        with db.writing(engine) as session:
            session.exec(
                update(RoadmapRecord)
                .where(col(RoadmapRecord.id) == record.id)
                .values(
                    file_size=stat.st_size, file_mtime_ns=stat.st_mtime_ns, file_ctime_ns=stat.st_ctime_ns
                )
            )
        return LoadedRoadmap(record.id, record.title), SyncReport()

    from llmpath.roadmap import parse_roadmap
    from llmpath.roadmap_yaml import gc_paused

    try:
        roadmap = parse_roadmap(data, str(path))
    except LlmpathError as problem:
        if keep_last and record is not None:
            return _last_copy(engine, record.id, record.title, path, problem, one_off)
        raise
    with db.reading(engine) as session:
        connection = session.connection()
        previous_hash = connection.execute(
            select(RoadmapRecord.content_hash).where(RoadmapRecord.id == roadmap.id)
        ).scalar()
        has_progress = (
            previous_hash is not None
            and connection.execute(
                select(func.count()).select_from(Progress).where(col(Progress.roadmap_id) == roadmap.id)
            ).scalar_one()
        )
    report = SyncReport(loaded=True, first_load=previous_hash is None, topics=len(roadmap.topics()))
    if previous_hash is not None and previous_hash != content_hash and has_progress:
        report.backup = db.backup_before(engine, "before-resync")
    with db.writing(engine) as session, gc_paused():
        # PostgreSQL: one of many clients starting at once loads the roadmap; the others wait here, then
        # find the same content loaded (SQLite: the writer already holds the whole database).
        db.lock(session, f"roadmap:{roadmap.id}")
        loaded_meanwhile = (
            session.connection()
            .execute(
                sa_select(col(RoadmapRecord.content_hash), col(RoadmapRecord.source_path)).where(
                    col(RoadmapRecord.id) == roadmap.id
                )
            )
            .first()
        )
        # Whatever this client saw before the lock: if these bytes are what is loaded now (from this path,
        # or on a shared database from any), another client loaded them meanwhile and nothing is left to do.
        if (
            not force
            and loaded_meanwhile is not None
            and loaded_meanwhile[0] == content_hash
            and (shared or loaded_meanwhile[1] == str(path))
        ):
            return LoadedRoadmap(roadmap.id, roadmap.title), SyncReport()
        _write_roadmap(session, roadmap, path, content_hash, stat, report)
    return LoadedRoadmap(roadmap.id, roadmap.title), report


def _last_copy(
    engine: Engine, roadmap_id: str, title: str, path: Path, problem: LlmpathError | None, one_off: bool
) -> tuple[LoadedRoadmap, SyncReport]:
    """The roadmap as last loaded from `path`, with the one warning line that says why and what to do:
    `problem` is what is wrong with the file, None when it is missing."""
    from llmpath.vocab import local_time

    with db.reading(engine) as session:
        loaded_at = (
            session.connection()
            .execute(sa_select(col(RoadmapRecord.loaded_at)).where(col(RoadmapRecord.id) == roadmap_id))
            .scalar_one()
        )
    copy = f"the copy of '{title}' loaded {local_time(loaded_at).date().isoformat()}"
    if problem is None:
        warning = (
            f"warning: roadmap file {path} is missing; using {copy}. If it moved: {_point_elsewhere(one_off)}"
        )
    else:
        count = getattr(problem, "total", 1)
        first = next(iter(str(problem).splitlines()), "")
        what = "an error" if count == 1 else f"{count:,} errors, the first"
        back = "" if one_off else ", or `llmpath use default`"
        warning = (
            f"warning: roadmap file {path} has {what} ({first}); using {copy} until it is fixed "
            f"(`llmpath validate {path}`){back}"
        )
    return LoadedRoadmap(roadmap_id, title), SyncReport(warning=warning)


def _point_elsewhere(one_off: bool) -> str:
    """How to point llmpath at a roadmap file's new place."""
    if one_off:
        return "point --roadmap (or LLMPATH_ROADMAP) at its new place"
    return "`llmpath use NEWPATH`; or `llmpath use default`"


def _read_small_file(path: Path, size: int) -> bytes:
    """The roadmap's bytes, without importing the roadmap module (hashing an unchanged file is common)."""
    if size <= paths.MAX_ROADMAP_BYTES:
        try:
            return path.read_bytes()
        except OSError:
            pass
    from llmpath.roadmap_yaml import read_roadmap_bytes

    return read_roadmap_bytes(path)  # raises the error that names the problem


def _write_roadmap(
    session: Session, roadmap: Roadmap, path: Path, content_hash: str, stat: stat_result, report: SyncReport
) -> None:
    rid = roadmap.id
    for table in (PhaseRow, TopicRow, TopicAlias, Prerequisite):
        session.exec(delete(table).where(col(table.roadmap_id) == rid))
    phases, topics, aliases, edges = [], [], [], []
    position = 0
    for phase_position, phase in enumerate(roadmap.phases):
        phases.append(
            {
                "roadmap_id": rid,
                "id": phase.id,
                "position": phase_position,
                "title": phase.title,
                "summary": phase.summary,
            }
        )
        for topic in phase.topics:
            details = {
                "concepts": topic.concepts,
                "tools": topic.tools,
                "resources": [r.model_dump() for r in topic.resources],
                "sources": topic.sources,
                "aliases": topic.aliases,
            }
            topics.append(
                {
                    "roadmap_id": rid,
                    "id": topic.id,
                    "phase_id": phase.id,
                    "position": position,
                    "title": topic.title,
                    "summary": topic.summary,
                    "difficulty": topic.difficulty,
                    "hours": topic.hours,
                    "kind": topic.kind,
                    "details_json": json.dumps(details, ensure_ascii=False),
                }
            )
            position += 1
            for alias in (*topic.aliases, *topic.replaces):
                aliases.append({"roadmap_id": rid, "alias": alias, "topic_id": topic.id})
            for required in topic.requires:
                edges.append({"roadmap_id": rid, "topic_id": topic.id, "requires_id": required})
    connection = session.connection()
    for table, rows in (
        (PhaseRow, phases),
        (TopicRow, topics),
        (TopicAlias, aliases),
        (Prerequisite, edges),
    ):
        if rows:
            # Core executemany on the table: the ORM's bulk path costs several times more per row.
            connection.execute(table.__table__.insert(), rows)

    report.moved = _move_renamed_progress(session, roadmap)
    # One file, one roadmap: if this file used to hold another roadmap id, that one is no longer "at" it.
    session.exec(
        update(RoadmapRecord)
        .where(col(RoadmapRecord.source_path) == str(path), col(RoadmapRecord.id) != rid)
        .values(source_path="")
    )
    session.merge(
        RoadmapRecord(
            id=rid,
            title=roadmap.title,
            description=roadmap.description,
            sources_json=json.dumps([s.model_dump() for s in roadmap.sources], ensure_ascii=False),
            tracks_json=json.dumps(
                [{**t.model_dump(), "topics": roadmap.track_topics(t)} for t in roadmap.tracks],
                ensure_ascii=False,
            ),
            source_path=str(path),
            content_hash=content_hash,
            file_size=stat.st_size,
            file_mtime_ns=stat.st_mtime_ns,
            file_ctime_ns=stat.st_ctime_ns,
            loaded_at=store.now(),
        )
    )


def _move_renamed_progress(session: Session, roadmap: Roadmap) -> list[tuple[str, str]]:
    """A learner's data under an id a topic `replaces` (or lists as an alias) moves to the topic's id.

    The data is progress, notes, history and goals: a topic only noted or aimed for counts as much as one
    marked. Nothing moves onto a topic that already has data of its own.
    """
    rid = roadmap.id
    current = {t.id for t in roadmap.topics()}
    connection = session.connection()
    tracked: dict[str, set[str]] = {}  # per learner: each one's data moves on its own
    for table in (Progress, Note, Event, Goal):
        rows = connection.execute(
            sa_select(col(table.learner), col(table.topic_id)).where(col(table.roadmap_id) == rid).distinct()
        )
        for learner, topic_id in rows:
            tracked.setdefault(learner, set()).add(topic_id)
    moved = []
    for learner, theirs in tracked.items():
        for topic in roadmap.topics():
            if topic.id in theirs:
                continue
            for old in (*topic.replaces, *topic.aliases):
                if old in theirs and old not in current:
                    for table in (Progress, Note, Event, Goal):
                        session.exec(
                            update(table)
                            .where(
                                col(table.learner) == learner,
                                col(table.roadmap_id) == rid,
                                col(table.topic_id) == old,
                            )
                            .values(topic_id=topic.id)
                        )
                    theirs.discard(old)
                    theirs.add(topic.id)
                    if (old, topic.id) not in moved:
                        moved.append((old, topic.id))
                    break
    return moved
