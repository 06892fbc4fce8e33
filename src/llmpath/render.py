"""Rich renderables from plain data. Nothing here reads the database or decides anything.

Text from files and users (titles, notes, paths, URLs) enters Rich here and only here, with its control
characters made visible (`terminal.visible`): each builder passes it through `safe_text` or `line`, so widths
are measured on what is shown, and the console itself makes visible any string it prints and any `Text` that
still carries a control character, so nothing written to the terminal can act on it.

Tables and panels are laid out for the width they are shown in (`Fitted`, `Flow`, `hanging`): less
important columns give way first, titles wrap only at spaces and are never cut with `…`, and hours, dates and
ids never break across lines. A topic named in running text is `Title (id)` (`ref`, `topic_ref`), so plain
output (piped, or NO_COLOR) keeps the two apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, JustifyMethod, RenderableType, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Span, Text

from llmpath.planner import Graph, PhaseProgress, Reached
from llmpath.terminal import UNSAFE, visible
from llmpath.vocab import local_time

if TYPE_CHECKING:
    from llmpath.team import TeamReport  # only `team status` needs it: kept off other commands' start-up

STATUS_MARKS = {
    "done": ("✓", "green"),
    "skipped": ("~", "cyan"),
    "doing": ("▶", "yellow"),
    "available": ("○", "bold"),
    "blocked": ("·", "dim"),
    "todo": ("○", ""),
    "review": ("↻", "magenta"),
}
MAX_TREE_ROWS = 15  # a deep topic's full tree is long; `path` lists it in order
STATUS_WORDS = {"done": "done", "skipped": "skipped", "doing": "in progress", "todo": "to do"}


class SafeConsole(Console):
    """A Console that shows control characters in what it prints instead of sending them to the terminal."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(visible(text), **kwargs)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        # The last line of defence, for a `Text` built without `safe_text`: it was measured as it was, but
        # it is shown safely.
        if isinstance(renderable, Text):
            renderable = _visible_text(renderable)
        return super().render(renderable, options)


def make_console() -> Console:
    """Plain text (no ANSI codes) when not a terminal, which Rich detects, or when NO_COLOR is set."""
    if os.environ.get("NO_COLOR"):
        return SafeConsole(color_system=None, highlight=False)
    return SafeConsole(highlight=False)


def safe_text(value: str, style: str | Style = "") -> Text:
    """Text from a file or a user as Rich shows it: control characters made visible, no markup."""
    return Text(visible(value), style=style)


def _visible_text(text: Text) -> Text:
    """A copy of `text` with its control characters made visible, each replacement keeping its styles."""
    plain = text.plain
    if visible(plain) is plain:
        return text
    cuts = sorted({offset for match in UNSAFE.finditer(plain) for offset in match.span()})
    shown = text.blank_copy()
    for piece in text.divide(cuts):
        replaced = visible(piece.plain)
        if replaced is not piece.plain:
            spans = [Span(0, len(replaced), span.style) for span in piece.spans]
            piece = Text(replaced, style=piece.style, spans=spans)
        shown.append_text(piece)
    return shown


def mark(state: str) -> Text:
    symbol, style = STATUS_MARKS[state]
    return Text(symbol, style=style)


def local(at: datetime | None) -> str:
    if at is None:
        return "—"
    return local_time(at).isoformat(sep=" ", timespec="minutes")[:16]  # strftime writes year 1 as "1"


def hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} h" if value >= 10 or value == int(value) else f"{value:.1f} h"


def bar(done: int, total: int, width: int = 20) -> ProgressBar:
    return ProgressBar(total=max(total, 1), completed=done if total else 1, width=width)


# --- layouts for the width there is ----------------------------------------------------------------------
#
# A table is built for the width it is shown in (Rich tells a renderable its width when it renders it): the
# first of its layouts whose rows each fit on one line, else its last layout, in which only the title-like
# columns wrap (at spaces). Numbers, hours, dates and ids never wrap, and nothing is cut short with `…`.
# Layouts go from the fullest to the leanest: less important columns left out one by one, then the id put
# under the title ("topic/id"), which frees the id's column at the cost of a second line per row.

