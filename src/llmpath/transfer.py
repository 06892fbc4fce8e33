"""Export snapshots and import plans: what a backup holds, and how an imported file changes progress.

The file formats themselves (markdown checklist, JSON backup) are `export.py`'s; this module reads the
database into an `export.Snapshot` and writes an `export.ParsedProgress` back, in the caller's transaction.

An import changes only what differs, so exporting and importing into the same home changes no row. A JSON
backup restores status and exact dates, merges its history and notes (each recorded once), and sets the
goals, followed track and settings it holds. A checklist is read as the learner edited it: a line whose box
agrees with the stored status is left alone, dates included; a ticked or unticked box is a new status, dated
by the line (an export's own date) or else now. Notes come back once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from llmpath import store, vocab
from llmpath.errors import LlmpathError
from llmpath.models import Event, Progress, RoadmapRecord
from llmpath.vocab import as_utc, local_time

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from llmpath import export as exporting


def snapshot(session: Session, roadmap_id: str, *, at: datetime) -> exporting.Snapshot:
    """Everything an export holds, in roadmap order, in a constant number of queries."""
    from llmpath import export as exporting

    record = (
        session.connection()
        .execute(
            select(RoadmapRecord.title, RoadmapRecord.content_hash).where(RoadmapRecord.id == roadmap_id)
        )
        .first()
    )
    graph = store.load_graph(session, roadmap_id)
    progress = store.load_progress(session, roadmap_id)
    notes: dict[str, list[exporting.NoteItem]] = {}
    for note in store.load_notes(session, roadmap_id):
        notes.setdefault(note.topic_id, []).append(exporting.NoteItem(note.at, note.text))
    settings = store.load_settings(session)

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
    # Progress and notes kept for ids the roadmap no longer has: a note alone is worth keeping too.
    kept = [t for t, row in progress.items() if row.status != "todo" or t in notes]
    orphan_ids = dict.fromkeys(t for t in (*kept, *notes) if t not in graph.topics)
    events = [
        exporting.EventItem(e.at, e.topic_id, e.old_status, e.new_status)
        for e in reversed(store.load_events(session, roadmap_id))  # oldest first, ties in recorded order
    ]
    return exporting.Snapshot(
        roadmap_id=roadmap_id,
        roadmap_title=record.title if record else roadmap_id,
        content_hash=record.content_hash if record else "",
        exported_at=at,
        phases=phases,
        orphaned=[item(topic_id, topic_id, None) for topic_id in orphan_ids],
        events=events,
        goals=store.load_goals(session, roadmap_id),
        track=settings.get(vocab.track_setting(roadmap_id)),
        settings={key: settings[key] for key in vocab.LEARNER_SETTINGS if key in settings},
    )


def check_roadmap(parsed: exporting.ParsedProgress, roadmap_id: str, file: str, *, any_roadmap: bool) -> None:
    """Refuse a file that names another roadmap, unless the learner asked to match its ids anyway."""
    if parsed.roadmap_id is None or parsed.roadmap_id == roadmap_id or any_roadmap:
        return
    raise LlmpathError(
        f"{file} holds progress for roadmap '{parsed.roadmap_id}', but the roadmap in use is "
        f"'{roadmap_id}'; choose it with --roadmap FILE or `llmpath use`, or import by topic id with "
        "--any-roadmap"
    )


@dataclass
class ImportPlan:
    matched: list[tuple[str, exporting.ImportedTopic]]
    unmatched: list[exporting.ImportedTopic]
    kind: str = "json"
    events: list[exporting.EventItem] | None = None  # ids resolved; None: the file has no history
    goals: list[str] = field(default_factory=list)  # resolved; empty: leave the goals as they are
    track: str | None = None  # a track of this roadmap; None: leave it
    settings: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    changed: int = 0  # topics whose status or dates changed
    notes_added: int = 0
    events_added: int = 0  # history events from the file
    settings_changed: int = 0  # goals, followed track, review interval, eta

    @property
    def total_changed(self) -> int:
        """Every change made other than notes added: 0 means the database is as it was (notes aside)."""
        return self.changed + self.events_added + self.settings_changed


def plan_import(
    session: Session, roadmap_id: str, parsed: exporting.ParsedProgress, *, any_roadmap: bool = False
) -> ImportPlan:
    """Match imported entries to topics: by id, then alias, then title (any case); by id only with
    `any_roadmap`. A file of this roadmap keeps progress on ids it no longer has, as the database does."""
    graph = store.load_graph(session, roadmap_id, edges=False)
    aliases = {} if any_roadmap else store.load_aliases(session, roadmap_id)
    titles = {} if any_roadmap else {t.title.lower(): t.id for t in graph.topics.values()}
    ours = parsed.roadmap_id == roadmap_id and not any_roadmap

    def target(ident: str) -> str | None:
        if ident in graph.topics:
            return ident
        return aliases.get(ident) or (ident if ours else None)

    plan = ImportPlan([], [], kind=parsed.kind, settings=dict(parsed.settings))
    for entry in parsed.topics:
        topic_id = None
        if entry.id:
            topic_id = entry.id if entry.id in graph.topics else aliases.get(entry.id)
        if topic_id is None:
            topic_id = titles.get(entry.title.lower())
        if topic_id is None and entry.id and ours and (entry.status != "todo" or entry.notes):
            topic_id = entry.id  # progress on a topic the roadmap dropped: kept, as `status` reports it
        if topic_id is None:
            plan.unmatched.append(entry)
        else:
            plan.matched.append((topic_id, entry))
    if parsed.events is not None:
        plan.events = []
        for event in parsed.events:
            topic_id = target(event.topic_id)
            if topic_id is not None:
                plan.events.append(replace(event, topic_id=topic_id))
    plan.goals = [g for g in dict.fromkeys(target(g) for g in parsed.goals) if g is not None]
    if parsed.track is not None:
        if parsed.track in {t.id for t in store.load_tracks(session, roadmap_id)}:
            plan.track = parsed.track
        else:
            plan.warnings.append(f"roadmap '{roadmap_id}' has no track '{parsed.track}'; not followed")
    return plan


def apply_import(session: Session, roadmap_id: str, plan: ImportPlan, *, at: datetime) -> ImportResult:
    """Write an import plan in the caller's transaction, changing only what differs (see the module doc)."""
    result = ImportResult()
    latest = _merge_history(session, roadmap_id, plan, result) if plan.events is not None else {}
    progress = store.load_progress(session, roadmap_id)
    markdown = plan.kind == "markdown"
    notes = _NotePool(store.load_notes(session, roadmap_id), by_day=markdown)
    for topic_id, entry in plan.matched:
        row = progress.get(topic_id)
        old = (row.status, row.started_at, row.finished_at) if row else ("todo", None, None)
        if markdown:  # a calendar day, used only for a box the learner ticked or unticked
            given = (_not_after(entry.started_at, at), _not_after(entry.finished_at, at))
            started, finished = given if entry.status != old[0] else old[1:]
        else:
            given = (entry.started_at, entry.finished_at)
            started, finished = _keep(old[1], given[0]), _keep(old[2], given[1])
        if (entry.status, started, finished) == old:
            new = old
        else:
            new = _dated(roadmap_id, topic_id, entry.status, old, started, finished, at)
        if new != old and (row is not None or entry.status != "todo"):
            row = row or Progress(
                learner=store.learner(session), roadmap_id=roadmap_id, topic_id=topic_id, updated_at=at
            )
            row.status, row.started_at, row.finished_at = new
            row.updated_at = at
            session.add(row)
            progress[topic_id] = row
            result.changed += 1
            if new[0] != old[0] and latest.get(topic_id) != new[0]:  # a change the history does not hold
                session.add(
                    Event(
                        learner=store.learner(session),
                        roadmap_id=roadmap_id,
                        topic_id=topic_id,
                        at=given[1] or given[0] or at,
                        old_status=old[0],
                        new_status=new[0],
                    )
                )
                latest[topic_id] = new[0]
        for note in entry.notes:
            if not notes.take(topic_id, note):
                when = min(as_utc(note.at), as_utc(at)) if markdown else note.at
                store.add_note(session, roadmap_id=roadmap_id, topic_id=topic_id, text=note.text, at=when)
                result.notes_added += 1
    _apply_settings(session, roadmap_id, plan, result)
    session.flush()
    return result


