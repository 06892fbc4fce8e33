"""The prerequisite graph as Mermaid or Graphviz DOT text, nodes styled by the learner's status."""

from __future__ import annotations

from collections.abc import Iterable

from llmpath.planner import Graph, Statuses, topic_state

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


def _members(graph: Graph, only: Iterable[str] | None) -> list[str]:
    keep = None if only is None else set(only)
    return [t for t in graph.topics if keep is None or t in keep]


def _node(topic_id: str) -> str:
    # Ids are kebab-case; Mermaid node ids may not contain "-" in every renderer.
    return topic_id.replace("-", "_")


def _label(text: str) -> str:
    # Mermaid's own entity codes keep quotes and angle brackets from ending the label or opening HTML.
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(graph: Graph, statuses: Statuses, only: Iterable[str] | None = None) -> str:
    """A `flowchart LR` with one class per status; renders on GitHub inside a ```mermaid block."""
    members = _members(graph, only)
    inside = set(members)
    lines = ["flowchart LR"]
    for topic_id in members:
        lines.append(f'    {_node(topic_id)}["{_label(graph.topics[topic_id].title)}"]')
    for topic_id in members:
        for required in graph.requires[topic_id]:
            if required in inside:
                lines.append(f"    {_node(required)} --> {_node(topic_id)}")
    by_state: dict[str, list[str]] = {}
    for topic_id in members:
        by_state.setdefault(topic_state(graph, statuses, topic_id), []).append(_node(topic_id))
    for state, style in _MERMAID_STYLES.items():
        lines.append(f"    classDef {state} {style}")
    for state, nodes in by_state.items():
        lines.append(f"    class {','.join(nodes)} {state}")
    return "\n".join(lines) + "\n"


def dot(graph: Graph, statuses: Statuses, only: Iterable[str] | None = None) -> str:
    """A Graphviz digraph; `dot -Tsvg` draws it."""
    members = _members(graph, only)
    inside = set(members)
    lines = [
        "digraph llmpath {",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for topic_id in members:
        state = topic_state(graph, statuses, topic_id)
        title = graph.topics[topic_id].title.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'    "{topic_id}" [label="{title}", {_DOT_STYLES[state]}];')
    for topic_id in members:
        for required in graph.requires[topic_id]:
            if required in inside:
                lines.append(f'    "{required}" -> "{topic_id}";')
    lines.append("}")
    return "\n".join(lines) + "\n"
