"""The prerequisite graph as Mermaid or Graphviz DOT text, nodes styled by the learner's status.

No topic or phase id and no title can break either format: Mermaid node ids carry a prefix (`t_` for topics,
`p_` for phases), so ids such as `end`, `graph`, `class` or `1` never meet the parser as keywords or
numbers; DOT ids are always quoted. Labels are escaped for each format.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from llmpath.planner import Graph, PhaseInfo, Statuses, topic_state
from llmpath.terminal import visible

_MERMAID_STYLES = {
    "done": "fill:#2da44e,color:#fff,stroke:#1a7f37",
    "skipped": "fill:#8dd3c7,color:#000,stroke:#54aeb0",
    "doing": "fill:#f5c518,color:#000,stroke:#b08800",
    "available": "fill:#fff,color:#000,stroke:#0969da,stroke-width:2px",
    "blocked": "fill:#eee,color:#666,stroke:#bbb",
}
_DOT_STYLES = {
    "done": 'fillcolor="#2da44e", fontcolor="white"',
    "skipped": 'fillcolor="#8dd3c7"',
    "doing": 'fillcolor="#f5c518"',
    "available": 'fillcolor="white", color="#0969da", penwidth=2',
    "blocked": 'fillcolor="#eeeeee", fontcolor="#666666"',
}

# Characters that end a line for a parser: Mermaid's (JavaScript) and Graphviz's. Titles are one line, so
# these are only a last defence; each becomes a numeric entity that both formats decode.
_LINE_BREAKING = [*range(0x20), 0x7F, 0x85, 0x2028, 0x2029]

# Mermaid decodes its own entity codes (`#quot;`, `#35;`) in labels. Escaped: what ends a quoted label (`"`),
# opens HTML (`<`, `>`, `&`), starts an entity code (`#`), a markdown string (a backtick) or a `%%{…}%%`
# directive, which Mermaid looks for anywhere in the text (`%`).
_MERMAID_LABEL = str.maketrans(
    {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;", "%": "#37;"}
    | {code: f"#{code};" for code in _LINE_BREAKING}
)
# Graphviz: backslash escapes (`\n`, `\N`, `\G` …) and quotes in a quoted string; it decodes HTML entities.
# A backtick too, so that `graph --format dot --markdown` cannot close its code fence early.
_DOT_LABEL = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "&": "&amp;", "`": "&#96;"} | {code: f"&#{code};" for code in _LINE_BREAKING}
)


class Node(NamedTuple):
    id: str
    title: str
    phase_id: str
    state: str  # planner.topic_state: done, doing, skipped, available, blocked
    kind: str
    hours: float | None


class GraphNodes(NamedTuple):
    """What every drawing of the graph shows: `mermaid`, `dot` and the HTML report."""

    phases: list[PhaseInfo]  # the phases that hold nodes, in roadmap order
    nodes: list[Node]  # in roadmap order
    edges: list[tuple[str, str]]  # (prerequisite, topic), both among the nodes


def graph_nodes(graph: Graph, statuses: Statuses, only: Iterable[str] | None = None) -> GraphNodes:
    """The topics (all, or the `only` ones) with their state, and the prerequisite edges between them."""
    keep = None if only is None else set(only)
    members = [t for t in graph.topics.values() if keep is None or t.id in keep]
    inside = {t.id for t in members}
    nodes = [
        Node(t.id, t.title, t.phase_id, topic_state(graph, statuses, t.id), t.kind, t.hours) for t in members
    ]
    edges = [(required, t.id) for t in members for required in graph.requires[t.id] if required in inside]
    used = {t.phase_id for t in members}
    return GraphNodes([p for p in graph.phases if p.id in used], nodes, edges)


def _node(topic_id: str) -> str:
    # Roadmap ids are lowercase letters, digits and single hyphens. The prefix keeps every id from being a
    # Mermaid keyword (`end`, `graph`, `class` …), a number, or an edge end (`o`, `x`); "-" is not safe in
    # every renderer, and "_" is not allowed in ids, so the mapping stays one to one.
    return "t_" + topic_id.replace("-", "_")


def _subgraph(phase_id: str) -> str:
    return "p_" + phase_id.replace("-", "_")


def _label(text: str) -> str:
    """A title as the text of a quoted Mermaid label; control characters made visible (it is printed)."""
    return visible(text).translate(_MERMAID_LABEL)


def _dot_label(text: str) -> str:
    """A title as the text of a quoted DOT string; control characters made visible (it is printed)."""
    return visible(text).translate(_DOT_LABEL)


def mermaid(graph: Graph, statuses: Statuses, only: Iterable[str] | None = None) -> str:
    """A top-to-bottom `flowchart` with one class per status; renders on GitHub inside a ```mermaid block.

    When the chart holds topics of more than one phase, each phase is a subgraph, in roadmap order.
    """
    data = graph_nodes(graph, statuses, only)
    lines = ["flowchart TB"]
    by_phase: dict[str, list[Node]] = {}
    for node in data.nodes:
        by_phase.setdefault(node.phase_id, []).append(node)
    titles = {phase.id: phase.title for phase in graph.phases}
    for phase_id, nodes in by_phase.items():
        indent = "    "
        if len(by_phase) > 1:
            lines.append(f'    subgraph {_subgraph(phase_id)}["{_label(titles.get(phase_id, phase_id))}"]')
            indent = "        "
        for node in nodes:
            lines.append(f'{indent}{_node(node.id)}["{_label(node.title)}"]')
        if len(by_phase) > 1:
            lines.append("    end")
    for required, topic_id in data.edges:
        lines.append(f"    {_node(required)} --> {_node(topic_id)}")
    by_state: dict[str, list[str]] = {}
    for node in data.nodes:
        by_state.setdefault(node.state, []).append(_node(node.id))
    for state, style in _MERMAID_STYLES.items():
        lines.append(f"    classDef {state} {style}")
    for state, names in by_state.items():
        lines.append(f"    class {','.join(names)} {state}")
    return "\n".join(lines) + "\n"


def dot(graph: Graph, statuses: Statuses, only: Iterable[str] | None = None) -> str:
    """A Graphviz digraph; `dot -Tsvg` draws it. Ids are quoted, so no id is a DOT keyword."""
    data = graph_nodes(graph, statuses, only)
    lines = [
        "digraph llmpath {",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for node in data.nodes:
        lines.append(f'    "{node.id}" [label="{_dot_label(node.title)}", {_DOT_STYLES[node.state]}];')
    for required, topic_id in data.edges:
        lines.append(f'    "{required}" -> "{topic_id}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def fenced(chart: str, language: str) -> str:
    """The chart as a markdown code block (```mermaid renders on GitHub). Labels hold no backticks."""
    return f"```{language}\n{chart.rstrip()}\n```\n"
