"""Progress as text and back: a GitHub markdown checklist and a complete JSON backup.

Pure functions over plain data: `to_markdown` / `to_json` render a `Snapshot`; `parse_progress` reads either
format back into a `ParsedProgress`, raising `LlmpathError` (naming the file, line and topic) when the file is
invalid: malformed, a date outside 1970-2200, a start after the finish.

The checklist carries what a round trip needs while reading well on GitHub: each item's date (`· done
2026-10-01`, the learner's calendar day) and its notes as dated sub-bullets. It is read in one pass with
string operations and anchored, fixed-length patterns only, so parsing is linear in the input. The JSON
backup holds everything the learner made: progress with exact times, notes, the whole status history, goals,
the followed track and the learner's settings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from llmpath.errors import LlmpathError
from llmpath.roadmap import ID_PATTERN
from llmpath.vocab import (
    ETA_SETTING,
    FIRST_YEAR,
    LAST_YEAR,
    REVIEW_SETTING,
    SATISFIED,
    Status,
    as_utc,
    local_time,
)

FORMAT_NAME = "llmpath-progress"
# 1: progress, dates and notes. 2: also the status history, goals, the followed track and settings; times
# keep their microseconds. Both are read.
EXPORT_FORMAT_VERSION = 2
# Dates an import accepts (by year, in UTC): anything else is a typo or an attack, and would make stored
# times that local-time arithmetic cannot handle.


@dataclass
class NoteItem:
    at: datetime
    text: str


@dataclass
class TopicItem:
    id: str
    title: str
    phase_id: str | None
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    notes: list[NoteItem] = field(default_factory=list)


@dataclass
class PhaseItem:
    id: str
    title: str
    topics: list[TopicItem]


@dataclass
class EventItem:
    """One recorded status change."""

    at: datetime
    topic_id: str
    old_status: str
    new_status: str


@dataclass
class Snapshot:
    roadmap_id: str
    roadmap_title: str
    content_hash: str
    exported_at: datetime
    phases: list[PhaseItem]
    orphaned: list[TopicItem] = field(default_factory=list)
    events: list[EventItem] = field(default_factory=list)  # oldest first
    goals: list[str] = field(default_factory=list)
    track: str | None = None  # the followed track
    settings: dict[str, str] = field(default_factory=dict)  # vocab.LEARNER_SETTINGS that are set


# --- markdown ---------------------------------------------------------------------------------------------

# Backslash-escaped wherever they appear; "&" only where it could start an entity (&lt; &#60;), so
# "Containers & Docker" stays readable in the raw file.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~|#!]|&(?=[A-Za-z0-9#]))")


def escape_markdown(text: str) -> str:
    """One line of inert markdown: titles and notes cannot open headings, links, HTML or new items, and
    their control characters are made visible (the file is read in terminals too)."""
    from llmpath.terminal import visible

    return _MD_SPECIAL.sub(r"\\\1", visible(" ".join(text.split())))


def unescape_markdown(text: str) -> str:
    """Drop the backslash of every `\\x` (one split and join: fast on a line of a million backslashes)."""
    if "\\" not in text:
        return text
    parts = text.split("\\")
    out = [parts[0]]
    index = 1
    while index < len(parts):
        if parts[index] or index == len(parts) - 1:
            out.append(parts[index] or "\\")  # `\\x` is x; a backslash that ends the text stays
            index += 1
        else:  # two backslashes in a row: an escaped backslash, then the text after it
            out += ["\\", parts[index + 1]]
            index += 2
    return "".join(out)


def markdown_note(text: str) -> str:
    """A note as the checklist writes it; an imported note is the same note when this is the same."""
    return escape_markdown(text)


def _finished(topics: list[TopicItem]) -> int:
    return sum(t.status in SATISFIED for t in topics)


def to_markdown(snapshot: Snapshot, graph_mermaid: str | None = None) -> str:
    """A GitHub task list: `- [x]` done, `~~struck~~ (skipped)`, `(in progress)`, ids in backticks."""
    all_topics = [t for p in snapshot.phases for t in p.topics]
    finished = _finished(all_topics)
    percent = round(100 * finished / len(all_topics)) if all_topics else 100
    lines = [
        f"# {escape_markdown(snapshot.roadmap_title)}",
        "",
        f"Progress: {finished} of {len(all_topics)} topics done or skipped ({percent}%). "
        f"Exported by llmpath on {_local_date(snapshot.exported_at)}; roadmap `{snapshot.roadmap_id}`.",
    ]
    for phase in snapshot.phases:
        lines += [
            "",
            f"## {escape_markdown(phase.title)} ({_finished(phase.topics)}/{len(phase.topics)})",
            "",
        ]
        lines += [line for topic in phase.topics for line in _markdown_item(topic)]
    if snapshot.orphaned:
        lines += ["", "## Progress on topics no longer in the roadmap", ""]
        lines += [line for topic in snapshot.orphaned for line in _markdown_item(topic)]
    if graph_mermaid:
        lines += ["", "## Prerequisite graph", "", "```mermaid", graph_mermaid.rstrip(), "```"]
    return "\n".join(lines) + "\n"


_MARKERS = (" (skipped)", " (in progress)")


def _markdown_item(topic: TopicItem) -> list[str]:
    title = escape_markdown(topic.title)
    if title.endswith(_MARKERS):
        # A title that itself ends like a status marker gets its brackets escaped; import tells them apart.
        head, _, tail = title.rpartition(" (")
        title = f"{head} \\({tail[:-1]}\\)"
    if topic.status == "done":
        line = f"- [x] {title}"
    elif topic.status == "skipped":
        line = f"- [x] ~~{title}~~ (skipped)"
    elif topic.status == "doing":
        line = f"- [ ] {title} (in progress)"
    else:
        line = f"- [ ] {title}"
    lines = [f"{line} `{topic.id}`{_date_suffix(topic)}"]
    lines += [f"  - {_local_date(note.at)}: {markdown_note(note.text)}" for note in topic.notes]
    return lines


# The date an item carries, after its id: when it was finished (done, skipped) or started (in progress).
_DATE_WORDS = {"done": "done", "skipped": "skipped", "doing": "started"}


def _date_suffix(topic: TopicItem) -> str:
    word = _DATE_WORDS.get(topic.status)
    at = topic.started_at if topic.status == "doing" else topic.finished_at
    return f" · {word} {_local_date(at)}" if word and at else ""


def _local_date(at: datetime) -> str:
    """The learner's calendar date, as `log` and `show` print it."""
    return local_time(at).date().isoformat()


