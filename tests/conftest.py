"""Every test runs against a private, empty data directory: no test can touch the user's real data."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
import typer.testing
from typer.testing import CliRunner

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


@pytest.fixture(autouse=True)
def _build_the_click_command_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """CliRunner turns the Typer app into a Click command on every call, which costs more than most
    commands themselves; build it once, as a real process does, to keep the suite fast."""
    monkeypatch.setattr(typer.testing, "_get_command", _click_command)


@functools.cache
def _click_command(typer_app: typer.Typer):
    return typer.main.get_command(typer_app)


class Cli:
    """Runs the real Typer app in-process; `cli("next", "--json")`."""

    def __init__(self, roadmap: Path | None = None):
        self.runner = CliRunner()
        self.roadmap = roadmap

    def __call__(self, *args: str, input: str | None = None):
        prefix = ["--roadmap", str(self.roadmap)] if self.roadmap else []
        return self.runner.invoke(app, [*prefix, *args], input=input)


@pytest.fixture
def cli() -> Cli:
    """The CLI on the small test roadmap (tests/data/mini.yaml)."""
    return Cli(MINI)


@pytest.fixture
def shipped_cli() -> Cli:
    """The CLI on the shipped roadmap."""
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
