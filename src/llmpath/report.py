"""The HTML progress report: one self-contained page built from plain data (no database, no network).

`build_report` takes what `cli.py` loaded (the graph, statuses, topic fields, dates, notes, history) and
returns the page: a header, progress bars per phase, the prerequisite map (`layout.py` places it; `graphs`
gives the same nodes and edges as `llmpath graph`), weekly activity and, when estimates are on, finish dates.

Safe by construction. The template is rendered by Jinja2 with autoescape on, so every string is escaped for
HTML text and attributes; text from a roadmap, a note or an import first has its control characters made
visible (`terminal.visible`), as everywhere else. The topics' details travel as JSON in a
`<script type="application/json">` block, with `<`, `>`, `&`, U+2028 and U+2029 written as `\\uXXXX`, so no
text can end that block; the page's script reads it with `JSON.parse` and builds the side panel with
`textContent`. Links keep only `http`/`https` URLs. A Content-Security-Policy meta tag forbids every network
load and allows only the page's own style and script, by their SHA-256.

Jinja2 is imported inside `render_page` only: `llmpath --help` never loads it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from llmpath import graphs, layout, pace, planner
from llmpath.planner import Graph, TrackInfo
from llmpath.terminal import visible
from llmpath.vocab import SATISFIED, local_time

DEFAULT_FILE = "llmpath-report.html"
GENERATOR = '<meta name="generator" content="llmpath'  # how an earlier report is recognised
WEEKS = 12

STATES = ("done", "doing", "skipped", "available", "blocked")
MARKS = {"done": "✓", "doing": "◐", "skipped": "↷", "available": "○", "blocked": "⊘"}
STATE_WORDS = {
    "done": "done",
    "doing": "in progress",
    "skipped": "skipped",
    "available": "available now",
    "blocked": "blocked",
}

# Box and text geometry of the map, in CSS pixels (the SVG is drawn at 1:1, so 12 px text stays 12 px).
BOX_WIDTH = 184
TEXT_LEFT = 24  # the state mark sits left of the title
TEXT_RIGHT = 8
TITLE_SIZE = 12
LINE = 15
BOX_PAD = 7
MAX_TITLE_LINES = 4
BAND_TITLE_SIZE = 13
BAND_LINE = 17


@dataclass(frozen=True)
class ReportInput:
    """Everything the report shows, as plain data."""

    title: str  # the roadmap's
    graph: Graph
    statuses: Mapping[str, str]
    now: datetime
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # summary, concepts, resources …
    dates: Mapping[str, tuple[datetime | None, datetime | None]] = field(default_factory=dict)
    notes: Mapping[str, Sequence[tuple[datetime, str]]] = field(default_factory=dict)
    events: Sequence[pace.StatusChange] = ()
    goals: Sequence[str] = ()
    track: TrackInfo | None = None  # the followed one
    only: frozenset[str] | None = None  # the topics shown (None: every topic)
    scope: str | None = None  # what `only` is, in words ("Phase: Transformers")
    eta: bool = False  # show finish estimates
    version: str = ""


def build_report(data: ReportInput) -> str:
    """The whole HTML page."""
    return render_page(page_context(data))


def is_report_file(path: Path) -> bool:
    """Whether `path` holds a report llmpath wrote (so writing a new one over it loses nothing)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(2048)
    except OSError:
        return False
    return GENERATOR.encode() in head


