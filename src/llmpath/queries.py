"""SQL that the storage layer and the standard-library readers (`doctor`, `completion`) must agree on.

`doctor` and Tab completion read the database with `sqlite3` alone (doctor must work on a database the ORM
cannot open; completion runs on every key press), so a rule they share with `store` is written once here,
as SQL text with named parameters that both sqlite3 and SQLAlchemy's `text()` accept.
"""

from typing import Any

# Progress kept for a topic its roadmap no longer has (never deleted: it comes back if the topic does).
# `:roadmap_id` NULL means every roadmap. `ORPHANED_PROGRESS` is one learner's (`:learner`);
# `ORPHANED_PROGRESS_ANYONE` everyone's, and works on a database from before learners (schema < 5) too.
ORPHANED_PROGRESS_ANYONE = (
    "SELECT p.roadmap_id, p.topic_id, p.status FROM progress p "
    "WHERE p.status != 'todo' "
    # The CAST gives the parameter a type PostgreSQL can infer when it is NULL.
    "AND (CAST(:roadmap_id AS VARCHAR) IS NULL OR p.roadmap_id = :roadmap_id) "
    "AND NOT EXISTS (SELECT 1 FROM topic t WHERE t.roadmap_id = p.roadmap_id AND t.id = p.topic_id) "
    "ORDER BY p.roadmap_id, p.topic_id"
)
ORPHANED_PROGRESS = ORPHANED_PROGRESS_ANYONE.replace("WHERE ", "WHERE p.learner = :learner AND ", 1)

# Stored times outside the years llmpath accepts (`vocab.FIRST_YEAR`..`LAST_YEAR`): a database edited by
# hand, or written by a version that accepted them. Times are stored as ISO text, so the year leads.
OUT_OF_RANGE_DATES = (
    "SELECT 'progress', roadmap_id, topic_id FROM progress "
    "WHERE substr(started_at, 1, 4) NOT BETWEEN :first AND :last "
    "OR substr(finished_at, 1, 4) NOT BETWEEN :first AND :last "
    "UNION ALL SELECT 'history', roadmap_id, topic_id FROM event "
    "WHERE substr(at, 1, 4) NOT BETWEEN :first AND :last "
    "UNION ALL SELECT 'note', roadmap_id, topic_id FROM note "
    "WHERE substr(at, 1, 4) NOT BETWEEN :first AND :last"
)

# A learner's settings (the roadmap in use among them).
LEARNER_SETTINGS = "SELECT key, value FROM setting WHERE learner = :learner"


def learner_settings(conn: Any, version: int, learner: str) -> dict[str, str]:
    """A learner's settings through a `sqlite3` connection; every setting in a database from before
    learners (schema < 5), which the next command migrates to the local learner."""
    if version < 5:
        return dict(conn.execute("SELECT key, value FROM setting"))
    return dict(conn.execute(LEARNER_SETTINGS, {"learner": learner}))


# The roadmap last loaded from a file: the one that file holds now.
ROADMAP_AT_PATH = "SELECT id FROM roadmap WHERE source_path = :path ORDER BY loaded_at DESC LIMIT 1"
