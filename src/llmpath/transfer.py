"""Export snapshots and import plans: what a backup holds, and how an imported file changes progress.

The file formats themselves (markdown checklist, JSON backup) are `export.py`'s; this module reads the
database into an `export.Snapshot` and writes an `export.ParsedProgress` back, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from llmpath import store
from llmpath.models import Event, Progress, RoadmapRecord
from llmpath.vocab import as_utc

if TYPE_CHECKING:
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
    graph = store.load_graph(session, roadmap_id)
    aliases = store.load_aliases(session, roadmap_id)
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
    progress = store.load_progress(session, roadmap_id)
    # Exports keep whole seconds, so that is the precision a note is recognised at on re-import.
    existing_notes = {(n.topic_id, _to_second(n.at), n.text) for n in store.load_notes(session, roadmap_id)}
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
        store.set_dates(row, at, started_at=entry.started_at, finished_at=entry.finished_at)
        session.add(row)
        progress[topic_id] = row
        for note in entry.notes:
            key = (topic_id, _to_second(note.at), note.text)
            if key not in existing_notes:
                store.add_note(session, roadmap_id=roadmap_id, topic_id=topic_id, text=note.text, at=note.at)
                existing_notes.add(key)
                result.notes_added += 1
    session.flush()
    return result


def _to_second(at: datetime) -> datetime:
    return as_utc(at).replace(microsecond=0)