NATURAL = 1_000_000  # a width no table reaches: measuring with it gives each table its one-line width


@dataclass
class Column:
    header: str = ""
    justify: JustifyMethod = "left"
    footer: RenderableType = ""
    wrap: bool = False  # only titles (and paths) wrap; a word longer than the column folds, never `…`


Row = dict[str, RenderableType]


class Fitted:
    """Rows of cells by column key, shown in the first layout that fits the width (see above)."""

    def __init__(
        self,
        columns: dict[str, Column],
        rows: Sequence[Row],
        layouts: Sequence[Sequence[str]],
        make: Callable[[], Table],
    ):
        self.columns, self.rows, self.layouts, self.make = columns, rows, layouts, make

    def table(self, layout: Sequence[str]) -> Table:
        table = self.make()
        for key in layout:
            column = self.columns[key.partition("/")[0]]
            table.add_column(
                column.header,
                justify=column.justify,
                footer=column.footer,
                no_wrap=not column.wrap,
                overflow="fold",
            )
        for row in self.rows:
            table.add_row(*(self._cell(row, key) for key in layout))
        return table

    @staticmethod
    def _cell(row: Row, key: str) -> RenderableType:
        first, _, under = key.partition("/")
        if not under:
            return row[first]
        top, bottom = row[first], row[under]
        assert isinstance(top, Text) and isinstance(bottom, Text)
        return Text.assemble(top, "\n", bottom)

    def choose(self, console: Console, options: ConsoleOptions) -> Table:
        wide = options.update_width(NATURAL)
        for layout in self.layouts[:-1]:
            table = self.table(layout)
            if Measurement.get(console, wide, table).maximum <= options.max_width:
                return table
        return self.table(self.layouts[-1])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.choose(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.choose(console, options))


def shrinking(
    order: Sequence[str], drops: Sequence[str], under: tuple[str, str] | None = None
) -> list[list[str]]:
    """Layouts from `order` (every column): `drops` left out one by one, first on one line per row, then
    (with `under` = (title, id)) again with the id under the title. The last one is the fallback."""
    layouts: list[list[str]] = []
    for merged in (False, True) if under else (False,):
        for count in range(len(drops) + 1):
            keys = [key for key in order if key not in drops[:count]]
            if merged and under:
                title, topic_id = under
                keys = [f"{title}/{topic_id}" if key == title else key for key in keys if key != topic_id]
            layouts.append(keys)
    return layouts


def plain_table(**options: Any) -> Callable[[], Table]:
    """The tables' look: no box, a bold header, two spaces between columns."""
    return lambda: Table(box=None, pad_edge=False, header_style="bold", show_edge=False, **options)


class Flow:
    """Pieces on as few lines as fit, broken only between pieces (so `10 h` or an id never splits)."""

    def __init__(self, pieces: Sequence[Text], separator: str):
        self.pieces = [piece for piece in pieces if piece.plain]
        self.separator = separator

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text, used = Text(), 0
        for piece in self.pieces:
            if used and used + len(self.separator) + piece.cell_len > options.max_width:
                text.append("\n")
                used = 0
            elif used:
                text.append(self.separator)
                used += len(self.separator)
            text.append_text(piece)
            used += piece.cell_len
        yield text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widths = [piece.cell_len for piece in self.pieces] or [0]
        return Measurement(max(widths), sum(widths) + len(self.separator) * (len(widths) - 1))


def hanging(prefix: str | Text, body: RenderableType) -> Table:
    """`prefix` then `body`, whose wrapped lines start under the body's first character, not at the margin."""
    prefix = Text(prefix) if isinstance(prefix, str) else prefix
    grid = Table.grid()
    grid.add_column(no_wrap=True, width=prefix.cell_len)
    grid.add_column(overflow="fold")
    grid.add_row(prefix, body)
    return grid


