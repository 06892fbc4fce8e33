"""Reading roadmap YAML that may be hostile, and pointing at its lines.

Parsing uses PyYAML's safe loaders only (never building Python objects), refuses duplicate keys, object
tags, files over the size limit, too many values and alias bombs before they cost time or memory, and keeps
dates as text. `LineMap` maps a path in the document to its line, for error messages.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmpath.errors import Problem, RoadmapError
from llmpath.paths import MAX_ROADMAP_BYTES

# "Billion laughs": a few YAML aliases can expand into billions of nodes. Count the nodes the document would
# expand to and refuse it past this many.
MAX_EXPANDED_NODES = 1_000_000
# Values (scalars, lists, mappings) in the file itself, counted before it is turned into Python objects: the
# synthetic 20,000-topic benchmark roadmap holds about 230,000, while 4 MiB of `[1,1,1,…]` holds two million,
# which would take a minute and gigabytes to build and check.
MAX_VALUES = 500_000


def read_roadmap_bytes(path: Path) -> bytes:
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_ROADMAP_BYTES:
            raise _error(
                file, f"file is {size / 1e6:.1f} MB; roadmaps are limited to {_mb(MAX_ROADMAP_BYTES)}"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise _error(file, "no such file") from None
    except IsADirectoryError:
        raise _error(file, "is a directory, not a roadmap file") from None
    except OSError as exc:
        raise _error(file, f"cannot read: {exc.strerror}") from None


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large roadmap.

    Loading allocates hundreds of thousands of small objects that all stay alive; each collection would
    walk all of them again, which made a 20,000-topic load grow faster than linearly. Nothing here makes
    reference cycles worth collecting early.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB"


def _error(file: str, message: str, line: int | None = None, hint: str = "") -> RoadmapError:
    return RoadmapError(file, [Problem(message, line=line, hint=hint)])


@functools.cache
def _yaml_loader_class() -> Any:
    import yaml

    # The C loader parses several times faster; both are "safe": they never build Python objects.
    if TYPE_CHECKING:  # a base class must be static for the type checker; both offer the same API
        from yaml import SafeLoader as base
    else:
        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class RoadmapLoader(base):
        """Keeps dates as text (a title like 2024-01-01 is a string, 2024-02-30 not an error) and refuses
        duplicate keys, which PyYAML would silently resolve by keeping the last one."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[str] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                    if key_node.value in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key '{key_node.value}'", key_node.start_mark
                        )
                    seen.add(key_node.value)
            return super().construct_mapping(node, deep)

    # A function rather than `RoadmapLoader.construct_yaml_str`: the stubs type that unbound method's `self`
    # as SafeConstructor, which add_constructor's loader-only type variable rejects.
    def keep_as_text(loader: RoadmapLoader, node: yaml.ScalarNode) -> str:
        return loader.construct_yaml_str(node)

    RoadmapLoader.add_constructor("tag:yaml.org,2002:timestamp", keep_as_text)
    return RoadmapLoader