# Every pattern is anchored and matches a bounded prefix, so reading a line costs time linear in its length
# (a lazy `.*?` followed by `\s*$` would try every split of a long run of spaces: quadratic).
_ITEM = re.compile(r"[-*+] \[([ xX])\] ")
_NOTE = re.compile(r"  [-*+] (\d{4}-\d{2}-\d{2}): ")
_DATED = re.compile(r"(done|skipped|started) (\d{4}-\d{2}-\d{2})")
_TOPIC_ID = re.compile(ID_PATTERN)
_ROADMAP_MARK = "; roadmap `"


def _parse_markdown(text: str, file: str) -> ParsedProgress:
    """Items (`- [x] Title `id` · done 2026-10-01`), their notes (`  - 2026-10-01: text`) and the roadmap id
    the header names. The box decides the status; the marker only says which kind of ticked or unticked."""
    topics: list[ImportedTopic] = []
    roadmap_id = None
    current: ImportedTopic | None = None  # the item the following note lines belong to
    for number, line in enumerate(text.splitlines(), start=1):
        item = _ITEM.match(line)
        if item:
            current = _parse_item(item[1] != " ", line[item.end() :], file, number)
            topics.append(current)
            continue
        note = _NOTE.match(line) if current is not None else None
        if current is not None and note is not None:
            note_text = unescape_markdown(line[note.end() :]).strip()
            if note_text:
                day = _day(note[1], file, number, f"note on topic '{current.id or current.title}'")
                current.notes.append(NoteItem(day, note_text))
            continue
        current = None
        if not topics and roadmap_id is None and line.startswith("Progress: "):
            roadmap_id = _named_roadmap(line)
    if not topics:
        raise LlmpathError(f"{file}: no checklist items (`- [x] Title`) found; nothing imported")
    return ParsedProgress(roadmap_id=roadmap_id, topics=topics, kind="markdown")