def ref(title: str, topic_id: str, style: str = "") -> Text:
    """A topic named in running text, as everywhere: its title, then its id in brackets (`topic_ref`)."""
    return Text.assemble((visible(title), style), " (", (visible(topic_id), "cyan"), ")")


def progress_line(title: str, finished: int, total: int) -> Fitted:
    """A title, a bar, `3/127 2%`: the bar shorter where the width is short."""
    percent = 100 * finished / total if total else 100
    columns = {"title": Column(wrap=True), "count": Column(), "percent": Column()}
    columns |= {f"bar{width}": Column() for width in (30, 20, 10)}
    row: Row = {
        "title": safe_text(title, style="bold"),
        "count": f"{finished}/{total}",
        "percent": f"{percent:.0f}%",
        **{f"bar{width}": bar(finished, total, width) for width in (30, 20, 10)},
    }
    layouts = [["title", f"bar{width}", "count", "percent"] for width in (30, 20, 10)]
    return Fitted(columns, [row], layouts, lambda: Table.grid(padding=(0, 1)))


def next_table(graph: Graph, items: Sequence[dict], *, show_total_unlocks: bool) -> Fitted:
    """`llmpath next` and the dashboard: Unlocks goes first where the width is short, then Phase (Phase
    first when sorted by unlocks), then the id moves under the title."""
    columns = {
        "mark": Column(),
        "topic": Column("Topic", wrap=True),
        "id": Column("Id"),
        "phase": Column("Phase"),
        "unlocks": Column("Unlocks", justify="right"),
        "hours": Column("Hours", justify="right"),
    }
    phase_titles = {p.id: p.title for p in graph.phases}
    rows: list[Row] = []
    for item in items:
        topic = graph.topics[item["id"]]
        state = "review" if item.get("review") else ("doing" if item["status"] == "doing" else "available")
        title = safe_text(topic.title)
        if state == "doing":
            title.append("  in progress", style="yellow")
        elif state == "review":
            title.append("  review", style="magenta")
        if topic.kind == "project":
            title.append("  project", style="blue")
        unlocks = str(len(item["unlocks"]))
        if show_total_unlocks:
            unlocks += f" ({item['unlocks_total']})"
        rows.append(
            {
                "mark": mark(state),
                "topic": title,
                "id": safe_text(topic.id, "cyan"),
                "phase": safe_text(phase_titles.get(topic.phase_id, ""), "dim"),
                "unlocks": unlocks,
                "hours": hours(topic.hours),
            }
        )
    drops = ["phase", "unlocks"] if show_total_unlocks else ["unlocks", "phase"]
    layouts = shrinking(list(columns), drops, under=("topic", "id"))
    return Fitted(columns, rows, layouts, plain_table())


def status_table(rows: Sequence[PhaseProgress], total: PhaseProgress) -> Fitted:
    """`llmpath status`: a row per phase; where the width is short the bar shortens, then Doing goes, then
    the bar; the last resort wraps the phase titles."""
    columns = {
        "phase": Column("Phase", footer=Text("Total", style="bold"), wrap=True),
        "done": Column("Done", justify="right", footer=f"{total.finished}/{total.total}"),
        "bar20": Column("Progress", footer=bar(total.finished, total.total)),
        "bar10": Column("Progress", footer=bar(total.finished, total.total, 10)),
        "percent": Column("%", justify="right", footer=f"{total.percent:.0f}%"),
        "doing": Column("Doing", justify="right", footer=str(total.doing)),
        "left": Column("Hours left", justify="right", footer=hours(total.hours_left)),
    }
    cells: list[Row] = [
        {
            "phase": safe_text(row.phase.title),
            "done": f"{row.finished}/{row.total}",
            "bar20": bar(row.finished, row.total),
            "bar10": bar(row.finished, row.total, 10),
            "percent": f"{row.percent:.0f}%",
            "doing": str(row.doing) if row.doing else "",
            "left": hours(row.hours_left),
        }
        for row in rows
    ]
    layouts = [
        ["phase", "done", "bar20", "percent", "doing", "left"],
        ["phase", "done", "bar10", "percent", "doing", "left"],
        ["phase", "done", "bar10", "percent", "left"],
        ["phase", "done", "percent", "doing", "left"],
        ["phase", "done", "percent", "left"],
        ["phase", "done", "bar10", "percent", "left"],
    ]
    return Fitted(
        columns,
        cells,
        layouts,
        lambda: Table(header_style="bold", show_footer=True, box=None, pad_edge=False),
    )


