"""Tab completion of topic, phase and track ids.

Completion runs the whole program on every key press, so it reads the database with the standard library's
sqlite3 (read-only, no ORM import, no roadmap parsing) and never raises: a missing or damaged database
simply completes nothing.
"""

from __future__ import annotations

from typing import Any

from llmpath import paths, queries
from llmpath.terminal import visible

# Which topics make sense for each command: `done` offers what is not done yet, `reset` what has progress.
_WANTED = {
    "done": "status IS NULL OR status NOT IN ('done')",
    "start": "status IS NULL OR status IN ('todo')",
    "skip": "status IS NULL OR status IN ('todo', 'doing')",
    "reset": "status IS NOT NULL AND status != 'todo'",
}


def _query(sql_for: str, incomplete: str, command: str | None, roadmap: str | None) -> list[tuple[str, str]]:
    from llmpath import config

    target = config.target()
    db = paths.db_path()
    if target.url or not db.exists():  # PostgreSQL: no completion (a connection per key press is too slow)
        return []
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    try:
        settings = queries.learner_settings(
            conn, conn.execute("PRAGMA user_version").fetchone()[0], target.learner
        )
        roadmap_path = str(paths.roadmap_path_in_use(settings, roadmap))
        row = conn.execute(queries.ROADMAP_AT_PATH, {"path": roadmap_path}).fetchone()
        if row is None:
            return []
        prefix = incomplete.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        if sql_for == "phase":
            rows = conn.execute(
                "SELECT id, title FROM phase WHERE roadmap_id = ? AND id LIKE ? ESCAPE '\\' "
                "ORDER BY position",
                (row[0], prefix),
            )
            return list(rows)
        if sql_for == "track":
            import json

            stored = conn.execute("SELECT tracks_json FROM roadmap WHERE id = ?", (row[0],)).fetchone()
            tracks = json.loads(stored[0]) if stored else []
            return [(t["id"], t["title"]) for t in tracks if t["id"].startswith(incomplete.lower())]
        wanted = _WANTED.get(command or "", "1")
        rows = conn.execute(
            f"""
            SELECT name, title FROM (
                SELECT t.id AS name, t.title AS title, t.position AS position, p.status AS status
                FROM topic t LEFT JOIN progress p
                ON p.learner = :me AND p.roadmap_id = t.roadmap_id AND p.topic_id = t.id
                WHERE t.roadmap_id = :r
                UNION ALL
                SELECT a.alias, t.title, t.position + 0.5, p.status
                FROM topic_alias a JOIN topic t ON t.roadmap_id = a.roadmap_id AND t.id = a.topic_id
                LEFT JOIN progress p ON p.learner = :me AND p.roadmap_id = t.roadmap_id AND p.topic_id = t.id
                WHERE a.roadmap_id = :r
            ) WHERE name LIKE :prefix ESCAPE '\\' AND ({wanted}) ORDER BY position
            """,
            {"r": row[0], "prefix": prefix, "me": target.learner},
        )
        return list(rows)
    finally:
        conn.close()


def _safe(kind: str, ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    try:
        root = ctx.find_root() if ctx is not None else None
        roadmap = root.params.get("roadmap") if root is not None else None
        command = ctx.info_name if ctx is not None else None
        # The shell shows each title next to its id: control characters made visible, as everywhere.
        return [(name, visible(title)) for name, title in _query(kind, incomplete, command, roadmap)]
    except Exception:  # completion must never print a traceback into the user's shell
        return []


def complete_topic(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    return _safe("topic", ctx, incomplete)


def complete_phase(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    return _safe("phase", ctx, incomplete)


def complete_track(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    return _safe("track", ctx, incomplete)
