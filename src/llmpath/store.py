"""Reading and writing llmpath's data: roadmap sync, the graph, progress, notes, goals, settings.

Functions take a SQLModel `Session` (from `db.reading` / `db.writing`) and keyword arguments; they neither
print nor format. Reading the graph costs a constant number of queries whatever the roadmap's size.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Engine, Row, delete, func, insert, update
from sqlmodel import Session, select

from llmpath import db, paths, vocab
from llmpath.errors import LlmpathError
from llmpath.models import (
    Event,
    Goal,
    Note,
    PhaseRow,
    Prerequisite,
    Progress,
    RoadmapRecord,
    Setting,
    TopicAlias,
    TopicRow,
)
from llmpath.planner import Graph, PhaseInfo, TopicInfo, TrackInfo
from llmpath.vocab import as_utc

if TYPE_CHECKING:
    from llmpath import export as exporting


def now() -> datetime:
    """The current time, timezone-aware in UTC as stored (tests replace this to inject time)."""
    return datetime.now(UTC)


# --- which roadmap, and keeping the database in step with its file ------------------------------------------


@dataclass
class SyncReport:
    loaded: bool = False  # the file was parsed and written to the database this time
    first_load: bool = False
    topics: int = 0
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id) whose progress moved
    backup: Path | None = None


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
    """The roadmap file a command would use, without loading it (for `paths`, `doctor`)."""
    with db.reading(db.open_database()) as session:
        return paths.roadmap_path_in_use(load_settings(session), override)


def open_workspace(roadmap: str | None = None, *, force_sync: bool = False) -> Workspace:
    engine = db.open_database()
    with db.reading(engine) as session:
        settings = load_settings(session)
    path = paths.roadmap_path_in_use(settings, roadmap)
    loaded, report = ensure_synced(engine, path, force=force_sync)
    return Workspace(engine, loaded.id, loaded.title, path, report, settings)


class LoadedRoadmap(NamedTuple):
    id: str
    title: str


def ensure_synced(engine: Engine, path: Path, *, force: bool = False) -> tuple[LoadedRoadmap, SyncReport]:
    """Load the roadmap file into the database if it changed since the last load (or if `force`).

    The check is cheap first: size and times against the stored ones, then the content hash; only a
    changed file is parsed. An invalid file raises before anything is written.
    """
    try:
        stat = path.stat()
    except OSError:
        raise LlmpathError(f"{path}: roadmap file not found") from None
    with db.reading(engine) as session:
        record = (
            session.connection()
            .execute(
                select(
                    RoadmapRecord.id,
                    RoadmapRecord.title,
                    RoadmapRecord.content_hash,
                    RoadmapRecord.file_size,
                    RoadmapRecord.file_mtime_ns,
                    RoadmapRecord.file_ctime_ns,
                )
                .where(RoadmapRecord.source_path == str(path))
                .order_by(RoadmapRecord.loaded_at.desc())  # type: ignore[attr-defined]
            )
            .first()
        )
    if (
        record is not None
        and not force
        and (record.file_size, record.file_mtime_ns, record.file_ctime_ns)
        == (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    ):
        return LoadedRoadmap(record.id, record.title), SyncReport()

    data = _read_small_file(path, stat.st_size)
    content_hash = hashlib.sha256(data).hexdigest()
    if record is not None and not force and record.content_hash == content_hash:
        with db.writing(engine) as session:
            session.exec(
                update(RoadmapRecord)
                .where(RoadmapRecord.id == record.id)  # type: ignore[arg-type]
                .values(
                    file_size=stat.st_size, file_mtime_ns=stat.st_mtime_ns, file_ctime_ns=stat.st_ctime_ns
                )
            )
        return LoadedRoadmap(record.id, record.title), SyncReport()

    from llmpath.roadmap import gc_paused, parse_roadmap

    roadmap = parse_roadmap(data, str(path))
    with db.reading(engine) as session:
        previous = session.get(RoadmapRecord, roadmap.id)
        has_progress = (
            previous is not None
            and session.exec(
                select(func.count()).select_from(Progress).where(Progress.roadmap_id == roadmap.id)  # type: ignore[arg-type]
            ).one()
        )
    report = SyncReport(loaded=True, first_load=previous is None, topics=len(roadmap.topics()))
    if previous is not None and previous.content_hash != content_hash and has_progress:
        report.backup = db.backup_database(paths.db_path(), "before-resync")
    with db.writing(engine) as session, gc_paused():
        _write_roadmap(session, roadmap, path, content_hash, stat, report)
    return LoadedRoadmap(roadmap.id, roadmap.title), report


def _read_small_file(path: Path, size: int) -> bytes:
    """The roadmap's bytes, without importing the roadmap module (hashing an unchanged file is common)."""
    if size <= paths.MAX_ROADMAP_BYTES:
        try:
            return path.read_bytes()
        except OSError:
            pass
    from llmpath.roadmap import read_roadmap_bytes

    return read_roadmap_bytes(path)  # raises the error that names the problem


