"""Property-based tests: the planner on random graphs, the roadmap parser on random and mutated files, the CLI
on random topic names, the markdown export on hostile titles and notes, and hostile YAML.

Example counts are modest so the file runs in a few seconds; `benchmarks/reliability.py` fuzzes longer.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from llmpath import planner
from llmpath.cli import app
from llmpath.errors import RoadmapError
from llmpath.export import NoteItem, PhaseItem, Snapshot, TopicItem, parse_progress, to_markdown
from llmpath.paths import MAX_ROADMAP_BYTES
from llmpath.planner import Graph, PhaseInfo, TopicInfo
from llmpath.roadmap import load_roadmap, parse_roadmap
from llmpath.terminal import UNSAFE, visible

from .harness import LINE_EDITS, edit_lines

MINI = Path(__file__).resolve().parent / "data" / "mini.yaml"
MINI_IDS = {"python", "math", "numpy", "linear-models", "neural-nets", "build-mlp"}
STATUSES = ("todo", "doing", "done", "skipped")

# Kebab-case ids (the roadmap's id pattern), built without a regex strategy, which is slow to draw from.
ids = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6), min_size=1, max_size=3
).map("-".join)


# --- random roadmap graphs --------------------------------------------------------------------------------


@st.composite
def graphs(draw, max_topics: int = 14) -> Graph:
    """A random DAG: topic i requires a random subset of topics 0..i-1.

    The roadmap order (positions, phases) is either that order or a random permutation of it, since a roadmap
    may list a prerequisite after the topic that needs it.
    """
    names = draw(st.lists(ids, min_size=1, max_size=max_topics, unique=True))
    n = len(names)
    requires = [sorted(draw(st.sets(st.integers(0, i - 1), max_size=4))) if i else [] for i in range(n)]
    order = draw(st.permutations(range(n))) if draw(st.booleans()) else list(range(n))
    phase_count = draw(st.integers(1, min(4, n)))
    phases = [PhaseInfo(f"phase-{k}", f"Phase {k}") for k in range(phase_count)]
    hours = draw(st.lists(st.none() | st.floats(0.5, 100), min_size=n, max_size=n))
    topics = [
        TopicInfo(names[t], f"Title of {names[t]}", f"phase-{pos * phase_count // n}", pos, hours[t])
        for pos, t in enumerate(order)
    ]
    edges = [(names[i], names[j]) for i in range(n) for j in requires[i]]
    return Graph.from_edges(phases, topics, edges)


@st.composite
def graphs_and_statuses(draw, max_topics: int = 14) -> tuple[Graph, dict[str, str]]:
    graph = draw(graphs(max_topics))
    statuses = draw(st.dictionaries(st.sampled_from(list(graph.topics)), st.sampled_from(STATUSES)))
    return graph, statuses


def satisfied(statuses: dict[str, str], topic_id: str) -> bool:
    return statuses.get(topic_id, "todo") in ("done", "skipped")


def reference_available(graph: Graph, statuses: dict[str, str]) -> set[str]:
    return {
        t
        for t in graph.topics
        if not satisfied(statuses, t) and all(satisfied(statuses, r) for r in graph.requires[t])
    }


def descendants(graph: Graph, topic_id: str) -> set[str]:
    seen: set[str] = set()
    stack = list(graph.required_by[topic_id])
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(graph.required_by[current])
    return seen


PLANNER = settings(max_examples=50, deadline=None)


@PLANNER
@given(graphs_and_statuses())
def test_available_topics_are_exactly_the_ready_ones(case: tuple[Graph, dict[str, str]]) -> None:
    graph, statuses = case
    available = planner.available_topics(graph, statuses)
    assert len(available) == len(set(available))
    assert set(available) == reference_available(graph, statuses)
    # In progress first, then roadmap order.
    keys = [(statuses.get(t) != "doing", graph.topics[t].position) for t in available]
    assert keys == sorted(keys)

    items = planner.next_items(graph, statuses)
    assert [item["id"] for item in items] == available
    for item in items:
        topic_id = item["id"]
        assert not item["review"]
        assert item["status"] in ("todo", "doing")
        assert item["requires"] == graph.in_roadmap_order(graph.requires[topic_id])
        assert all(satisfied(statuses, r) for r in item["requires"])
        dependents = descendants(graph, topic_id)
        assert item["unlocks_total"] == sum(not satisfied(statuses, d) for d in dependents)
        after = {**statuses, topic_id: "done"}
        for unlocked in item["unlocks"]:
            assert unlocked in reference_available(graph, after) - reference_available(graph, statuses)

    by_unlocks = planner.next_items(graph, statuses, sort="unlocks")
    assert sorted(i["id"] for i in by_unlocks) == sorted(available)
    totals = [i["unlocks_total"] for i in by_unlocks]
    assert totals == sorted(totals, reverse=True)


@PLANNER
@given(graphs_and_statuses(), st.data())
def test_next_items_within_a_phase_or_toward_a_goal(case: tuple[Graph, dict[str, str]], data) -> None:
    graph, statuses = case
    phase = data.draw(st.sampled_from(graph.phases))
    within = graph.phase_topics(phase.id)
    in_phase = [i["id"] for i in planner.next_items(graph, statuses, within=within)]
    assert set(in_phase) == reference_available(graph, statuses) & set(within)

    goals = data.draw(st.lists(st.sampled_from(list(graph.topics)), min_size=1, max_size=3, unique=True))
    on_the_way: set[str] = set()  # goals and their unfinished prerequisites, through unfinished topics
    stack = [g for g in goals if not satisfied(statuses, g)]
    while stack:
        current = stack.pop()
        if current not in on_the_way:
            on_the_way.add(current)
            stack.extend(r for r in graph.requires[current] if not satisfied(statuses, r))
    toward = [i["id"] for i in planner.next_items(graph, statuses, goals=goals)]
    assert set(toward) == reference_available(graph, statuses) & on_the_way


@PLANNER
@given(graphs_and_statuses(), st.data())
def test_doing_what_is_available_finishes_the_roadmap(case: tuple[Graph, dict[str, str]], data) -> None:
    graph, statuses = case
    statuses = dict(statuses)
    rounds = 0
    while available := planner.available_topics(graph, statuses):
        chosen = data.draw(st.lists(st.sampled_from(available), min_size=1, unique=True))
        for topic_id in chosen:
            assert not planner.open_prerequisites(graph, statuses, topic_id)
            statuses[topic_id] = data.draw(st.sampled_from(["done", "done", "skipped"]))
        rounds += 1
        assert rounds <= len(graph.topics), "no progress: available topics never run out"
    assert all(satisfied(statuses, t) for t in graph.topics)
    assert planner.next_items(graph, statuses) == []


@PLANNER
@given(graphs_and_statuses(), st.data())
def test_transitive_unlocks_matches_brute_force(case: tuple[Graph, dict[str, str]], data) -> None:
    graph, statuses = case
    within = data.draw(st.none() | st.sets(st.sampled_from(list(graph.topics))))
    expected = {
        t: sum(
            1 for d in descendants(graph, t) if not satisfied(statuses, d) and (within is None or d in within)
        )
        for t in graph.topics
    }
    assert planner.transitive_unlocks(graph, statuses, within) == expected


@PLANNER
@given(graphs())
def test_topological_order_puts_prerequisites_first(graph: Graph) -> None:
    order = planner.topological_order(graph)
    assert sorted(order) == sorted(graph.topics)
    seen: set[str] = set()
    for topic_id in order:
        assert set(graph.requires[topic_id]) <= seen
        seen.add(topic_id)


# --- malformed roadmap files ------------------------------------------------------------------------------

VALID = MINI.read_bytes()
VALID_DOC = yaml.safe_load(VALID)


def parse_or_roadmap_error(data: bytes) -> None:
    """The parser's contract: a `Roadmap`, or a `RoadmapError` naming the file. Anything else fails."""
    try:
        roadmap = parse_roadmap(data, "x.yaml")
    except RoadmapError as exc:
        assert exc.problems
        assert str(exc).startswith("x.yaml"), str(exc)
    else:
        assert roadmap.phases and roadmap.id