def _parse_item(checked: bool, rest: str, file: str, number: int) -> ImportedTopic:
    rest = rest.rstrip()
    dated = None
    head, mark, tail = rest.rpartition(" · ")
    if mark and head.endswith("`") and (dated := _DATED.fullmatch(tail)):
        rest = head
    ident = None
    if rest.endswith("`"):
        opening = rest.rfind("`", 0, len(rest) - 1)
        if opening >= 0 and _TOPIC_ID.fullmatch(rest[opening + 1 : -1]):
            ident = rest[opening + 1 : -1]
            rest = rest[:opening].rstrip()
    marker = next((m for m in _MARKERS if rest.endswith(m)), None)
    if marker:
        rest = rest[: -len(marker)]
    if checked:
        status = "skipped" if marker == " (skipped)" else "done"
    else:
        status = "doing" if marker == " (in progress)" else "todo"
    if rest.startswith("~~") and rest.endswith("~~") and len(rest) > 4:
        rest = rest[2:-2]
    entry = ImportedTopic(ident, unescape_markdown(rest).strip(), status, line=number)
    if dated is not None and _DATE_WORDS.get(status) == dated[1]:  # a date of another status is stale
        day = _day(dated[2], file, number, f"topic '{ident or entry.title}'")
        if status == "doing":
            entry.started_at = day
        else:
            entry.finished_at = day
    return entry


def _named_roadmap(line: str) -> str | None:
    """The roadmap id in the header line the export writes (`…; roadmap `mini`.`)."""
    start = line.find(_ROADMAP_MARK)
    if start < 0:
        return None
    start += len(_ROADMAP_MARK)
    end = line.find("`", start)
    ident = line[start:end] if end > start else ""
    return ident if _TOPIC_ID.fullmatch(ident) else None


def _day(text: str, file: str, number: int, what: str) -> datetime:
    """A calendar day of the checklist as a time: local noon, so a zone or two away it is the same day."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise LlmpathError(f"{file}:{number}: {what}: '{text}' is not a date; nothing imported") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise LlmpathError(
            f"{file}:{number}: {what}: the date {text} is outside the years {FIRST_YEAR}-{LAST_YEAR}; "
            "nothing imported"
        )
    return as_utc(datetime.combine(day, time(12)).astimezone())


# --- JSON -------------------------------------------------------------------------------------------------


TopicId = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80)]


class _JsonNote(BaseModel):
    model_config = ConfigDict(extra="ignore")
    at: datetime
    text: str


class _JsonTopic(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: TopicId
    title: str = ""
    phase: str | None = None
    status: Status
    started_at: datetime | None = None
    finished_at: datetime | None = None
    notes: list[_JsonNote] = []


class _JsonEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    at: datetime
    id: TopicId
    old: Status = Field(alias="from")
    new: Status = Field(alias="to")


class _JsonSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    review_every_days: float | None = Field(default=None, gt=0, le=36500)
    eta: Literal["on", "off"] | None = None


class _JsonRoadmap(BaseModel):
    id: TopicId
    title: str = ""
    hash: str = ""


class _JsonExport(BaseModel):
    """The JSON backup format (`llmpath export --format json`), versions 1 and 2 (2 adds history, goals,
    track and settings)."""

    model_config = ConfigDict(extra="ignore")
    format: Literal["llmpath-progress"]
    version: Literal[1, 2]
    exported_at: datetime | None = None
    roadmap: _JsonRoadmap
    topics: list[_JsonTopic] = Field(default=[])
    orphaned: list[_JsonTopic] = Field(default=[])
    events: list[_JsonEvent] | None = None
    goals: list[TopicId] = Field(default=[])
    track: TopicId | None = None
    settings: _JsonSettings = Field(default_factory=_JsonSettings)


def _json_topic(topic: TopicItem) -> dict:
    return {
        "id": topic.id,
        "title": topic.title,
        "phase": topic.phase_id,
        "status": topic.status,
        "started_at": _iso(topic.started_at),
        "finished_at": _iso(topic.finished_at),
        "notes": [{"at": _iso(n.at), "text": n.text} for n in topic.notes],
    }


def to_json(snapshot: Snapshot) -> str:
    review = snapshot.settings.get(REVIEW_SETTING)
    document = {
        "format": FORMAT_NAME,
        "version": EXPORT_FORMAT_VERSION,
        "exported_at": _iso(snapshot.exported_at),
        "roadmap": {
            "id": snapshot.roadmap_id,
            "title": snapshot.roadmap_title,
            "hash": snapshot.content_hash,
        },
        "topics": [_json_topic(t) for p in snapshot.phases for t in p.topics],
        "orphaned": [_json_topic(t) for t in snapshot.orphaned],
        "events": [
            {"at": _iso(e.at), "id": e.topic_id, "from": e.old_status, "to": e.new_status}
            for e in snapshot.events
        ],
        "goals": snapshot.goals,
        "track": snapshot.track,
        "settings": {
            REVIEW_SETTING: _number(review) if review else None,
            ETA_SETTING: snapshot.settings.get(ETA_SETTING),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC, to the microsecond when there is one: a restored backup has the very same times."""
    return as_utc(at).isoformat() if at else None


