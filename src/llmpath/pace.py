"""Pace from the learner's own history: completions per week, the streak of active days, finish estimates.

Pure functions over plain events; `now` is always passed in, so tests inject time instead of sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from llmpath.vocab import as_utc

PACE_WEEKS = 4  # pace is measured over this many recent weeks


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
    return as_utc(at).astimezone().date()


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


def hours_per_week(weeks: Sequence[Week]) -> float:
    """Average over the most recent PACE_WEEKS weeks (including the current one)."""
    recent = weeks[-PACE_WEEKS:]
    return sum(w.hours for w in recent) / len(recent) if recent else 0.0


def finish_date(hours_left: float, pace: float, now: datetime) -> date | None:
    """When `hours_left` will be done at `pace` hours a week; None without a pace to go on."""
    if hours_left <= 0:
        return _local_day(now)
    if pace <= 0:
        return None
    return _local_day(now) + timedelta(days=math.ceil(7 * hours_left / pace))
