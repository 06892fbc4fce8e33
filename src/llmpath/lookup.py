"""Turning what a user typed into a topic, phase or track id, with "did you mean" suggestions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from llmpath.errors import TopicNotFound
from llmpath.planner import Graph, TrackInfo

MAX_SUGGESTIONS = 5


def resolve_topic(graph: Graph, aliases: Mapping[str, str], name: str) -> str:
    """A topic id from an id, an alias, a title (any case) or a unique id prefix."""
    key = name.strip().lower()
    if key in graph.topics:
        return key
    if key in aliases:
        return aliases[key]
    by_title = [t.id for t in graph.topics.values() if t.title.lower() == key]
    if len(by_title) == 1:
        return by_title[0]
    prefixed = [t for t in graph.topics if key and t.startswith(key)] if key else []
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1 or len(by_title) > 1:
        candidates = by_title or prefixed
        shown = ", ".join(candidates[:MAX_SUGGESTIONS]) + (" …" if len(candidates) > MAX_SUGGESTIONS else "")
        raise TopicNotFound(f"'{name}' matches {len(candidates)} topics: {shown}; type more of the id")
    raise TopicNotFound(f"no topic '{name}'" + _suggest(key, graph, aliases))


def resolve_topics(graph: Graph, aliases: Mapping[str, str], names: Iterable[str]) -> list[str]:
    """All names resolved, or `TopicNotFound` for the first that is not (so nothing is half-done)."""
    return list(dict.fromkeys(resolve_topic(graph, aliases, name) for name in names))


def resolve_phase(graph: Graph, name: str) -> str:
    return _resolve_named("phase", [(p.id, p.title) for p in graph.phases], name)


def resolve_track(tracks: Sequence[TrackInfo], name: str) -> TrackInfo:
    """A track from its id, title (any case) or a unique id prefix."""
    if not tracks:
        raise TopicNotFound("this roadmap has no tracks (a roadmap file lists them under `tracks:`)")
    chosen = _resolve_named("track", [(t.id, t.title) for t in tracks], name)
    return next(t for t in tracks if t.id == chosen)


def _resolve_named(kind: str, named: Sequence[tuple[str, str]], name: str) -> str:
    """An id from `(id, title)` pairs: the id, a title in any case, or a unique id prefix."""
    key = name.strip().lower()
    ids = [ident for ident, _ in named]
    if key in ids:
        return key
    by_title = [ident for ident, title in named if title.lower() == key]
    prefixed = [ident for ident in ids if key and ident.startswith(key)]
    for matches in (by_title, prefixed):
        if len(matches) == 1:
            return matches[0]
    import difflib  # only on the error path

    close = difflib.get_close_matches(key, ids, n=MAX_SUGGESTIONS, cutoff=0.5)
    hint = f"; did you mean {_or(close)}?" if close else f"; {kind}s are: {', '.join(ids)}"
    raise TopicNotFound(f"no {kind} '{name}'{hint}")


def _suggest(key: str, graph: Graph, aliases: Mapping[str, str]) -> str:
    """Up to five close ids, by id, alias, title and substring, best first."""
    import difflib  # only on the error path

    titles = {t.title.lower(): t.id for t in graph.topics.values()}
    names = {**{t: t for t in graph.topics}, **aliases, **titles}
    found: list[str] = []
    for close in difflib.get_close_matches(key, list(names), n=MAX_SUGGESTIONS * 2, cutoff=0.6):
        found.append(names[close])
    if key:
        found += [t for t in graph.topics if key in t or key in graph.topics[t].title.lower()]
    suggestions = list(dict.fromkeys(found))[:MAX_SUGGESTIONS]
    return f"; did you mean {_or(suggestions)}?" if suggestions else ""


def _or(items: list[str]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
