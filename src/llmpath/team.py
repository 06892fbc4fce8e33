"""A study group's progress in one roadmap: a row per learner, what `llmpath team` shows and exports.

Pure functions over the planner `Graph` and each learner's statuses (`store.team_rows`, read in a constant
number of queries): counts per phase (optionally within a track) or per track, the total and percent, the
last activity; the order a mentor reads them in; the mentor's report as markdown, CSV or JSON text.
Counting costs one pass over each learner's statuses, not over the roadmap once per learner.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from llmpath.errors import LlmpathError
from llmpath.planner import Graph, TrackInfo

if TYPE_CHECKING:
    from llmpath.store import LearnerProgress  # a learner's statuses and last activity, as stored

SORTS = ("progress", "activity", "name")
BY = ("phase", "track")
MAX_LISTED = 10  # learners named in "no learner 'x'; learners are: …"


class Group(NamedTuple):
    """A column of the team table: a phase or a track, with the topics it counts."""

    id: str
    title: str
    topics: frozenset[str]


class Count(NamedTuple):
    total: int
    done: int = 0
    skipped: int = 0
    doing: int = 0

    @property
    def finished(self) -> int:
        """Done or skipped: what `status` counts as finished."""
        return self.done + self.skipped

    @property
    def percent(self) -> float:
        return 100.0 * self.finished / self.total if self.total else 100.0


@dataclass(frozen=True)
class LearnerRow:
    learner: str
    groups: tuple[Count, ...]  # one per `TeamReport.groups`, in that order
    total: Count
    last_activity: datetime | None
    following: str | None  # the track the learner follows, if any


@dataclass(frozen=True)
class TeamReport:
    roadmap_id: str
    roadmap_title: str
    by: str  # "phase" or "track"
    track: TrackInfo | None  # --track: only its topics count
    groups: list[Group]
    rows: list[LearnerRow]
    sort: str


def phase_groups(graph: Graph, within: Iterable[str] | None = None) -> list[Group]:
    """A group per phase; `within` (a track) keeps only its topics and leaves out phases without any."""
    members = None if within is None else set(within)
    topics: dict[str, list[str]] = {phase.id: [] for phase in graph.phases}
    for topic in graph.topics.values():
        if members is None or topic.id in members:
            topics[topic.phase_id].append(topic.id)
    return [
        Group(phase.id, phase.title, frozenset(topics[phase.id]))
        for phase in graph.phases
        if members is None or topics[phase.id]
    ]


def track_groups(graph: Graph, tracks: Sequence[TrackInfo]) -> list[Group]:
    """A group per track of the roadmap (tracks overlap: a topic counts in each track that holds it)."""
    return [Group(t.id, t.title, frozenset(x for x in t.topics if x in graph.topics)) for t in tracks]


def build(
    graph: Graph,
    learners: Iterable[LearnerProgress],
    *,
    roadmap_id: str,
    roadmap_title: str,
    by: str = "phase",
    track: TrackInfo | None = None,
    tracks: Sequence[TrackInfo] = (),
    sort: str = "progress",
) -> TeamReport:
    """Each learner's progress per group and in total, sorted (`sort_rows`).

    `by="phase"`: a group per phase, counting only `track`'s topics when one is given (as `status` does for
    a followed track). `by="track"`: a group per track of `tracks`; the total is then the whole roadmap.
    """
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, not {by!r}")
    if by == "track":
        if track is not None:
            raise ValueError("by='track' counts every track; a single track goes with by='phase'")
        groups = track_groups(graph, tracks)
        scope: frozenset[str] | None = None
    else:
        scope = frozenset(t for t in track.topics if t in graph.topics) if track is not None else None
        groups = phase_groups(graph, scope)
    where: dict[str, list[int]] = {}  # topic -> the groups counting it
    for index, group in enumerate(groups):
        for topic_id in group.topics:
            where.setdefault(topic_id, []).append(index)
    counted = set(graph.topics) if scope is None else scope
    empty = [Count(len(group.topics)) for group in groups]
    total_topics = len(counted)
    rows = []
    for learner in learners:
        tallies = [[0, 0, 0] for _ in groups]  # done, skipped, doing
        totals = [0, 0, 0]
        for topic_id, status in learner.statuses.items():
            slot = _SLOT.get(status)
            if slot is None or topic_id not in counted:  # todo, or a topic outside the scope (or orphaned)
                continue
            totals[slot] += 1
            for index in where.get(topic_id, ()):
                tallies[index][slot] += 1
        rows.append(
            LearnerRow(
                learner.learner,
                tuple(Count(e.total, *t) for e, t in zip(empty, tallies, strict=True)),
                Count(total_topics, *totals),
                learner.last_activity,
                learner.following,
            )
        )
    return TeamReport(roadmap_id, roadmap_title, by, track, groups, sort_rows(rows, sort), sort)


_SLOT = {"done": 0, "skipped": 1, "doing": 2}


def sort_rows(rows: Iterable[LearnerRow], sort: str = "progress") -> list[LearnerRow]:
    """`progress`: most finished first, then the most recent activity, then the name; `activity`: the most
    recent first, then progress, then the name; `name`: by name (case aside). No activity sorts last."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")

    def name(row: LearnerRow) -> tuple[str, str]:
        return (row.learner.casefold(), row.learner)

    def recent(row: LearnerRow) -> tuple[bool, float]:
        at = row.last_activity
        return (at is None, -at.timestamp() if at is not None else 0.0)

    def progress(row: LearnerRow) -> float:
        return -row.total.percent

    if sort == "name":
        return sorted(rows, key=name)
    if sort == "activity":
        return sorted(rows, key=lambda r: (recent(r), progress(r), name(r)))
    return sorted(rows, key=lambda r: (progress(r), recent(r), name(r)))


