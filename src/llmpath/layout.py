"""Where the prerequisite map's boxes and curves go: a pure function over the planner's `Graph`, stdlib only.

One band per phase, in roadmap order, left to right. A phase's topics form one column. A phase with more
topics than `max_rows` wraps into sub-columns, and when few phases are shown (`--phase`, a small roadmap)
the phases with the most topics get extra sub-columns until there are about 0.7·√n columns. A phase is
split along its own prerequisite depth (topics sorted by the longest chain of same-phase prerequisites
leading to them, then roadmap order), so the edges inside a phase run left to right or stay in one column.

Within each column the order keeps edge crossings low: the barycentre heuristic places each topic at the
mean height of its neighbours (in any column: the previous and next ones, those an edge skips to, its own)
and of itself (a damper against swinging back and forth), sweeping left to right and right to left several
times and keeping the order with the fewest crossings seen, the roadmap's own order included. Ties go to
the neighbours' mean alone, then to roadmap order, so the same graph always gives the same layout.

Edges are cubic Bézier curves: from a box's right side to the next box's left side; an edge between two
topics of one column is an arc on the column's left, and an edge to an earlier column (a custom roadmap may
require a later phase's topic) runs from the left side back to the right side.

Crossings are counted the way they are drawn in a layered graph: an edge that spans several columns is
followed column boundary by column boundary at linearly interpolated heights; two edges cross between two
neighbouring columns when their order swaps (ties are no crossing), and an arc crosses every edge that
reaches its column's left side strictly between its two ends, and every arc that interleaves with it.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from llmpath.planner import Graph

BOX_WIDTH = 172  # default box size, when the caller gives none for a topic
BOX_HEIGHT = 40
ROW_GAP = 12  # between two boxes of a column
COLUMN_GAP = 72  # between two columns (the curves run here; arcs use its right part)
BAND_PAD = 12  # a phase band reaches this far beyond its columns
MARGIN = 8  # around the whole map
HEADER = 40  # room above the boxes for the phase titles (the caller may ask for more)
ARC_MAX = 44  # the widest an arc in a column's left gap bulges (it is 3/4 of this at most)
SWEEPS = 20  # barycentre sweeps at most (half left to right, half right to left)
MIN_ROWS = 24  # a column wraps only beyond max(MIN_ROWS, 1.3·√n) topics

Order = Literal["barycentre", "roadmap"]


@dataclass(frozen=True)
class Box:
    topic_id: str
    phase_id: str
    x: float
    y: float
    w: float
    h: float
    column: int  # index of the column, left to right over the whole map
    row: int  # index within the column, top to bottom

    @property
    def middle(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Band:
    """A phase's stripe: its columns, and where its title goes (top left, inside the band)."""

    phase_id: str
    x: float
    y: float
    w: float
    h: float
    title_x: float
    title_y: float
    columns: tuple[int, ...]


@dataclass(frozen=True)
class Curve:
    from_id: str  # the prerequisite
    to_id: str  # the topic that requires it
    path_d: str  # an SVG path: one cubic Bézier ("M x y C x1 y1 x2 y2 x y")
    kind: Literal["forward", "arc", "backward"]


@dataclass(frozen=True)
class MapLayout:
    width: float
    height: float
    boxes: tuple[Box, ...]  # in roadmap order
    bands: tuple[Band, ...]  # in roadmap order
    curves: tuple[Curve, ...]  # in roadmap order of the topic that requires, then of its prerequisite
    columns: tuple[tuple[str, ...], ...]  # topic ids of each column, top to bottom


