"""The roadmap file: its pydantic models (the one definition of the format) and its loader.

`load_roadmap(path)` either returns a fully valid `Roadmap` or raises `RoadmapError` listing every problem
it found, each with the file, the line PyYAML gives for it, and the phase/topic it belongs to. Parsing never
builds Python objects (`safe` loaders only) and refuses files that would hang or exhaust memory.
"""

from __future__ import annotations

import difflib
import graphlib
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from llmpath.errors import Problem, RoadmapError
from llmpath.roadmap_yaml import LineMap, gc_paused, parse_yaml, read_roadmap_bytes

ROADMAP_FORMAT_VERSION = 1  # the `schema:` a roadmap file declares (not the database schema)
# Problems collected and listed (by `validate`; a command's error lists `RoadmapError.SHOWN`); past these,
# problems are only counted. "Did you mean" hints compare a name with every id in the file, so they stop
# after this many comparisons in all (well under a second): a large file of typos gets its first hints only.
MAX_PROBLEMS = 200
HINT_COMPARISONS = 10_000
# Lengths of a topic's lists. Far above what a topic of a few hours to a couple of weeks of study needs; a
# longer list is a generated or broken file, and refusing it early keeps one topic from costing seconds.
MAX_REQUIRES = 100
MAX_LIST_ITEMS = 100  # concepts, tools, resources
MAX_NAMES = 50  # aliases, replaces, sources

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80)]
# One line of text: titles end up in tables and markdown checklists, where a newline would break them.
OneLine = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=r"^[^\r\n]*$"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https?://\S+$", max_length=2000)]
Difficulty = Literal["beginner", "intermediate", "advanced", "expert"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Resource(_Strict):
    """A link worth reading for a topic."""

    title: OneLine
    url: Url


class Source(_Strict):
    """A roadmap this one was merged from, or any reference the author credits."""

    id: Id
    title: OneLine
    url: Url | None = None


class Topic(_Strict):
    """One study unit: a few hours to a couple of weeks of work."""

    id: Id = Field(description="Stable kebab-case id; progress is stored under it.")
    title: OneLine
    summary: Text = ""
    requires: list[Id] = Field(
        default_factory=list,
        max_length=MAX_REQUIRES,
        description="Direct prerequisite topic ids (any phase).",
    )
    concepts: list[OneLine] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    tools: list[OneLine] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    resources: list[Resource] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    difficulty: Difficulty | None = None
    hours: float | None = Field(default=None, gt=0, le=10_000, description="Rough study estimate.")
    sources: list[Id] = Field(
        default_factory=list,
        max_length=MAX_NAMES,
        description="Ids of the roadmap's sources covering this topic.",
    )
    aliases: list[Id] = Field(
        default_factory=list, max_length=MAX_NAMES, description="Other names a user may type for this topic."
    )
    replaces: list[Id] = Field(
        default_factory=list,
        max_length=MAX_NAMES,
        description="Ids this topic had in earlier versions of the roadmap; their progress moves here.",
    )
    kind: Literal["topic", "project"] = "topic"


class Phase(_Strict):
    """An ordered group of topics; topic order is the recommended study order."""

    id: Id
    title: OneLine
    summary: Text = ""
    topics: list[Topic] = Field(default_factory=list)


class Track(_Strict):
    """A way through the roadmap for one kind of learner: its goals and everything they require."""

    id: Id = Field(description="What `llmpath track ID` takes.")
    title: OneLine
    summary: Text = ""
    goals: list[Id] = Field(
        min_length=1,
        description="Topic ids the track leads to; the track is these topics and all their prerequisites.",
    )


class Roadmap(_Strict):
    """A learning path: ordered phases of topics linked by prerequisites."""

    schema_: Literal[1] = Field(alias="schema", description="Roadmap file format version.")
    id: Id = Field(description="Progress is kept per roadmap id.")
    title: OneLine
    description: Text = ""
    sources: list[Source] = Field(default_factory=list)
    phases: list[Phase] = Field(min_length=1)
    tracks: list[Track] = Field(
        default_factory=list, description="Named ways through the roadmap (`llmpath track`)."
    )

    def topics(self) -> list[Topic]:
        """Every topic in roadmap order (phase order, then position)."""
        return [topic for phase in self.phases for topic in phase.topics]

    def track_topics(self, track: Track) -> list[str]:
        """The track's goals and every topic they require, directly or not, in roadmap order."""
        requires = {topic.id: topic.requires for topic in self.topics()}
        members: set[str] = set()
        stack = [goal for goal in track.goals if goal in requires]
        while stack:
            topic_id = stack.pop()
            if topic_id not in members:
                members.add(topic_id)
                stack.extend(r for r in requires[topic_id] if r in requires)
        return [topic_id for topic_id in requires if topic_id in members]


def json_schema() -> dict[str, Any]:
    """JSON Schema of the roadmap file, for editors with a YAML language server."""
    schema = Roadmap.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "llmpath roadmap"
    return schema


# --- loading ----------------------------------------------------------------------------------------------


def load_roadmap(path: str | Path) -> Roadmap:
    """Read, parse and validate a roadmap file; raise `RoadmapError` naming every problem."""
    path = Path(path)
    return parse_roadmap(read_roadmap_bytes(path), str(path))


def parse_roadmap(data: bytes, file: str = "<roadmap>") -> Roadmap:
    """Parse and validate roadmap YAML given as bytes."""
    with gc_paused():
        return _parse_and_check(data, file)


def _parse_and_check(data: bytes, file: str) -> Roadmap:
    raw = parse_yaml(data, file)
    try:
        roadmap = Roadmap.model_validate(raw)
    except ValidationError as exc:
        lines = LineMap(data)
        errors = exc.errors(include_url=False)[:MAX_PROBLEMS]
        problems = [_problem_from_pydantic(e, raw, lines) for e in errors]
        raise RoadmapError(file, problems, exc.error_count()) from None
    problems = check_references(roadmap)
    if problems:
        lines = LineMap(data)
        raise RoadmapError(file, [lines.locate(p) for p in problems[:MAX_PROBLEMS]], len(problems))
    return roadmap


# --- validation for authors ------------------------------------------------------------------------------


class Validation(NamedTuple):
    """Everything `llmpath validate` reports. `errors` and `warnings` hold at most `MAX_PROBLEMS` each;
    `error_count` and `warning_count` say how many were found."""

    roadmap: Roadmap | None  # None when the file has errors
    errors: list[Problem]
    warnings: list[Problem]
    error_count: int
    warning_count: int


def validate_file(path: str | Path) -> Validation:
    """Everything `llmpath validate` reports: the roadmap (if valid), its errors, and its warnings."""
    path = Path(path)
    try:
        data = read_roadmap_bytes(path)
        roadmap = parse_roadmap(data, str(path))
    except RoadmapError as exc:
        return Validation(None, exc.problems, [], exc.total, 0)
    warnings = lint_roadmap(roadmap)
    lines = LineMap(data) if warnings else None
    located = [lines.locate(p) for p in warnings[:MAX_PROBLEMS]] if lines else []
    return Validation(roadmap, [], located, 0, len(warnings))


def lint_roadmap(roadmap: Roadmap) -> list[Problem]:
    """Legal but likely mistakes: redundant edges, backward phase order, loose topics, empty phases."""
    from llmpath.planner import Graph, PhaseInfo, TopicInfo, redundant_edges

    warnings: list[Problem] = []
    phase_of: dict[str, int] = {}
    loc_of: dict[str, tuple[Any, ...]] = {}
    infos: list[TopicInfo] = []
    for phase_index, phase in enumerate(roadmap.phases):
        if not phase.topics:
            warnings.append(
                Problem("phase has no topics", place=f"phase '{phase.id}'", loc=("phases", phase_index))
            )
        for topic_index, topic in enumerate(phase.topics):
            phase_of[topic.id] = phase_index
            loc_of[topic.id] = ("phases", phase_index, "topics", topic_index)
            infos.append(TopicInfo(topic.id, topic.title, phase.id, len(infos)))
    edges = [(t.id, r) for t in roadmap.topics() for r in t.requires]
    graph = Graph.from_edges([PhaseInfo(p.id, p.title) for p in roadmap.phases], infos, edges)

    def warn(topic_id: str, message: str, hint: str, field: str = "") -> None:
        loc = (*loc_of[topic_id], field) if field else loc_of[topic_id]
        warnings.append(Problem(message, place=f"topic '{topic_id}'", hint=hint, loc=loc))

    for topic_id, required in redundant_edges(graph):
        warn(
            topic_id,
            f"requires '{required}' already implied by another prerequisite",
            f"remove '{required}' from requires",
            "requires",
        )
    for topic_id, required in edges:
        if phase_of[required] > phase_of[topic_id]:
            later = roadmap.phases[phase_of[required]].id
            warn(
                topic_id,
                f"requires '{required}' from a later phase ('{later}')",
                "move one of the two topics, or drop the requirement",
                "requires",
            )
    if len(infos) > 1:
        for topic_id in graph.topics:
            if not graph.requires[topic_id] and not graph.required_by[topic_id]:
                warn(
                    topic_id,
                    "nothing requires this topic and it requires nothing",
                    "link it to the topics it builds on or leads to",
                )
    return warnings


# --- reference checks -------------------------------------------------------------------------------------


def check_references(roadmap: Roadmap) -> list[Problem]:
    """Problems a schema cannot express: unknown or duplicate ids, self-requirements, cycles, alias clashes.

    Problems carry their `loc` in the document; the caller, which has the YAML text, turns it into a line.
    """
    problems: list[Problem] = []
    phase_ids: set[str] = set()
    located: list[tuple[tuple[Any, ...], Topic]] = []
    for phase_index, phase in enumerate(roadmap.phases):
        if phase.id in phase_ids:
            problems.append(
                Problem(
                    f"duplicate phase id '{phase.id}'",
                    place=f"phase '{phase.id}'",
                    loc=("phases", phase_index),
                )
            )
        phase_ids.add(phase.id)
        located += [(("phases", phase_index, "topics", i), topic) for i, topic in enumerate(phase.topics)]

    topic_ids: set[str] = set()
    first_loc: dict[str, tuple[Any, ...]] = {}
    for loc, topic in located:
        if topic.id in topic_ids:
            problems.append(Problem(f"duplicate topic id '{topic.id}'", place=f"topic '{topic.id}'", loc=loc))
        topic_ids.add(topic.id)
        first_loc.setdefault(topic.id, loc)

    source_ids = {source.id for source in roadmap.sources}
    names: dict[str, str] = {topic.id: topic.id for _, topic in located}  # alias or id -> topic id
    # Aliases and replaced ids share one table in the database (an old id is looked up like an alias), so
    # each may be claimed once across both lists of every topic: `(topic id, "aliases" or "replaces")`.
    claimed: dict[str, tuple[str, str]] = {}
    hints = _Hints()
    for loc, topic in located:

        def problem(message: str, field: str, hint: str = "") -> None:
            problems.append(_topic_problem(loc, topic, message, field, hint))  # noqa: B023 (called at once)

        for required in _duplicates(topic.requires):
            problem(f"requires '{required}' twice", "requires")
        for required in topic.requires:
            if required == topic.id:
                problem("requires itself", "requires")
            elif required not in topic_ids:
                problem(f"requires unknown topic '{required}'", "requires", hints(required, topic_ids))
        for source in topic.sources:
            if source not in source_ids:
                hint = hints(source, source_ids) or "declare it under `sources:` at the top"
                problem(f"names unknown source '{source}'", "sources", hint)
        for alias in topic.aliases:
            owner = names.get(alias)
            if owner is not None and owner != topic.id:
                what = "the id" if alias == owner else "an alias"
                problem(f"alias '{alias}' is already {what} of topic '{owner}'", "aliases")
            elif owner == topic.id and alias == topic.id:
                problem(f"alias '{alias}' repeats the topic's own id", "aliases")
            elif alias in claimed:
                problem(_claimed_twice(alias, "aliases", topic.id, *claimed[alias]), "aliases")
            names.setdefault(alias, topic.id)
            claimed.setdefault(alias, (topic.id, "aliases"))
        for old in topic.replaces:
            if old in topic_ids:
                problem(f"replaces '{old}', which is still a topic id", "replaces")
            elif old in claimed:
                problem(_claimed_twice(old, "replaces", topic.id, *claimed[old]), "replaces")
            claimed.setdefault(old, (topic.id, "replaces"))

    problems += _track_problems(roadmap, topic_ids, hints)
    cycle = find_cycle({t.id: [r for r in t.requires if r in topic_ids and r != t.id] for _, t in located})
    if cycle:
        problems.append(
            Problem(
                "prerequisite cycle: " + " -> ".join(cycle),
                place=f"topic '{cycle[0]}'",
                hint="each topic requires the next; remove one of these requirements",
                loc=(*first_loc[cycle[0]], "requires"),
            )
        )
    return problems


def _claimed_twice(name: str, field: str, topic_id: str, owner: str, owner_field: str) -> str:
    """Why `name` cannot be listed under `field` of `topic_id` when `owner` already lists it."""
    if owner == topic_id and owner_field == field:
        return f"lists '{name}' twice under {field}"
    if owner == topic_id:
        return f"'{name}' is listed under both aliases and replaces; keep it in one of them"
    if owner_field == "aliases":
        return f"'{name}' is already an alias of topic '{owner}'"
    return f"'{name}' is already replaced by topic '{owner}'"


def _track_problems(roadmap: Roadmap, topic_ids: set[str], hints: _Hints) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, track in enumerate(roadmap.tracks):
        place = f"track '{track.id}'"
        if track.id in seen:
            problems.append(Problem(f"duplicate track id '{track.id}'", place=place, loc=("tracks", index)))
        seen.add(track.id)
        for goal in _duplicates(track.goals):
            problems.append(
                Problem(f"lists goal '{goal}' twice", place=place, loc=("tracks", index, "goals"))
            )
        for goal in track.goals:
            if goal not in topic_ids:
                problems.append(
                    Problem(
                        f"goal '{goal}' is not a topic",
                        place=place,
                        hint=hints(goal, topic_ids),
                        loc=("tracks", index, "goals"),
                    )
                )
    return problems


def _topic_problem(loc: tuple[Any, ...], topic: Topic, message: str, field: str, hint: str) -> Problem:
    return Problem(message, place=f"topic '{topic.id}'", hint=hint, loc=(*loc, field))


def find_cycle(requires: dict[str, list[str]]) -> list[str] | None:
    """A cycle as `[a, b, ..., a]` where each topic requires the next, or None."""
    try:
        graphlib.TopologicalSorter(requires).prepare()
    except graphlib.CycleError as exc:
        # graphlib lists each node as a predecessor of the next; prerequisites are predecessors.
        return list(reversed(exc.args[1]))
    return None


def _duplicates(items: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated


def _did_you_mean(name: str, choices: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=3, cutoff=0.6)
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?" if close else ""


class _Hints:
    """Hints ("did you mean …?") while `HINT_COMPARISONS` lasts: difflib compares a name with every choice,
    so hints for every typo of a 20,000-topic file would take minutes. Past the budget a problem has none."""

    def __init__(self) -> None:
        self.left = HINT_COMPARISONS

    def __call__(self, name: str, choices: set[str]) -> str:
        if len(choices) > self.left:
            self.left = 0
            return ""
        self.left -= len(choices)
        return _did_you_mean(name, choices)


# --- locating problems in the file ------------------------------------------------------------------------


def _problem_from_pydantic(error: Any, raw: Any, lines: LineMap) -> Problem:
    loc = tuple(error["loc"])
    place, rest = _place_of(loc, raw)
    field = _format_loc(rest)
    kind = error["type"]
    hint = ""
    if kind == "missing":
        message = f"missing required field '{field}'"
    elif kind == "extra_forbidden":
        message = f"unknown field '{field}'"
        allowed = _allowed_fields(loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed)
    elif kind == "string_pattern_mismatch" and "a-z0-9" in str(error.get("ctx", {}).get("pattern")):
        message = f"{field}: {error['input']!r} is not a valid id"
        hint = "use lowercase letters, digits and single hyphens, like 'self-attention'"
    elif kind == "string_pattern_mismatch" and "http" in str(error.get("ctx", {}).get("pattern")):
        message = f"{field}: {error['input']!r} is not an http(s) URL"
    elif kind == "string_pattern_mismatch":
        message = f"{field}: must be a single line of text"
    elif kind == "too_long":
        context = error.get("ctx", {})
        actual = context.get("actual_length")
        message = f"{field}: {'too many items' if actual is None else f'{actual:,} items'}; at most "
        message += f"{context.get('max_length', '?'):,} are allowed"
    elif kind == "literal_error" and rest == ("schema",):
        message = (
            f"schema: this llmpath reads roadmap schema {ROADMAP_FORMAT_VERSION}, not {error['input']!r}"
        )
        hint = "upgrade llmpath, or set `schema: 1`"
    else:
        message = f"{field}: {error['msg']}" if field else error["msg"]
    return Problem(message, line=lines.line_of(loc), place=place, hint=hint)


def _place_of(loc: tuple[Any, ...], raw: Any) -> tuple[str, tuple[Any, ...]]:
    """Split a pydantic location into the phase/topic it is in and the field path inside it."""
    if len(loc) >= 2 and loc[0] == "phases" and isinstance(loc[1], int):
        phase = _get(raw, "phases", loc[1])
        phase_name = _name(phase, f"#{loc[1] + 1}")
        if len(loc) >= 4 and loc[2] == "topics" and isinstance(loc[3], int):
            topic = _get(phase, "topics", loc[3])
            return f"topic {_name(topic, f'#{loc[3] + 1} of phase {phase_name}')}", loc[4:]
        return f"phase {phase_name}", loc[2:]
    if len(loc) >= 2 and loc[0] == "tracks" and isinstance(loc[1], int):
        track = _get(raw, "tracks", loc[1])
        return f"track {_name(track, f'#{loc[1] + 1}')}", loc[2:]
    return "", loc


def _get(container: Any, key: str, index: int) -> Any:
    items = container.get(key) if isinstance(container, dict) else None
    return items[index] if isinstance(items, list) and index < len(items) else None


def _name(item: Any, fallback: str) -> str:
    ident = item.get("id") if isinstance(item, dict) else None
    return f"'{ident}'" if isinstance(ident, str) else fallback


def _format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _allowed_fields(loc: tuple[Any, ...]) -> list[str]:
    depth = len([p for p in loc if isinstance(p, str)])
    names = [str(p) for p in loc if isinstance(p, str)]
    model: type[BaseModel] = Roadmap
    if names[:1] == ["phases"]:
        model = Phase
        if names[1:2] == ["topics"]:
            model = Topic
            if names[2:3] == ["resources"]:
                model = Resource
    elif names[:1] == ["sources"] and depth > 1:
        model = Source
    elif names[:1] == ["tracks"] and depth > 1:
        model = Track
    return sorted(f.alias or name for name, f in model.model_fields.items())
