"""Every test runs against a private, empty data directory: no test can touch the user's real data.

The `cli` and `shipped_cli` fixtures start from a copy of a database that already holds their roadmap
(loaded once per test session), so a test pays for copying one small file, not for creating, migrating and
loading a database. Tests that need a truly empty data directory build their own `Cli`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmpath import store
from llmpath.cli import app

from . import pg_server as pg

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini.yaml"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def llmpath_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "llmpath-home"
    monkeypatch.setenv("LLMPATH_HOME", str(home))
    monkeypatch.delenv("LLMPATH_ROADMAP", raising=False)
    monkeypatch.delenv("LLMPATH_DATABASE_URL", raising=False)  # never the developer's own server
    monkeypatch.delenv("LLMPATH_LEARNER", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that Rich never wraps a row in assertions
    return home


@pytest.fixture(scope="session", autouse=True)
def click_command_built_once() -> Iterator[None]:
    """Every `CliRunner().invoke(app, …)` runs the click command that Typer builds from `app` once per
    worker, as one `llmpath` process builds it once: Typer would rebuild the whole command tree on each
    invoke (~8 ms, about 2,000 times in this suite). The tree is the same real one, and nothing changes it
    after it is built."""
    import typer.main
    import typer.testing

    built: dict[int, tuple[object, object]] = {}

    def command_of(typer_app):
        if id(typer_app) not in built:  # the app is kept with it, so that its id is never reused
            built[id(typer_app)] = (typer_app, typer.main.get_command(typer_app))
        return built[id(typer_app)][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", command_of)
        yield


class Cli:
    """Runs the real Typer app in-process; `cli("next", "--json")`."""

    def __init__(self, roadmap: Path | None = None):
        self.runner = CliRunner()
        self.roadmap = roadmap

    def __call__(self, *args: str, input: str | None = None):
        prefix = ["--roadmap", str(self.roadmap)] if self.roadmap else []
        return self.runner.invoke(app, [*prefix, *args], input=input)


def _template_home(factory: pytest.TempPathFactory, roadmap: Path | None) -> Path:
    """A data directory whose database has `roadmap` (None: the shipped one) loaded, and nothing else."""
    home = factory.mktemp("template") / "llmpath-home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMPATH_HOME", str(home))
        patch.delenv("LLMPATH_ROADMAP", raising=False)
        patch.delenv("LLMPATH_DATABASE_URL", raising=False)  # built first by a PostgreSQL test, maybe
        result = Cli(roadmap)("status", "--json")
    assert result.exit_code == 0, result.stderr
    assert not (home / "llmpath.db-wal").exists()  # the last connection checkpointed: one file is all
    return home


@pytest.fixture(scope="session")
def mini_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _template_home(tmp_path_factory, MINI)


@pytest.fixture(scope="session")
def shipped_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _template_home(tmp_path_factory, None)


def _start_from(template: Path, home: Path) -> None:
    shutil.copytree(template, home)  # copies modes too: the folder stays 0700, the database 0600


@pytest.fixture
def cli(mini_template: Path, llmpath_home: Path) -> Cli:
    """The CLI on the small test roadmap (tests/data/mini.yaml), already loaded."""
    _start_from(mini_template, llmpath_home)
    return Cli(MINI)


@pytest.fixture
def shipped_cli(shipped_template: Path, llmpath_home: Path) -> Cli:
    """The CLI on the shipped roadmap, already loaded."""
    _start_from(shipped_template, llmpath_home)
    return Cli()


def run_llmpath(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """A real subprocess of `python -m llmpath`, with the test's LLMPATH_HOME."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "llmpath", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        **kwargs,
    )


def ok(result) -> str:
    """The stdout of a command that must succeed (exit 0); the failure shows what it printed."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def as_json(result):
    return json.loads(ok(result))


def error_line(result) -> str:
    """The one `error:` line of a user error (exit 1), with no traceback."""
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


class Clock:
    """Replaces `llmpath.store.now`; `clock(at)` before a command sets the time it sees."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: datetime):
        self.at = at
        monkeypatch.setattr(store, "now", lambda: self.at)

    def __call__(self, at: datetime) -> Clock:
        self.at = at
        return self


