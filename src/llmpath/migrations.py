"""Schema migrations: one ordered list of small functions for both engines.

Migration N brings a database from version N-1 to N. `db.open_database` runs the missing ones in one
transaction (after a backup on SQLite). The version is kept where each engine can: SQLite's
`PRAGMA user_version`, PostgreSQL's one-row `llmpath_schema` table (`read_version`, `write_version`).
Each function gets the connection and the learner whose name existing rows take (m005). Each creates the
tables it introduced from their SQLModel classes (the one schema definition), so a fresh database gets
today's columns at once. A later change to an existing table is therefore a new migration that alters it
only where needed (`_add_column`, or a rebuild as in m005): an old database gets the column, a fresh one
already has it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, text

from llmpath import models


def m001_initial(conn: Connection, learner: str) -> None:
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


def m002_history_notes_goals(conn: Connection, learner: str) -> None:
    for model in (models.Event, models.Note, models.Goal):
        model.__table__.create(conn, checkfirst=True)
    # Progress made before history existed still counts for pace and review: replay it as events.
    conn.execute(
        text(
            "INSERT INTO event (learner, roadmap_id, topic_id, at, old_status, new_status) "
            "SELECT :learner, roadmap_id, topic_id, started_at, 'todo', 'doing' FROM progress "
            "WHERE started_at IS NOT NULL"
        ),
        {"learner": learner},
    )
    conn.execute(
        text(
            "INSERT INTO event (learner, roadmap_id, topic_id, at, old_status, new_status) "
            "SELECT :learner, roadmap_id, topic_id, COALESCE(finished_at, updated_at), "
            "CASE WHEN started_at IS NULL THEN 'todo' ELSE 'doing' END, status FROM progress "
            "WHERE status IN ('done', 'skipped')"
        ),
        {"learner": learner},
    )


def m003_roadmap_file_ctime(conn: Connection, learner: str) -> None:
    # The change time catches a rewrite that keeps size and mtime (cp -p, rsync -t); 0 forces one re-hash.
    _add_column(conn, "roadmap", "file_ctime_ns", "INTEGER NOT NULL DEFAULT 0")


def m004_roadmap_tracks(conn: Connection, learner: str) -> None:
    # A roadmap loaded before tracks existed had none; "[]" is right until its file is next re-loaded.
    _add_column(conn, "roadmap", "tracks_json", "VARCHAR NOT NULL DEFAULT '[]'")


def m005_learners(conn: Connection, learner: str) -> None:
    # Every row a learner makes names its learner, so one database (PostgreSQL) holds a study group. Rows made
    # before learners existed belong to the learner who runs this migration: the local user. The key changes
    # (the learner leads it), which SQLite cannot ALTER: such a table is rebuilt, its rows copied over.
    for model in (models.Progress, models.Event, models.Note, models.Goal, models.Setting):
        table = model.__table__
        columns = _columns(conn, table.name)
        if "learner" in columns:
            continue
        kept = f"{table.name}_before_learners"
        for index in table.indexes:  # SQLite keeps index names with a renamed table; the new table needs them
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
        conn.exec_driver_sql(f"ALTER TABLE {table.name} RENAME TO {kept}")
        table.create(conn)
        listed = ", ".join(c for c in columns if c in table.columns)
        conn.execute(
            text(f"INSERT INTO {table.name} (learner, {listed}) SELECT :learner, {listed} FROM {kept}"),
            {"learner": learner},
        )
        conn.exec_driver_sql(f"DROP TABLE {kept}")


def _columns(conn: Connection, table: str) -> list[str]:
    return [column["name"] for column in inspect(conn).get_columns(table)]


def _add_column(conn: Connection, table: str, column: str, definition: str) -> None:
    if column not in _columns(conn, table):
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


MIGRATIONS: list[Callable[[Connection, str], None]] = [
    m001_initial,
    m002_history_notes_goals,
    m003_roadmap_file_ctime,
    m004_roadmap_tracks,
    m005_learners,
]
DATABASE_VERSION = len(MIGRATIONS)


def read_version(conn: Connection) -> int:
    """The schema version of the database (0 for a new one)."""
    if conn.dialect.name == "sqlite":
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
    # A catalog query under this statement's snapshot, not to_regclass: that looks the name up without a
    # lock, in this connection's own cache, which still says "no such table" when another client created
    # it while we waited for the schema lock (and every client would then migrate again).
    found = conn.exec_driver_sql(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_tables "
        "WHERE schemaname = current_schema() AND tablename = 'llmpath_schema')"
    )
    if not found.scalar():
        return 0
    return int(conn.exec_driver_sql("SELECT coalesce(max(version), 0) FROM llmpath_schema").scalar_one())


def write_version(conn: Connection, number: int) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version = {int(number)}")
        return
    models.SchemaVersion.__table__.create(conn, checkfirst=True)
    conn.execute(text("DELETE FROM llmpath_schema"))
    conn.execute(text("INSERT INTO llmpath_schema (version) VALUES (:n)"), {"n": int(number)})


def migrate(conn: Connection, from_version: int, to_version: int = DATABASE_VERSION, *, learner: str) -> None:
    """Run migrations `from_version+1 .. to_version` on a connection inside a transaction."""
    for number in range(from_version + 1, to_version + 1):
        MIGRATIONS[number - 1](conn, learner)
        write_version(conn, number)