def resolve_learner(known: Sequence[str], name: str, where: str = "this roadmap") -> str:
    """A learner of `known` from their exact name, the name in another case, or a unique prefix; else one
    line with the close names (difflib) and the known ones."""
    if name in known:
        return name
    folded = name.casefold()
    for matches in (
        [k for k in known if k.casefold() == folded],
        [k for k in known if folded and k.casefold().startswith(folded)],
    ):
        if len(matches) == 1:
            return matches[0]
    if not known:
        raise LlmpathError(f"no learner '{name}': nobody has progress in {where} yet")
    import difflib  # only on the error path

    close = difflib.get_close_matches(name, list(known), n=5, cutoff=0.5)
    close += [k for k in known if folded and folded in k.casefold() and k not in close][: 5 - len(close)]
    quoted = [f"'{c}'" for c in close]
    either = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1] if quoted else ""
    hint = f"; did you mean {either}?" if either else ""
    listed = ", ".join(known[:MAX_LISTED])
    if len(known) > MAX_LISTED:
        listed += f" and {len(known) - MAX_LISTED} more (`llmpath team status`)"
    raise LlmpathError(f"no learner '{name}' in {where}{hint} (learners: {listed})")


# --- plain data and files ---------------------------------------------------------------------------------


def _count_dict(count: Count) -> dict[str, Any]:
    return {
        "total": count.total,
        "done": count.done,
        "skipped": count.skipped,
        "doing": count.doing,
        "finished": count.finished,
        "percent": round(count.percent, 1),
    }


def as_dict(report: TeamReport) -> dict[str, Any]:
    """What `llmpath team status --json` prints (times stay `datetime` for the caller to format)."""
    return {
        "roadmap": {"id": report.roadmap_id, "title": report.roadmap_title},
        "track": {"id": report.track.id, "title": report.track.title} if report.track else None,
        "by": report.by,
        "sort": report.sort,
        "groups": [{"id": g.id, "title": g.title, "total": len(g.topics)} for g in report.groups],
        "learners": [
            {
                "learner": row.learner,
                "following": row.following,
                "last_activity": row.last_activity,
                "groups": [
                    {"id": group.id, **_count_dict(count)}
                    for group, count in zip(report.groups, row.groups, strict=True)
                ],
                "total": _count_dict(row.total),
            }
            for row in report.rows
        ],
    }


def _iso(value: Any) -> Any:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


def to_json(report: TeamReport, at: datetime) -> str:
    """The JSON report: `as_dict` with ISO 8601 times and the moment it was made."""
    return (
        json.dumps({**as_dict(report), "generated_at": at}, indent=2, ensure_ascii=False, default=_iso) + "\n"
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """A text cell: control characters made visible (the file is read in terminals too), and a leading
    character a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) quoted with `'`."""
    from llmpath.terminal import visible

    shown = visible(value)
    return "'" + shown if shown.startswith(_FORMULA_START) else shown


def to_csv(report: TeamReport) -> str:
    """A row per learner: name, followed track, last activity (ISO 8601, UTC), finished/total/percent, then
    each group's finished count and its size (`<id>`, `<id>_total`): numbers a spreadsheet sums."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["learner", "following", "last_activity", "finished", "total", "percent", "doing"]
    for group in report.groups:
        header += [_csv_text(group.id), _csv_text(f"{group.id}_total")]
    writer.writerow(header)
    for row in report.rows:
        cells: list[str | int | float] = [
            _csv_text(row.learner),
            _csv_text(row.following or ""),
            row.last_activity.isoformat(timespec="seconds") if row.last_activity else "",
            row.total.finished,
            row.total.total,
            round(row.total.percent, 1),
            row.total.doing,
        ]
        for count in row.groups:
            cells += [count.finished, count.total]
        writer.writerow(cells)
    return out.getvalue()


def to_markdown(report: TeamReport, at: datetime) -> str:
    """A mentor's report: a heading naming the roadmap (and track), the date, and a table with a column
    per group (`finished/total`), the total, percent and last activity (local time)."""
    from llmpath.export import escape_markdown
    from llmpath.vocab import local_time

    def when(value: datetime | None) -> str:
        return local_time(value).strftime("%Y-%m-%d %H:%M") if value else "—"

    title = escape_markdown(report.roadmap_title)
    lines = [f"# Study group: {title}", ""]
    scope = (
        f"track {escape_markdown(report.track.title)} (`{report.track.id}`) only; " if report.track else ""
    )
    learners = len(report.rows)
    lines.append(
        f"Roadmap `{report.roadmap_id}`; {scope}{learners} learner{'' if learners == 1 else 's'}; "
        f"as of {when(at)}. Finished counts done and skipped topics."
    )
    lines.append("")
    if not report.rows:
        lines.append("Nobody has progress in this roadmap yet.")
        return "\n".join(lines) + "\n"
    headers = [
        "Learner",
        *(escape_markdown(g.title) for g in report.groups),
        "Finished",
        "%",
        "Last activity",
    ]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "---|" + "---:|" * (len(report.groups) + 2) + "---|")
    for row in report.rows:
        cells = [
            escape_markdown(row.learner),
            *(f"{c.finished}/{c.total}" for c in row.groups),
            f"{row.total.finished}/{row.total.total}",
            f"{row.total.percent:.0f}%",
            when(row.last_activity),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
