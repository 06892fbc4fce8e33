"""Pace from the learner's own history: completions per week, the streak of active days, finish estimates.

Pure functions over plain events; `now` is always passed in, so tests inject time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from llmpath.vocab import as_utc, local_time

# Pace is measured over this many days up to now: a rolling window, so a calendar boundary (a new week, a
# new month) never moves it; only time passing and the learner's own completions do.
PACE_DAYS = 28


@dataclass(frozen=True)
class Completion:
    topic_id: str
    at: datetime  # aware


@dataclass(frozen=True)
class Week:
    start: date  # Monday, local time
    topics: int
    hours: float


def _local_day(at: datetime) -> date:
    return local_time(at).date()


def weekly(
    completions: Iterable[Completion], hours: Mapping[str, float | None], now: datetime, weeks: int = 8
) -> list[Week]:
    """Topics and their estimated hours completed in each of the last `weeks` weeks, oldest first."""
    this_monday = _local_day(now) - timedelta(days=_local_day(now).weekday())
    starts = [this_monday - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    topics = dict.fromkeys(starts, 0)
    done_hours = dict.fromkeys(starts, 0.0)
    for completion in completions:
        day = _local_day(completion.at)
        monday = day - timedelta(days=day.weekday())
        if monday in topics:
            topics[monday] += 1
            done_hours[monday] += hours.get(completion.topic_id) or 0.0
    return [Week(start, topics[start], done_hours[start]) for start in starts]


def streak(active: Iterable[datetime], now: datetime) -> int:
    """Consecutive days with any progress, ending today (or yesterday, if today has none yet)."""
    days = {_local_day(at) for at in active}
    day = _local_day(now)
    if day not in days:
        day -= timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


@dataclass(frozen=True)
class Pace:
    """Hours a week over the `days` up to now, and how many completions that rests on."""

    hours_per_week: float
    topics: int  # topics completed in the window (some may have no hour estimate)
    days: int = PACE_DAYS


def measure(
    completions: Iterable[Completion], hours: Mapping[str, float | None], now: datetime, days: int = PACE_DAYS
) -> Pace:
    """The pace over the `days` up to `now` (a rolling window, not calendar weeks): hours of the topics
    completed in it, per week. Completions after `now` do not count."""
    end = as_utc(now)
    start = end - timedelta(days=days)
    recent = [c for c in completions if start < as_utc(c.at) <= end]
    total = sum(hours.get(c.topic_id) or 0.0 for c in recent)
    return Pace(total * 7 / days, len(recent), days)


def finish_date(hours_left: float, pace: float, now: datetime) -> date | None:
    """The local day on which `hours_left` will be done at `pace` hours a week; None without a pace.

    Counted from the moment `now`, not from the start of today, so the date moves smoothly with time (two
    minutes later is the same date, unless the finish itself crosses midnight).
    """
    if hours_left <= 0:
        return _local_day(now)
    if pace <= 0:
        return None
    try:
        return _local_day(as_utc(now) + timedelta(weeks=hours_left / pace))
    except OverflowError:  # beyond the year 9999
        return date.max


class StatusChange(Protocol):
    """What pace needs of a recorded status change (`store.load_events` returns these)."""

    @property
    def topic_id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def old_status(self) -> str: ...
    @property
    def new_status(self) -> str: ...


def completions(events: Iterable[StatusChange], statuses: Mapping[str, str]) -> list[Completion]:
    """Completed topics, each counted once: at its latest completion, and only while it is still done.

    A topic reset and done again (or restored by an import) was not studied twice; a review (done -> done)
    is not a new completion. `events` may come in any order.
    """
    latest: dict[str, datetime] = {}
    for event in events:
        completed = event.new_status == "done" and event.old_status != "done"
        if not completed or statuses.get(event.topic_id) != "done":
            continue
        if event.topic_id not in latest or as_utc(event.at) > as_utc(latest[event.topic_id]):
            latest[event.topic_id] = event.at
    return [Completion(topic_id, at) for topic_id, at in latest.items()]


@dataclass(frozen=True)
class Estimate:
    phase_id: str
    title: str
    hours_left: float
    finish: date | None


def finish_estimates(phases: Sequence[tuple[str, str, float]], pace: float, now: datetime) -> list[Estimate]:
    """A finish date per `(phase id, title, hours left)`, phases studied in the order given.

    A phase finishes once it and every phase before it are done, so its date is for the hours left up to
    and including it.
    """
    estimates = []
    through = 0.0
    for phase_id, title, hours_left in phases:
        through += hours_left
        estimates.append(Estimate(phase_id, title, hours_left, finish_date(through, pace, now)))
    return estimates