def _dated(
    roadmap_id: str,
    topic_id: str,
    status: str,
    old: tuple[str, datetime | None, datetime | None],
    started: datetime | None,
    finished: datetime | None,
    at: datetime,
) -> tuple[str, datetime | None, datetime | None]:
    """(status, started, finished) after the change, by `store.set_dates`, the one rule for dates."""
    scratch = Progress(
        learner="",
        roadmap_id=roadmap_id,
        topic_id=topic_id,
        status=status,
        started_at=old[1],
        finished_at=old[2],
        updated_at=at,
    )
    store.set_dates(scratch, at, started_at=started, finished_at=finished)
    return (scratch.status, scratch.started_at, scratch.finished_at)


def _keep(stored: datetime | None, given: datetime | None) -> datetime | None:
    """The file's time, unless it is the stored one to the second (a version 1 export has no microseconds)."""
    if given is None or (stored is not None and _to_second(stored) == _to_second(given)):
        return stored
    return given


def _not_after(day: datetime | None, at: datetime) -> datetime | None:
    """A checklist date (noon of that day) is never later than the import itself."""
    return None if day is None else min(as_utc(day), as_utc(at))


def _merge_history(
    session: Session, roadmap_id: str, plan: ImportPlan, result: ImportResult
) -> dict[str, str]:
    """Add the file's status changes the database lacks (each once); return each topic's latest status."""
    stored = store.load_events(session, roadmap_id)  # newest first
    have = Counter((e.topic_id, _to_second(e.at), e.old_status, e.new_status) for e in stored)
    newest: dict[str, tuple[datetime, str]] = {}
    for change in reversed(stored):
        newest[change.topic_id] = (as_utc(change.at), change.new_status)
    for event in plan.events or []:
        key = (event.topic_id, _to_second(event.at), event.old_status, event.new_status)
        if have[key]:
            have[key] -= 1
            continue
        session.add(
            Event(
                learner=store.learner(session),
                roadmap_id=roadmap_id,
                topic_id=event.topic_id,
                at=event.at,
                old_status=event.old_status,
                new_status=event.new_status,
            )
        )
        result.events_added += 1
        if event.topic_id not in newest or as_utc(event.at) >= newest[event.topic_id][0]:
            newest[event.topic_id] = (as_utc(event.at), event.new_status)
    return {topic_id: status for topic_id, (_, status) in newest.items()}


