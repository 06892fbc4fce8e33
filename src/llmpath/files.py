"""Writing files the user asked for (exports, forks, starters) without ever leaving half a file behind."""

from __future__ import annotations

import os
from pathlib import Path

from llmpath.errors import LlmpathError


def write_file_atomically(
    path: Path, text: str, *, overwrite: bool, exists_hint: str = "use --force to overwrite it"
) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file behind."""
    import tempfile

    if path.exists() and not overwrite:
        raise LlmpathError(f"{path} already exists; {exists_hint}")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise LlmpathError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
        if overwrite:
            os.replace(temporary, path)
        else:
            # link() fails if the target appeared meanwhile: no silent overwrite, even in a race.
            os.link(temporary, path)
    except FileExistsError:
        raise LlmpathError(f"{path} already exists; {exists_hint}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
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