PARSER = settings(max_examples=80, deadline=None)

YAML_TOKENS = [
    "\n", "\n  ", "\n    ", "  ", "- ", ": ", ":", "{", "}", "[", "]", ", ", "&a ", "*a", "&b ", "*b",
    "<<: *a", "? ", "!!str ", "!!int ", "!!binary ", "!!set ", "!!omap ", "!!python/object:os.system ",
    "!local ", "|", "|-", ">", "'", '"', "# ", "---", "...", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "~",
    "null", "true", "1e400", ".nan", "-.inf", "0x1F", "0o17", "2024-01-01", "2024-01-01T10:00:00Z", "\t",
    "\ufeff", "\x00", "\x85", "\u2028", "\\", "schema: 1", "schema: 2", "id: x", "id: Bad Id", "title: T",
    "phases:", "topics:", "requires:", "aliases:", "replaces:", "sources:", "resources:", "url: ftp://x",
    "hours: -1", "kind: project", "difficulty: hard", "python", "numpy",
]  # fmt: skip


@PARSER
@given(st.binary(max_size=2000))
def test_random_bytes_only_raise_roadmap_error(data: bytes) -> None:
    parse_or_roadmap_error(data)


@PARSER
@given(st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=6), max_size=80).map("".join))
def test_random_yaml_ish_text_only_raises_roadmap_error(text: str) -> None:
    parse_or_roadmap_error(text.encode("utf-8", "surrogatepass"))


