"""Reading and writing the learner's data: the graph, progress, notes, goals, tracks, settings, history.

Functions take a SQLModel `Session` (from `db.reading` / `db.writing`) and keyword arguments; they neither
print nor format. Reading the graph costs a constant number of queries whatever the roadmap's size.

One query style: reads are Core column queries on the session's connection (no ORM identity map, several
times cheaper for a large roadmap) and return plain tuples; writes go through ORM objects (`Progress`,
`Setting`) or bulk `insert`/`delete` statements. `load_progress` is the one read that returns ORM objects,
because its callers update them.

Every row of the learner's tables belongs to a learner: the session's (`learner`, which `db.reading` and
`db.writing` put on it). Each query of those tables filters by it, and each new row carries it; only the
`team` reads (`team_rows`) look across learners.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row, delete, func, insert, null, text, union_all
from sqlalchemy import cast as sa_cast
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from llmpath import queries, vocab
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


def learner(session: Session) -> str:
    """The learner this session reads and writes for."""
    return str(session.info[vocab.LEARNER_KEY])


def now() -> datetime:
    """The current time, timezone-aware in UTC as stored (tests replace this to inject time)."""
    return datetime.now(UTC)


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
            .order_by(col(PhaseRow.position))
        )
    ]
    topics = [
        TopicInfo._make(row)
        for row in connection.execute(
            # SQLAlchemy's own select: SQLModel's is typed for at most four columns.
            sa_select(
                col(TopicRow.id),
                col(TopicRow.title),
                col(TopicRow.phase_id),
                col(TopicRow.position),
                col(TopicRow.hours),
                col(TopicRow.kind),
                col(TopicRow.difficulty),
            )
            .where(col(TopicRow.roadmap_id) == roadmap_id)
            .order_by(col(TopicRow.position))
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
    return Graph.from_edges(phases, topics, pairs)


def load_state(session: Session, roadmap_id: str) -> tuple[Graph, dict[str, str]]:
    """The graph and the learner's statuses: what most commands start from (four queries)."""
    return load_graph(session, roadmap_id), load_statuses(session, roadmap_id)


def load_aliases(session: Session, roadmap_id: str) -> dict[str, str]:
    query = select(TopicAlias.alias, TopicAlias.topic_id).where(TopicAlias.roadmap_id == roadmap_id)
    return dict(session.connection().execute(query).all())


def load_statuses(session: Session, roadmap_id: str) -> dict[str, str]:
    """Topic id -> status, for every topic that is not `todo` (the default)."""
    query = select(Progress.topic_id, Progress.status).where(
        Progress.learner == learner(session), Progress.roadmap_id == roadmap_id, Progress.status != "todo"
    )
    return dict(session.connection().execute(query).all())


def load_progress(session: Session, roadmap_id: str) -> dict[str, Progress]:
    """Every progress row of a roadmap as ORM objects, for a caller that updates them (an import)."""
    rows = session.exec(
        select(Progress).where(Progress.learner == learner(session), Progress.roadmap_id == roadmap_id)
    ).all()
    return {p.topic_id: p for p in rows}


def load_topic_fields(session: Session, roadmap_id: str, topic_id: str) -> dict[str, Any]:
    """A topic's descriptive fields (summary, concepts, tools, resources, sources, aliases)."""
    query = select(TopicRow.summary, TopicRow.details_json).where(
        TopicRow.roadmap_id == roadmap_id, TopicRow.id == topic_id
    )
    row = session.connection().execute(query).first()
    if row is None:
        raise LlmpathError(f"topic '{topic_id}' is not in roadmap '{roadmap_id}'")
    return {"summary": row.summary, **json.loads(row.details_json)}


def load_all_topic_fields(session: Session, roadmap_id: str) -> dict[str, dict[str, Any]]:
    """Every topic's descriptive fields (as `load_topic_fields`), by topic id, in one query."""
    query = select(TopicRow.id, TopicRow.summary, TopicRow.details_json).where(
        TopicRow.roadmap_id == roadmap_id
    )
    return {
        topic_id: {"summary": summary, **json.loads(details)}
        for topic_id, summary, details in session.connection().execute(query)
    }


def roadmap_source(session: Session, roadmap_id: str) -> str | None:
    """The file a roadmap was last loaded from; None for an unknown id or a file that moved on."""
    query = select(RoadmapRecord.source_path).where(RoadmapRecord.id == roadmap_id)
    return session.connection().execute(query).scalar() or None


