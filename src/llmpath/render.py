"""Rich renderables from plain data. Nothing here reads the database or decides anything.

Text from files and users (titles, notes, paths, URLs) enters Rich here and only here, with its control
characters made visible (`terminal.visible`): each builder passes it through `safe_text` or `line`, so widths
are measured on what is shown, and the console itself makes visible any string it prints and any `Text` that
still carries a control character, so nothing written to the terminal can act on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType
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


def progress_line(title: str, finished: int, total: int) -> Table:
    grid = Table.grid(padding=(0, 1))
    percent = 100 * finished / total if total else 100
    grid.add_row(
        safe_text(title, style="bold"),
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
        table.add_row(
            mark(state),
            title,
            topic.id,
            safe_text(phase_titles.get(topic.phase_id, "")),
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
            safe_text(row.phase.title),
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
            safe_text(row["title"]),
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
            safe_text(topic.title),
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
    meta.append(visible(f"  ·  {info['phase_title']}  ·  {info['kind']}"))
    if info.get("difficulty"):
        meta.append(visible(f"  ·  {info['difficulty']}"))
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
        lines += [Text(""), safe_text(info["summary"])]
    for label, key in (("Concepts", "concepts"), ("Tools", "tools")):
        if info.get(key):
            lines += [Text(""), Text.assemble((f"{label}: ", "bold"), visible(", ".join(info[key])))]
    if info.get("resources"):
        lines += [Text(""), Text("Resources", style="bold")]
        for resource in info["resources"]:
            url = visible(resource["url"])  # the OSC 8 link target too
            lines.append(
                Text.assemble("  • ", (visible(resource["title"]), Style(link=url)), "  ", (url, "dim"))
            )
    for label, key in (("Requires", "requires"), ("Unlocks", "required_by")):
        if info.get(key):
            lines += [Text(""), Text(label, style="bold")]
            for other in info[key]:
                row = Text("  ")
                row.append_text(mark(other["state"]))
                row.append(visible(f" {other['title']} "))
                row.append(other["id"], style="cyan")
                lines.append(row)
    if info.get("blocked_by"):
        lines += [Text(""), Text("Blocked by (open prerequisites)", style="bold")]
        shown = info["blocked_by"][:MAX_TREE_ROWS]
        for entry in shown:
            row = Text("  " + "  " * entry["depth"] + "└ ")
            row.append(visible(entry["title"] + " "))
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
                Padding(Text.assemble((f"{local(note['at'])}  ", "dim"), visible(note["text"])), (0, 0, 0, 2))
            )
    return Panel(
        Group(*lines), title=safe_text(info["title"], style="bold"), title_align="left", expand=False
    )


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
            safe_text(graph.topics[topic_id].title),
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
            safe_text(entry["title"]),
            f"{entry['finished']}/{entry['topics']}",
            safe_text(entry["source_path"] or "(file moved or reused)"),
        )
    return table


def backups_table(rows: Sequence[dict]) -> Table:
    """`llmpath backups`: newest first, with reason, date and size."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Taken")
    table.add_column("Reason")
    table.add_column("Size", justify="right")
    table.add_column("File")
    for row in rows:
        size = row["bytes"]
        table.add_row(
            local(datetime.fromisoformat(row["taken_at"])),
            safe_text(row["reason"]),
            f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB",
            safe_text(os.path.basename(row["file"])),
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
                parts.append(line((note["title"], "bold"), " (", (topic, "cyan"), ")"))
            table = Table.grid(padding=(0, 2))
            table.add_column(justify="right", no_wrap=True)
            table.add_column(style="dim", no_wrap=True)
            table.add_column()
            parts.append(Padding(table, (0, 0, 0, 2), expand=False) if with_topics else table)
        table.add_row(str(note["number"]), local(note["at"]), safe_text(note["text"]))
    return Group(*parts)


def change_line(row: dict) -> Text:
    """One line of `llmpath log`."""
    change = "reviewed" if row["from"] == row["to"] == "done" else f"{row['from']} → {row['to']}"
    line = Text()
    line.append(local(row["at"]), style="dim")
    line.append(visible(f"  {row['title']} "))
    line.append(visible(row["id"]), style="cyan")
    line.append(f"  {change}")
    return line


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
