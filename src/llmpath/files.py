"""Writing files the user asked for (exports, forks, starters) without ever leaving half a file behind.

They behave like any other tool's output: a new file follows the umask (the database and backups, which
are personal, are made private in `db`, not here); `--force` onto an existing file keeps its mode; a
symlink is written through to its target, and a FIFO or a terminal-like device is written into, as shell
redirection, curl and git do, instead of being replaced by a regular file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from llmpath.errors import LlmpathError

STDOUT = "-"  # `-o -`: standard output, as for most tools that take an output file


def is_stdout(path: Path | None) -> bool:
    return path is not None and str(path) == STDOUT


def write_file_atomically(
    path: Path, text: str, *, overwrite: bool, exists_hint: str = "use --force to overwrite it"
) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file behind.

    Without `overwrite` an existing name (a dangling symlink included) is refused, even one that appears
    while we write. With it, a regular file (or the one a symlink points to) is replaced atomically and
    keeps its mode; a FIFO or a character device is written into.
    """
    if path.exists() and not overwrite:
        raise LlmpathError(f"{path} already exists; {exists_hint}")
    if not overwrite:
        _write_new(path, text, mode=None, replace=False, exists_hint=exists_hint)
        return
    try:
        info = os.stat(path)  # follows symlinks: what a shell redirection would open
    except FileNotFoundError:
        # Nothing there, or a dangling symlink: `>` creates the file it points to, and so do we.
        _write_new(_through_link(path), text, mode=None, replace=True, exists_hint=exists_hint)
        return
    except OSError as exc:
        raise LlmpathError(f"cannot write {path}: {exc.strerror or exc}") from None
    if stat.S_ISREG(info.st_mode):
        # A symlink stays; the file it points to is replaced, keeping its mode.
        mode = stat.S_IMODE(info.st_mode)
        _write_new(_through_link(path), text, mode=mode, replace=True, exists_hint=exists_hint)
    elif stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
        _write_into(path, text)
    elif stat.S_ISDIR(info.st_mode):
        raise LlmpathError(f"cannot write {path}: it is a folder")
    else:
        raise LlmpathError(f"cannot write {path}: not a regular file, a FIFO or a character device")


def write_private_text(path: Path, text: str) -> None:
    """Replace `path` atomically with a file only its owner can read (the config may hold a password)."""
    _write_new(path, text, mode=0o600, replace=True, exists_hint="")


def _through_link(path: Path) -> Path:
    """The file a symlink (or a chain of them) names; `path` itself otherwise, as the user typed it."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


def _write_new(path: Path, text: str, *, mode: int | None, replace: bool, exists_hint: str) -> None:
    """A new temporary file beside `path`, fsynced, then renamed (replace) or hard-linked (no overwrite).

    `mode` None: the umask decides, as for any new file; else that mode (the file being replaced kept).
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, temporary = _create_temporary(folder, path.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
        if replace:
            os.replace(temporary, path)
        else:
            # link() fails if the target appeared meanwhile: no silent overwrite, even in a race.
            os.link(temporary, path)
    except FileExistsError:
        raise LlmpathError(f"{path} already exists; {exists_hint}") from None
    except OSError as exc:
        raise LlmpathError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    fsync_folder(folder)


def _create_temporary(folder: Path, name: str) -> tuple[int, str]:
    """Like `tempfile.mkstemp`, but created with 0666 so the umask (and a default ACL) apply."""
    import secrets

    for _ in range(100):
        temporary = str(folder / f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temporary
        except FileExistsError:
            continue
        except OSError as exc:
            raise LlmpathError(f"cannot write {folder / name}: {exc.strerror or exc}") from None
    raise LlmpathError(f"cannot write {folder / name}: no free temporary name in {folder}")


def _write_into(path: Path, text: str) -> None:
    """A FIFO or a device: open it as `>` would (a FIFO waits for its reader) and write the text."""
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise LlmpathError(f"cannot write {path}: {exc.strerror or exc}") from None


def fsync_folder(folder: Path) -> None:
    """Make the new name itself durable: a rename lives in the folder's entry, not in the file."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open a folder; the file's own fsync is the best we can do there
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
