"""Schema migrations: an ordered list of small functions, recorded in `PRAGMA user_version`.

Migration N brings a database from version N-1 to N. `db.open_database` runs the missing ones in one
transaction, after taking a backup. Each creates the tables it introduced from their SQLModel classes (the
one schema definition), so a fresh database gets today's columns at once. A later change to an existing
table is therefore a new migration that alters it only where needed (`_add_column`): an old database gets
the column, a fresh one already has it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, text

from llmpath import models


def m001_initial(conn: Connection) -> None:
    for model in (
        models.RoadmapRecord,
        models.PhaseRow,
        models.TopicRow,
        models.TopicAlias,
        models.Prerequisite,
        models.Progress,
        models.Setting,
    ):
        model.__table__.create(conn, checkfirst=True)


def m002_history_notes_goals(conn: Connection) -> None:
    for model in (models.Event, models.Note, models.Goal):
        model.__table__.create(conn, checkfirst=True)
    # Progress made before history existed still counts for pace and review: replay it as events.
    conn.execute(
        text(
            "INSERT INTO event (roadmap_id, topic_id, at, old_status, new_status) "
            "SELECT roadmap_id, topic_id, started_at, 'todo', 'doing' FROM progress "
            "WHERE started_at IS NOT NULL"
        )
    )
    conn.execute(
        text(
            "INSERT INTO event (roadmap_id, topic_id, at, old_status, new_status) "
            "SELECT roadmap_id, topic_id, COALESCE(finished_at, updated_at), "
            "CASE WHEN started_at IS NULL THEN 'todo' ELSE 'doing' END, status FROM progress "
            "WHERE status IN ('done', 'skipped')"
        )
    )


def m003_roadmap_file_ctime(conn: Connection) -> None:
    # The change time catches a rewrite that keeps size and mtime (cp -p, rsync -t); 0 forces one re-hash.
    _add_column(conn, "roadmap", "file_ctime_ns", "INTEGER NOT NULL DEFAULT 0")


def m004_roadmap_tracks(conn: Connection) -> None:
    # A roadmap loaded before tracks existed had none; "[]" is right until its file is next re-loaded.
    _add_column(conn, "roadmap", "tracks_json", "VARCHAR NOT NULL DEFAULT '[]'")


def _add_column(conn: Connection, table: str, column: str, definition: str) -> None:
    existing = {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")}
    if column not in existing:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


MIGRATIONS: list[Callable[[Connection], None]] = [
    m001_initial,
    m002_history_notes_goals,
    m003_roadmap_file_ctime,
    m004_roadmap_tracks,
]
DATABASE_VERSION = len(MIGRATIONS)


def migrate(conn: Connection, from_version: int, to_version: int = DATABASE_VERSION) -> None:
    """Run migrations `from_version+1 .. to_version` on a connection inside a transaction."""
    for number in range(from_version + 1, to_version + 1):
        MIGRATIONS[number - 1](conn)
        conn.exec_driver_sql(f"PRAGMA user_version = {number}")
