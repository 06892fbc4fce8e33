"""The roadmap loader: the shipped roadmap is valid, and each class of error names its problem and place."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from llmpath.errors import RoadmapError
from llmpath.planner import Graph, PhaseInfo, TopicInfo, topological_order
from llmpath.roadmap import json_schema, load_roadmap, parse_roadmap

from .conftest import DATA, MINI, REPO

SHIPPED = REPO / "data" / "roadmap.yaml"

VALID = """\
schema: 1
id: demo
title: Demo
phases:
  - id: one
    title: One
    topics:
      - id: a
        title: A
      - id: b
        title: B
        requires: [a]
"""


def errors_of(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(RoadmapError) as caught:
        parse_roadmap(data, "bad.yaml")
    return str(caught.value)


def test_minimal_roadmap_loads():
    roadmap = parse_roadmap(VALID.encode(), "ok.yaml")
    assert [t.id for t in roadmap.topics()] == ["a", "b"]
    assert roadmap.topics()[1].requires == ["a"]
    assert roadmap.topics()[0].kind == "topic"


def test_mini_fixture_loads():
    assert len(load_roadmap(MINI).topics()) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schema: 1\nid: x\ntitle: [unclosed\n", "sequence started on line 3"),
        (
            VALID.replace("title: B", "title: B\n        colour: red"),
            "bad.yaml:12: topic 'b': unknown field 'colour'",
        ),
        (
            VALID.replace("      - id: a\n        title: A\n", "      - id: a\n"),
            "topic 'a': missing required field 'title'",
        ),
        (VALID.replace("id: b", "id: Bad_Id"), "'Bad_Id' is not a valid id"),
        (
            VALID.replace("requires: [a]", "requires: [z]"),
            "bad.yaml:12: topic 'b': requires unknown topic 'z'",
        ),
        (VALID.replace("requires: [a]", "requires: [b]"), "topic 'b': requires itself"),
        (VALID.replace("id: b", "id: a"), "bad.yaml:10: topic 'a': duplicate topic id 'a'"),
        (VALID.replace("schema: 1", "schema: 2"), "schema: this llmpath reads roadmap schema 1"),
        (
            VALID.replace("title: B", "title: B\n        hours: lots"),
            "topic 'b': hours: Input should be a valid number",
        ),
        (VALID.replace("title: B", "title: B\n        difficulty: easy"), "topic 'b': difficulty:"),
        (
            VALID.replace("title: A", "title: A\n        aliases: [b]"),
            "topic 'a': alias 'b' is already the id of topic 'b'",
        ),
        ("- a\n- b\n", "bad.yaml:1: the top level is a list, not a mapping"),
        ("schema: 1\nschema: 1\n", "bad.yaml:2: duplicate key 'schema'"),
    ],
)
def test_each_error_names_problem_and_place(text, expected):
    assert expected in errors_of(text)


def test_cycle_is_reported_as_a_chain():
    text = VALID.replace(
        "      - id: a\n        title: A\n", "      - id: a\n        title: A\n        requires: [b]\n"
    )
    message = errors_of(text)
    assert "prerequisite cycle: " in message
    assert ("a -> b -> a" in message) or ("b -> a -> b" in message)


def test_longer_cycle_names_every_topic():
    text = """\
schema: 1
id: c
title: C
phases:
  - id: p
    title: P
    topics:
      - {id: a, title: A, requires: [c]}
      - {id: b, title: B, requires: [a]}
      - {id: c, title: C, requires: [b]}