def layout_map(
    graph: Graph,
    sizes: Mapping[str, tuple[float, float]] | None = None,
    *,
    only: Iterable[str] | None = None,
    header: float = HEADER,
    max_rows: int | None = None,
    order: Order = "barycentre",
) -> MapLayout:
    """The map of `graph` (the `only` topics, and the edges between them), boxes sized by `sizes`
    (topic id -> (width, height); BOX_WIDTH by BOX_HEIGHT where missing).

    `order="roadmap"` keeps each column in roadmap order (what the barycentre order is measured against).
    Linear in topics and edges per sweep (times the columns an edge spans), so 500 topics take milliseconds.
    """
    sizes = sizes or {}
    keep = None if only is None else set(only)
    members = [t for t in graph.topics if keep is None or t in keep]
    inside = set(members)
    position = {t: graph.topics[t].position for t in members}
    edges = [(r, t) for t in members for r in graph.in_roadmap_order(graph.requires[t]) if r in inside]
    size = {t: sizes.get(t, (BOX_WIDTH, BOX_HEIGHT)) for t in members}

    by_phase: dict[str, list[str]] = {p.id: [] for p in graph.phases}
    for topic_id in members:
        by_phase.setdefault(graph.topics[topic_id].phase_id, []).append(topic_id)
    shown = [p for p in by_phase if by_phase[p] or keep is None]
    columns, column_phase = _columns(shown, by_phase, edges, position, max_rows, len(members))

    if order == "barycentre":
        columns = _barycentre(columns, edges, size, position, header)

    # x of each column; a phase band reaches BAND_PAD beyond its columns; columns are COLUMN_GAP apart
    widths = [max((size[t][0] for t in column), default=BOX_WIDTH) for column in columns]
    xs: list[float] = []
    bands_x: dict[str, tuple[float, float]] = {}
    x = float(MARGIN)
    for phase_id in shown:
        start = x
        x += BAND_PAD - COLUMN_GAP
        for c, column_phase_id in enumerate(column_phase):
            if column_phase_id == phase_id:
                x += COLUMN_GAP
                xs.append(x)
                x += widths[c]
        x += BAND_PAD
        bands_x[phase_id] = (start, x - start)
        x += COLUMN_GAP - 2 * BAND_PAD
    width = x - (COLUMN_GAP - 2 * BAND_PAD) + MARGIN

    ys = _stack(columns, size, header)
    boxes = {
        t: Box(t, graph.topics[t].phase_id, xs[c], ys[t], size[t][0], size[t][1], c, row)
        for c, column in enumerate(columns)
        for row, t in enumerate(column)
    }
    bottom = max((b.y + b.h for b in boxes.values()), default=MARGIN + header)
    height = bottom + BAND_PAD + MARGIN
    bands = tuple(
        Band(
            phase_id,
            bands_x[phase_id][0],
            MARGIN,
            bands_x[phase_id][1],
            height - 2 * MARGIN,
            bands_x[phase_id][0] + BAND_PAD,
            MARGIN + BAND_PAD,
            tuple(c for c, p in enumerate(column_phase) if p == phase_id),
        )
        for phase_id in shown
    )
    curves = tuple(_curve(boxes[r], boxes[t]) for r, t in edges)
    return MapLayout(
        round(width, 1),
        round(height, 1),
        tuple(boxes[t] for t in members),
        bands,
        curves,
        tuple(tuple(column) for column in columns),
    )


def count_crossings(layout: MapLayout) -> int:
    """Edge crossings of a layout, counted as the module docstring says."""
    boxes = {b.topic_id: b for b in layout.boxes}
    spans = [
        (boxes[c.from_id].column, boxes[c.from_id].middle, boxes[c.to_id].column, boxes[c.to_id].middle)
        for c in layout.curves
    ]
    return _crossings(spans)


# --- columns ----------------------------------------------------------------------------------------------