class TeamTable(Fitted):
    """`llmpath team status`: the group columns are numbered (a phase's title is too long for a header), and
    whenever the chosen layout shows them, a legend line above the table says which is which.

    A group has hundreds of learners, so this table is laid out by arithmetic: each column's one-line width
    is measured once (cells never wrap), a layout fits when its columns and the two spaces between them do,
    and its rows are written as segments, padded as a Rich table pads them. Only the last resort, whose
    names must wrap, is a Rich table."""

    GAP = 2  # spaces between columns, as `plain_table`'s

    def __init__(self, legend: Flow, *args: Any):
        super().__init__(*args)
        self.legend = legend
        self._widths: dict[str, int] | None = None
        self._bars: dict[tuple[float, float | None, int | None], list[Segment]] = {}

    def widths(self, console: Console, options: ConsoleOptions) -> dict[str, int]:
        if self._widths is None:
            wide = options.update_width(NATURAL)

            def width(cell: RenderableType) -> int:
                if isinstance(cell, Text):
                    return cell.cell_len
                if isinstance(cell, ProgressBar) and cell.width is not None:
                    return cell.width
                return Measurement.get(console, wide, cell).maximum

            self._widths = {
                key: max([Text(column.header).cell_len] + [width(row[key]) for row in self.rows])
                for key, column in self.columns.items()
            }
        return self._widths

    def _segments(self, console: Console, options: ConsoleOptions, cell: RenderableType) -> list[Segment]:
        """A cell on one line, as segments (a bar's are made once per value: a group repeats them)."""
        if isinstance(cell, Text):  # `render` leaves the text's own style to its caller
            cell = _visible_text(cell)  # as `SafeConsole.render` would, which these segments bypass
            return list(Segment.apply_style(cell.render(console), console.get_style(cell.style)))
        if isinstance(cell, ProgressBar):
            key = (cell.completed, cell.total, cell.width)
            if key not in self._bars:
                self._bars[key] = list(console.render(cell, options.update_width(cell.width or 10)))
            return self._bars[key]
        return [line for line in console.render(cell, options) if line.text != "\n"]

    def layout(self, console: Console, options: ConsoleOptions) -> Sequence[str]:
        widths = self.widths(console, options)
        for layout in self.layouts:
            if sum(widths[key] for key in layout) + self.GAP * (len(layout) - 1) <= options.max_width:
                return layout
        return self.layouts[-1]

    def choose(self, console: Console, options: ConsoleOptions) -> Table:
        return self.table(self.layout(console, options))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        layout = self.layout(console, options)
        if any(key.startswith("group") for key in layout):
            yield self.legend
        widths = self.widths(console, options)
        if sum(widths[key] for key in layout) + self.GAP * (len(layout) - 1) > options.max_width:
            yield self.table(layout)  # the last resort: Rich wraps the names
            return
        header: Row = {key: Text(self.columns[key].header, style="bold") for key in layout}
        for row in [header, *self.rows]:
            for index, key in enumerate(layout):
                segments = self._segments(console, options, row[key])
                room = widths[key] - Segment.get_line_length(segments)
                last = index == len(layout) - 1
                if self.columns[key].justify == "right":
                    yield Segment(" " * room)
                    yield from segments
                else:
                    yield from segments
                    if not last:
                        yield Segment(" " * room)
                if not last:
                    yield Segment(" " * self.GAP)
            yield Segment.line()


