"""The database tables: the one definition of llmpath's storage schema.

Two halves. The roadmap tables (`RoadmapRecord`, `PhaseRow`, `TopicRow`, `TopicAlias`, `Prerequisite`) are a
cache of a roadmap file, replaced wholesale when the file changes. The learner's tables (`Progress`, `Event`,
`Note`, `Goal`, `Setting`) are never derived from the file and never deleted by a re-sync: they are keyed by
learner, roadmap id and topic id, so progress outlives any change to the roadmap, and many learners share
one database (PostgreSQL, a study group) without meeting. The roadmap tables are shared by all learners.

Which migration creates which table is in `migrations.py`.
"""

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

if TYPE_CHECKING:
    from sqlalchemy import Table


class _Table(SQLModel):
    # Rows come from our own writes, never from user input, and table classes are never validated on
    # construction; deferring pydantic's schema build keeps it off every command's start-up. (A plain dict:
    # pydantic merges it into SQLModel's config, and it type-checks as SQLModel's own config type.)
    model_config = {"defer_build": True}

    if TYPE_CHECKING:
        # SQLAlchemy's declarative mapping sets this on every `table=True` class (all subclasses here), but
        # SQLModel does not declare it; declared for the type checker only, so nothing changes at run time.
        __table__: ClassVar[Table]


class RoadmapRecord(_Table, table=True):
    """One row per roadmap ever loaded; the file's stat and hash say when it must be re-read."""

    __tablename__ = "roadmap"

    id: str = Field(primary_key=True)
    title: str
    description: str = ""
    sources_json: str = "[]"  # [{id, title, url}] — shown by `show`, never queried
    # [{id, title, summary, goals, topics}], `topics` being the goals and all they require, worked out once at
    # load time: scoping a command to a track then needs no walk of the prerequisite edges.
    tracks_json: str = "[]"
    source_path: str = Field(index=True)
    content_hash: str
    # 64-bit: nanosecond times overflow PostgreSQL's INTEGER (SQLite's integers are 64-bit anyway).
    file_size: int = Field(sa_type=BigInteger)
    file_mtime_ns: int = Field(sa_type=BigInteger)
    # Changes on every write, even one that restores size and mtime (cp -p, rsync -t).
    file_ctime_ns: int = Field(default=0, sa_type=BigInteger)
    loaded_at: datetime


class PhaseRow(_Table, table=True):
    """A phase of a loaded roadmap, in roadmap order."""

    __tablename__ = "phase"

    roadmap_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    position: int
    title: str
    summary: str = ""


class TopicRow(_Table, table=True):
    """A topic of a loaded roadmap; `position` is its index in roadmap order (phase, then place)."""

    __tablename__ = "topic"

    roadmap_id: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    phase_id: str
    position: int
    title: str
    summary: str = ""
    difficulty: str | None = None
    hours: float | None = None
    kind: str = "topic"
    details_json: str = "{}"  # concepts, tools, resources, sources — shown by `show`, never queried


class TopicAlias(_Table, table=True):
    """Another name a user may type for a topic (from `aliases` and `replaces`)."""

    __tablename__ = "topic_alias"

    roadmap_id: str = Field(primary_key=True)
    alias: str = Field(primary_key=True)
    topic_id: str


class Prerequisite(_Table, table=True):
    """`topic_id` requires `requires_id`: one edge of the prerequisite graph."""

    __tablename__ = "prerequisite"

    roadmap_id: str = Field(primary_key=True)
    topic_id: str = Field(primary_key=True)
    requires_id: str = Field(primary_key=True)


class Progress(_Table, table=True):
    """The learner's state of one topic. No foreign key to `topic`: progress outlives a removed topic."""

    __tablename__ = "progress"

    learner: str = Field(primary_key=True)
    roadmap_id: str = Field(primary_key=True)
    topic_id: str = Field(primary_key=True)
    status: str = "todo"  # todo | doing | done | skipped
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime


class Event(_Table, table=True):
    """Every status change with its time: the history behind `log`, `stats` and review."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    learner: str = Field(index=True)
    roadmap_id: str = Field(index=True)
    topic_id: str
    at: datetime = Field(index=True)
    old_status: str
    new_status: str


class Note(_Table, table=True):
    """A dated note the learner wrote about a topic."""

    __tablename__ = "note"

    id: int | None = Field(default=None, primary_key=True)
    learner: str = Field(index=True)
    roadmap_id: str = Field(index=True)
    topic_id: str
    at: datetime
    text: str


class Goal(_Table, table=True):
    """A topic the learner is aiming for; `next` then offers only what leads there."""

    __tablename__ = "goal"

    learner: str = Field(primary_key=True)
    roadmap_id: str = Field(primary_key=True)
    topic_id: str = Field(primary_key=True)


class Setting(_Table, table=True):
    """A learner's small key/value preferences: the roadmap in use, the review interval, showing ETAs."""

    __tablename__ = "setting"

    learner: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    value: str


class SchemaVersion(_Table, table=True):
    """PostgreSQL's record of the schema version (one row); SQLite keeps it in `PRAGMA user_version`."""

    __tablename__ = "llmpath_schema"

    version: int = Field(primary_key=True)


# The tables whose rows belong to a learner (row-level security on PostgreSQL applies to these).
LEARNER_TABLES = ("progress", "event", "note", "goal", "setting")
