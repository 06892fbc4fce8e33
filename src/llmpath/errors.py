"""Errors whose message is the line the user sees.

The core raises these; the CLI's single error boundary prints the message on stderr and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass


class LlmpathError(Exception):
    """An error caused by the user's input or data; its message is shown as is."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a roadmap file."""

    message: str
    line: int | None = None
    place: str = ""  # "phase 'x'", "topic 'y'" — where in the roadmap, for people
    hint: str = ""
    loc: tuple = ()  # where in the document, as a key path like ("phases", 0, "topics", 2, "requires")

    def format(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        place = f" {self.place}:" if self.place else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}:{place} {self.message}{hint}"


class RoadmapError(LlmpathError):
    """A roadmap file that cannot be used; lists the problems found (the first few hundred of them).

    `total` is how many problems were found; `problems` holds at most the loader's `MAX_PROBLEMS` of them.
    """

    SHOWN = 20  # a command's error lists this many; `llmpath validate` prints every collected one

    def __init__(self, file: str, problems: list[Problem], total: int | None = None):
        self.file = file
        self.problems = problems
        self.total = max(total or 0, len(problems))
        lines = [p.format(file) for p in problems[: self.SHOWN]]
        if self.total > self.SHOWN:
            lines.append(f"… and {self.total - self.SHOWN:,} more (llmpath validate {file})")
        if self.total > 1:
            lines.append(f"{self.total:,} problems in {file}")
        super().__init__("\n".join(lines))


class TopicNotFound(LlmpathError):
    pass


class UsageError(LlmpathError):
    """A bad value in how llmpath was started (an environment variable): exit code 2, as a bad option."""

    exit_code = 2


class DatabaseError(LlmpathError):
    """The database file is unusable (damaged, not a database, or from a newer llmpath)."""