def team_table(report: TeamReport) -> TeamTable:
    """`llmpath team status`: a row per learner, each group's `finished/total`, the total, a bar, percent and
    the last activity. Where the width is short the followed track goes first, then the bar, then the time
    of day, then the group columns; the last resort wraps the names."""
    groups = [f"group{index}" for index in range(len(report.groups))]
    columns = {
        "learner": Column("Learner", wrap=True),
        "following": Column("Track"),
        **{key: Column(str(index + 1), justify="right") for index, key in enumerate(groups)},
        "finished": Column("Done", justify="right"),
        "bar": Column("Progress"),
        "percent": Column("%", justify="right"),
        "active": Column("Last active"),
        "day": Column("Last active"),
    }
    cells: list[Row] = []
    for row in report.rows:
        when = local(row.last_activity)
        cell: Row = {
            "learner": safe_text(row.learner, "bold"),
            "following": safe_text(row.following or "", "dim"),
            "finished": Text(f"{row.total.finished}/{row.total.total}"),
            "bar": bar(row.total.finished, row.total.total, 10),
            "percent": Text(f"{row.total.percent:.0f}%"),
            "active": Text(when, style="dim"),
            "day": Text(when[:10], style="dim"),
        }
        for key, count in zip(groups, row.groups, strict=True):
            style = "green" if count.finished == count.total else "dim" if not count.finished else ""
            cell[key] = Text(f"{count.finished}/{count.total}", style=style)
        cells.append(cell)
    following = ["following"] if any(row.following for row in report.rows) else []
    layouts = [
        ["learner", *following, *groups, "finished", "bar", "percent", "active"],
        ["learner", *groups, "finished", "bar", "percent", "active"],
        ["learner", *groups, "finished", "percent", "active"],
        ["learner", *groups, "finished", "percent", "day"],
        ["learner", "finished", "bar", "percent", "active"],
        ["learner", "finished", "percent", "day"],
    ]
    kind = "Phases" if report.by == "phase" else "Tracks"
    pieces = [Text.assemble((f"{n} ", "bold"), visible(g.title)) for n, g in enumerate(report.groups, 1)]
    if pieces:
        pieces[0] = Text.assemble((f"{kind}: ", "bold"), pieces[0])
    legend = Flow(pieces, " · ")
    return TeamTable(legend, columns, cells, list(dict.fromkeys(map(tuple, layouts))), plain_table())


def tracks_table(rows: Sequence[dict]) -> Fitted:
    """`llmpath track`: total hours go first where the width is short, then the bar, then the id moves under
    the title."""
    columns = {
        "mark": Column(),
        "title": Column("Track", wrap=True),
        "id": Column("Id"),
        "done": Column("Done", justify="right"),
        "bar": Column("Progress"),
        "hours": Column("Hours", justify="right"),
        "left": Column("Left", justify="right"),
    }
    cells: list[Row] = []
    for row in rows:
        finished = row["done"] + row["skipped"]
        cells.append(
            {
                "mark": Text("▶", style="yellow") if row["following"] else Text(""),
                "title": safe_text(row["title"]),
                "id": safe_text(row["id"], "cyan"),
                "done": f"{finished}/{row['total']}",
                "bar": bar(finished, row["total"], 12),
                "hours": hours(row["hours"]),
                "left": hours(row["hours_left"]),
            }
        )
    layouts = shrinking(list(columns), ["hours", "bar"], under=("title", "id"))
    return Fitted(columns, cells, layouts, plain_table())


def phase_topics_table(graph: Graph, topic_ids: Sequence[str], states: dict[str, str]) -> Fitted:
    """`llmpath status PHASE`: the status word goes first where the width is short (the mark stays), then the
    id moves under the title."""
    columns = {
        "mark": Column(),
        "topic": Column("Topic", wrap=True),
        "id": Column("Id"),
        "status": Column("Status"),
        "hours": Column("Hours", justify="right"),
    }
    rows: list[Row] = []
    for topic_id in topic_ids:
        topic = graph.topics[topic_id]
        state = states[topic_id]
        word = {"available": "available", "blocked": "blocked"}.get(state, STATUS_WORDS.get(state, state))
        rows.append(
            {
                "mark": mark(state),
                "topic": safe_text(topic.title),
                "id": safe_text(topic_id, "cyan"),
                "status": Text(word, style=STATUS_MARKS[state][1]),
                "hours": hours(topic.hours),
            }
        )
    layouts = shrinking(list(columns), ["status"], under=("topic", "id"))
    return Fitted(columns, rows, layouts, plain_table())


