"""The shipped roadmap as a study path: true prerequisites, tracks that end in a capstone, a resource for
every topic, projects in every phase, nobody's progress lost on upgrade, and docs/ROADMAP.md's numbers.

Everything here is computed from the YAML files by brute force (PyYAML and set walks), never with llmpath's
planner, so a planner bug cannot hide a content bug. `tests/data/roadmap-v1.yaml` is the roadmap as it was
before its prerequisites were rewritten; the upgrade test and the before/after table use it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from llmpath import paths

from .conftest import DATA, REPO, Cli

SHIPPED = paths.shipped_roadmap_path()
V1 = DATA / "roadmap-v1.yaml"
ROADMAP_DOC = REPO / "docs" / "ROADMAP.md"
APP_TRACK = "application-engineer"
SCIENCE_TRACK = "model-scientist"
WHOLE_TRACK = "whole-path"
# Key topics for the before/after table: first LLM API call, prompting, RAG, agents, LoRA, DPO, serving,
# governance.
KEY_TOPICS = [
    "running-llms",
    "prompt-engineering",
    "rag-fundamentals",
    "ai-agents",
    "peft-lora",
    "direct-preference-optimization",
    "inference-serving",
    "ai-governance",
]


@dataclass(frozen=True)
class Plain:
    document: dict
    order: list[str]
    topics: dict[str, dict]
    phase_of: dict[str, str]

    def ancestors(self, topic_id: str) -> set[str]:
        """Every topic `topic_id` requires, directly or not (not itself)."""
        seen: set[str] = set()
        frontier = list(self.topics[topic_id].get("requires", []))
        while frontier:
            current = frontier.pop()
            if current not in seen:
                seen.add(current)
                frontier += self.topics[current].get("requires", [])
        return seen

    def hours(self, topic_ids) -> float:
        return sum(self.topics[t].get("hours", 0) for t in topic_ids)

    def track(self, track_id: str) -> list[str]:
        goals = next(t["goals"] for t in self.document.get("tracks", []) if t["id"] == track_id)
        members = set(goals).union(*(self.ancestors(g) for g in goals))
        return [t for t in self.order if t in members]


@functools.cache
def plain(path: Path) -> Plain:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    topics, phase_of = {}, {}
    for phase in document["phases"]:
        for topic in phase["topics"]:
            topics[topic["id"]] = topic
            phase_of[topic["id"]] = phase["id"]
    return Plain(document, list(topics), topics, phase_of)


def test_every_topic_has_a_resource_hours_difficulty_and_a_summary():
    roadmap = plain(SHIPPED)
    for topic_id, topic in roadmap.topics.items():
        assert topic.get("resources"), f"{topic_id} has no resource"
        assert topic.get("hours") and topic.get("difficulty") and topic.get("summary"), topic_id
        assert len(topic.get("concepts", [])) <= 14, f"{topic_id} has {len(topic['concepts'])} concepts"


def test_no_concept_is_listed_under_two_topics():
    owners: dict[str, str] = {}
    clashes = []
    for topic_id, topic in plain(SHIPPED).topics.items():
        for concept in topic.get("concepts", []):
            key = concept.casefold()
            if key in owners and owners[key] != topic_id:
                clashes.append((concept, owners[key], topic_id))
            owners.setdefault(key, topic_id)
    assert clashes == []


def test_no_topic_lists_a_link_twice():
    for topic_id, topic in plain(SHIPPED).topics.items():
        urls = [r["url"] for r in topic["resources"]]
        assert len(urls) == len(set(urls)), topic_id


def test_every_phase_after_the_first_has_a_project():
    for phase in plain(SHIPPED).document["phases"][1:]:
        assert any(t.get("kind") == "project" for t in phase["topics"]), phase["id"]


def test_topics_of_v1_keep_their_sources():
    old, new = plain(V1), plain(SHIPPED)
    for topic_id, topic in old.topics.items():
        if topic_id in new.topics:
            assert set(topic["sources"]) <= set(new.topics[topic_id].get("sources", [])), topic_id


def test_tracks_end_in_a_capstone_and_the_whole_path_holds_everything():
    roadmap = plain(SHIPPED)
    tracks = {t["id"]: t for t in roadmap.document["tracks"]}
    assert {APP_TRACK, SCIENCE_TRACK, WHOLE_TRACK} <= set(tracks)
    for track_id in tracks:
        last = roadmap.topics[roadmap.track(track_id)[-1]]
        assert last.get("kind") == "project" and last["id"].startswith("capstone-"), (track_id, last["id"])
    assert roadmap.track(WHOLE_TRACK) == roadmap.order


def test_the_application_engineer_track_skips_pretraining_and_rlhf_practice():
    roadmap = plain(SHIPPED)
    app = set(roadmap.track(APP_TRACK))
    for topic in ("rag-fundamentals", "ai-agents", "mcp", "llm-evals", "llm-security", "llm-deployment"):
        assert topic in app
    for topic in (
        "pretraining",
        "gpt2-scale-training",
        "distributed-training",
        "rlhf-ppo",
        "backpropagation",
    ):
        assert topic not in app
    assert roadmap.hours(app) <= 0.5 * roadmap.hours(roadmap.order)


def test_rag_and_agents_need_well_under_half_of_the_v1_prerequisite_hours():
    old, new = plain(V1), plain(SHIPPED)
    for topic in ("rag-fundamentals", "ai-agents", "running-llms", "prompt-engineering"):
        before, after = old.hours(old.ancestors(topic)), new.hours(new.ancestors(topic))
        assert after <= 0.4 * before, (topic, before, after)


def test_lora_and_dpo_do_not_sit_behind_a_pretraining_run():
    roadmap = plain(SHIPPED)
    for topic in ("peft-lora", "direct-preference-optimization", "supervised-fine-tuning"):
        ancestors = roadmap.ancestors(topic)
        assert not ancestors & {"pretraining", "distributed-training", "gpt2-scale-training", "rlhf-ppo"}


# (topic, prerequisite) pairs the v1 file had that do not describe what the topic needs.
WRONG_EDGES = [
    ("supervised-fine-tuning", "pretraining"),
    ("instruction-tuning-project", "gpt2-scale-training"),
    ("lora-fine-tuning-project", "instruction-tuning-project"),
    ("rnn-language-model", "word2vec-from-scratch"),
    ("transformer-from-scratch", "rnn-language-model"),
    ("llmops-fundamentals", "supervised-fine-tuning"),
    ("ai-governance", "constitutional-ai"),
    ("llm-deployment", "gguf-llama-cpp"),
    ("llm-observability", "llm-ci-cd"),
    ("ai-agents", "test-time-compute"),
    ("direct-preference-optimization", "rlhf-ppo"),
    ("running-llms", "modern-llm-architectures"),
    ("model-compression", "quantization-fundamentals"),
    ("text-to-image", "vision-language-models"),
    ("document-ingestion", "llm-orchestration"),
    ("vector-databases", "sql-databases"),
    ("inference-serving", "advanced-quantization"),
    ("transformer-architecture", "cnn-resnet"),
]
# (topic, prerequisite) pairs v1 lacked: now required, directly or through another topic.
NEEDED = [
    ("distributed-training", "transformer-architecture"),
    ("peft-lora", "quantization-fundamentals"),
    ("inference-serving", "gpu-hardware"),
    ("rl-for-reasoning", "benchmarks"),
    ("ai-agents", "llm-evals"),
    ("ai-agents", "llm-security"),
    ("long-context", "kv-cache"),
    ("instruction-tuning-project", "benchmarks"),
    ("lora-fine-tuning-project", "benchmarks"),
]


def test_the_edges_v1_got_wrong_are_gone_and_the_missing_ones_are_there():
    roadmap = plain(SHIPPED)
    for topic, wrong in WRONG_EDGES:
        assert wrong not in roadmap.ancestors(topic), (topic, wrong)
    for topic, needed in NEEDED:
        assert needed in roadmap.ancestors(topic), (topic, needed)
    assert len(roadmap.ancestors("research-frontier")) <= 2


def test_security_and_evaluation_come_before_what_they_shape():
    roadmap = plain(SHIPPED)
    phases = [p["id"] for p in roadmap.document["phases"]]
    assert roadmap.phase_of["llm-security"] == roadmap.phase_of["ai-agents"] == "applications"
    assert phases.index("evaluation-reasoning") < phases.index("fine-tuning-alignment")


def test_progress_on_every_v1_topic_survives_the_upgrade(tmp_path: Path):
    roadmap_file = tmp_path / "roadmap.yaml"
    roadmap_file.write_bytes(V1.read_bytes())
    cli = Cli(roadmap_file)
    old_ids = plain(V1).order
    result = cli("done", *old_ids)
    assert result.exit_code == 0, result.stderr
    assert cli("note", "peft-lora", "rank 8 was enough").exit_code == 0
    roadmap_file.write_bytes(SHIPPED.read_bytes())  # the upgrade: same roadmap id, new content

    status = json.loads(cli("status", "--json", "--all").stdout)
    orphaned = {o["id"] for o in status["orphaned"]}
    new_ids = set(plain(SHIPPED).order)
    for topic_id in old_ids:
        assert topic_id in new_ids or topic_id in orphaned, f"progress on {topic_id} was lost"
    done_now = {
        t["id"]
        for phase in status["phases"]
        for t in json.loads(cli("status", phase["id"], "--json", "--all").stdout)["topics"]
        if t["status"] == "done"
    }
    assert done_now == set(old_ids) & new_ids
    assert status["total"]["done"] == len(done_now)
    shown = json.loads(cli("show", "peft-lora", "--json").stdout)
    assert shown["status"] == "done" and [n["text"] for n in shown["notes"]] == ["rank 8 was enough"]


# --- docs/ROADMAP.md's numbers ----------------------------------------------------------------------------


def numbers_table() -> str:
    """The before/after table of docs/ROADMAP.md, computed from the two files."""
    old, new = plain(V1), plain(SHIPPED)
    lines = [
        "| topic | v1: prerequisites | v1: hours before it | now: prerequisites | now: hours before it |",
        "|---|---:|---:|---:|---:|",
    ]
    for topic in KEY_TOPICS:
        before, after = old.ancestors(topic), new.ancestors(topic)
        lines.append(
            f"| `{topic}` | {len(before)} | {old.hours(before):.0f} h "
            f"| {len(after)} | {new.hours(after):.0f} h |"
        )
    lines += [
        "",
        "| track | topics | hours | share of the whole roadmap |",
        "|---|---:|---:|---:|",
    ]
    whole = new.hours(new.order)
    for track in new.document["tracks"]:
        members = new.track(track["id"])
        lines.append(
            f"| `{track['id']}` | {len(members)} | {new.hours(members):.0f} h | "
            f"{100 * new.hours(members) / whole:.0f}% |"
        )
    lines.append(f"| v1, one path | {len(old.order)} | {old.hours(old.order):.0f} h | |")
    return "\n".join(lines)


def test_docs_roadmap_numbers_match_the_files():
    expected = numbers_table()
    assert expected in ROADMAP_DOC.read_text(encoding="utf-8"), (
        "docs/ROADMAP.md is out of date; its table should read:\n\n" + expected
    )


@pytest.mark.parametrize("track", [APP_TRACK, SCIENCE_TRACK])
def test_track_in_the_cli_matches_the_file(track: str, shipped_cli: Cli):
    rows = {r["id"]: r for r in json.loads(shipped_cli("track", "--json").stdout)}
    members = plain(SHIPPED).track(track)
    assert rows[track]["total"] == len(members)
    assert rows[track]["hours"] == pytest.approx(plain(SHIPPED).hours(members))
    assert shipped_cli("track", track).exit_code == 0
    offered = [i["id"] for i in json.loads(shipped_cli("next", "--json", "-n", "1000").stdout)]
    assert offered and set(offered) <= set(members)
