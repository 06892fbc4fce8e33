"""Which database llmpath uses, and who the learner is: read at call time, standard library only.

- The database: `LLMPATH_DATABASE_URL`, else the URL `llmpath connect` remembered in the config file, else
  the SQLite file in the data folder (no set-up at all).
- The learner: `LLMPATH_LEARNER`, else the name `llmpath connect --as` remembered for that database (the
  URL's, or with `--local` the local file's), else the user name of a PostgreSQL URL (the role a member
  logs in as), else the operating-system user. The two remembered names are kept apart, so going back to
  the local file finds the local progress whatever name one has in a study group.

The config file is `config.json` in the platform's per-user config folder; with `LLMPATH_HOME` set it is in
that folder instead, so one variable moves all of llmpath's state (tests and throwaway homes rely on it).
A URL is shown only through `masked_url`: a password never reaches the screen.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from llmpath import paths

DATABASE_URL_ENV = "LLMPATH_DATABASE_URL"
LEARNER_ENV = "LLMPATH_LEARNER"
CONFIG_NAME = "config.json"
# A learner name is stored on every row and typed by mentors (`team show NAME`): printable, one line, short.
_LEARNER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,62}")


@dataclass(frozen=True)
class Target:
    """Where progress is kept for this command: a database URL (None: the local SQLite file) and who."""

    url: str | None
    learner: str
    url_from: str  # "LLMPATH_DATABASE_URL", "llmpath connect" or "default"
    learner_from: str


def config_path() -> Path:
    if os.environ.get(paths.HOME_ENV):
        return paths.data_dir() / CONFIG_NAME
    from platformdirs import user_config_dir

    return Path(user_config_dir("llmpath", appauthor=False)) / CONFIG_NAME


def read_config() -> dict[str, str]:
    """The remembered settings; a missing file is an empty config, a broken one is an error naming it."""
    from llmpath.errors import LlmpathError

    path = config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise LlmpathError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LlmpathError(
            f"{path}: line {getattr(exc, 'lineno', '?')}: not valid JSON; fix it, or remove it and run "
            "`llmpath connect` again"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise LlmpathError(f"{path}: expected an object of text values; remove it and run `llmpath connect`")
    return data


def write_config(values: dict[str, str | None]) -> Path:
    """Set (or, for None, remove) remembered values; the file is private (a URL may hold a password)."""
    from llmpath.files import write_private_text

    data: dict[str, str] = read_config()
    for key, value in values.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = config_path()
    paths.ensure_private_dir(path.parent)
    write_private_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def target() -> Target:
    """The database and learner this command uses."""
    remembered = read_config()
    url, url_from = os.environ.get(DATABASE_URL_ENV, "").strip(), DATABASE_URL_ENV
    if not url:
        url, url_from = remembered.get("database_url", ""), "llmpath connect"
    if url:
        check_url(url, url_from)
    else:
        url_from = "default"
    learner, learner_from = os.environ.get(LEARNER_ENV, "").strip(), LEARNER_ENV
    if not learner and url:
        learner, learner_from = remembered.get("learner", ""), "llmpath connect --as"
    if not learner and not url:
        learner, learner_from = remembered.get("local_learner", ""), "llmpath connect --local --as"
    if not learner and url:
        learner, learner_from = urlsplit(url).username or "", "the database user"
    if not learner:
        learner, learner_from = system_user(), "the system user"
    check_learner(learner, learner_from)
    return Target(url or None, learner, url_from, learner_from)


def local_learner() -> str:
    """The learner of the local SQLite file (what `target` gives without a URL)."""
    name = os.environ.get(LEARNER_ENV, "").strip() or read_config().get("local_learner", "") or system_user()
    return check_learner(name)


def system_user() -> str:
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment and no passwd entry (some containers)
        name = ""
    return name if _LEARNER_NAME.fullmatch(name) else "me"


def check_learner(name: str, where: str = "the learner name") -> str:
    from llmpath.errors import UsageError

    if not _LEARNER_NAME.fullmatch(name):
        raise UsageError(
            f"learner name '{name}' (from {where}) is not usable: use 1 to 63 letters, digits and _ . @ + -, "
            "starting with a letter, digit or _"
        )
    return name


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0].lower() in ("postgresql", "postgres")


def sqlalchemy_url(url: str) -> str:
    """The URL with psycopg 3 as the driver (`postgresql://` alone would mean psycopg2 to SQLAlchemy)."""
    scheme, rest = url.split(":", 1)
    if scheme.lower() in ("postgresql", "postgres"):
        return "postgresql+psycopg:" + rest
    return url


def check_url(url: str, where: str | None = None) -> str:
    """A database URL llmpath can use, or a `UsageError` saying what is accepted (and `where` it came from).
    Anything after `postgresql://` is libpq's to judge (`postgresql://` alone means the local server)."""
    from llmpath.errors import UsageError

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return url
    shown = masked_url(url)
    source = f" (from {where})" if where else ""
    if scheme.startswith("postgres"):
        raise UsageError(f"'{shown}'{source}: only the psycopg 3 driver is supported (postgresql://…)")
    raise UsageError(
        f"'{shown}'{source} is not a PostgreSQL URL: use postgresql://USER@HOST[:PORT]/DATABASE (the "
        "password in ~/.pgpass or PGPASSWORD), or `llmpath connect --local` for the SQLite file"
    )


def masked_url(url: str) -> str:
    """The URL as it may be shown: a password, in the URL or its query, becomes `***`."""
    if "://" not in url:  # not a URL at all: it may be a password pasted in the wrong place
        return "***"
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.split(':', 1)[0]}:***@{host}"
        query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
        rest = urlunsplit(("", netloc, parts.path, query, parts.fragment)).removeprefix("//")
        return f"{parts.scheme}://{rest}"
    except ValueError:  # not even a URL (a bad port): show its scheme only
        return url.split(":", 1)[0] + "://***"