# -- PostgreSQL: a real throwaway server per worker (tests/pg_server.py) ----------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the server is marked `pg`, so `-m "not pg"` leaves them all out."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pg)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """A PostgreSQL server of this worker, started on first use; skipped with the reason where there is
    none (failed instead under CI=true, where .ci/run has installed one)."""
    server = pg.server_for_tests()
    yield server
    server.close()


@pytest.fixture
def pg_url(pg_server: pg.PgServer) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty database (superuser `postgres`, no password); dropped after."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


def _pg_template(server: pg.PgServer, factory: pytest.TempPathFactory, roadmap: Path | None) -> str:
    """A database with llmpath's tables and `roadmap` (None: the shipped one) loaded, and nothing else: what
    `cli` and `shipped_cli` start from on PostgreSQL, copied per test (CREATE DATABASE … TEMPLATE)."""
    name = server.create_database()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMPATH_HOME", str(factory.mktemp("pg-template") / "llmpath-home"))
        patch.setenv("LLMPATH_DATABASE_URL", server.url(name))
        patch.delenv("LLMPATH_ROADMAP", raising=False)
        result = Cli(roadmap)("status", "--json")
    assert result.exit_code == 0, result.stderr
    server.disconnect(name)  # a template is copied only while nobody is connected to it
    return name


@pytest.fixture(scope="session")
def pg_mini_template(pg_server: pg.PgServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    return _pg_template(pg_server, tmp_path_factory, MINI)


@pytest.fixture(scope="session")
def pg_shipped_template(pg_server: pg.PgServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    return _pg_template(pg_server, tmp_path_factory, None)


def _fresh_pg_database(request: pytest.FixtureRequest, template: str = "template0") -> str:
    """The URL of a new database of the worker's server copied from `template`, dropped after the test."""
    server: pg.PgServer = request.getfixturevalue("pg_server")
    name = server.create_database(template)
    request.addfinalizer(lambda: server.drop_database(name))
    return server.url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test on both engines: "sqlite" (the default data folder) and "postgresql"
    (LLMPATH_DATABASE_URL set to a fresh database of the worker's server). With `cli` or `shipped_cli`,
    that database starts as theirs does, with its roadmap loaded; otherwise it is empty."""
    if request.param == "postgresql":
        if "shipped_cli" in request.fixturenames:
            url = _fresh_pg_database(request, request.getfixturevalue("pg_shipped_template"))
        elif "cli" in request.fixturenames:
            url = _fresh_pg_database(request, request.getfixturevalue("pg_mini_template"))
        else:
            url = request.getfixturevalue("pg_url")
        monkeypatch.setenv("LLMPATH_DATABASE_URL", url)
    return request.param


@pytest.fixture
def new_store(engine: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """`new_store(home)`: from now on llmpath keeps progress somewhere empty, as on a new computer with its
    own store: LLMPATH_HOME=home, and on PostgreSQL a new, empty database."""

    def switch(home: Path) -> None:
        monkeypatch.setenv("LLMPATH_HOME", str(home))
        if engine == "postgresql":
            monkeypatch.setenv("LLMPATH_DATABASE_URL", _fresh_pg_database(request))

    return switch


def stored_rows(sql: str) -> list[tuple]:
    """The rows of `sql` read straight from the database in use (the SQLite file of LLMPATH_HOME, or the
    database of LLMPATH_DATABASE_URL), not through llmpath. Times come back as text on both engines, so
    `row[5].startswith("2026-11-20 12:00")` holds on either."""
    url = os.environ.get("LLMPATH_DATABASE_URL")
    if not url:
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(Path(os.environ["LLMPATH_HOME"]) / "llmpath.db")) as conn:
            return conn.execute(sql).fetchall()
    import psycopg
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    with psycopg.connect(
        host=parts.host, port=parts.port, dbname=parts.database, user=parts.username, password=parts.password
    ) as conn:
        found = conn.execute(sql).fetchall()  # type: ignore[arg-type]  # test SQL, not user input
    return [tuple(str(v) if isinstance(v, datetime) else v for v in row) for row in found]
