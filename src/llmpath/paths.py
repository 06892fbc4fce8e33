"""Where llmpath keeps its files. Everything is read at call time so tests can redirect it."""

from __future__ import annotations

import os
from pathlib import Path

from llmpath import vocab

DB_NAME = "llmpath.db"
HOME_ENV = "LLMPATH_HOME"
ROADMAP_ENV = "LLMPATH_ROADMAP"
# A large university course fits in well under a megabyte; the synthetic 20,000-topic benchmark roadmap in
# under two. Larger files are refused before they are read, so a wrong file cannot make llmpath crawl.
MAX_ROADMAP_BYTES = 4 * 1024 * 1024
# A JSON export of the 20,000-topic benchmark roadmap, every topic done with a note, is about 6 MB; a file
# past this is not an export of ours (a video, a disk image) and is refused before it is read into memory.
MAX_PROGRESS_FILE_BYTES = 16 * 1024 * 1024


def data_dir() -> Path:
    """`LLMPATH_HOME` if set, else the platform's per-user data directory.

    `LLMPATH_HOME` must be absolute (after `~` is expanded): a relative one would be a different folder
    in each working directory, so progress would silently split across databases. It is refused, as Go
    refuses a relative GOPATH, naming the absolute path it would have meant here.
    """
    override = os.environ.get(HOME_ENV)
    if override:
        home = Path(override).expanduser()
        if not home.is_absolute():
            from llmpath.errors import UsageError

            try:
                example = f"; for example {HOME_ENV}={Path.cwd() / home}"
            except OSError:  # the working directory was removed
                example = ""
            raise UsageError(
                f"{HOME_ENV} must be an absolute path, not '{override}' (relative to the working directory, "
                f"each folder would get a database of its own){example}"
            )
        return home
    from platformdirs import user_data_dir

    return Path(user_data_dir("llmpath", appauthor=False))


def db_path() -> Path:
    return data_dir() / DB_NAME


def backups_dir() -> Path:
    return data_dir() / "backups"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` readable by its owner only: progress and notes are personal.

    Missing parents are made 0700 too (`mkdir -p` would give them the umask's 0777 under umask 000); a
    folder that already exists is left as it is.
    """
    if path.is_dir():
        return path
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # another process made it meanwhile: theirs, not ours to change
        folder.chmod(0o700)  # mkdir's mode passes through the umask
    return path


def shipped_roadmap_path() -> Path:
    """The roadmap that ships with llmpath.

    Inside an installed wheel it is package data; in a source checkout it sits at the repository root,
    where authors edit it (the wheel build copies it into the package).
    """
    packaged = Path(__file__).with_name("data") / "roadmap.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "data" / "roadmap.yaml"


def roadmap_path_in_use(settings: dict[str, str], override: str | None = None) -> Path:
    """`--roadmap`, else `LLMPATH_ROADMAP`, else the one chosen with `llmpath use`, else the shipped one.

    Pure, so Tab completion (stdlib sqlite3) and the commands (SQLModel) resolve it the same way.
    """
    chosen = override or os.environ.get(ROADMAP_ENV) or settings.get(vocab.ROADMAP_SETTING)
    return Path(chosen).expanduser().resolve() if chosen else shipped_roadmap_path()