SCALARS = [
    "", "[]", "{}", "-1", "0", "1e999", "null", "~", "true", "[a, b]", "{a: 1}", "&x y", "*x", "*nope",
    "'unterminated", '"\\x"', "!!int x", "!!float 1", "yes", "0o17", "a" * 400, "|", "- a", "python",
    "[python, python]", "[build-mlp]", "[numpy, nope]", "http://x", "Phase: two", "@", "`", "%",
    "[" + ", ".join(["x"] * 101) + "]", "[" + ", ".join(f"a{i}" for i in range(51)) + "]",
]  # fmt: skip


@st.composite
def mutated_valid_files(draw) -> bytes:
    """The valid mini roadmap with a few lines deleted, duplicated, re-indented, swapped or re-valued."""
    lines = VALID.decode().splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(LINE_EDITS))
        edit_lines(lines, operation, i, j, draw(st.sampled_from(SCALARS) | st.text(max_size=12)))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@PARSER
@given(mutated_valid_files())
def test_mutated_valid_file_only_raises_roadmap_error(data: bytes) -> None:
    parse_or_roadmap_error(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["python", "math", "numpy", "x-y", "Bad Id", "http://e.com", "project", "expert"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "title", "requires", "topics", "x"]) | st.text(max_size=5),
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@st.composite
def mutated_documents(draw) -> bytes:
    """The valid roadmap as data, with one value somewhere replaced, removed, or an unknown key added."""
    doc = json.loads(json.dumps(VALID_DOC))
    node = doc
    while True:
        keys = list(range(len(node))) if isinstance(node, list) else list(node)
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, (dict, list)) and child and draw(st.booleans()):
            node = child
            continue
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            node[key] = draw(json_values)
        elif action == "remove":
            del node[key]
        elif isinstance(node, dict):
            node[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
        else:
            node.append(draw(json_values))
        break
    return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")


@PARSER
@given(mutated_documents())
def test_mutated_document_only_raises_roadmap_error(data: bytes) -> None:
    parse_or_roadmap_error(data)


@pytest.mark.parametrize("value", ["!!int x", "!!int", "!!float x", "!!bool x", "!!int 0b102", "!!float"])
def test_tagged_value_that_does_not_parse_is_a_roadmap_error(value: str) -> None:
    data = MINI.read_text().replace("title: Math\n", f"title: {value}\n").encode()
    with pytest.raises(RoadmapError, match=r"^x\.yaml"):
        parse_roadmap(data, "x.yaml")


@pytest.mark.parametrize("value", ["2024-02-30", "2023-13-01", "2024-01-01", "2024-01-01 10:00:00"])
def test_date_like_values_are_text(value: str) -> None:
    """PyYAML would build dates (and fail on impossible ones); a roadmap keeps them as the text written."""
    data = MINI.read_text().replace("title: Math\n", f"title: {value}\n").encode()
    topics = {t.id: t for t in parse_roadmap(data, "x.yaml").topics()}
    assert topics["math"].title == value


def test_bad_tagged_value_is_a_one_line_cli_error(cli_home: Path, tmp_path: Path) -> None:
    roadmap = tmp_path / "tagged.yaml"
    roadmap.write_text(MINI.read_text().replace("title: Math\n", "title: !!int Math\n"))
    result = CliRunner().invoke(app, ["--roadmap", str(roadmap), "next"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith(f"error: {roadmap}") and len(result.stderr.splitlines()) == 1


# --- random topic names through the real CLI --------------------------------------------------------------

TRICKY_NAMES = [
    "python", "py", "PY", " Python ", "nn", "n", "neural", "NumPy Arrays", "build", "", " ", "-", "--", "-x",
    "--json", "-h", "--help", "\x00", "'", '"', "%s", "{}", "../../etc/passwd", "*", "?", "\\", "\n", "ß",
    "x'; DROP TABLE progress; --", "\u202e", "\ud800", "İ", "ﬁ", "a" * 2000, "[red]x[/red]",
]  # fmt: skip
topic_names = st.text(max_size=30) | ids | st.sampled_from(TRICKY_NAMES)


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("LLMPATH_HOME", str(home))
    monkeypatch.delenv("LLMPATH_ROADMAP", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(["done", "start", "skip", "reset", "show"]),
    names=st.lists(topic_names, min_size=1, max_size=3),
)
def test_random_topic_names_never_crash_the_cli(cli_home: Path, command: str, names: list[str]) -> None:
    # One data directory for all examples: the database accumulates whatever the examples did.
    if command == "show":
        names = names[:1]  # takes exactly one TOPIC
    result = CliRunner().invoke(app, ["--roadmap", str(MINI), command, *names])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    if result.exit_code == 2:
        assert any(name.startswith("-") for name in names), result.stderr  # a usage error
    if result.exit_code == 1:
        assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    con = sqlite3.connect(cli_home / "llmpath.db")
    try:
        rows = con.execute("SELECT topic_id, status FROM progress").fetchall()
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
    assert {topic for topic, _ in rows} <= MINI_IDS, "progress stored under a name that is not a topic"
    assert {status for _, status in rows} <= set(STATUSES)


# --- markdown export --------------------------------------------------------------------------------------

HOSTILE = [
    "# x", "## heading", "- [x] y", "- [ ] z `python`", "* [x] star", "+ [ ] plus", "<script>x</script>",
    "[link](http://e)", "![img](http://e/x.png)", "`code`", "```", "~~~", "| a | b |", "> quote", "1. one",
    "\n# injected", "line\n- [x] injected `python`", "\\", "&amp;", "<!-- c -->", "***", "---", "===",
    "a\r\n# b", "x\u2028# y", "x\x85# y", "x\x0b- [x] y", "x\x1c# y", "~~struck~~", "_em_", "**b**",
]  # fmt: skip
hostile_text = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=10), min_size=1, max_size=4).map("".join)


@st.composite
def snapshots(draw) -> Snapshot:
    topic_ids = iter(draw(st.lists(ids, min_size=12, max_size=12, unique=True)))
    at = datetime(2024, 5, 1, tzinfo=UTC)

    def topic(phase_id: str | None) -> TopicItem:
        notes = [NoteItem(at + timedelta(days=k), draw(hostile_text)) for k in range(draw(st.integers(0, 2)))]
        return TopicItem(
            next(topic_ids), draw(hostile_text), phase_id, draw(st.sampled_from(STATUSES)), notes=notes
        )

    phases = []
    for p in range(draw(st.integers(1, 3))):
        phase_id = f"phase-{p}"
        phases.append(
            PhaseItem(phase_id, draw(hostile_text), [topic(phase_id) for _ in range(draw(st.integers(0, 3)))])
        )
    orphaned = [topic(None) for _ in range(draw(st.integers(0, 2)))]
    return Snapshot("rid", draw(hostile_text), "hash", at, phases, orphaned)


@settings(max_examples=60, deadline=None)
@given(snapshots())
def test_hostile_titles_and_notes_cannot_break_the_checklist(snapshot: Snapshot) -> None:
    markdown = to_markdown(snapshot)
    assert UNSAFE.search(markdown) is None  # no control character reaches a terminal that shows the file
    lines = markdown.splitlines()  # every kind of line break, not only "\n"
    topics = [t for p in snapshot.phases for t in p.topics] + snapshot.orphaned
    items = [line for line in lines if line.startswith("- [")]
    notes = [line for line in lines if line.startswith("  - ")]
    headings = [line for line in lines if line.startswith("#")]
    assert len(items) == len(topics)
    assert len(notes) == sum(len(t.notes) for t in topics)
    assert len(headings) == 1 + len(snapshot.phases) + (1 if snapshot.orphaned else 0)
    assert lines[0] == headings[0] and headings[0].startswith("# ")
    assert all(h.startswith("## ") for h in headings[1:])
    for line in lines:
        assert (
            line == "" or line in headings or line in items or line in notes or line.startswith("Progress: ")
        )
    for item, topic in zip(items, topics, strict=True):
        assert item.endswith(f"`{topic.id}`")
        assert item.startswith("- [x] " if topic.status in ("done", "skipped") else "- [ ] ")

    # Reading the checklist back gives every topic, in order, with its status and (normalised) title.
    if not topics:
        return  # nothing to read back: an import refuses a checklist without items
    parsed = parse_progress(markdown, "x.md").topics
    assert [p.id for p in parsed] == [t.id for t in topics]
    for back, topic in zip(parsed, topics, strict=True):
        assert back.status == topic.status
        title = visible(" ".join(topic.title.split()))  # as shown: control characters made visible
        if title:  # an empty title (roadmaps forbid them) reads back as whatever markup is left
            assert back.title == title


@pytest.mark.parametrize(
    ("title", "status"),
    [
        ("Results (skipped)", "todo"),
        ("Plan (in progress)", "done"),
        ("Old (in progress)", "skipped"),
        ("(skipped)", "doing"),
    ],
)
def test_title_ending_like_a_status_marker_round_trips(title: str, status: str) -> None:
    at = datetime(2024, 5, 1, tzinfo=UTC)
    snapshot = Snapshot("rid", "R", "h", at, [PhaseItem("p", "P", [TopicItem("t", title, "p", status)])])
    (back,) = parse_progress(to_markdown(snapshot), "x.md").topics
    assert (back.title, back.status) == (title, status)


# --- hostile YAML -----------------------------------------------------------------------------------------


def refused_quickly(data: bytes, budget: float = 1.0) -> RoadmapError:
    started = time.perf_counter()
    with pytest.raises(RoadmapError) as info:
        parse_roadmap(data, "x.yaml")
    assert time.perf_counter() - started < budget
    return info.value


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    lines += ["schema: 1", "id: bomb", "title: Bomb", "phases: *l8"]
    error = refused_quickly("\n".join(lines).encode())
    assert "alias" in str(error)


def test_python_object_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for document in (
        '!!python/object/apply:os.system ["echo hi"]',
        f'!!python/object/apply:os.mkdir ["{marker}"]',
        f'schema: 1\nid: x\ntitle: !!python/object/apply:os.mkdir ["{marker}"]\nphases: []\n',
        "schema: 1\nid: x\ntitle: !!python/name:os.system\nphases: []\n",
        "schema: 1\nid: x\ntitle: T\nphases: !!python/object/new:list []\n",
    ):
        error = refused_quickly(document.encode())
        assert "not allowed" in str(error)
    assert not marker.exists()


def test_five_megabyte_file_is_refused(tmp_path: Path) -> None:
    big = VALID + b"\n# " + b"x" * (5 * 1024 * 1024) + b"\n"
    assert len(big) > MAX_ROADMAP_BYTES
    error = refused_quickly(big)
    assert "MiB" in str(error)
    path = tmp_path / "big.yaml"
    path.write_bytes(big)
    started = time.perf_counter()
    with pytest.raises(RoadmapError, match="MB"):
        load_roadmap(path)
    assert time.perf_counter() - started < 1.0


def test_non_utf8_bytes_are_refused_with_the_line() -> None:
    lines = VALID.splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, start=1) if b"title: Math" in line)
    lines[number - 1] = lines[number - 1].replace(b"Math", b"Math \xff\xfe")
    error = refused_quickly(b"".join(lines))
    assert error.problems[0].line == number
    assert str(error).startswith(f"x.yaml:{number}:") and "UTF-8" in str(error)