def _write_roadmap(session: Session, roadmap, path: Path, content_hash: str, stat, report) -> None:
    rid = roadmap.id
    for table in (PhaseRow, TopicRow, TopicAlias, Prerequisite):
        session.exec(delete(table).where(table.roadmap_id == rid))  # type: ignore[attr-defined]
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
            connection.execute(table.__table__.insert(), rows)  # type: ignore[attr-defined]

    report.moved = _move_renamed_progress(session, roadmap)
    # One file, one roadmap: if this file used to hold another roadmap id, that one is no longer "at" it.
    session.exec(
        update(RoadmapRecord)
        .where(RoadmapRecord.source_path == str(path), RoadmapRecord.id != rid)  # type: ignore[arg-type]
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
            loaded_at=now(),
        )
    )


def _move_renamed_progress(session: Session, roadmap) -> list[tuple[str, str]]:
    """Progress stored under an id a topic `replaces` (or lists as an alias) moves to the topic's id."""
    rid = roadmap.id
    current = {t.id for t in roadmap.topics()}
    tracked = set(
        session.exec(select(Progress.topic_id).where(Progress.roadmap_id == rid)).all()  # type: ignore[arg-type]
    )
    moved = []
    for topic in roadmap.topics():
        if topic.id in tracked:
            continue
        for old in (*topic.replaces, *topic.aliases):
            if old in tracked and old not in current:
                for table in (Progress, Note, Event, Goal):
                    session.exec(
                        update(table)
                        .where(table.roadmap_id == rid, table.topic_id == old)  # type: ignore[attr-defined]
                        .values(topic_id=topic.id)
                    )
                tracked.discard(old)
                tracked.add(topic.id)
                moved.append((old, topic.id))
                break
    return moved


# --- reading ----------------------------------------------------------------------------------------------


def load_graph(session: Session, roadmap_id: str, *, edges: bool = True) -> Graph:
    """The roadmap's phases, topics and edges in three queries (two with `edges=False`, for counting).

    Column queries run on the session's connection (SQLAlchemy Core): they need no ORM identity map, and
    skipping it makes reading a large roadmap several times cheaper.
    """
    connection = session.connection()
    phases = [
        PhaseInfo._make(row)
        for row in connection.execute(
            select(PhaseRow.id, PhaseRow.title, PhaseRow.summary)
            .where(PhaseRow.roadmap_id == roadmap_id)
            .order_by(PhaseRow.position)  # type: ignore[arg-type]
        )
    ]
    topics = [
        TopicInfo._make(row)
        for row in connection.execute(
            select(
                TopicRow.id,
                TopicRow.title,
                TopicRow.phase_id,
                TopicRow.position,
                TopicRow.hours,
                TopicRow.kind,
                TopicRow.difficulty,
            )
            .where(TopicRow.roadmap_id == roadmap_id)
            .order_by(TopicRow.position)  # type: ignore[arg-type]
        )
    ]
    pairs = (
        connection.execute(
            select(Prerequisite.topic_id, Prerequisite.requires_id).where(
                Prerequisite.roadmap_id == roadmap_id
            )
        )
        if edges
        else ()
    )
    return Graph.from_edges(phases, topics, pairs)  # type: ignore[arg-type]


def load_aliases(session: Session, roadmap_id: str) -> dict[str, str]:
    query = select(TopicAlias.alias, TopicAlias.topic_id).where(TopicAlias.roadmap_id == roadmap_id)
    return dict(session.connection().execute(query).all())  # type: ignore[arg-type]


def load_statuses(session: Session, roadmap_id: str) -> dict[str, str]:
    """Topic id -> status, for every topic that is not `todo` (the default)."""
    query = select(Progress.topic_id, Progress.status).where(
        Progress.roadmap_id == roadmap_id, Progress.status != "todo"
    )
    return dict(session.connection().execute(query).all())  # type: ignore[arg-type]