def _number(value: str) -> float | int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


# A JSON escape of a UTF-16 surrogate; only when one is present is the parsed document checked for a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _parse_json(text: str, file: str) -> ParsedProgress:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LlmpathError(f"{file}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise LlmpathError(f"{file}: invalid JSON (nested too deeply)") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            raise LlmpathError(
                f"{file}: invalid JSON (a \\u escape is half of a surrogate pair, which is not text)"
            ) from None
    version = document.get("version") if isinstance(document, dict) else None
    if type(version) is int and version > EXPORT_FORMAT_VERSION and document.get("format") == FORMAT_NAME:
        raise LlmpathError(
            f"{file}: written by a newer llmpath (export format {version}; this one reads up to "
            f"{EXPORT_FORMAT_VERSION}); upgrade llmpath to import it"
        )
    try:
        export = _JsonExport.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise LlmpathError(f"{file}: not an llmpath progress export ({where}: {first['msg']})") from None
    topics = []
    for t in (*export.topics, *export.orphaned):
        topic = f"topic '{t.id}'"
        started_at = t.started_at and _checked(t.started_at, file, f"{topic}: started_at")
        finished_at = t.finished_at and _checked(t.finished_at, file, f"{topic}: finished_at")
        if started_at and finished_at and started_at > finished_at:
            raise LlmpathError(
                f"{file}: {topic}: started_at {_iso(started_at)} is after finished_at {_iso(finished_at)}; "
                "nothing imported"
            )
        notes = [NoteItem(_checked(n.at, file, f"{topic}: note"), n.text) for n in t.notes]
        topics.append(ImportedTopic(t.id, t.title, t.status, started_at, finished_at, notes))
    events = None
    if export.version >= 2 and export.events is not None:
        events = [
            EventItem(_checked(e.at, file, f"topic '{e.id}': history"), e.id, e.old, e.new)
            for e in export.events
        ]
    settings = {}
    if export.settings.review_every_days is not None:
        settings[REVIEW_SETTING] = f"{export.settings.review_every_days:g}"
    if export.settings.eta is not None:
        settings[ETA_SETTING] = export.settings.eta
    return ParsedProgress(
        roadmap_id=export.roadmap.id,
        topics=topics,
        events=events,
        goals=list(export.goals),
        track=export.track,
        settings=settings,
    )


def _checked(at: datetime, file: str, what: str) -> datetime:
    """A time from the file in UTC, or an error naming the topic if it lies outside FIRST_YEAR-LAST_YEAR.

    The year is checked before converting, so an extreme offset cannot overflow the conversion. A time
    without an offset (a hand-edited file) is taken as UTC, as stored times are."""
    if FIRST_YEAR <= at.year <= LAST_YEAR:
        utc = as_utc(at)
        if FIRST_YEAR <= utc.year <= LAST_YEAR:
            return utc
    raise LlmpathError(
        f"{file}: {what} {at.isoformat()} is outside the years {FIRST_YEAR}-{LAST_YEAR}; nothing imported"
    )


# --- reading either format --------------------------------------------------------------------------------


@dataclass
class ImportedTopic:
    id: str | None  # None when a markdown line had no id: match by title
    title: str
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    notes: list[NoteItem] = field(default_factory=list)
    line: int | None = None


@dataclass
class ParsedProgress:
    """What an imported file holds. Markdown dates are calendar days (local noon), used only where the
    status changes; JSON times are exact. `events` is None when the file has no history (markdown, JSON 1):
    the import then records each status change it makes."""

    roadmap_id: str | None  # None: the file does not say (a hand-written checklist)
    topics: list[ImportedTopic]
    kind: Literal["json", "markdown"] = "json"
    events: list[EventItem] | None = None
    goals: list[str] = field(default_factory=list)
    track: str | None = None
    settings: dict[str, str] = field(default_factory=dict)  # stored form of vocab.LEARNER_SETTINGS


def parse_progress(text: str, file: str) -> ParsedProgress:
    """Read an export in either format; JSON is recognised by its first character."""
    if text.lstrip().startswith("{"):
        return _parse_json(text, file)
    return _parse_markdown(text, file)