def topic_panel(info: dict) -> TopicPanel:
    """`llmpath show`: everything about one topic, from the dict that `--json` prints too."""
    lines: list[RenderableType] = []
    meta = [safe_text(info["id"], "cyan"), safe_text(info["phase_title"]), safe_text(info["kind"])]
    if info.get("difficulty"):
        meta.append(safe_text(info["difficulty"]))
    meta.append(Text(hours(info.get("hours"))))
    lines.append(Flow(meta, "  ·  "))
    status = Text()
    status.append_text(mark(info["state"]))
    status.append(f" {STATUS_WORDS.get(info['status'], info['status'])}")
    if info["state"] in ("available", "blocked"):
        status.append(f" ({info['state']})", style=STATUS_MARKS[info["state"]][1])
    dates = (("started", "started_at"), ("finished", "finished_at"))
    when = [Text(f"{word} {local(info[key])}") for word, key in dates if info.get(key)]
    lines.append(Flow([status, *when], "  "))
    if info.get("summary"):
        lines += [Text(""), safe_text(info["summary"])]
    for label, key in (("Concepts", "concepts"), ("Tools", "tools")):
        if info.get(key):
            lines += [Text(""), Text.assemble((f"{label}: ", "bold"), visible(", ".join(info[key])))]
    if info.get("resources"):
        lines += [Text(""), Text("Resources", style="bold")]
        for resource in info["resources"]:
            url = visible(resource["url"])  # the OSC 8 link target too
            lines.append(
                hanging(
                    "  • ", Text.assemble((visible(resource["title"]), Style(link=url)), "  ", (url, "dim"))
                )
            )
    for label, key in (("Requires", "requires"), ("Unlocks", "required_by")):
        if info.get(key):
            lines += [Text(""), Text(label, style="bold")]
            for other in info[key]:
                lines.append(
                    hanging(Text.assemble("  ", mark(other["state"]), " "), ref(other["title"], other["id"]))
                )
    if info.get("blocked_by"):
        lines += [Text(""), Text("Blocked by (open prerequisites)", style="bold")]
        shown = info["blocked_by"][:MAX_TREE_ROWS]
        for entry in shown:
            row = [ref(entry["title"], entry["id"])]
            if entry["repeat"]:
                row.append(Text("(see above)", style="dim"))
            lines.append(hanging("  " + "  " * entry["depth"] + "└ ", Flow(row, "  ")))
        hidden = len(info["blocked_by"]) - len(shown)
        if hidden > 0:
            lines.append(
                Text(f"  … {hidden} more; `llmpath path {info['id']}` lists them in study order", style="dim")
            )
    if info.get("notes"):
        lines += [Text(""), Text("Notes", style="bold")]
        for note in info["notes"]:
            lines.append(
                hanging("  ", Text.assemble((f"{local(note['at'])}  ", "dim"), visible(note["text"])))
            )
    return TopicPanel(safe_text(info["title"], style="bold"), lines)


class TopicPanel:
    """The `show` panel: the title in its top border where it fits, else as the panel's first line (Rich
    would cut a border title short)."""

    def __init__(self, title: Text, lines: Sequence[RenderableType]):
        self.title, self.lines = title, lines

    def panel(self, options: ConsoleOptions) -> Panel:
        if self.title.cell_len + 6 <= options.max_width:
            return Panel(Group(*self.lines), title=self.title, title_align="left", expand=False)
        return Panel(Group(self.title, *self.lines), expand=False)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.panel(options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.panel(options))