# What no link may hold: whitespace, control and format characters (bidi included), separators, surrogates.
_NOT_IN_URL = re.compile(
    r"[\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)


def safe_url(url: object) -> str | None:
    """`url` if it is an absolute http or https URL without spaces or control characters, else None."""
    if not isinstance(url, str) or not url or len(url) > 2000 or _NOT_IN_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def embedded_json(value: Any) -> str:
    """JSON that can sit inside a `<script>` element: nothing in it can close the element or start a
    comment, and the line separators JavaScript once refused are escaped too."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


# --- text measuring ---------------------------------------------------------------------------------------

# Advance widths (em) of DejaVu Sans, the widest common sans-serif: text measured with it fits in any other.
_WIDTHS = {
    **dict.fromkeys("ijl'|!.,:;", 0.3),
    **dict.fromkeys('frt()[]{}/-"', 0.42),
    **dict.fromkeys(" ", 0.32),
    **dict.fromkeys("abcdeghknopqsuvxyz0123456789?$#_", 0.64),
    **dict.fromkeys("mwMW%&@", 1.0),
}


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An upper estimate of the width of `text` in pixels at `size`."""
    total = 0.0
    for char in text:
        width = _WIDTHS.get(char)
        if width is None:
            if unicodedata.east_asian_width(char) in ("W", "F"):
                width = 1.05
            elif unicodedata.combining(char):
                width = 0.0
            else:
                width = 0.8 if char.isupper() else 0.7
        total += width
    return total * size * (1.1 if bold else 1.0)


def wrap(text: str, width: float, size: float, max_lines: int, bold: bool = False) -> list[str]:
    """`text` in lines no wider than `width` pixels, broken at spaces (a longer word at any character);
    at most `max_lines`, the last one ending in `…` when text was left out."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if text_width(trial, size, bold) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:  # a word wider than the line is cut where it must be
            if current and text_width(current + char, size, bold) > width:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + " …", size, bold) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + " …"]
    return lines or [""]


# --- the page's data --------------------------------------------------------------------------------------


def _day(at: datetime | None) -> str | None:
    return None if at is None else local_time(at).date().isoformat()


def _hours(value: float) -> str:
    return f"{value:.0f} h" if value >= 10 or value == int(value) else f"{value:.1f} h"


def page_context(data: ReportInput) -> dict[str, Any]:
    """What the template needs: every string made visible, the map laid out, the numbers counted."""
    graph, statuses = data.graph, data.statuses
    nodes = graphs.graph_nodes(graph, statuses, data.only)
    shown = [node.id for node in nodes.nodes]
    inside = set(shown)
    titles = {t: visible(topic.title) for t, topic in graph.topics.items()}

    # aims: the goal comes before the followed track, as in `next`
    goals = [g for g in data.goals if g in graph.topics]
    aims = []
    aim_topics: set[str] = set()
    if data.track is not None:
        track_topics = [t for t in data.track.topics if t in graph.topics]
        progress = planner.total_progress(planner.phase_progress(graph, statuses, within=track_topics))
        aims.append(
            {
                "kind": "Track",
                "title": visible(data.track.title),
                "finished": progress.finished,
                "total": progress.total,
                "hours_left": _hours(progress.hours_left),
            }
        )
        aim_topics = set(track_topics)
    if goals:
        remaining = planner.study_path(graph, statuses, goals)
        aims.append(
            {
                "kind": "Goal",
                "title": ", ".join(titles[g] for g in goals),
                "finished": None,
                "total": len(remaining),
                "hours_left": _hours(sum(graph.topics[t].hours or 0.0 for t in remaining)),
            }
        )
        aim_topics = set(remaining) | set(goals)
    outlined = aim_topics & inside if aim_topics and not inside <= aim_topics else set()

    # per phase (a narrowed report leaves out the phases it has no topic of)
    rows = planner.phase_progress(graph, statuses, within=None if data.only is None else shown)
    total = planner.total_progress(rows)

    # activity and estimates
    completed = pace.completions(data.events, statuses)
    hours = {t.id: t.hours for t in graph.topics.values()}
    weeks = pace.weekly(completed, hours, data.now, WEEKS)
    measured = pace.measure(completed, hours, data.now)
    estimates = {}
    if data.eta:
        for estimate in pace.finish_estimates(
            [(r.phase.id, r.phase.title, r.hours_left) for r in rows], measured.hours_per_week, data.now
        ):
            estimates[estimate.phase_id] = estimate.finish.isoformat() if estimate.finish else None
    finish = estimates.get(rows[-1].phase.id) if rows and estimates else None

    states = {node.id: node.state for node in nodes.nodes}
    counts = {state: sum(1 for s in states.values() if s == state) for state in STATES}

    # the map
    phase_titles = {p.id: visible(p.title) for p in graph.phases}
    lines = {
        t: wrap(titles[t], BOX_WIDTH - TEXT_LEFT - TEXT_RIGHT, TITLE_SIZE, MAX_TITLE_LINES) for t in shown
    }
    sizes = {t: (BOX_WIDTH, 2 * BOX_PAD + LINE * len(lines[t]) + 1) for t in shown}
    band_width = BOX_WIDTH + 2 * layout.BAND_PAD - 8
    band_lines = {
        p.id: wrap(phase_titles[p.id], band_width, BAND_TITLE_SIZE, 3, bold=True) for p in nodes.phases
    }
    header = BAND_LINE * max((len(v) for v in band_lines.values()), default=1) + BAND_LINE + 10
    placed = layout.layout_map(graph, sizes, only=data.only, header=header)
    by_phase = {r.phase.id: r for r in rows}
    bands = []
    for band in placed.bands:
        row = by_phase.get(band.phase_id)
        bands.append(
            {
                "id": band.phase_id,
                "x": band.x,
                "y": band.y,
                "w": band.w,
                "h": band.h,
                "title_x": band.title_x,
                "title_y": band.title_y + BAND_TITLE_SIZE,
                "lines": band_lines.get(band.phase_id, [phase_titles.get(band.phase_id, band.phase_id)]),
                "count": f"{row.finished}/{row.total}" if row else "",
            }
        )
    boxes = [
        {
            "id": box.topic_id,
            "x": box.x,
            "y": box.y,
            "w": box.w,
            "h": box.h,
            "state": states[box.topic_id],
            "mark": MARKS[states[box.topic_id]],
            "kind": graph.topics[box.topic_id].kind,
            "aim": box.topic_id in outlined,
            "label": f"{titles[box.topic_id]} ({STATE_WORDS[states[box.topic_id]]})",
            "lines": lines[box.topic_id],
            "text_x": box.x + TEXT_LEFT,
            "text_y": box.y + BOX_PAD + TITLE_SIZE,
            "mark_x": box.x + 8,
        }
        for box in placed.boxes
    ]
    curves = [
        {
            "from": c.from_id,
            "to": c.to_id,
            "d": c.path_d,
            "open": statuses.get(c.from_id, "todo") not in SATISFIED,
        }
        for c in placed.curves
    ]
    now_local = local_time(data.now)
    return {
        "version": data.version,
        "title": visible(data.title),
        "scope": visible(data.scope) if data.scope else None,
        "date": now_local.date().isoformat(),
        "total": total,
        "percent": round(total.percent),
        "hours_left": _hours(total.hours_left),
        "phases_total_bar": _segments(total.done, total.skipped, total.doing, total.total),
        "aims": aims,
        "outlined": bool(outlined),
        "phases": [
            {
                "id": r.phase.id,
                "title": phase_titles.get(r.phase.id, r.phase.id),
                "total": r.total,
                "finished": r.finished,
                "done": r.done,
                "skipped": r.skipped,
                "doing": r.doing,
                "percent": round(r.percent),
                "hours_left": _hours(r.hours_left),
                "finish": estimates.get(r.phase.id),
                # the bar: segments in a 0-100 viewBox
                "bar": _segments(r.done, r.skipped, r.doing, r.total),
            }
            for r in rows
        ],
        "map": {"width": placed.width, "height": placed.height, "bands": bands, "boxes": boxes},
        "curves": curves,
        "legend": [
            {"state": s, "mark": MARKS[s], "word": STATE_WORDS[s], "count": counts[s]} for s in STATES
        ],
        "activity": _activity(weeks),
        "streak": pace.streak([e.at for e in data.events], data.now),
        "pace": f"{measured.hours_per_week:.1f}",
        "pace_days": measured.days,
        "eta": data.eta,
        "finish": finish,
        "no_pace": data.eta and measured.hours_per_week <= 0 and total.hours_left > 0,
        "topic_json": embedded_json(_topic_data(data, shown, states, titles, phase_titles)),
    }


def _segments(done: int, skipped: int, doing: int, total: int) -> list[dict[str, Any]]:
    segments = []
    x = 0.0
    for name, count in (("done", done), ("skipped", skipped), ("doing", doing)):
        if count and total:
            width = 100 * count / total
            segments.append({"state": name, "x": round(x, 2), "w": round(width, 2)})
            x += width
    return segments


def _activity(weeks: Sequence[pace.Week]) -> dict[str, Any]:
    """The weekly chart: two bars a week (hours, topics), each scaled to its own maximum and labelled."""
    slot, top, plot = 64, 22, 120
    most_hours = max((w.hours for w in weeks), default=0) or 1
    most_topics = max((w.topics for w in weeks), default=0) or 1
    bars = []
    for i, week in enumerate(weeks):
        x = 44 + i * slot
        h_hours = plot * week.hours / most_hours
        h_topics = plot * week.topics / most_topics
        bars.append(
            {
                "x": x,
                "label_x": x + 22,
                "start": week.start.strftime("%b %d").replace(" 0", " "),
                "iso": week.start.isoformat(),
                "hours": _hours(week.hours) if week.hours else "0 h",
                "topics": week.topics,
                "hours_y": top + plot - h_hours,
                "hours_h": max(h_hours, 1 if week.hours else 0),
                "topics_y": top + plot - h_topics,
                "topics_h": max(h_topics, 1 if week.topics else 0),
            }
        )
    return {
        "width": 44 + len(weeks) * slot + 8,
        "height": top + plot + 44,
        "base": top + plot,
        "bars": bars,
        "total_hours": _hours(sum(w.hours for w in weeks)),
        "total_topics": sum(w.topics for w in weeks),
    }


def _topic_data(
    data: ReportInput,
    shown: Sequence[str],
    states: Mapping[str, str],
    titles: Mapping[str, str],
    phase_titles: Mapping[str, str],
) -> dict[str, Any]:
    """The side panel's data for every shown topic (everything made visible; links http/https only)."""
    graph, statuses = data.graph, data.statuses
    inside = set(shown)

    def ref(other: str) -> list[Any]:
        state = states.get(other) or planner.topic_state(graph, statuses, other)
        return [other, titles[other], state, other in inside]

    topics = {}
    for topic_id in shown:
        topic = graph.topics[topic_id]
        fields = data.fields.get(topic_id, {})
        started, finished = data.dates.get(topic_id, (None, None))
        resources_ = []
        for resource in fields.get("resources") or []:
            if not isinstance(resource, Mapping):
                continue
            url = safe_url(resource.get("url"))
            if url is not None:
                resources_.append({"title": visible(str(resource.get("title") or url)), "url": url})
        topics[topic_id] = {
            "title": titles[topic_id],
            "state": states[topic_id],
            "phase": phase_titles.get(topic.phase_id, topic.phase_id),
            "kind": topic.kind,
            "hours": topic.hours,
            "difficulty": topic.difficulty,
            "summary": visible(str(fields.get("summary") or "")),
            "concepts": [visible(str(c)) for c in fields.get("concepts") or []],
            "tools": [visible(str(c)) for c in fields.get("tools") or []],
            "resources": resources_,
            "started": _day(started),
            "finished": _day(finished),
            "requires": [ref(r) for r in graph.in_roadmap_order(graph.requires[topic_id])],
            "unlocks": [ref(r) for r in graph.in_roadmap_order(graph.required_by[topic_id])],
            "notes": [{"at": _day(at), "text": visible(text)} for at, text in data.notes.get(topic_id, ())],
        }
    return {"states": STATE_WORDS, "marks": MARKS, "topics": topics}


# --- rendering --------------------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return (resources.files("llmpath") / "templates" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render_page(context: Mapping[str, Any]) -> str:
    """The template rendered with autoescape; the page's own CSS and script inline, allowed by hash."""
    import jinja2
    from markupsafe import Markup

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("llmpath", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["n"] = _number
    css, script = _asset("report.css"), _asset("report.js")
    csp = (
        "default-src 'none'; "
        f"style-src {_csp_hash(css)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    template = environment.get_template("report.html.j2")
    values = {**context, "css": Markup(css), "script": Markup(script), "csp": csp}
    values["topic_json"] = Markup(context["topic_json"])  # already escaped for a <script> element
    return template.render(values)


def _number(value: float) -> str:
    """A coordinate as SVG wants it: at most one decimal, no trailing zeros."""
    if not math.isfinite(value):
        return "0"
    return f"{value:.1f}".rstrip("0").rstrip(".")