def _columns(
    shown: Sequence[str],
    by_phase: Mapping[str, list[str]],
    edges: Sequence[tuple[str, str]],
    position: Mapping[str, int],
    max_rows: int | None,
    total: int,
) -> tuple[list[list[str]], list[str]]:
    """The columns (topic ids in roadmap order) and the phase of each."""
    rows = max_rows or max(MIN_ROWS, math.ceil(1.3 * math.sqrt(total)))
    depth = _depth_in_phase(by_phase, edges, position)
    levels = {p: len({depth[t] for t in by_phase[p]}) for p in shown}
    count = {p: max(1, math.ceil(len(by_phase[p]) / rows)) for p in shown}
    # Room to spare (few phases shown): the fullest phases spread out, one column per depth at most.
    target = round(0.7 * math.sqrt(total))
    while sum(count.values()) < target:
        wider = [p for p in shown if count[p] < levels[p]]
        if not wider:
            break
        fullest = max(wider, key=lambda p: (len(by_phase[p]) / count[p], -shown.index(p)))
        count[fullest] += 1
    columns: list[list[str]] = []
    column_phase: list[str] = []
    for phase_id in shown:
        topics = sorted(by_phase[phase_id], key=lambda t: (depth[t], position[t]))
        k = count[phase_id]
        chunk = math.ceil(len(topics) / k) if topics else 0
        for i in range(k):
            part = topics[i * chunk : (i + 1) * chunk]
            if part or i == 0:
                columns.append(sorted(part, key=position.__getitem__))
                column_phase.append(phase_id)
    return columns, column_phase


def _depth_in_phase(
    by_phase: Mapping[str, list[str]], edges: Sequence[tuple[str, str]], position: Mapping[str, int]
) -> dict[str, int]:
    """The longest chain of same-phase prerequisites that leads to each topic (0: none in its phase).

    Relaxed in roadmap order, repeatedly while anything changes (a custom roadmap may list a topic before
    its same-phase prerequisite); without cycles that ends within as many rounds as the phase has topics,
    and the rounds stop there in any case.
    """
    phase_of = {t: p for p, topics in by_phase.items() for t in topics}
    inner = sorted(
        ((r, t) for r, t in edges if phase_of[r] == phase_of[t]),
        key=lambda e: (position[e[1]], position[e[0]]),
    )
    depth = dict.fromkeys(phase_of, 0)
    for _ in range(max((len(topics) for topics in by_phase.values()), default=0)):
        changed = False
        for required, topic_id in inner:
            if depth[topic_id] < depth[required] + 1:
                depth[topic_id] = depth[required] + 1
                changed = True
        if not changed:
            break
    return depth


# --- ordering ---------------------------------------------------------------------------------------------


def _stack(columns: Sequence[Sequence[str]], size: Mapping[str, tuple[float, float]], header: float) -> dict:
    """Top of each box: columns top-aligned below the header, boxes ROW_GAP apart."""
    ys: dict[str, float] = {}
    for column in columns:
        y = MARGIN + BAND_PAD + header
        for topic_id in column:
            ys[topic_id] = y
            y += size[topic_id][1] + ROW_GAP
    return ys


def _barycentre(
    columns: list[list[str]],
    edges: Sequence[tuple[str, str]],
    size: Mapping[str, tuple[float, float]],
    position: Mapping[str, int],
    header: float,
) -> list[list[str]]:
    """Columns reordered by the barycentre heuristic; the best order seen, by crossings, is kept."""
    layer = {t: c for c, column in enumerate(columns) for t in column}
    neighbours: dict[str, list[str]] = {t: [] for t in layer}
    for required, topic_id in edges:
        neighbours[required].append(topic_id)
        neighbours[topic_id].append(required)
    current = [list(column) for column in columns]

    def middles() -> dict[str, float]:
        tops = _stack(current, size, header)
        return {t: tops[t] + size[t][1] / 2 for t in layer}

    def crossings() -> int:
        middle = middles()
        return _crossings([(layer[r], middle[r], layer[t], middle[t]) for r, t in edges])

    best, best_count = [list(column) for column in current], crossings()
    since_best = 0
    for sweep in range(SWEEPS):
        order = range(len(current)) if sweep % 2 == 0 else range(len(current) - 1, -1, -1)
        middle = middles()
        for c in order:
            column = current[c]
            keys: dict[str, tuple[float, float, int]] = {}
            for topic_id in column:
                # The mean height of every neighbour, wherever it is, and of the topic itself (a damper);
                # on a tie, of the neighbours alone; then roadmap order.
                heights = [middle[n] for n in neighbours[topic_id]]
                alone = sum(heights) / len(heights) if heights else middle[topic_id]
                damped = (sum(heights) + middle[topic_id]) / (len(heights) + 1)
                keys[topic_id] = (damped, alone, position[topic_id])
            column.sort(key=keys.__getitem__)
            y = MARGIN + BAND_PAD + header
            for topic_id in column:  # later columns of this sweep see the new heights
                middle[topic_id] = y + size[topic_id][1] / 2
                y += size[topic_id][1] + ROW_GAP
        count = crossings()
        if count < best_count:
            best, best_count, since_best = [list(column) for column in current], count, 0
        else:
            since_best += 1
            if since_best >= 4:
                break
    return best


