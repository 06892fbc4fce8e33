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
    """`LLMPATH_HOME` if set, else the platform's per-user data directory."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("llmpath", appauthor=False))


def db_path() -> Path:
    return data_dir() / DB_NAME


def backups_dir() -> Path:
    return data_dir() / "backups"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` readable by its owner only: progress and notes are personal."""
    if not path.is_dir():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        path.chmod(0o700)
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
