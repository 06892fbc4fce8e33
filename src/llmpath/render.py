"""Rich renderables from plain data. Nothing here reads the database or decides anything."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from llmpath.planner import Graph, PhaseProgress
from llmpath.vocab import as_utc

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


def make_console() -> Console:
    """Plain text (no ANSI codes) when not a terminal, which Rich detects, or when NO_COLOR is set."""
    if os.environ.get("NO_COLOR"):
        return Console(color_system=None, highlight=False)
    return Console(highlight=False)


def mark(state: str) -> Text:
    symbol, style = STATUS_MARKS[state]
    return Text(symbol, style=style)


def local(at: datetime | None) -> str:
    if at is None:
        return "—"
    return as_utc(at).astimezone().strftime("%Y-%m-%d %H:%M")


def hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} h" if value >= 10 or value == int(value) else f"{value:.1f} h"


def bar(done: int, total: int, width: int = 20) -> ProgressBar:
    return ProgressBar(total=max(total, 1), completed=done if total else 1, width=width)


def progress_line(title: str, finished: int, total: int) -> Table:
    grid = Table.grid(padding=(0, 1))
    percent = 100 * finished / total if total else 100
    grid.add_row(
        Text(title, style="bold"),
        bar(finished, total, 30),
        f"{finished}/{total}",
        f"{percent:.0f}%",
    )
    return grid


def next_table(graph: Graph, items: Sequence[dict], *, show_total_unlocks: bool) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("Topic")
    table.add_column("Id", style="cyan", no_wrap=True)
    table.add_column("Phase", style="dim")
    table.add_column("Unlocks", justify="right")
    table.add_column("Hours", justify="right")
    phase_titles = {p.id: p.title for p in graph.phases}
    for item in items:
        topic = graph.topics[item["id"]]
        state = "review" if item.get("review") else ("doing" if item["status"] == "doing" else "available")
        title = Text(topic.title)
        if state == "doing":
            title.append("  in progress", style="yellow")
        elif state == "review":
            title.append("  review", style="magenta")
        if topic.kind == "project":
            title.append("  project", style="blue")
        unlocks = str(len(item["unlocks"]))
        if show_total_unlocks:
            unlocks += f" ({item['unlocks_total']})"
        table.add_row(
            mark(state),
            title,
            topic.id,
            Text(phase_titles.get(topic.phase_id, "")),
            unlocks,
            hours(topic.hours),
        )
    return table


def status_table(rows: Sequence[PhaseProgress], total: PhaseProgress) -> Table:
    table = Table(header_style="bold", show_footer=True, box=None, pad_edge=False)
    table.add_column("Phase", footer=Text("Total", style="bold"))
    table.add_column("Done", justify="right", footer=f"{total.finished}/{total.total}")
    table.add_column("Progress", footer=bar(total.finished, total.total))
    table.add_column("%", justify="right", footer=f"{total.percent:.0f}%")
    table.add_column("Doing", justify="right", footer=str(total.doing))
    table.add_column("Hours left", justify="right", footer=hours(total.hours_left))
    for row in rows:
        table.add_row(
            Text(row.phase.title),
            f"{row.finished}/{row.total}",
            bar(row.finished, row.total),
            f"{row.percent:.0f}%",
            str(row.doing) if row.doing else "",
            hours(row.hours_left),
        )
    return table


def tracks_table(rows: Sequence[dict]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("Track")
    table.add_column("Id", style="cyan", no_wrap=True)
    table.add_column("Done", justify="right", no_wrap=True)
    table.add_column("Progress", no_wrap=True)
    table.add_column("Hours", justify="right", no_wrap=True)
    table.add_column("Left", justify="right", no_wrap=True)
    for row in rows:
        finished = row["done"] + row["skipped"]
        table.add_row(
            Text("▶", style="yellow") if row["following"] else Text(""),
            Text(row["title"]),
            row["id"],
            f"{finished}/{row['total']}",
            bar(finished, row["total"], 12),
            hours(row["hours"]),
            hours(row["hours_left"]),
        )
    return table


def phase_topics_table(graph: Graph, topic_ids: Sequence[str], states: dict[str, str]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("Topic")
    table.add_column("Id", style="cyan", no_wrap=True)
    table.add_column("Status")
    table.add_column("Hours", justify="right")
    for topic_id in topic_ids:
        topic = graph.topics[topic_id]
        state = states[topic_id]
        word = {"available": "available", "blocked": "blocked"}.get(state, STATUS_WORDS.get(state, state))
        table.add_row(
            mark(state),
            Text(topic.title),
            topic_id,
            Text(word, style=STATUS_MARKS[state][1]),
            hours(topic.hours),
        )
    return table


def topic_panel(info: dict) -> Panel:
    """`llmpath show`: everything about one topic, from the dict that `--json` prints too."""
    lines: list[RenderableType] = []
    meta = Text()
    meta.append(f"{info['id']}", style="cyan")
    meta.append(f"  ·  {info['phase_title']}  ·  {info['kind']}")
    if info.get("difficulty"):
        meta.append(f"  ·  {info['difficulty']}")
    meta.append(f"  ·  {hours(info.get('hours'))}")
    lines.append(meta)
    status = Text()
    status.append_text(mark(info["state"]))
    status.append(f" {STATUS_WORDS.get(info['status'], info['status'])}")
    if info["state"] in ("available", "blocked"):
        status.append(f" ({info['state']})", style=STATUS_MARKS[info["state"]][1])
    if info.get("started_at"):
        status.append(f"  started {local(info['started_at'])}")
    if info.get("finished_at"):
        status.append(f"  finished {local(info['finished_at'])}")
    lines.append(status)
    if info.get("summary"):
        lines += [Text(""), Text(info["summary"])]
    for label, key in (("Concepts", "concepts"), ("Tools", "tools")):
        if info.get(key):
            lines += [Text(""), Text.assemble((f"{label}: ", "bold"), ", ".join(info[key]))]
    if info.get("resources"):
        lines += [Text(""), Text("Resources", style="bold")]
        for resource in info["resources"]:
            lines.append(
                Text.from_markup(
                    f"  • [link={escape(resource['url'])}]{escape(resource['title'])}[/link]  "
                    f"[dim]{escape(resource['url'])}[/dim]"
                )
            )
    for label, key in (("Requires", "requires"), ("Unlocks", "required_by")):
        if info.get(key):
            lines += [Text(""), Text(label, style="bold")]
            for other in info[key]:
                row = Text("  ")
                row.append_text(mark(other["state"]))
                row.append(f" {other['title']} ")
                row.append(other["id"], style="cyan")
                lines.append(row)
    if info.get("blocked_by"):
        lines += [Text(""), Text("Blocked by (open prerequisites)", style="bold")]
        shown = info["blocked_by"][:MAX_TREE_ROWS]
        for entry in shown:
            row = Text("  " + "  " * entry["depth"] + "└ ")
            row.append(entry["title"] + " ")
            row.append(entry["id"], style="cyan")
            if entry["repeat"]:
                row.append("  (see above)", style="dim")
            lines.append(row)
        hidden = len(info["blocked_by"]) - len(shown)
        if hidden > 0:
            lines.append(
                Text(f"  … {hidden} more; `llmpath path {info['id']}` lists them in study order", style="dim")
            )
    if info.get("notes"):
        lines += [Text(""), Text("Notes", style="bold")]
        for note in info["notes"]:
            lines.append(
                Padding(Text.assemble((f"{local(note['at'])}  ", "dim"), note["text"]), (0, 0, 0, 2))
            )
    return Panel(Group(*lines), title=Text(info["title"], style="bold"), title_align="left", expand=False)


def path_table(graph: Graph, order: Sequence[str], states: dict[str, str], total_hours: float) -> Table:
    """`llmpath path`: the topics still to do, numbered in study order, with their hours and the total."""
    table = Table(box=None, header_style="bold", pad_edge=False, show_footer=True)
    table.add_column("#", justify="right", footer="")
    table.add_column("", footer="")
    table.add_column("Topic", footer="Total")
    table.add_column("Id", style="cyan", footer="")
    table.add_column("Hours", justify="right", footer=hours(total_hours))
    for number, topic_id in enumerate(order, start=1):
        table.add_row(
            str(number),
            mark(states[topic_id]),
            Text(graph.topics[topic_id].title),
            topic_id,
            hours(graph.topics[topic_id].hours),
        )
    return table


def roadmaps_table(known: Sequence[dict]) -> Table:
    """`llmpath roadmaps`: each roadmap the database knows, the one in use marked."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("", "Id", "Title", "Done", "File"):
        table.add_column(column)
    for entry in known:
        table.add_row(
            "▶" if entry["in_use"] else "",
            entry["id"],
            Text(entry["title"]),
            f"{entry['finished']}/{entry['topics']}",
            Text(entry["source_path"] or "(file moved or reused)"),
        )
    return table


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


def change_line(row: dict) -> Text:
    """One line of `llmpath log`."""
    change = "reviewed" if row["from"] == row["to"] == "done" else f"{row['from']} → {row['to']}"
    line = Text()
    line.append(local(row["at"]), style="dim")
    line.append(f"  {row['title']} ")
    line.append(row["id"], style="cyan")
    line.append(f"  {change}")
    return line


Part = str | tuple[str, str]


def line(*parts: Part) -> Text:
    """One line from plain strings and `(text, style)` pairs. Nothing is parsed as markup, so titles, notes
    and paths from files are shown as they are written, brackets and all."""
    text = Text()
    for part in parts:
        if isinstance(part, tuple):
            text.append(part[0], style=part[1])
        else:
            text.append(part)
    return text


def topic_ref(title: str, topic_id: str) -> str:
    """How a topic is named in messages: its title, then its id in brackets."""
    return f"{title} ({topic_id})"


def finding_line(check: str, ok: bool, warning: bool, detail: str) -> Text:
    """One `llmpath doctor` check."""
    symbol, style = ("✓", "green") if ok else ("!", "yellow") if warning else ("✗", "red")
    return line((symbol, style), f" {check}: {detail}")