def test_too_many_values_are_refused_quickly() -> None:
    """4 MiB of `[1,1,…]` (1.5 million values) took 49 s and 3.3 GB in `validate`; a file past the limit is
    now refused before any node is built (`test_edges` runs the 1.5 million through `validate`)."""
    data = b"schema: 1\nid: x\ntitle: X\nphases: [" + b",".join([b"1"] * 600_000) + b"]\n"
    error = refused_quickly(data, budget=3.0)
    assert "more than 500,000 values" in str(error) and len(error.problems) == 1


def test_deep_nesting_is_refused() -> None:
    for data in (b"[" * 5000, b"a: " + b"[" * 150 + b"]" * 150, b"{a: " * 5000):
        refused_quickly(data)


# --- the edges: long chains, roadmaps that must load, notes (issue 11) ------------------------------------


@settings(max_examples=4, deadline=None)
@given(st.integers(4_000, 6_000), st.data())
def test_graph_walks_on_long_chains_never_recurse(n: int, data) -> None:
    """A chain deeper than Python's recursion limit through every walk `show`, `path`, `next`, `graph` and
    `validate` make (the blocking tree was a RecursionError past ~1,000 topics; Hypothesis itself allows
    about 2,000 more frames, hence chains of several thousand)."""
    names = [f"t{i}" for i in range(n)]
    topics = [TopicInfo(t, t, "p", i) for i, t in enumerate(names)]
    graph = Graph.from_edges([PhaseInfo("p", "P")], topics, [(names[i], names[i - 1]) for i in range(1, n)])
    done = data.draw(st.integers(0, n // 2))
    statuses = {t: "done" for t in names[:done]}
    open_count = n - 1 - done
    tree = planner.blocking_tree(graph, statuses, names[-1])
    assert [depth for depth, _, _ in tree] == list(range(open_count))
    assert planner.study_path(graph, statuses, [names[-1]]) == names[done:]
    assert planner.transitive_unlocks(graph, statuses)[names[done]] == open_count
    assert planner.count_dependents(graph, statuses, names[done]) == open_count
    assert planner.next_items(graph, statuses, sort="unlocks", goals=[names[-1]])[0]["id"] == names[done]
    assert planner.redundant_edges(graph) == []
    info = planner.describe_topic(graph, statuses, names[-1], fields={})
    assert len(info["blocked_by"]) == open_count
    from llmpath import graphs as graph_text

    assert graph_text.mermaid(graph, statuses).count(" --> ") == n - 1


NAMES = ["a", "b", "c", "d", "e"]


@st.composite
def name_clashing_roadmaps(draw) -> bytes:
    """Roadmaps whose aliases, replaces and requires are drawn from a handful of names, topic ids among them,
    so every way two of them can claim the same name comes up: one list twice, both lists of one topic, two
    topics, a topic's own id."""
    topic_ids = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    topics = []
    for index, topic_id in enumerate(topic_ids):
        topic: dict = {"id": topic_id, "title": f"Topic {topic_id}"}
        for field in ("aliases", "replaces"):
            if draw(st.booleans()):
                topic[field] = draw(st.lists(st.sampled_from([*NAMES, "x", "y"]), max_size=3))
        if index and draw(st.booleans()):
            topic["requires"] = draw(st.lists(st.sampled_from(topic_ids[:index]), max_size=2))
        topics.append(topic)
    doc = {
        "schema": 1,
        "id": "clash",
        "title": "Clash",
        "phases": [{"id": "p", "title": "P", "topics": topics}],
    }
    return yaml.safe_dump(doc, sort_keys=False).encode()


@pytest.fixture
def clash_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from llmpath import db

    monkeypatch.setenv("LLMPATH_HOME", str(tmp_path / "home"))
    return db.open_database(tmp_path / "home" / "llmpath.db")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=name_clashing_roadmaps() | mutated_documents())
def test_every_roadmap_that_parses_also_loads(clash_engine, tmp_path: Path, data: bytes) -> None:
    """`validate` passes exactly what the database takes: a file `parse_roadmap` accepts is written by
    `ensure_synced` without a constraint failure (an alias in one topic and a `replaces` in another used to
    pass validation and then fail every command with a UNIQUE constraint)."""
    from llmpath import sync

    try:
        roadmap = parse_roadmap(data, "x.yaml")
    except RoadmapError:
        return
    path = tmp_path / "clash.yaml"
    path.write_bytes(data)
    loaded, report = sync.ensure_synced(clash_engine, path, force=True)
    assert loaded.id == roadmap.id and report.loaded


NOTE_TEXTS = [
    "\ud800", "a\udced\udca0\udc80b", "\udcff", "\x1b]0;owned\x07", "\x1b[2J", "\u202eevil", "x\x00y",
    "x" * 65_536, "x" * 65_537, "é" * 32_768, "é" * 32_769, " " * 70_000 + "x", "\n\n", "-", "--",
]  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.sampled_from(NOTE_TEXTS) | st.text(max_size=40))
def test_any_note_text_is_saved_or_refused_in_one_line(cli_home: Path, text: str) -> None:
    """Lone surrogates (undecodable argv bytes) and huge notes were tracebacks; now a note is saved or
    refused with one line, `show` stays fast, and nothing over the limit is stored."""
    from llmpath.store import MAX_NOTE_BYTES

    result = CliRunner().invoke(app, ["--roadmap", str(MINI), "note", "python", text])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    if result.exit_code == 2:
        assert text.startswith("-")  # read as an option: a usage error
    if result.exit_code == 1:
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1, result.stderr
    started = time.perf_counter()
    shown = CliRunner().invoke(app, ["--roadmap", str(MINI), "show", "python", "--json"])
    assert shown.exit_code == 0 and time.perf_counter() - started < 2.0
    for note in json.loads(shown.stdout)["notes"]:
        assert len(note["text"].encode("utf-8")) <= MAX_NOTE_BYTES
