"""Pure planning over the prerequisite graph: no I/O, no database, no Rich.

A `Graph` holds topics in roadmap order with their prerequisite edges both ways; `statuses` maps topic ids to
`todo | doing | done | skipped` (a missing id is `todo`). Everything here is linear in topics + edges, except
where a docstring says otherwise.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from llmpath.vocab import SATISFIED


class PhaseInfo(NamedTuple):
    id: str
    title: str
    summary: str = ""


class TopicInfo(NamedTuple):  # a tuple: built once per topic on every command, so it must be cheap
    id: str
    title: str
    phase_id: str
    position: int
    hours: float | None = None
    kind: str = "topic"
    difficulty: str | None = None


class TrackInfo(NamedTuple):
    id: str
    title: str
    summary: str
    goals: tuple[str, ...]
    topics: tuple[str, ...]  # the goals and everything they require, in roadmap order


@dataclass
class Graph:
    phases: list[PhaseInfo]
    topics: dict[str, TopicInfo]  # in roadmap order
    requires: dict[str, list[str]]  # topic -> its direct prerequisites
    required_by: dict[str, list[str]] = field(init=False)  # topic -> topics requiring it

    def __post_init__(self) -> None:
        self.required_by = {topic_id: [] for topic_id in self.topics}
        for topic_id in self.topics:
            for required in self.requires.setdefault(topic_id, []):
                self.required_by[required].append(topic_id)

    @classmethod
    def from_edges(
        cls, phases: list[PhaseInfo], topics: Iterable[TopicInfo], edges: Iterable[tuple[str, str]]
    ) -> Graph:
        """Build from `(topic, requires)` pairs; topics must come in roadmap order, edges in any order.

        Prerequisite lists are left in edge order; `in_roadmap_order` sorts the few that get displayed.
        """
        by_id = {t.id: t for t in topics}
        requires: dict[str, list[str]] = {topic_id: [] for topic_id in by_id}
        for topic_id, required in edges:
            requires[topic_id].append(required)
        return cls(phases, by_id, requires)

    def in_roadmap_order(self, topic_ids: Iterable[str]) -> list[str]:
        return sorted(topic_ids, key=lambda t: self.topics[t].position)

    def phase_topics(self, phase_id: str) -> list[str]:
        return [t.id for t in self.topics.values() if t.phase_id == phase_id]


Statuses = Mapping[str, str]


def status_of(statuses: Statuses, topic_id: str) -> str:
    return statuses.get(topic_id, "todo")


def is_satisfied(statuses: Statuses, topic_id: str) -> bool:
    return statuses.get(topic_id, "todo") in SATISFIED


def open_prerequisites(graph: Graph, statuses: Statuses, topic_id: str) -> list[str]:
    """Direct prerequisites of a topic that are neither done nor skipped (in edge order)."""
    return [r for r in graph.requires[topic_id] if not is_satisfied(statuses, r)]


def is_available(graph: Graph, statuses: Statuses, topic_id: str) -> bool:
    return not is_satisfied(statuses, topic_id) and not open_prerequisites(graph, statuses, topic_id)


def available_topics(graph: Graph, statuses: Statuses, within: Iterable[str] | None = None) -> list[str]:
    """Topics to study now: not done or skipped, every prerequisite done or skipped.

    Topics in progress come first, then roadmap order. `within` restricts the candidates (a phase, a goal).
    """
    candidates = graph.topics if within is None else set(within)
    ready = [
        topic_id
        for topic_id in graph.topics
        if topic_id in candidates and is_available(graph, statuses, topic_id)
    ]
    return sorted(ready, key=lambda t: status_of(statuses, t) != "doing")


def unlocked_by(graph: Graph, statuses: Statuses, topic_id: str) -> list[str]:
    """Topics that become available once `topic_id` is done (given everything else stays as it is)."""
    return [
        dependent
        for dependent in graph.required_by[topic_id]
        if not is_satisfied(statuses, dependent)
        and all(r == topic_id or is_satisfied(statuses, r) for r in graph.requires[dependent])
    ]


def newly_available(graph: Graph, before: Statuses, after: Statuses) -> list[str]:
    """Topics available after a change that were not before (excluding the changed topics themselves)."""
    changed = {t for t in graph.topics if status_of(before, t) != status_of(after, t)}
    touched = {d for t in changed for d in graph.required_by[t]} - changed
    return [
        t
        for t in graph.topics
        if t in touched and is_available(graph, after, t) and not is_available(graph, before, t)
    ]


def transitive_unlocks(
    graph: Graph, statuses: Statuses, within: Iterable[str] | None = None
) -> dict[str, int]:
    """For every topic: how many unfinished topics depend on it, directly or through others.

    With `within` (a goal's open ancestors), only dependents inside it count.

    Descendant sets are Python ints used as bitsets, filled in reverse topological order, so the whole
    table costs one pass over the edges (with word-sized operations per edge).
    """
    index = {topic_id: i for i, topic_id in enumerate(graph.topics)}
    counted = None if within is None else set(within)
    unfinished = 0
    for topic_id, i in index.items():
        if not is_satisfied(statuses, topic_id) and (counted is None or topic_id in counted):
            unfinished |= 1 << i
    descendants: dict[str, int] = {}
    # Any topological order will do here, so graphlib's plain one (no roadmap-order heap).
    for topic_id in graphlib.TopologicalSorter(graph.required_by).static_order():
        bits = 0
        for dependent in graph.required_by[topic_id]:
            bits |= descendants[dependent] | (1 << index[dependent])
        descendants[topic_id] = bits
    return {topic_id: (descendants[topic_id] & unfinished).bit_count() for topic_id in graph.topics}


def topological_order(graph: Graph, subset: Iterable[str] | None = None) -> list[str]:
    """A study order where every topic comes after its prerequisites, preferring roadmap order."""
    members = set(graph.topics if subset is None else subset)
    position = {topic_id: t.position for topic_id, t in graph.topics.items()}
    sorter = graphlib.TopologicalSorter({t: [r for r in graph.requires[t] if r in members] for t in members})
    sorter.prepare()
    ready: list[tuple[int, str]] = []
    order: list[str] = []
    while sorter.is_active():
        for topic_id in sorter.get_ready():
            heapq.heappush(ready, (position[topic_id], topic_id))
        _, topic_id = heapq.heappop(ready)
        order.append(topic_id)
        sorter.done(topic_id)
    return order


def open_ancestors(graph: Graph, statuses: Statuses, targets: Iterable[str]) -> set[str]:
    """The targets and every unfinished topic they transitively require (through unfinished topics)."""
    seen: set[str] = set()
    stack = [t for t in targets if not is_satisfied(statuses, t)]
    while stack:
        topic_id = stack.pop()
        if topic_id in seen:
            continue
        seen.add(topic_id)
        stack.extend(open_prerequisites(graph, statuses, topic_id))
    return seen


def study_path(graph: Graph, statuses: Statuses, targets: Iterable[str]) -> list[str]:
    """Every topic still to do before (and including) the targets, in a valid study order."""
    return topological_order(graph, open_ancestors(graph, statuses, targets))


def blocking_tree(graph: Graph, statuses: Statuses, topic_id: str) -> list[tuple[int, str, bool]]:
    """Open prerequisites blocking a topic, depth-first: `(depth, topic id, already listed above)`.

    A stack of iterators rather than recursion: a chain of thousands of topics is as deep as it is long.
    """
    rows: list[tuple[int, str, bool]] = []
    listed: set[str] = set()
    stack = [iter(graph.in_roadmap_order(open_prerequisites(graph, statuses, topic_id)))]
    while stack:
        required = next(stack[-1], None)
        if required is None:
            stack.pop()
            continue
        repeat = required in listed
        rows.append((len(stack) - 1, required, repeat))
        listed.add(required)
        if not repeat:
            stack.append(iter(graph.in_roadmap_order(open_prerequisites(graph, statuses, required))))
    return rows


def redundant_edges(graph: Graph) -> list[tuple[str, str]]:
    """`(topic, requires)` edges implied by another path (A requires C while A -> B -> ... -> C).

    Quadratic in the worst case (a reachability set per topic); used by `validate`, not on the hot path.
    """
    index = {topic_id: i for i, topic_id in enumerate(graph.topics)}
    ancestors: dict[str, int] = {}
    for topic_id in topological_order(graph):
        bits = 0
        for required in graph.requires[topic_id]:
            bits |= ancestors[required] | (1 << index[required])
        ancestors[topic_id] = bits
    redundant = []
    for topic_id, prerequisites in graph.requires.items():
        for required in prerequisites:
            others = [r for r in prerequisites if r != required]
            if any(ancestors[other] >> index[required] & 1 for other in others):
                redundant.append((topic_id, required))
    return redundant


@dataclass(frozen=True)
class PhaseProgress:
    phase: PhaseInfo
    total: int
    done: int
    skipped: int
    doing: int
    hours_left: float

    @property
    def finished(self) -> int:
        return self.done + self.skipped

    @property
    def percent(self) -> float:
        return 100.0 * self.finished / self.total if self.total else 100.0


def phase_progress(
    graph: Graph, statuses: Statuses, within: Iterable[str] | None = None
) -> list[PhaseProgress]:
    """Progress per phase; with `within` (a track) only those topics count and empty phases are left out."""
    counts: dict[str, dict[str, float]] = {
        p.id: {"total": 0, "done": 0, "skipped": 0, "doing": 0, "hours": 0.0} for p in graph.phases
    }
    members = None if within is None else set(within)
    for topic in graph.topics.values():
        if members is not None and topic.id not in members:
            continue
        row = counts[topic.phase_id]
        status = status_of(statuses, topic.id)
        row["total"] += 1
        if status in row:
            row[status] += 1
        if status not in SATISFIED:
            row["hours"] += topic.hours or 0.0
    return [
        PhaseProgress(
            p,
            int(counts[p.id]["total"]),
            int(counts[p.id]["done"]),
            int(counts[p.id]["skipped"]),
            int(counts[p.id]["doing"]),
            counts[p.id]["hours"],
        )
        for p in graph.phases
        if members is None or counts[p.id]["total"]
    ]


def total_progress(rows: list[PhaseProgress]) -> PhaseProgress:
    return PhaseProgress(
        PhaseInfo("total", "Total"),
        sum(r.total for r in rows),
        sum(r.done for r in rows),
        sum(r.skipped for r in rows),
        sum(r.doing for r in rows),
        sum(r.hours_left for r in rows),
    )


def track_overview(
    graph: Graph, statuses: Statuses, tracks: Sequence[TrackInfo], following: str | None
) -> list[dict[str, Any]]:
    """Each track with its size and the learner's progress in it: what `llmpath track` lists."""
    rows = []
    for track in tracks:
        topics = [t for t in track.topics if t in graph.topics]
        progress = total_progress(phase_progress(graph, statuses, within=topics))
        rows.append(
            {
                "id": track.id,
                "title": track.title,
                "summary": track.summary,
                "goals": list(track.goals),
                "total": progress.total,
                "done": progress.done,
                "skipped": progress.skipped,
                "doing": progress.doing,
                "hours": sum(graph.topics[t].hours or 0.0 for t in topics),
                "hours_left": progress.hours_left,
                "following": track.id == following,
            }
        )
    return rows


def due_for_review(
    graph: Graph,
    statuses: Statuses,
    finished_at: Mapping[str, datetime],
    every: timedelta | None,
    now: datetime,
) -> list[str]:
    """Done topics last finished more than `every` ago, oldest first; none when review is off."""
    if every is None:
        return []
    due = [
        t
        for t in graph.topics
        if status_of(statuses, t) == "done" and t in finished_at and now - finished_at[t] >= every
    ]
    return sorted(due, key=lambda t: finished_at[t])


def scope_of(
    track: TrackInfo | None, goals: Sequence[str], phase_topics: Iterable[str] | None = None
) -> set[str] | None:
    """The topics `next` and the dashboard choose from (None: all of them).

    A phase narrows to its topics. A followed track narrows to the track's topics, unless a goal is set: a
    goal is the more specific aim, and `next` leads to it even when it lies outside the track.
    """
    scope = None if phase_topics is None else set(phase_topics)
    if track is not None and not goals:
        scope = set(track.topics) if scope is None else scope & set(track.topics)
    return scope


class Reached(NamedTuple):
    """An aim the learner has reached: `next` and the dashboard say so and suggest what to do now."""

    aim: str  # "goal", "track" or "roadmap" (every topic finished)
    topics: tuple[str, ...]  # the goals, for aim "goal"; else empty
    total: int  # topics the aim counts: the goals, the track's topics or the roadmap's
    done: int
    skipped: int


def aim_reached(
    graph: Graph, statuses: Statuses, *, goals: Sequence[str] = (), track: TrackInfo | None = None
) -> Reached | None:
    """What the learner has reached of what they aimed for, or None while something is left to do.

    The whole roadmap finished is the biggest news, so it comes first. Then a goal (while one is set, it is
    the aim, even inside a track; goals the roadmap no longer has are left out), then the followed track.
    """

    def reached(aim: str, topic_ids: Sequence[str]) -> Reached | None:
        if not all(is_satisfied(statuses, t) for t in topic_ids):  # stops at the first open topic
            return None
        counted = [status_of(statuses, t) for t in topic_ids]
        return Reached(aim, (), len(counted), counted.count("done"), counted.count("skipped"))

    everything = reached("roadmap", list(graph.topics))
    if everything is not None and graph.topics:
        return everything
    if any(g in graph.topics for g in goals):
        return goal_reached(graph, statuses, goals)
    if track is not None:
        return reached("track", [t for t in track.topics if t in graph.topics])
    return None


def goal_reached(graph: Graph, statuses: Statuses, goals: Sequence[str]) -> Reached | None:
    """The goals (those the roadmap still has) when every one is done or skipped, else None."""
    aims = tuple(g for g in goals if g in graph.topics)
    counted = [status_of(statuses, g) for g in aims]
    if not aims or any(status not in SATISFIED for status in counted):
        return None
    return Reached("goal", aims, len(aims), counted.count("done"), counted.count("skipped"))


def what_now(
    reached: Reached, *, track: TrackInfo | None, track_left: bool, has_tracks: bool, review_on: bool
) -> tuple[str, ...]:
    """What to suggest once an aim is reached, as keys that `render` puts into words.

    `track_left`: the followed track still has topics to do (clearing a reached goal leads back to it).
    """
    if reached.aim == "roadmap":
        return () if review_on else ("review",)
    if reached.aim == "goal":
        if track is not None:  # clearing the goal leads back to the track, finished or not
            return ("new-goal", "clear-goal-to-track", *(() if track_left else ("other-track",)))
        return ("new-goal", "clear-goal", *(("pick-track",) if has_tracks else ()))
    return ("other-track", "new-goal", "clear-track")


def already_finished(statuses: Statuses, topic_ids: Iterable[str]) -> list[str]:
    """The topics among `topic_ids` that are done or skipped: a goal that cannot be aimed for any more."""
    return [t for t in topic_ids if is_satisfied(statuses, t)]


def number_notes(graph: Graph, notes: Iterable[tuple[str, datetime, str]]) -> list[dict[str, Any]]:
    """Notes `(topic id, at, text)`, oldest first, as `notes` lists them: grouped by topic in roadmap order
    (topics the roadmap no longer has last, by id), numbered from 1 within each topic. That number is what
    `note TOPIC --edit N` and `--delete N` take."""
    by_topic: dict[str, list[tuple[datetime, str]]] = {}
    for topic_id, at, text in notes:
        by_topic.setdefault(topic_id, []).append((at, text))
    order = sorted(
        by_topic,
        key=lambda t: (t not in graph.topics, graph.topics[t].position if t in graph.topics else 0, t),
    )
    return [
        {
            "topic": topic_id,
            "title": graph.topics[topic_id].title if topic_id in graph.topics else topic_id,
            "number": number,
            "at": at,
            "text": text,
        }
        for topic_id in order
        for number, (at, text) in enumerate(by_topic[topic_id], start=1)
    ]


def next_topics(
    graph: Graph,
    statuses: Statuses,
    *,
    within: Iterable[str] | None = None,
    goals: Sequence[str] = (),
    sort: str = "roadmap",
    review: Sequence[str] = (),
) -> list[tuple[str, bool]]:
    """What `next` offers, in order, as `(topic id, is a review)`: available topics, then reviews due.

    `sort="roadmap"` keeps topics in progress first, then roadmap order; `sort="unlocks"` ranks by how many
    unfinished topics each one leads to (only those on the way to the goals, when goals are set), ties in
    the default order.
    """
    candidates: set[str] | None = None if within is None else set(within)
    on_the_way = open_ancestors(graph, statuses, goals) if goals else None
    if on_the_way is not None:
        candidates = on_the_way if candidates is None else candidates & on_the_way
    ready = available_topics(graph, statuses, candidates)
    if sort == "unlocks":
        totals = transitive_unlocks(graph, statuses, on_the_way)
        ready.sort(key=lambda t: -totals[t])
    # Reviews follow the phase filter but not the goal: a goal narrows what is new, not what to revisit.
    in_phase = None if within is None else set(within)
    return [(t, False) for t in ready] + [(t, True) for t in review if in_phase is None or t in in_phase]


def describe_next(
    graph: Graph, statuses: Statuses, chosen: Sequence[tuple[str, bool]], *, goals: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The plain data `next` prints (and `--json` emits) for the chosen topics.

    `unlocks`: topics that become available once this one is done; `unlocks_total`: unfinished topics that
    depend on it directly or not (only those on the way to the goals, when goals are set). Counted for the
    shown topics only: a walk from each, not a table over the whole graph.
    """
    on_the_way = open_ancestors(graph, statuses, goals) if goals else None
    return [
        _item(graph, statuses, t, count_dependents(graph, statuses, t, on_the_way), review=is_review)
        for t, is_review in chosen
    ]


def next_items(
    graph: Graph,
    statuses: Statuses,
    *,
    within: Iterable[str] | None = None,
    goals: Sequence[str] = (),
    sort: str = "roadmap",
    review: Sequence[str] = (),
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """`next_topics` described: at most `limit` items."""
    chosen = next_topics(graph, statuses, within=within, goals=goals, sort=sort, review=review)
    return describe_next(graph, statuses, chosen[:limit], goals=goals)


def count_dependents(graph: Graph, statuses: Statuses, topic_id: str, within: set[str] | None = None) -> int:
    """How many unfinished topics depend on `topic_id`, directly or through others (one walk)."""
    seen: set[str] = set()
    stack = list(graph.required_by[topic_id])
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(graph.required_by[current])
    return sum(1 for t in seen if not is_satisfied(statuses, t) and (within is None or t in within))


def _item(graph: Graph, statuses: Statuses, topic_id: str, total: int, *, review: bool) -> dict[str, Any]:
    topic = graph.topics[topic_id]
    return {
        "id": topic_id,
        "title": topic.title,
        "phase": topic.phase_id,
        "status": status_of(statuses, topic_id),
        "review": review,
        "kind": topic.kind,
        "difficulty": topic.difficulty,
        "hours": topic.hours,
        "requires": graph.in_roadmap_order(graph.requires[topic_id]),
        "unlocks": [] if review else unlocked_by(graph, statuses, topic_id),
        "unlocks_total": total,
    }


def topic_state(graph: Graph, statuses: Statuses, topic_id: str) -> str:
    """done | skipped | doing | available | blocked: the mark a topic gets in listings."""
    status = status_of(statuses, topic_id)
    if status in ("done", "skipped", "doing"):
        return status
    return "available" if not open_prerequisites(graph, statuses, topic_id) else "blocked"


def describe_topic(
    graph: Graph,
    statuses: Statuses,
    topic_id: str,
    *,
    fields: Mapping[str, Any],
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    notes: Sequence[tuple[datetime, str]] = (),
) -> dict[str, Any]:
    """Everything `show` prints (and `show --json` emits) about one topic.

    `fields` are the topic's stored fields (summary, concepts, tools, resources, …); the rest comes from
    the graph and the learner's progress.
    """
    topic = graph.topics[topic_id]
    phase_titles = {p.id: p.title for p in graph.phases}

    def brief(other: str) -> dict[str, Any]:
        return {
            "id": other,
            "title": graph.topics[other].title,
            "status": status_of(statuses, other),
            "state": topic_state(graph, statuses, other),
        }

    return {
        "id": topic_id,
        "title": topic.title,
        "phase": topic.phase_id,
        "phase_title": phase_titles.get(topic.phase_id, topic.phase_id),
        "kind": topic.kind,
        "difficulty": topic.difficulty,
        "hours": topic.hours,
        **fields,
        "status": status_of(statuses, topic_id),
        "state": topic_state(graph, statuses, topic_id),
        "started_at": started_at,
        "finished_at": finished_at,
        "requires": [brief(r) for r in graph.in_roadmap_order(graph.requires[topic_id])],
        "required_by": [brief(r) for r in graph.in_roadmap_order(graph.required_by[topic_id])],
        "blocked_by": [
            {"depth": depth, "id": other, "title": graph.topics[other].title, "repeat": repeat}
            for depth, other, repeat in blocking_tree(graph, statuses, topic_id)
        ],
        "notes": [{"at": at, "text": text} for at, text in notes],
    }
