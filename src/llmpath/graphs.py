"""The prerequisite graph as Mermaid or Graphviz DOT text, nodes styled by the learner's status.

No topic or phase id and no title can break either format: Mermaid node ids carry a prefix (`t_` for topics,
`p_` for phases), so ids such as `end`, `graph`, `class` or `1` never meet the parser as keywords or
numbers; DOT ids are always quoted. Labels are escaped for each format.
"""

from __future__ import annotations

from collections.abc import Iterable

from llmpath.planner import Graph, Statuses, topic_state
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


def _members(graph: Graph, only: Iterable[str] | None) -> list[str]:
    keep = None if only is None else set(only)
    return [t for t in graph.topics if keep is None or t in keep]


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
    members = _members(graph, only)
    inside = set(members)
    lines = ["flowchart TB"]
    by_phase: dict[str, list[str]] = {}
    for topic_id in members:
        by_phase.setdefault(graph.topics[topic_id].phase_id, []).append(topic_id)
    titles = {phase.id: phase.title for phase in graph.phases}
    for phase_id, topic_ids in by_phase.items():
        indent = "    "
        if len(by_phase) > 1:
            lines.append(f'    subgraph {_subgraph(phase_id)}["{_label(titles.get(phase_id, phase_id))}"]')
            indent = "        "
        for topic_id in topic_ids:
            lines.append(f'{indent}{_node(topic_id)}["{_label(graph.topics[topic_id].title)}"]')
        if len(by_phase) > 1:
            lines.append("    end")
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
    """A Graphviz digraph; `dot -Tsvg` draws it. Ids are quoted, so no id is a DOT keyword."""
    members = _members(graph, only)
    inside = set(members)
    lines = [
        "digraph llmpath {",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for topic_id in members:
        state = topic_state(graph, statuses, topic_id)
        title = _dot_label(graph.topics[topic_id].title)
        lines.append(f'    "{topic_id}" [label="{title}", {_DOT_STYLES[state]}];')
    for topic_id in members:
        for required in graph.requires[topic_id]:
            if required in inside:
                lines.append(f'    "{required}" -> "{topic_id}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def fenced(chart: str, language: str) -> str:
    """The chart as a markdown code block (```mermaid renders on GitHub). Labels hold no backticks."""
    return f"```{language}\n{chart.rstrip()}\n```\n"
