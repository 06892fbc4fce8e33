"""`graph` output read back by the real parsers: Mermaid (as GitHub draws it) and Graphviz's `dot`.

Every chart is parsed by Mermaid itself (npm `mermaid`, in one Node process; installed once into a cache
folder by tests/renderers.py), and what the parser saw (node ids, label text, status classes, edges, one
subgraph per phase) is compared with the roadmap file, loaded here with PyYAML. A roadmap whose ids are
Mermaid's and DOT's keywords, numbers and edge ends, with titles full of quotes, entities, HTML, backticks and
directives, shows that no id or title can break a chart. Skipped, with the reason, only where Node/npm or
Graphviz is missing or npm cannot reach its registry (`.ci/run` installs all of them).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml

from llmpath import paths

from . import renderers
from .conftest import Cli, ok

# Words Mermaid's flowchart lexer treats specially, DOT keywords, numbers, edge ends (`o`, `x`) and names
# that are special on a JavaScript object: each is a topic id here, as the roadmap format allows.
KEYWORDS = [
    "end", "graph", "subgraph", "style", "class", "click", "classdef", "linkstyle", "flowchart",
    "flowchart-elk", "direction", "default", "tb", "td", "bt", "rl", "lr", "1", "42", "007", "1-2", "o", "x",
    "o-o", "x-x", "v", "href", "call", "callback", "interpolate", "acctitle", "accdescr", "e1", "node",
    "edge", "digraph", "strict", "constructor", "prototype", "tostring", "true", "null", "nan",
]  # fmt: skip
PHASES = ["end", "subgraph", "graph-1", "2"]  # phase ids, keywords and numbers too
TITLES = [
    'Say "hi" <b>bold</b> & AT&amp;T',
    "C# and #quot; #35; entity codes",
    '%%{init: {"theme": "dark"}}%% directive',
    "```js fenced``` and `code`",
    "a]b[c(d)e{f}g|h;i:j,k",
    "end",
    "--> arrows --- ==> -.-> o--o",
    "<script>alert(1)</script> <img src=x onerror=alert(1)>",
    r"back\slash \n \N \G \\",
    "click t_end call alert()",
    "Ünïcödé → 漢字 🙂 100%",
]
STATE_OF = {"done": "done", "skip": "skipped", "start": "doing"}


def keyword_roadmap(tmp_path: Path) -> Path:
    """Topics named after every keyword, in four phases named like keywords, chained across phases."""
    per_phase = -(-len(KEYWORDS) // len(PHASES))
    phases = []
    for index, phase_id in enumerate(PHASES):
        chunk = KEYWORDS[index * per_phase : (index + 1) * per_phase]
        topics = []
        for topic_id in chunk:
            at = KEYWORDS.index(topic_id)
            topic: dict = {"id": topic_id, "title": f"{TITLES[at % len(TITLES)]} ({topic_id})"}
            requires = [KEYWORDS[at - step] for step in (1, 3) if at - step >= 0]
            if requires:
                topic["requires"] = requires
            topics.append(topic)
        phases.append({"id": phase_id, "title": f"Phase {TITLES[index]}", "topics": topics})
    path = tmp_path / "keywords.yaml"
    path.write_text(
        yaml.safe_dump(
            {"schema": 1, "id": "keywords", "title": "Keywords", "phases": phases}, sort_keys=False
        ),
        encoding="utf-8",
    )
    return path


class Roadmap:
    """The roadmap file as plain data: phases in order, topic titles, prerequisites."""

    def __init__(self, path: Path):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.phase_title = {p["id"]: p["title"] for p in document["phases"]}
        self.phase = {t["id"]: p["id"] for p in document["phases"] for t in p["topics"]}
        self.title = {t["id"]: t["title"] for p in document["phases"] for t in p["topics"]}
        self.requires = {
            t["id"]: list(t.get("requires", [])) for p in document["phases"] for t in p["topics"]
        }

    def state(self, statuses: dict[str, str], topic: str) -> str:
        if topic in statuses:
            return statuses[topic]
        met = all(statuses.get(r) in ("done", "skipped") for r in self.requires[topic])
        return "available" if met else "blocked"


def node(topic: str) -> str:
    return "t_" + topic.replace("-", "_")


def make_progress(cli: Cli, progress: dict[str, list[str]]) -> dict[str, str]:
    for command, topics in progress.items():
        ok(cli(command, *topics))
    return {t: STATE_OF[command] for command, topics in progress.items() for t in topics}


def check_parsed(seen: dict, rm: Roadmap, statuses: dict[str, str], members: set[str]) -> None:
    """What Mermaid parsed is exactly the members, their titles, classes, edges and phases."""
    assert seen["ok"], seen["error"]
    assert seen["type"] == "flowchart-v2"
    assert set(seen["nodes"]) == {node(t) for t in members}
    for topic in members:
        parsed = seen["nodes"][node(topic)]
        assert html.unescape(parsed["text"]) == rm.title[topic]
        assert parsed["classes"] == [rm.state(statuses, topic)], topic
    edges = {(node(r), node(t)) for t in members for r in rm.requires[t] if r in members}
    assert sorted(map(tuple, seen["edges"])) == sorted(edges)
    phases = {rm.phase[t] for t in members}
    if len(phases) == 1:
        assert seen["subgraphs"] == []
        return
    subgraphs = {s["id"]: s for s in seen["subgraphs"]}
    assert set(subgraphs) == {"p_" + p.replace("-", "_") for p in phases}
    for phase in phases:
        subgraph = subgraphs["p_" + phase.replace("-", "_")]
        assert html.unescape(subgraph["title"]) == rm.phase_title[phase]
        assert set(subgraph["nodes"]) == {node(t) for t in members if rm.phase[t] == phase}


def test_mermaid_parses_every_chart(shipped_cli: Cli, tmp_path: Path):
    try:
        renderers.mermaid_dir()  # before any chart is made: a skip costs nothing
    except renderers.Unavailable as reason:
        pytest.skip(f"no Mermaid parser: {reason}")
    shipped = Roadmap(paths.shipped_roadmap_path())
    shipped_statuses = make_progress(
        shipped_cli, {"done": ["llm-overview", "python-programming"], "skip": ["linear-algebra"],
                      "start": ["tokenization"]},
    )  # fmt: skip
    keywords_file = keyword_roadmap(tmp_path)
    custom = Cli(keywords_file)
    custom_statuses = make_progress(
        custom, {"done": ["end", "graph"], "skip": ["1"], "start": ["class", "o"]}
    )
    charts = {
        "shipped": ok(shipped_cli("graph")),
        "goal rag": ok(shipped_cli("graph", "--goal", "rag")),
        "phase transformers": ok(shipped_cli("graph", "--phase", "transformers")),
        "keywords": ok(custom("graph")),
        "keywords phase end": ok(custom("graph", "--phase", "end")),
    }
    fenced = ok(custom("graph", "--markdown"))
    assert fenced == "```mermaid\n" + charts["keywords"] + "```\n"
    assert ok(custom("export", "--graph")).endswith("## Prerequisite graph\n\n" + fenced)
    for name, chart in charts.items():
        assert chart.startswith("flowchart TB\n"), name
        assert "`" not in chart, name  # nothing can close the fence early
        assert len(chart) < 50_000, name  # Mermaid's maxTextSize: a longer chart is not drawn at all

    # The parser can fail: ids left bare, as `graph` once wrote them, are rejected (same Node process).
    bare = {"bare end": 'flowchart LR\n    end["End"]\n', "bare graph": "flowchart LR\n    a --> graph\n"}
    parsed = renderers.parse_mermaid(charts | bare)
    for name in bare:
        assert not parsed[name]["ok"] and "Parse error" in parsed[name]["error"], name

    every = set(shipped.title)
    check_parsed(parsed["shipped"], shipped, shipped_statuses, every)
    assert len(parsed["shipped"]["subgraphs"]) == len(shipped.phase_title)
    goal = parsed["goal rag"]
    on_the_way = {t for t in every if node(t) in goal["nodes"]}
    assert "rag-fundamentals" in on_the_way and len(on_the_way) > 3
    check_parsed(goal, shipped, shipped_statuses, on_the_way)
    transformers = {t for t in every if shipped.phase[t] == "transformers"}
    check_parsed(parsed["phase transformers"], shipped, shipped_statuses, transformers)

    custom_rm = Roadmap(keywords_file)
    check_parsed(parsed["keywords"], custom_rm, custom_statuses, set(KEYWORDS))
    in_end = {t for t in KEYWORDS if custom_rm.phase[t] == "end"}
    check_parsed(parsed["keywords phase end"], custom_rm, custom_statuses, in_end)


def dot_text(label: str) -> str:
    """A DOT label as Graphviz shows it: its escapes (`\\\\` only, we write no others) then HTML entities."""
    return html.unescape(re.sub(r"\\(.)", lambda m: m[1] if m[1] == "\\" else f"<escape {m[1]}>", label))


def check_dot(drawn: dict, rm: Roadmap, members: set[str]) -> None:
    names = [o["name"] for o in drawn["objects"]]
    assert sorted(names) == sorted(members)
    for o in drawn["objects"]:
        assert dot_text(o["label"]) == rm.title[o["name"]]
    edges = {(names[e["tail"]], names[e["head"]]) for e in drawn.get("edges", [])}
    assert edges == {(r, t) for t in members for r in rm.requires[t] if r in members}


def test_dot_parses_every_chart(shipped_cli: Cli, tmp_path: Path):
    try:
        renderers.dot_json("digraph {}")
    except renderers.Unavailable as reason:
        pytest.skip(f"no DOT parser: {reason}")
    shipped = Roadmap(paths.shipped_roadmap_path())
    check_dot(renderers.dot_json(ok(shipped_cli("graph", "--format", "dot"))), shipped, set(shipped.title))
    keywords_file = keyword_roadmap(tmp_path)
    custom = Cli(keywords_file)
    text = ok(custom("graph", "--format", "dot"))
    check_dot(renderers.dot_json(text), Roadmap(keywords_file), set(KEYWORDS))
    assert ok(custom("graph", "--format", "dot", "--markdown")) == "```dot\n" + text + "```\n"
