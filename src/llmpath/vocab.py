"""The vocabulary every module shares: a topic's statuses, what satisfies a prerequisite, the keys of stored
settings, and times in UTC. Standard library only, so any module may import it at start-up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal, get_args

Status = Literal["todo", "doing", "done", "skipped"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
# "skipped" means "I know this already": it satisfies a prerequisite as "done" does.
SATISFIED: Final[frozenset[str]] = frozenset({"done", "skipped"})

# Dates llmpath accepts from a file and expects in its database: wide enough for any learner, and far from
# the ends of `datetime`, where converting to a local time zone overflows.
FIRST_YEAR: Final = 1970
LAST_YEAR: Final = 2200

# The execution option of an engine, and the key of a session's `info`, that name the learner it acts for.
LEARNER_KEY: Final = "llmpath_learner"

# Keys of the `setting` table.
ROADMAP_SETTING: Final = "roadmap_path"  # the roadmap `llmpath use` chose
REVIEW_SETTING: Final = "review_every_days"  # `llmpath review --every`
ETA_SETTING: Final = "eta"  # `llmpath config eta on|off`
CONFIG_SETTINGS: Final[dict[str, tuple[str, ...]]] = {ETA_SETTING: ("on", "off")}  # what `config` may set
# The learner's own preferences, which a JSON backup carries (with the followed track, `track_setting`). The
# roadmap in use is a path on this machine, so it stays behind.
LEARNER_SETTINGS: Final[tuple[str, ...]] = (REVIEW_SETTING, ETA_SETTING)


def track_setting(roadmap_id: str) -> str:
    """The key of the track a learner follows in one roadmap (tracks belong to a roadmap)."""
    return f"track:{roadmap_id}"


def as_utc(at: datetime) -> datetime:
    """A datetime in UTC; a naive one is taken to be UTC already (as SQLite hands them back)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def local_time(at: datetime) -> datetime:
    """`at` in the local time zone, for display. A time the local zone cannot represent (a stored
    9999-12-31 23:59 UTC east of Greenwich, 0001-01-01 00:00 west of it) stays in UTC: no stored date may
    crash a command, in any time zone."""
    utc = as_utc(at)
    try:
        return utc.astimezone()
    except (OverflowError, ValueError, OSError):
        return utc