def path_table(graph: Graph, order: Sequence[str], states: dict[str, str], total_hours: float) -> Fitted:
    """`llmpath path`: the topics still to do, numbered in study order, with their hours and the total."""
    columns = {
        "number": Column("#", justify="right"),
        "mark": Column(),
        "topic": Column("Topic", footer="Total", wrap=True),
        "id": Column("Id"),
        "hours": Column("Hours", justify="right", footer=hours(total_hours)),
    }
    rows: list[Row] = [
        {
            "number": str(number),
            "mark": mark(states[topic_id]),
            "topic": safe_text(graph.topics[topic_id].title),
            "id": safe_text(topic_id, "cyan"),
            "hours": hours(graph.topics[topic_id].hours),
        }
        for number, topic_id in enumerate(order, start=1)
    ]
    layouts = shrinking(list(columns), [], under=("topic", "id"))
    return Fitted(columns, rows, layouts, plain_table(show_footer=True))


def roadmaps_table(known: Sequence[dict]) -> Fitted:
    """`llmpath roadmaps`: each roadmap the database knows, the one in use marked; the file moves under the
    title where the width is short."""
    columns = {
        "mark": Column(),
        "id": Column("Id"),
        "title": Column("Title", wrap=True),
        "done": Column("Done", justify="right"),
        "file": Column("File", wrap=True),
    }
    rows: list[Row] = [
        {
            "mark": "▶" if entry["in_use"] else "",
            "id": safe_text(entry["id"], "cyan"),
            "title": safe_text(entry["title"]),
            "done": f"{entry['finished']}/{entry['topics']}",
            "file": safe_text(entry["source_path"] or "(file moved or reused)", "dim"),
        }
        for entry in known
    ]
    layouts = [["mark", "id", "title", "done", "file"], ["mark", "id", "title/file", "done"]]
    return Fitted(columns, rows, layouts, plain_table())


def backups_table(rows: Sequence[dict]) -> Fitted:
    """`llmpath backups`: newest first, with reason, date and size; where the width is short the reason goes
    first (the file's name says it too), then the size. The file's name is never cut."""
    columns = {
        "taken": Column("Taken"),
        "reason": Column("Reason"),
        "size": Column("Size", justify="right"),
        "file": Column("File", wrap=True),
    }
    cells: list[Row] = []
    for row in rows:
        size = row["bytes"]
        cells.append(
            {
                "taken": local(datetime.fromisoformat(row["taken_at"])),
                "reason": safe_text(row["reason"]),
                "size": f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB",
                "file": safe_text(os.path.basename(row["file"])),
            }
        )
    return Fitted(columns, cells, shrinking(list(columns), ["reason", "size"]), plain_table())


def weeks_table(weeks: Sequence[dict]) -> Table:
    """`llmpath stats`: topics and hours per week, with a bar scaled to the busiest week."""
    from rich.bar import Bar

    peak = max((w["hours"] for w in weeks), default=0) or 1
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Week of")
    table.add_column("Topics", justify="right")
    table.add_column("Hours", justify="right")
    table.add_column("")
    for week in weeks:
        table.add_row(
            week["start"], str(week["topics"]), f"{week['hours']:.0f}", Bar(peak, 0, week["hours"], width=30)
        )
    return table


def no_estimate_line(recent_topics: int, days: int, hours_left: float) -> Text:
    """`llmpath stats --eta` without a pace to go on: why, once (not once per phase)."""
    if recent_topics:
        why = (
            f"the {recent_topics} topics finished in the last {days} days have no hour estimates"
            if recent_topics > 1
            else f"the topic finished in the last {days} days has no hour estimate"
        )
    else:
        why = f"no topic finished in the last {days} days; `llmpath done TOPIC` starts the count"
    return line(f"  Finish: no estimate yet ({hours(hours_left)} left): {why}.")