def load_progress(session: Session, roadmap_id: str) -> dict[str, Progress]:
    rows = session.exec(select(Progress).where(Progress.roadmap_id == roadmap_id)).all()  # type: ignore[arg-type]
    return {p.topic_id: p for p in rows}


def load_topic_row(session: Session, roadmap_id: str, topic_id: str) -> Row:
    """One topic's stored fields (`details_json` included), as a read-only row."""
    query = select(*TopicRow.__table__.columns).where(  # type: ignore[attr-defined]
        TopicRow.roadmap_id == roadmap_id, TopicRow.id == topic_id
    )
    row = session.connection().execute(query).first()
    if row is None:
        raise LlmpathError(f"topic '{topic_id}' is not in roadmap '{roadmap_id}'")
    return row


def load_topic_progress(session: Session, roadmap_id: str, topic_id: str) -> Row | None:
    """One topic's progress row (status and dates), or None if it was never touched."""
    query = select(*Progress.__table__.columns).where(  # type: ignore[attr-defined]
        Progress.roadmap_id == roadmap_id, Progress.topic_id == topic_id
    )
    return session.connection().execute(query).first()


def load_notes(session: Session, roadmap_id: str, topic_id: str | None = None) -> list[Row]:
    """Notes (`topic_id`, `at`, `text`), oldest first."""
    query = select(Note.topic_id, Note.at, Note.text).where(Note.roadmap_id == roadmap_id)
    if topic_id is not None:
        query = query.where(Note.topic_id == topic_id)
    return list(session.connection().execute(query.order_by(Note.at, Note.id)))  # type: ignore[arg-type]


def orphaned_progress(session: Session, roadmap_id: str) -> list[tuple[str, str]]:
    """`(topic id, status)` of progress kept for ids the roadmap no longer has (never deleted)."""
    known = select(TopicRow.id).where(TopicRow.roadmap_id == roadmap_id)
    query = select(Progress.topic_id, Progress.status).where(
        Progress.roadmap_id == roadmap_id,
        Progress.status != "todo",
        Progress.topic_id.not_in(known),  # type: ignore[attr-defined]
    )
    return [(topic_id, status) for topic_id, status in session.connection().execute(query)]


def last_finished(session: Session, roadmap_id: str) -> dict[str, datetime]:
    query = select(Progress.topic_id, Progress.finished_at).where(
        Progress.roadmap_id == roadmap_id, Progress.status == "done"
    )
    return {topic_id: at for topic_id, at in session.connection().execute(query) if at is not None}


# --- writing progress -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    topic_id: str
    old: str
    new: str


def set_status(
    session: Session, *, roadmap_id: str, topic_ids: list[str], status: str, at: datetime
) -> list[Change]:
    """Set topics' status, recording each change as an event.

    Marking a done topic done again counts as a review: its finish time moves to `at`.
    """
    existing = {
        p.topic_id: p
        for p in session.exec(
            select(Progress).where(
                Progress.roadmap_id == roadmap_id,  # type: ignore[arg-type]
                Progress.topic_id.in_(list(topic_ids)),  # type: ignore[attr-defined]
            )
        ).all()
    }
    changes = []
    for topic_id in dict.fromkeys(topic_ids):
        row = existing.get(topic_id) or Progress(roadmap_id=roadmap_id, topic_id=topic_id, updated_at=at)
        old = row.status
        if old == status and status != "done":
            continue
        row.status = status
        row.updated_at = at
        _set_dates(row, at)
        session.add(row)
        session.add(Event(roadmap_id=roadmap_id, topic_id=topic_id, at=at, old_status=old, new_status=status))
        changes.append(Change(topic_id, old, status))
    session.flush()
    return changes


def _set_dates(
    row: Progress, at: datetime, *, started_at: datetime | None = None, finished_at: datetime | None = None
) -> None:
    """The dates each status keeps; `started_at`/`finished_at` are known ones (from an import), if any."""
    if row.status == "todo":
        row.started_at = row.finished_at = None
    elif row.status == "doing":
        row.started_at = started_at or row.started_at or at
        row.finished_at = None
    else:  # done, skipped
        row.started_at = started_at or row.started_at
        row.finished_at = finished_at or at


