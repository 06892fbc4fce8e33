"""Progress as text and back: a GitHub markdown checklist and a complete JSON backup.

Pure functions over plain data: `to_markdown` / `to_json` render a `Snapshot`; `parse_progress` reads either
format back into `ImportedTopic`s, raising `LlmpathError` (naming the file and line) when the file is invalid.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmpath.errors import LlmpathError
from llmpath.vocab import SATISFIED, Status, as_utc

FORMAT_NAME = "llmpath-progress"
EXPORT_FORMAT_VERSION = 1


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
class Snapshot:
    roadmap_id: str
    roadmap_title: str
    content_hash: str
    exported_at: datetime
    phases: list[PhaseItem]
    orphaned: list[TopicItem] = field(default_factory=list)


# --- markdown ---------------------------------------------------------------------------------------------

# Backslash-escaped wherever they appear; "&" only where it could start an entity (&lt; &#60;), so
# "Containers & Docker" stays readable in the raw file.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~|#!]|&(?=[A-Za-z0-9#]))")


def escape_markdown(text: str) -> str:
    """One line of inert markdown: titles and notes cannot open headings, links, HTML or new items."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def unescape_markdown(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


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
    lines = [f"{line} `{topic.id}`"]
    lines += [f"  - {_local_date(note.at)}: {escape_markdown(note.text)}" for note in topic.notes]
    return lines


def _local_date(at: datetime) -> str:
    """The learner's calendar date, as `log` and `show` print it."""
    return as_utc(at).astimezone().strftime("%Y-%m-%d")


_ITEM = re.compile(r"^[-*+] \[(?P<mark>[ xX])\] (?P<rest>.*?)\s*$")
_TRAILING_ID = re.compile(r"\s*`(?P<id>[a-z0-9]+(?:-[a-z0-9]+)*)`$")


def _parse_markdown(text: str, file: str) -> ParsedProgress:
    topics: list[ImportedTopic] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ITEM.match(line)
        if not match:
            continue
        rest = match["rest"]
        ident = None
        id_match = _TRAILING_ID.search(rest)
        if id_match:
            ident = id_match["id"]
            rest = rest[: id_match.start()]
        checked = match["mark"] != " "
        status = "done" if checked else "todo"
        for marker, marked_status in zip(_MARKERS, ("skipped", "doing"), strict=True):
            if rest.endswith(marker):
                rest = rest[: -len(marker)]
                status = marked_status
        if rest.startswith("~~") and rest.endswith("~~") and len(rest) > 4:
            rest = rest[2:-2]
        topics.append(ImportedTopic(ident, unescape_markdown(rest).strip(), status, line=number))
    if not topics:
        raise LlmpathError(f"{file}: no checklist items (`- [x] Title`) found; nothing imported")
    return ParsedProgress(roadmap_id=None, topics=topics)


# --- JSON -------------------------------------------------------------------------------------------------


class _JsonNote(BaseModel):
    model_config = ConfigDict(extra="ignore")
    at: datetime
    text: str


class _JsonTopic(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    title: str = ""
    phase: str | None = None
    status: Status
    started_at: datetime | None = None
    finished_at: datetime | None = None
    notes: list[_JsonNote] = []


class _JsonRoadmap(BaseModel):
    id: str
    title: str = ""
    hash: str = ""


class _JsonExport(BaseModel):
    """The JSON backup format (`llmpath export --format json`), version 1."""

    model_config = ConfigDict(extra="ignore")
    format: Literal["llmpath-progress"]
    version: Literal[1]
    exported_at: datetime | None = None
    roadmap: _JsonRoadmap
    topics: list[_JsonTopic] = Field(default=[])
    orphaned: list[_JsonTopic] = Field(default=[])


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
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at else None


def _parse_json(text: str, file: str) -> ParsedProgress:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LlmpathError(f"{file}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    try:
        export = _JsonExport.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise LlmpathError(f"{file}: not an llmpath progress export ({where}: {first['msg']})") from None
    topics = [
        ImportedTopic(
            t.id,
            t.title,
            t.status,
            started_at=_aware(t.started_at),
            finished_at=_aware(t.finished_at),
            notes=[NoteItem(as_utc(n.at), n.text) for n in t.notes],
        )
        for t in (*export.topics, *export.orphaned)
    ]
    return ParsedProgress(roadmap_id=export.roadmap.id, topics=topics)


def _aware(at: datetime | None) -> datetime | None:
    """Stored times are UTC; a time without an offset (hand-edited file) is taken as UTC."""
    return None if at is None else as_utc(at)


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
    roadmap_id: str | None  # None for markdown, which does not say
    topics: list[ImportedTopic]


def parse_progress(text: str, file: str) -> ParsedProgress:
    """Read an export in either format; JSON is recognised by its first character."""
    if text.lstrip().startswith("{"):
        return _parse_json(text, file)
    return _parse_markdown(text, file)