def load_topic_progress(session: Session, roadmap_id: str, topic_id: str) -> Row | None:
    """One topic's progress row (status and dates), or None if it was never touched."""
    query = select(*Progress.__table__.columns).where(
        Progress.learner == learner(session), Progress.roadmap_id == roadmap_id, Progress.topic_id == topic_id
    )
    return session.connection().execute(query).first()


def load_notes(session: Session, roadmap_id: str, topic_id: str | None = None) -> list[Row]:
    """Notes (`topic_id`, `at`, `text`), oldest first."""
    query = select(Note.topic_id, Note.at, Note.text).where(
        Note.learner == learner(session), Note.roadmap_id == roadmap_id
    )
    if topic_id is not None:
        query = query.where(Note.topic_id == topic_id)
    return list(session.connection().execute(query.order_by(col(Note.at), col(Note.id))))


def orphaned_progress(session: Session, roadmap_id: str) -> list[tuple[str, str]]:
    """`(topic id, status)` of progress kept for ids the roadmap no longer has (never deleted)."""
    rows = session.connection().execute(
        text(queries.ORPHANED_PROGRESS), {"roadmap_id": roadmap_id, "learner": learner(session)}
    )
    return [(row.topic_id, row.status) for row in rows]


def last_finished(session: Session, roadmap_id: str) -> dict[str, datetime]:
    query = select(Progress.topic_id, col(Progress.finished_at)).where(
        Progress.learner == learner(session), Progress.roadmap_id == roadmap_id, Progress.status == "done"
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
    me = learner(session)
    existing = {
        p.topic_id: p
        for p in session.exec(
            select(Progress).where(
                Progress.learner == me,
                Progress.roadmap_id == roadmap_id,
                col(Progress.topic_id).in_(list(topic_ids)),
            )
        ).all()
    }
    changes = []
    for topic_id in dict.fromkeys(topic_ids):
        row = existing.get(topic_id) or Progress(
            learner=me, roadmap_id=roadmap_id, topic_id=topic_id, updated_at=at
        )
        old = row.status
        if old == status and status != "done":
            continue
        row.status = status
        row.updated_at = at
        set_dates(row, at)
        session.add(row)
        session.add(
            Event(
                learner=me, roadmap_id=roadmap_id, topic_id=topic_id, at=at, old_status=old, new_status=status
            )
        )
        changes.append(Change(topic_id, old, status))
    session.flush()
    return changes


def set_dates(
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


# A note is what the learner found out: a few lines, at most a few pages. 64 KiB is some 30 printed pages, far
# more than a note needs, and small enough that `show`, `notes` and the exports stay instant (a 15 MB note
# took `show` two minutes to lay out). Longer texts belong in a file whose name the note gives.
MAX_NOTE_BYTES = 64 * 1024


def check_note(text: str, what: str = "the note") -> None:
    """Refuse a note that could not be stored or shown quickly: text that is not UTF-8 (bytes a terminal or
    editor could not decode arrive as lone surrogates, which SQLite cannot store) or over `MAX_NOTE_BYTES`.
    `LlmpathError` says what is wrong and that nothing was saved."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise LlmpathError(
            f"{what} is not UTF-8 text (character {exc.start + 1} is a byte that could not be decoded; "
            "check your terminal's or editor's encoding); nothing saved"
        ) from None
    if size > MAX_NOTE_BYTES:
        raise LlmpathError(
            f"{what} is longer than {MAX_NOTE_BYTES // 1024} KiB, the most a note holds (keep a longer text "
            "in a file and note where it is); nothing saved"
        )


def add_note(session: Session, *, roadmap_id: str, topic_id: str, text: str, at: datetime) -> Note:
    check_note(text, f"the note on '{topic_id}'")
    note = Note(learner=learner(session), roadmap_id=roadmap_id, topic_id=topic_id, text=text, at=at)
    session.add(note)
    session.flush()
    return note


class NoteRow(NamedTuple):
    """One stored note with its primary key (what editing and deleting need)."""

    id: int
    topic_id: str
    at: datetime
    text: str


def list_notes(session: Session, *, roadmap_id: str, topic_id: str | None = None) -> list[NoteRow]:
    """Notes with their ids, oldest first (ties by id): a note's number is its place in a topic's list."""
    query = select(Note.id, Note.topic_id, Note.at, Note.text).where(
        Note.learner == learner(session), Note.roadmap_id == roadmap_id
    )
    if topic_id is not None:
        query = query.where(Note.topic_id == topic_id)
    rows = session.connection().execute(query.order_by(col(Note.at), col(Note.id)))
    return [NoteRow._make(row) for row in rows]


def note_by_number(session: Session, *, roadmap_id: str, topic_id: str, number: int) -> NoteRow:
    """A topic's note `number` (1 = its oldest), or an error naming the topic and how many notes it has."""
    notes = list_notes(session, roadmap_id=roadmap_id, topic_id=topic_id)
    if not 1 <= number <= len(notes):
        count = f"{len(notes)} note{'' if len(notes) == 1 else 's'}" if notes else "no notes"
        listing = f"; `llmpath notes {topic_id}` lists them" if notes else ""
        raise LlmpathError(f"topic '{topic_id}' has {count}, so there is no note {number}{listing}")
    return notes[number - 1]


def update_note(session: Session, *, roadmap_id: str, note_id: int, text: str) -> None:
    """Replace a note's text (its date stays: it is when the note was first written)."""
    check_note(text)
    note = session.get(Note, note_id)
    if note is None or note.roadmap_id != roadmap_id or note.learner != learner(session):
        raise LlmpathError("that note was deleted meanwhile; nothing saved")
    note.text = text
    session.add(note)
    session.flush()


def delete_note(session: Session, *, roadmap_id: str, note_id: int) -> None:
    session.exec(
        delete(Note).where(
            col(Note.learner) == learner(session), col(Note.roadmap_id) == roadmap_id, col(Note.id) == note_id
        )
    )


# --- tracks, goals and settings -----------------------------------------------------------------------------


def load_tracks(session: Session, roadmap_id: str) -> list[TrackInfo]:
    """The roadmap's tracks, each with every topic it holds (one query)."""
    query = select(RoadmapRecord.tracks_json).where(RoadmapRecord.id == roadmap_id)
    stored = session.connection().execute(query).scalar()
    return [
        TrackInfo(t["id"], t["title"], t["summary"], tuple(t["goals"]), tuple(t["topics"]))
        for t in json.loads(stored or "[]")
    ]


def followed_track(settings: dict[str, str], tracks: list[TrackInfo], roadmap_id: str) -> TrackInfo | None:
    """The track the learner follows, or None (also when the roadmap no longer has that track)."""
    chosen = settings.get(vocab.track_setting(roadmap_id))
    return next((t for t in tracks if t.id == chosen), None)


def load_goals(session: Session, roadmap_id: str) -> list[str]:
    query = select(Goal.topic_id).where(Goal.learner == learner(session), Goal.roadmap_id == roadmap_id)
    return list(session.connection().execute(query).scalars())


def load_settings(session: Session) -> dict[str, str]:
    """Every setting of the learner (a handful of rows) in one query."""
    query = select(Setting.key, Setting.value).where(Setting.learner == learner(session))
    return dict(session.connection().execute(query).all())


def set_goals(session: Session, *, roadmap_id: str, topic_ids: list[str]) -> None:
    me = learner(session)
    session.exec(delete(Goal).where(col(Goal.learner) == me, col(Goal.roadmap_id) == roadmap_id))
    if topic_ids:
        session.exec(
            insert(Goal), params=[{"learner": me, "roadmap_id": roadmap_id, "topic_id": t} for t in topic_ids]
        )


def set_setting(session: Session, key: str, value: str | None) -> None:
    me = learner(session)
    row = session.get(Setting, (me, key))
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Setting(learner=me, key=key, value=value))
    else:
        row.value = value
        session.add(row)
    session.flush()  # later reads in the same transaction see the change


def review_interval(settings: dict[str, str]) -> timedelta | None:
    days = settings.get(vocab.REVIEW_SETTING)
    return timedelta(days=float(days)) if days else None


# --- history ----------------------------------------------------------------------------------------------


class StatusChange(NamedTuple):
    """One recorded status change (a row of the `event` table)."""

    at: datetime
    topic_id: str
    old_status: str
    new_status: str


def load_events(
    session: Session, roadmap_id: str, *, since: datetime | None = None, limit: int | None = None
) -> list[StatusChange]:
    """Status changes, newest first."""
    query = select(Event.at, Event.topic_id, Event.old_status, Event.new_status).where(
        Event.learner == learner(session), Event.roadmap_id == roadmap_id
    )
    if since is not None:
        query = query.where(Event.at >= since)
    query = query.order_by(col(Event.at).desc(), col(Event.id).desc())
    if limit is not None:
        query = query.limit(limit)
    return [StatusChange._make(row) for row in session.connection().execute(query)]


def list_roadmaps(session: Session) -> list[dict]:
    """Every roadmap the database knows, with its topic count and finished count (two grouped queries)."""
    connection = session.connection()
    totals = dict(
        connection.execute(select(TopicRow.roadmap_id, func.count()).group_by(TopicRow.roadmap_id)).all()
    )
    finished = dict(
        connection.execute(
            select(Progress.roadmap_id, func.count())
            .join(
                TopicRow,
                (col(TopicRow.roadmap_id) == Progress.roadmap_id) & (col(TopicRow.id) == Progress.topic_id),
            )
            .where(col(Progress.learner) == learner(session), col(Progress.status).in_(("done", "skipped")))
            .group_by(Progress.roadmap_id)
        ).all()
    )
    records = connection.execute(
        select(
            RoadmapRecord.id, RoadmapRecord.title, RoadmapRecord.source_path, RoadmapRecord.loaded_at
        ).order_by(RoadmapRecord.id)
    ).all()
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


# --- a study group ----------------------------------------------------------------------------------------


class LearnerProgress(NamedTuple):
    """One learner's part of a roadmap, as `team` reads it: statuses that are not `todo`, the time of their
    latest change (progress, history or note; None when they only set a goal or a track), the followed
    track's id (None: none)."""

    learner: str
    statuses: dict[str, str]
    last_activity: datetime | None
    following: str | None


def team_activity(session: Session, roadmap_id: str) -> dict[str, datetime | None]:
    """Every learner of a roadmap, by name, with the time of their latest change there (progress, history or
    note; None for one who only set a goal or a track), in one query: anyone with progress, history, a
    note, a goal or a followed track in it."""
    # A typed NULL: a goal or a followed track names the learner but has no time.
    nothing = sa_cast(null(), Progress.__table__.c.updated_at.type)
    latest = union_all(
        sa_select(col(Progress.learner), func.max(Progress.updated_at).label("at"))
        .where(col(Progress.roadmap_id) == roadmap_id)
        .group_by(col(Progress.learner)),
        sa_select(col(Event.learner), func.max(Event.at))
        .where(col(Event.roadmap_id) == roadmap_id)
        .group_by(col(Event.learner)),
        sa_select(col(Note.learner), func.max(Note.at))
        .where(col(Note.roadmap_id) == roadmap_id)
        .group_by(col(Note.learner)),
        sa_select(col(Goal.learner), nothing).where(col(Goal.roadmap_id) == roadmap_id),
        sa_select(col(Setting.learner), nothing).where(col(Setting.key) == vocab.track_setting(roadmap_id)),
    ).subquery()
    query = (
        sa_select(latest.c.learner, func.max(latest.c.at))
        .group_by(latest.c.learner)
        .order_by(latest.c.learner)
    )
    return dict(session.connection().execute(query).all())


def team_rows(session: Session, roadmap_id: str) -> list[LearnerProgress]:
    """Every learner's statuses, last activity and followed track in a roadmap (`team_activity`), in three
    queries however many learners and topics: the one read that looks across learners. Sorted by name."""
    connection = session.connection()
    activity = team_activity(session, roadmap_id)
    statuses: dict[str, dict[str, str]] = {name: {} for name in activity}
    rows = connection.execute(
        select(Progress.learner, Progress.topic_id, Progress.status).where(
            Progress.roadmap_id == roadmap_id, Progress.status != "todo"
        )
    )
    for name, topic_id, status in rows:
        statuses.setdefault(name, {})[topic_id] = status
    track_key = vocab.track_setting(roadmap_id)
    following = dict(
        connection.execute(select(Setting.learner, Setting.value).where(Setting.key == track_key)).all()
    )
    return [LearnerProgress(name, statuses[name], at, following.get(name)) for name, at in activity.items()]