def add_note(session: Session, *, roadmap_id: str, topic_id: str, text: str, at: datetime) -> Note:
    note = Note(roadmap_id=roadmap_id, topic_id=topic_id, text=text, at=at)
    session.add(note)
    session.flush()
    return note


# --- tracks, goals and settings -----------------------------------------------------------------------------


def load_tracks(session: Session, roadmap_id: str) -> list[TrackInfo]:
    """The roadmap's tracks, each with every topic it holds (one query)."""
    query = select(RoadmapRecord.tracks_json).where(RoadmapRecord.id == roadmap_id)
    stored = session.connection().execute(query).scalar()  # type: ignore[call-overload]
    return [
        TrackInfo(t["id"], t["title"], t["summary"], tuple(t["goals"]), tuple(t["topics"]))
        for t in json.loads(stored or "[]")
    ]


def followed_track(settings: dict[str, str], tracks: list[TrackInfo], roadmap_id: str) -> TrackInfo | None:
    """The track the learner follows, or None (also when the roadmap no longer has that track)."""
    chosen = settings.get(vocab.track_setting(roadmap_id))
    return next((t for t in tracks if t.id == chosen), None)


def load_goals(session: Session, roadmap_id: str) -> list[str]:
    query = select(Goal.topic_id).where(Goal.roadmap_id == roadmap_id)
    return list(session.connection().execute(query).scalars())  # type: ignore[arg-type]


def load_settings(session: Session) -> dict[str, str]:
    """Every setting (a handful of rows) in one query."""
    return dict(session.connection().execute(select(Setting.key, Setting.value)).all())  # type: ignore[arg-type]


def set_goals(session: Session, *, roadmap_id: str, topic_ids: list[str]) -> None:
    session.exec(delete(Goal).where(Goal.roadmap_id == roadmap_id))  # type: ignore[arg-type]
    if topic_ids:
        session.exec(insert(Goal), params=[{"roadmap_id": roadmap_id, "topic_id": t} for t in topic_ids])


def set_setting(session: Session, key: str, value: str | None) -> None:
    row = session.get(Setting, key)
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
        session.add(row)
    session.flush()  # later reads in the same transaction see the change


def review_interval(settings: dict[str, str]) -> timedelta | None:
    days = settings.get(vocab.REVIEW_SETTING)
    return timedelta(days=float(days)) if days else None


# --- export and import ------------------------------------------------------------------------------------


def snapshot(session: Session, roadmap_id: str, *, at: datetime) -> exporting.Snapshot:
    """Everything an export holds, in roadmap order, in a constant number of queries."""
    from llmpath import export as exporting

    record = session.get(RoadmapRecord, roadmap_id)
    graph = load_graph(session, roadmap_id)
    progress = load_progress(session, roadmap_id)
    notes: dict[str, list[exporting.NoteItem]] = {}
    for note in load_notes(session, roadmap_id):
        notes.setdefault(note.topic_id, []).append(exporting.NoteItem(note.at, note.text))

    def item(topic_id: str, title: str, phase_id: str | None) -> exporting.TopicItem:
        row = progress.get(topic_id)
        return exporting.TopicItem(
            id=topic_id,
            title=title,
            phase_id=phase_id,
            status=row.status if row else "todo",
            started_at=row.started_at if row else None,
            finished_at=row.finished_at if row else None,
            notes=notes.get(topic_id, []),
        )

    phases = [
        exporting.PhaseItem(
            phase.id,
            phase.title,
            [item(t, graph.topics[t].title, phase.id) for t in graph.phase_topics(phase.id)],
        )
        for phase in graph.phases
    ]
    orphaned = [
        item(topic_id, topic_id, None)
        for topic_id, row in progress.items()
        if topic_id not in graph.topics and (row.status != "todo" or topic_id in notes)
    ]
    return exporting.Snapshot(
        roadmap_id=roadmap_id,
        roadmap_title=record.title if record else roadmap_id,
        content_hash=record.content_hash if record else "",
        exported_at=at,
        phases=phases,
        orphaned=orphaned,
    )


@dataclass
class ImportPlan:
    matched: list[tuple[str, exporting.ImportedTopic]]
    unmatched: list[exporting.ImportedTopic]


@dataclass
class ImportResult:
    changed: int = 0
    notes_added: int = 0