def _crossings(spans: Iterable[tuple[int, float, int, float]]) -> int:
    """Crossings of edges given as (column, height, column, height) at their two ends."""
    between: dict[int, list[tuple[float, float]]] = {}  # boundary b: between columns b and b + 1
    arcs: dict[int, list[tuple[float, float]]] = {}
    for c1, y1, c2, y2 in spans:
        if c1 == c2:
            arcs.setdefault(c1, []).append((min(y1, y2), max(y1, y2)))
            continue
        if c1 > c2:
            c1, y1, c2, y2 = c2, y2, c1, y1
        step = (y2 - y1) / (c2 - c1)
        for b in range(c1, c2):
            between.setdefault(b, []).append((y1 + step * (b - c1), y1 + step * (b + 1 - c1)))
    total = sum(_inversions(pairs) for pairs in between.values())
    for c, spans_in_column in arcs.items():
        arriving = sorted(right for _, right in between.get(c - 1, []))
        for low, high in spans_in_column:
            total += max(0, bisect_left(arriving, high) - bisect_right(arriving, low))
        spans_in_column.sort()
        for i, (low, high) in enumerate(spans_in_column):
            for other_low, other_high in spans_in_column[i + 1 :]:
                if other_low >= high:
                    break
                if low < other_low < high < other_high:
                    total += 1
    return total


def _inversions(pairs: list[tuple[float, float]]) -> int:
    """Pairs (a, b) with a.left < b.left and a.right > b.right, both strictly (a Fenwick tree)."""
    pairs = sorted(pairs)
    ranks = {value: i + 1 for i, value in enumerate(sorted({right for _, right in pairs}))}
    tree = [0] * (len(ranks) + 1)
    total = 0
    seen = 0
    start = 0
    while start < len(pairs):  # a run of equal lefts is counted first, then added: ties never cross
        end = start
        while end < len(pairs) and pairs[end][0] == pairs[start][0]:
            end += 1
        for _, right in pairs[start:end]:
            i, not_above = ranks[right], 0
            while i:
                not_above += tree[i]
                i -= i & -i
            total += seen - not_above
        for _, right in pairs[start:end]:
            i = ranks[right]
            while i < len(tree):
                tree[i] += 1
                i += i & -i
            seen += 1
        start = end
    return total


# --- curves -----------------------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _curve(source: Box, target: Box) -> Curve:
    if source.column == target.column:
        x, y1, y2 = source.x, source.middle, target.middle
        bulge = min(ARC_MAX, 16 + 0.12 * abs(y2 - y1))
        d = f"M{_n(x)} {_n(y1)}C{_n(x - bulge)} {_n(y1)} {_n(x - bulge)} {_n(y2)} {_n(x)} {_n(y2)}"
        return Curve(source.topic_id, target.topic_id, d, "arc")
    if source.column < target.column:
        x1, x2 = source.x + source.w, target.x
        pull = min((x2 - x1) / 2, 1.5 * COLUMN_GAP)
        kind: Literal["forward", "backward"] = "forward"
    else:
        x1, x2 = source.x, target.x + target.w
        pull = -min((x1 - x2) / 2, 1.5 * COLUMN_GAP)
        kind = "backward"
    y1, y2 = source.middle, target.middle
    d = f"M{_n(x1)} {_n(y1)}C{_n(x1 + pull)} {_n(y1)} {_n(x2 - pull)} {_n(y2)} {_n(x2)} {_n(y2)}"
    return Curve(source.topic_id, target.topic_id, d, kind)
