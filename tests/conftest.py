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
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmpath import store
from llmpath.cli import app

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini.yaml"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def llmpath_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "llmpath-home"
    monkeypatch.setenv("LLMPATH_HOME", str(home))
    monkeypatch.delenv("LLMPATH_ROADMAP", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that Rich never wraps a row in assertions
    return home


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