def plan_import(session: Session, roadmap_id: str, parsed: exporting.ParsedProgress) -> ImportPlan:
    """Match imported entries to topics: by id, then alias, then title (any case)."""
    graph = load_graph(session, roadmap_id)
    aliases = load_aliases(session, roadmap_id)
    titles = {t.title.lower(): t.id for t in graph.topics.values()}
    plan = ImportPlan([], [])
    for entry in parsed.topics:
        topic_id = None
        if entry.id:
            topic_id = entry.id if entry.id in graph.topics else aliases.get(entry.id)
        if topic_id is None:
            topic_id = titles.get(entry.title.lower())
        if topic_id is None:
            plan.unmatched.append(entry)
        else:
            plan.matched.append((topic_id, entry))
    return plan


def apply_import(session: Session, roadmap_id: str, plan: ImportPlan, *, at: datetime) -> ImportResult:
    """Write an import plan in the caller's transaction; dates and notes from the file are kept."""
    progress = load_progress(session, roadmap_id)
    # Exports keep whole seconds, so that is the precision a note is recognised at on re-import.
    existing_notes = {(n.topic_id, _to_second(n.at), n.text) for n in load_notes(session, roadmap_id)}
    result = ImportResult()
    for topic_id, entry in plan.matched:
        row = progress.get(topic_id) or Progress(roadmap_id=roadmap_id, topic_id=topic_id, updated_at=at)
        if row.status != entry.status:
            session.add(
                Event(
                    roadmap_id=roadmap_id,
                    topic_id=topic_id,
                    at=entry.finished_at or entry.started_at or at,
                    old_status=row.status,
                    new_status=entry.status,
                )
            )
            result.changed += 1
            row.status = entry.status
            row.updated_at = at
        _set_dates(row, at, started_at=entry.started_at, finished_at=entry.finished_at)
        session.add(row)
        progress[topic_id] = row
        for note in entry.notes:
            key = (topic_id, _to_second(note.at), note.text)
            if key not in existing_notes:
                add_note(session, roadmap_id=roadmap_id, topic_id=topic_id, text=note.text, at=note.at)
                existing_notes.add(key)
                result.notes_added += 1
    session.flush()
    return result


def _to_second(at: datetime) -> datetime:
    return as_utc(at).replace(microsecond=0)


def write_file_atomically(
    path: Path, text: str, *, overwrite: bool, exists_hint: str = "use --force to overwrite it"
) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file behind."""
    import tempfile

    if path.exists() and not overwrite:
        raise LlmpathError(f"{path} already exists; {exists_hint}")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise LlmpathError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if overwrite:
            os.replace(temporary, path)
        else:
            # link() fails if the target appeared meanwhile: no silent overwrite, even in a race.
            os.link(temporary, path)
    except FileExistsError:
        raise LlmpathError(f"{path} already exists; {exists_hint}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


# --- history ----------------------------------------------------------------------------------------------


def load_events(
    session: Session, roadmap_id: str, *, since: datetime | None = None, limit: int | None = None
) -> list[Event]:
    """Status changes, newest first."""
    query = select(Event).where(Event.roadmap_id == roadmap_id)  # type: ignore[arg-type]
    if since is not None:
        query = query.where(Event.at >= since)  # type: ignore[arg-type]
    query = query.order_by(Event.at.desc(), Event.id.desc())  # type: ignore[attr-defined,union-attr]
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def list_roadmaps(session: Session) -> list[dict]:
    """Every roadmap the database knows, with its topic count and finished count (two grouped queries)."""
    totals = dict(
        session.exec(select(TopicRow.roadmap_id, func.count()).group_by(TopicRow.roadmap_id)).all()  # type: ignore[arg-type]
    )
    finished = dict(
        session.exec(
            select(Progress.roadmap_id, func.count())
            .join(
                TopicRow,
                (TopicRow.roadmap_id == Progress.roadmap_id) & (TopicRow.id == Progress.topic_id),  # type: ignore[arg-type]
            )
            .where(Progress.status.in_(("done", "skipped")))  # type: ignore[attr-defined]
            .group_by(Progress.roadmap_id)
        ).all()
    )
    records = session.exec(select(RoadmapRecord).order_by(RoadmapRecord.id)).all()
    return [
        {
            "id": r.id,
            "title": r.title,
            "source_path": r.source_path or None,
            "topics": totals.get(r.id, 0),
            "finished": finished.get(r.id, 0),
            "loaded_at": r.loaded_at,
        }
        for r in records
    ]