def _apply_settings(session: Session, roadmap_id: str, plan: ImportPlan, result: ImportResult) -> None:
    """Goals, the followed track and settings the file holds; what it leaves out stays as it is."""
    if plan.goals and set(plan.goals) != set(store.load_goals(session, roadmap_id)):
        store.set_goals(session, roadmap_id=roadmap_id, topic_ids=plan.goals)
        result.settings_changed += 1
    current = store.load_settings(session)
    wanted = dict(plan.settings)
    if plan.track is not None:
        wanted[vocab.track_setting(roadmap_id)] = plan.track
    for key, value in wanted.items():
        if current.get(key) != value:
            store.set_setting(session, key, value)
            result.settings_changed += 1


class _NotePool:
    """Stored notes an imported one may be: the same topic and text, at the same second (JSON), or on the
    same calendar day give or take one, for time zones (a checklist, which has days and inert text). Each
    stored note stands for one imported note, so a file's repeated notes are all restored in a new home."""

    def __init__(self, rows: list, *, by_day: bool):
        from llmpath import export as exporting

        self.by_day = by_day
        self.text = exporting.markdown_note if by_day else str
        self.pool: dict[tuple[str, str], list[datetime]] = {}
        for row in rows:
            self.pool.setdefault((row.topic_id, self.text(row.text)), []).append(row.at)

    def take(self, topic_id: str, note: exporting.NoteItem) -> bool:
        times = self.pool.get((topic_id, self.text(note.text)), [])
        if self.by_day:
            day = local_time(note.at).date()
            distance = [abs((local_time(t).date() - day).days) for t in times]
            fits = [i for i in sorted(range(len(times)), key=distance.__getitem__) if distance[i] <= 1]
        else:
            fits = [i for i, t in enumerate(times) if _to_second(t) == _to_second(note.at)]
        if not fits:
            return False
        del times[fits[0]]
        return True


def _to_second(at: datetime) -> datetime:
    return as_utc(at).replace(microsecond=0)


@dataclass
class Copied:
    """What `copy_learner` brought over: per roadmap id, the import's counts; roadmaps left behind, why."""

    imported: dict[str, ImportResult] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def copy_learner(source: Engine, target: Engine, *, at: datetime) -> Copied:
    """Bring the source learner's progress in every roadmap into the target database (for `connect
    --bring-local`): each roadmap as a JSON backup would carry it, imported by the same rules as
    `llmpath import`, so nothing is counted twice and a second run changes nothing."""
    from pathlib import Path

    from llmpath import db, sync
    from llmpath import export as exporting

    copied = Copied()
    with db.reading(source) as session:
        roadmaps = [r for r in store.list_roadmaps(session) if _has_own_data(session, r["id"])]
    for roadmap in roadmaps:
        rid = roadmap["id"]
        with db.reading(source) as session:
            text = exporting.to_json(snapshot(session, rid, at=at))
        parsed = exporting.parse_progress(text, f"the local progress in '{rid}'")
        if not roadmap["source_path"]:
            copied.skipped.append(f"{rid}: the file it was loaded from is no longer known")
            continue
        try:
            sync.ensure_synced(target, Path(roadmap["source_path"]))
        except LlmpathError as problem:
            copied.skipped.append(f"{rid}: {problem}")
            continue
        with db.reading(target) as session:
            plan = plan_import(session, rid, parsed)
        with db.writing(target) as session:
            copied.imported[rid] = apply_import(session, rid, plan, at=at)
    return copied


def _has_own_data(session: Session, roadmap_id: str) -> bool:
    return bool(store.load_statuses(session, roadmap_id) or store.load_notes(session, roadmap_id))
