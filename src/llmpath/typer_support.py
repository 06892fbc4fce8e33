"""The Typer machinery under `cli.py`: the error boundary, help that reads as written, and global options
that work after the command name too. The commands themselves are in `cli.py`.

Imported at start-up by every command, `--help` and Tab completion: standard library and Typer only.
"""

import errno
import sys
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from llmpath.errors import LlmpathError
from llmpath.terminal import visible


@dataclass
class Options:
    """The global options (`ctx.obj` of every command)."""

    roadmap: str | None = None
    debug: bool = False


class LlmpathGroup(TyperGroup):
    """The single error boundary: a user error (or an operational database failure: locked, disk full,
    read-only, damaged) becomes one line on stderr and exit code 1. Anything else is a bug: one line naming
    it and exit code 70, with the traceback under `--debug` or LLMPATH_DEBUG=1.

    It also gives every command the global options (`--roadmap`, `--debug`), so they work after the
    command name too, and makes the help read well (see `_readable_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _readable_help(self)
        inherited = [_after_command(p) for p in self.params if p.name in _AFTER_COMMAND]
        for command in self.commands.values():
            command.params.extend(inherited)
            for sub in getattr(command, "commands", {}).values():  # a group's commands: `team status -r F`
                sub.params.extend(inherited)

    def get_params(self, ctx: Any) -> Any:
        return [_without_placeholder(p) for p in super().get_params(ctx)]

    # `ctx` is the Context that Typer's (vendored, on recent versions) click creates, not a `typer.Context`:
    # typed loosely, as the base class's Context type has no public import path across Typer versions.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LlmpathError as exc:
            _fail(str(exc), exc.exit_code)
        except typer.BadParameter as exc:  # Typer prints it; our own checks quote what was typed
            exc.message = visible(exc.message)
            raise
        except Exception as exc:
            if isinstance(exc, _CLICK_FLOW) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE):
                raise  # exits, usage errors, a closed pipe (`| head`): Typer handles them
            if "sqlite3" in sys.modules:
                from llmpath.db import user_error

                explained = user_error(exc)
                if explained is not None:
                    _fail(str(explained), explained.exit_code)
            _internal_error(exc, debug=_debugging(ctx))


class LlmpathCommand(TyperCommand):
    """Every command: help that reads well (see `_readable_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _readable_help(self)

    def get_params(self, ctx: Any) -> Any:
        return [_without_placeholder(p) for p in super().get_params(ctx)]


class LlmpathTyper(typer.Typer):
    """`app.command()` makes an `LlmpathCommand`."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", LlmpathCommand)
        return super().command(*args, **kwargs)


def _readable_help(command: Any) -> None:
    """Help as written, at any width. Typer's rich help keeps each line break of a docstring paragraph
    and Rich then wraps every source line on its own (`…; with` / `--sort unlocks the` / `number in…`), so
    each paragraph becomes one line for Rich to wrap, except `Example:` lines and paragraphs that start
    with `\\b` (click's mark for "keep these lines")."""
    if command.help:
        command.help = _as_written(command.help)


def _as_written(text: str) -> str:
    import inspect

    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph.removeprefix("\b").strip("\n"))
            continue
        lines: list[str] = []
        for line in paragraph.splitlines():
            if lines and not line.startswith("Example:"):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line.strip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _without_placeholder(param: Any) -> Any:
    """A flag takes no value, so its help row shows none: an empty metavar is shown instead of the type
    (Typer's rich help prints `<bool>` for every flag, the help option and its own completion flags too)."""
    if getattr(param, "is_flag", False):
        param.metavar = ""
    return param


# Global options that work after the command name too, with the help line each command shows for them.
_AFTER_COMMAND = {
    "roadmap": "Roadmap file for this command (see `llmpath --help`).",
    "debug": "On an internal error, print the traceback.",
}


def _after_command(option: Any) -> Any:
    """A global option for every command (`llmpath next -r FILE` as `llmpath -r FILE next`): a copy that
    hands its value to where the one before the command name puts it, and shows in a panel of its own."""
    import copy

    inherited = copy.copy(option)
    inherited.name = f"global_{option.name}"  # `use` has an argument named roadmap
    inherited.expose_value = False  # not a parameter of the command's function
    inherited.callback = _set_global
    inherited.help = _AFTER_COMMAND[option.name]
    inherited.rich_help_panel = "Global options"
    return inherited


def _set_global(ctx: Any, param: Any, value: Any) -> Any:
    """A global option given after the command name: it wins over one before it, as a repeated option."""
    if value is None or value is False:
        return value
    name = param.name.removeprefix("global_")
    ctx.find_root().params[name] = value  # where Tab completion looks for --roadmap
    options = ctx.find_object(Options)
    if options is not None:  # None while completing: the group's callback has not run
        setattr(options, name, value)
    return value


EX_SOFTWARE = 70  # sysexits.h: an internal software error (a bug)
DEBUG_ENV = "LLMPATH_DEBUG"  # set to 1: internal errors print their traceback, as --debug does
# Exceptions that are how Typer (and click under it) end a command or report a usage error, not failures:
# Exit and Abort, and every click error (ClickException, whose class Typer vendors on recent versions).
_CLICK_FLOW: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    EOFError,
    *(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"),
)


def _debugging(ctx: Any) -> bool:
    import os

    options = getattr(ctx, "obj", None)
    return (isinstance(options, Options) and options.debug) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _internal_error(exc: Exception, *, debug: bool) -> None:
    """A bug: one line naming the exception, exit code 70; the traceback too under --debug."""
    if debug:
        import traceback

        sys.stderr.write(visible("".join(traceback.format_exception(exc))))
    first = next(iter(str(exc).splitlines()), "")
    short = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    if len(short) > 200:
        short = short[:199] + "…"
    hint = "the traceback is above" if debug else "rerun with --debug for the traceback"
    _fail(f"internal error: {short} (this is a bug; {hint})", EX_SOFTWARE)


def _fail(message: str, code: int) -> None:
    message = visible(message)  # names and text from files: shown, never acted on by the terminal
    lines = message.splitlines() or [message]
    for line in lines:
        sys.stderr.write(f"error: {line}\n")
    raise typer.Exit(code)