SUGGESTIONS = {
    "new-goal": "`llmpath goal TOPIC` sets a new goal",
    "clear-goal": "`llmpath goal --clear` offers the whole roadmap again",
    "clear-goal-to-track": "`llmpath goal --clear` goes back to your track{track}",
    "pick-track": "`llmpath track` lists tracks to follow",
    "other-track": "`llmpath track` lists the other tracks",
    "clear-track": "`llmpath track --clear` offers the whole roadmap",
    "review": "`llmpath review --every 60d` brings done topics back to revisit",
}


def reached_lines(
    reached: Reached, suggest: Sequence[str], titles: dict[str, str], track_title: str | None = None
) -> list[Text]:
    """What `next` and the dashboard say once the goal, the followed track or the roadmap is finished."""
    if reached.aim == "goal":
        names = ", ".join(topic_ref(titles.get(t, t), t) for t in reached.topics)
        state = "done" if not reached.skipped else "skipped" if not reached.done else "done or skipped"
        what = f"Goal reached: {names} {'is' if len(reached.topics) == 1 else 'are'} {state}."
    elif reached.aim == "track":
        what = f"Track finished: all {reached.total} of its topics are done or skipped."
    else:
        what = (
            f"All {reached.total} topics are finished ({reached.done} done, {reached.skipped} skipped). "
            "Nothing left to study here."
        )
    lines = [line((what, "green"))]
    if suggest:
        track = f" {track_title}" if track_title else ""
        phrases = [SUGGESTIONS[key].replace("{track}", track) for key in suggest]
        lines.append(line("What now: " + "; ".join(phrases) + "."))
    return lines


def notes_listing(notes: Sequence[dict], *, with_topics: bool) -> Group:
    """`llmpath notes`: each topic's notes numbered as `note TOPIC --edit N` / `--delete N` take them."""
    parts: list[RenderableType] = []
    table: Table | None = None
    topic = None
    for note in notes:
        if table is None or note["topic"] != topic:
            topic = note["topic"]
            if with_topics:
                parts.append(ref(note["title"], topic, "bold"))
            table = Table.grid(padding=(0, 2))
            table.add_column(justify="right", no_wrap=True)
            table.add_column(style="dim", no_wrap=True)
            table.add_column()
            parts.append(Padding(table, (0, 0, 0, 2), expand=False) if with_topics else table)
        table.add_row(str(note["number"]), local(note["at"]), safe_text(note["text"]))
    return Group(*parts)


def log_table(rows: Sequence[dict]) -> Fitted:
    """`llmpath log`: when, which topic (`Title (id)`), what changed; a day without its time where the width
    is short, and the last resort wraps the topic."""
    columns = {"at": Column(), "day": Column(), "topic": Column(wrap=True), "change": Column()}
    cells: list[Row] = []
    for row in rows:
        when = local(row["at"])
        cells.append(
            {
                "at": Text(when, style="dim"),
                "day": Text(when[:10], style="dim"),
                "topic": ref(row["title"], row["id"]),
                "change": "reviewed"
                if row["from"] == row["to"] == "done"
                else f"{row['from']} → {row['to']}",
            }
        )
    layouts = [["at", "topic", "change"], ["day", "topic", "change"]]
    return Fitted(columns, cells, layouts, lambda: Table.grid(padding=(0, 2)))


Part = str | tuple[str, str]


def line(*parts: Part) -> Text:
    """One line from plain strings and `(text, style)` pairs. Nothing is parsed as markup, so titles, notes
    and paths from files are shown as they are written, brackets and all."""
    text = Text()
    for part in parts:
        if isinstance(part, tuple):
            text.append(visible(part[0]), style=part[1])
        else:
            text.append(visible(part))
    return text


def topic_ref(title: str, topic_id: str) -> str:
    """How a topic is named in messages: its title, then its id in brackets."""
    return visible(f"{title} ({topic_id})")


def finding_line(check: str, ok: bool, warning: bool, detail: str) -> Text:
    """One `llmpath doctor` check."""
    symbol, style = ("✓", "green") if ok else ("!", "yellow") if warning else ("✗", "red")
    return line((symbol, style), f" {check}: {detail}")