"""
    message = errors_of(text)
    cycle = message.split("prerequisite cycle: ")[1].split(" (hint")[0]
    names = cycle.split(" -> ")
    assert names[0] == names[-1] and set(names) == {"a", "b", "c"}


def test_all_problems_are_collected():
    text = VALID.replace("requires: [a]", "requires: [x, y]")
    message = errors_of(text)
    assert "unknown topic 'x'" in message and "unknown topic 'y'" in message
    assert message.splitlines()[-1] == "2 problems in bad.yaml"


def test_unknown_requirement_suggests_close_id():
    text = VALID.replace("id: a", "id: attention").replace("requires: [a]", "requires: [atention]")
    assert "did you mean 'attention'?" in errors_of(text)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "file is empty"),
        (b"   \n\n", "file is empty"),
        (b"schema: 1\ntitle: caf\xe9\n", "bad.yaml:2: not UTF-8 text"),
        (b"!!python/object/apply:os.system ['echo pwned']\n", "tags that build objects"),
        (b"schema: !!python/name:os.system 1\n", "tags that build objects"),
    ],
)
def test_hostile_or_broken_bytes_are_refused(data, expected):
    assert expected in errors_of(data)


def test_alias_bomb_is_refused_quickly():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join(f"*a{level - 1}" for _ in range(9))
        lines.append(f"a{level}: &a{level} [{refs}]")
    started = time.perf_counter()
    message = errors_of("\n".join(lines) + "\n")
    assert "alias bomb" in message
    assert time.perf_counter() - started < 2


def test_huge_file_is_refused_before_reading(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * 600_000)
    with pytest.raises(RoadmapError, match="roadmaps are limited to 4 MiB"):
        load_roadmap(big)


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(RoadmapError, match=r"nope\.yaml: no such file"):
        load_roadmap(tmp_path / "nope.yaml")


def test_json_schema_is_generated_from_the_models():
    schema = json_schema()
    topic = schema["$defs"]["Topic"]
    assert {"id", "title", "requires", "aliases", "replaces", "kind"} <= set(topic["properties"])
    assert schema["required"] == ["schema", "id", "title", "phases"]


# --- the shipped roadmap ----------------------------------------------------------------------------------

shipped = pytest.mark.skipif(not SHIPPED.exists(), reason="data/roadmap.yaml not written yet")


@shipped
def test_shipped_roadmap_is_valid_and_complete():
    roadmap = load_roadmap(SHIPPED)
    topics = roadmap.topics()
    assert 6 <= len(roadmap.phases) <= 10
    assert 60 <= len(topics) <= 160
    source_ids = {s.id for s in roadmap.sources}
    assert len(source_ids) == 5
    for topic in topics:
        assert topic.summary and topic.hours and topic.difficulty and topic.resources, topic.id
    # Topics no seed covers (MCP, the capstones, …) have no sources; the seeds still cover most topics.
    assert sum(1 for t in topics if t.sources) >= 0.9 * len(topics)
    for source in source_ids:
        covering = [t for t in topics if source in t.sources]
        assert len(covering) >= 5, f"source {source} covers only {len(covering)} topics"
    assert any(t.kind == "project" for t in topics)


@shipped
def test_shipped_roadmap_has_a_study_order_and_no_redundant_edges():
    from llmpath.planner import redundant_edges

    roadmap = load_roadmap(SHIPPED)
    infos = [
        TopicInfo(t.id, t.title, p.id, i)
        for i, (p, t) in enumerate((p, t) for p in roadmap.phases for t in p.topics)
    ]
    edges = [(t.id, r) for t in roadmap.topics() for r in t.requires]
    graph = Graph.from_edges([PhaseInfo(p.id, p.title) for p in roadmap.phases], infos, edges)
    order = topological_order(graph)
    seen: set[str] = set()
    for topic_id in order:
        assert set(graph.requires[topic_id]) <= seen
        seen.add(topic_id)
    assert redundant_edges(graph) == []
    phase_index = {p.id: i for i, p in enumerate(roadmap.phases)}
    for topic_id, required in edges:
        assert phase_index[graph.topics[required].phase_id] <= phase_index[graph.topics[topic_id].phase_id], (
            f"{topic_id} (earlier phase) requires {required} (later phase)"
        )


@shipped
def test_every_seed_item_maps_to_an_existing_topic():
    coverage = yaml.safe_load((DATA / "seed_coverage.yaml").read_text(encoding="utf-8"))
    roadmap = load_roadmap(SHIPPED)
    ids = {t.id for t in roadmap.topics()}
    assert set(coverage) == {s.id for s in roadmap.sources}
    unmapped = [
        (seed, row["item"], row.get("topic"))
        for seed, rows in coverage.items()
        for row in rows
        if row.get("topic") not in ids
    ]
    assert unmapped == []
    assert all(len(rows) >= 9 for rows in coverage.values())
