"""The vocabulary every module shares: a topic's statuses, what satisfies a prerequisite, the keys of stored
settings, and times in UTC. Standard library only, so any module may import it at start-up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal, get_args

Status = Literal["todo", "doing", "done", "skipped"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
# "skipped" means "I know this already": it satisfies a prerequisite as "done" does.
SATISFIED: Final[frozenset[str]] = frozenset({"done", "skipped"})

# Keys of the `setting` table.
ROADMAP_SETTING: Final = "roadmap_path"  # the roadmap `llmpath use` chose
REVIEW_SETTING: Final = "review_every_days"  # `llmpath review --every`
ETA_SETTING: Final = "eta"  # `llmpath config eta on|off`
CONFIG_SETTINGS: Final[dict[str, tuple[str, ...]]] = {ETA_SETTING: ("on", "off")}  # what `config` may set


def track_setting(roadmap_id: str) -> str:
    """The key of the track a learner follows in one roadmap (tracks belong to a roadmap)."""
    return f"track:{roadmap_id}"


def as_utc(at: datetime) -> datetime:
    """A datetime in UTC; a naive one is taken to be UTC already (as SQLite hands them back)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