def parse_yaml(data: bytes, file: str) -> Any:
    import yaml

    if len(data) > MAX_ROADMAP_BYTES:
        raise _error(file, f"roadmap is larger than {_mb(MAX_ROADMAP_BYTES)}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        raise _error(file, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", line=bad_line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise _error(file, "file is empty", hint="run `llmpath init` for a starter roadmap")

    loader = _yaml_loader_class()(text)
    try:
        _check_value_count(text, file)
        node = loader.get_single_node()
        if node is None:
            raise _error(file, "file holds no YAML document")
        if "&" in text:  # without anchors there are no aliases, and nothing can expand
            _check_expansion(node, file)
        raw = loader.construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = exc.problem or "cannot construct value"
        if "could not determine a constructor" in message:
            message = "YAML tags that build objects (like !!python/...) are not allowed in a roadmap"
        raise _error(file, message, line=line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and mark and exc.context_mark.line != mark.line:
            message += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        raise _error(file, message, line=line) from None
    except yaml.YAMLError as exc:
        raise _error(file, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise _error(file, "YAML nesting is too deep") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        # PyYAML's constructors raise these for explicitly tagged values that do not parse (`!!int x`).
        raise _error(file, f"a tagged value cannot be read ({exc.__class__.__name__}: {exc})") from None
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise _error(
            file,
            f"the top level is a {type(raw).__name__}, not a mapping",
            line=1,
            hint="a roadmap starts with `schema: 1`, `id:`, `title:` and `phases:`",
        )
    return raw


def _check_value_count(text: str, file: str) -> None:
    """Refuse a file of more than `MAX_VALUES` values before a single node is built.

    libyaml counts a file's parser events in C without building anything (60 ms for the 20,000-topic
    benchmark roadmap); every value is one event (a list or a mapping two), so a count under the limit
    settles it. Only a file past it is counted value by value, stopping at the limit: 4 MiB of `[1,1,…]` is
    refused in under a second. A small file cannot hold that many values (each takes at least a character or
    two of text), so it is not parsed twice.
    """
    if len(text) <= MAX_VALUES // 4:
        return
    import yaml

    counter = _yaml_loader_class()(text)
    try:
        raw_parse = getattr(counter, "raw_parse", None)  # only the C loader has it
        if raw_parse is not None and raw_parse() <= MAX_VALUES:
            return
    finally:
        counter.dispose()
    scanner = _yaml_loader_class()(text)
    try:
        count = 0
        while scanner.check_event():
            event = scanner.get_event()
            if isinstance(event, yaml.NodeEvent):
                count += 1
                if count > MAX_VALUES:
                    mark = event.start_mark
                    raise _error(
                        file,
                        f"more than {MAX_VALUES:,} values (scalars, lists and mappings); roadmaps are "
                        "limited to that many",
                        line=mark.line + 1 if mark else None,
                    )
    finally:
        scanner.dispose()


def _check_expansion(root: Any, file: str) -> None:
    """Refuse alias bombs before constructing: count the nodes the document would expand to."""
    import yaml

    expanded: dict[int, int] = {}  # id(node) -> how many nodes it expands to

    def size(node: Any, depth: int) -> int:
        known = expanded.get(id(node))
        if known is not None:
            return known
        if depth > 100:
            raise _error(file, "YAML nesting is too deep", line=node.start_mark.line + 1)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += size(key, depth + 1) + size(value, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
        if total > MAX_EXPANDED_NODES:
            raise _error(
                file,
                f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)",
                line=node.start_mark.line + 1,
            )
        expanded[id(node)] = total
        return total

    size(root, 0)


class LineMap:
    """Line numbers of keys and list items, by path; built only when there is something to report.

    The YAML node tree is kept and each path looked up in it when asked for, so reporting a few problems in
    a large file does not walk every node (nor recurse, however deep the file nests).
    """

    def __init__(self, data: bytes):
        self.root: Any = None
        self._keys: dict[int, dict[Any, tuple[int, Any]]] = {}  # id(mapping node) -> key -> (line, value)
        try:
            import yaml

            self.root = yaml.compose(data.decode("utf-8-sig"), Loader=_yaml_loader_class())
        except Exception:  # only called on files that already parsed; be safe regardless
            return

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line of `loc` (of its key, for a mapping's value), or of the nearest enclosing one."""
        import yaml

        node = self.root
        if node is None:
            return None
        line: int = node.start_mark.line + 1
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                keys = self._keys.get(id(node))
                if keys is None:  # indexed once: a mapping may have many keys and many problems
                    keys = self._keys[id(node)] = {}
                    for key, value in node.value:
                        if isinstance(key, yaml.ScalarNode):
                            keys.setdefault(key.value, (key.start_mark.line + 1, value))
                if part in keys:
                    line, child = keys[part]
            elif (
                isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
            ):
                child = node.value[part]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def locate(self, problem: Problem) -> Problem:
        return Problem(
            problem.message, line=self.line_of(problem.loc), place=problem.place, hint=problem.hint
        )
