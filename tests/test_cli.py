"""The CLI end to end on the small test roadmap, in-process through Typer's CliRunner. The daily commands run
on both engines (`engine`: the SQLite file, and a real PostgreSQL database)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from llmpath import __version__

from .conftest import MINI, Cli, run_llmpath, stored_rows


def next_ids(cli: Cli, *args: str) -> list[str]:
    result = cli("next", "--json", "-n", "100", *args)
    assert result.exit_code == 0, result.output
    return [item["id"] for item in json.loads(result.stdout)]


def progress_rows() -> dict[str, str]:
    """What the database in use holds, read straight from it (either engine)."""
    return dict(stored_rows("SELECT topic_id, status FROM progress WHERE status != 'todo'"))


def test_version_and_help(cli: Cli):
    assert cli("--version").stdout == f"llmpath {__version__}\n"
    result = cli("--help")
    assert result.exit_code == 0
    for command in (
        "next",
        "done",
        "start",
        "skip",
        "reset",
        "status",
        "show",
        "export",
        "import",
        "paths",
        "sync",
    ):
        assert command in result.stdout


def test_every_command_has_help_with_an_example(cli: Cli):
    from typer.main import get_command

    from llmpath.cli import app

    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"{name} has no help"
        assert "Example" in command.help, f"{name} help has no example"


def test_next_lists_entry_topics_in_roadmap_order(engine: str, cli: Cli):
    assert next_ids(cli) == ["python", "math"]
    first = json.loads(cli("next", "--json").stdout)[0]
    assert {"id", "title", "phase", "status", "requires", "unlocks"} <= set(first)
    assert first == {**first, "id": "python", "title": "Python", "phase": "basics", "status": "todo"}


def test_next_table_shows_title_id_phase_and_unlocks(cli: Cli):
    cli("done", "python")
    result = cli("next")
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if "math" in line)
    assert "Math" in row and "Basics" in row
    assert row.split()[-3] == "1"  # finishing math unlocks numpy


def test_done_changes_next_and_reports_unlocks(engine: str, cli: Cli):
    result = cli("done", "python", "math")
    assert result.exit_code == 0, result.output
    assert "Python (python): done" in result.stdout
    assert "Now available: NumPy Arrays (numpy)" in result.stdout
    assert next_ids(cli) == ["numpy"]
    assert progress_rows() == {"python": "done", "math": "done"}


def test_topic_matching_by_alias_title_and_prefix(engine: str, cli: Cli):
    assert cli("done", "py").exit_code == 0  # alias
    assert cli("done", "MATH").exit_code == 0  # title, any case
    assert cli("start", "nump").exit_code == 0  # unique id prefix
    assert json.loads(cli("next", "--json").stdout)[0] == {
        **json.loads(cli("next", "--json").stdout)[0],
        "id": "numpy",
        "status": "doing",
    }


def test_unknown_topic_fails_with_suggestions_and_changes_nothing(engine: str, cli: Cli):
    cli("done", "python")
    result = cli("done", "math", "neural-netz")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: no topic 'neural-netz'; did you mean 'neural-nets'?\n"
    assert progress_rows() == {"python": "done"}  # all or nothing: math untouched


def test_ambiguous_prefix_lists_candidates(cli: Cli):
    result = cli("done", "n")
    assert result.exit_code == 1
    assert "'n' matches 2 topics: numpy, neural-nets" in result.stderr


def test_done_out_of_order_is_allowed_but_warns(cli: Cli):
    result = cli("done", "linear-models")
    assert result.exit_code == 0
    assert "prerequisites still open: numpy" in result.stdout


def test_in_progress_first_then_roadmap_order(cli: Cli):
    cli("done", "python", "math", "numpy", "linear-models")
    cli("skip", "neural-nets")
    assert next_ids(cli) == ["build-mlp"]  # skipped satisfies prerequisites
    cli("reset", "math")
    assert next_ids(cli) == ["math", "build-mlp"]
    cli("start", "build-mlp")
    assert next_ids(cli) == ["build-mlp", "math"]


def test_all_done_says_so_with_totals(cli: Cli):
    cli("done", "python", "math", "numpy", "linear-models", "neural-nets")
    cli("skip", "build-mlp")
    result = cli("next")
    assert result.exit_code == 0
    assert "All 6 topics are finished (5 done, 1 skipped)" in result.stdout


def test_next_phase_filter_and_count(cli: Cli):
    assert next_ids(cli, "--phase", "models") == []
    assert next_ids(cli, "--phase", "basics") == ["python", "math"]
    assert len(json.loads(cli("next", "--json", "-n", "1").stdout)) == 1
    result = cli("next", "--phase", "nope")
    assert result.exit_code == 1 and "no phase 'nope'" in result.stderr


def test_status_table_json_and_phase(engine: str, cli: Cli):
    cli("done", "python")
    cli("start", "math")
    table = cli("status").stdout
    assert "Basics" in table and "1/3" in table and "33%" in table and "Total" in table and "1/6" in table
    data = json.loads(cli("status", "--json").stdout)
    basics = data["phases"][0]
    assert (basics["done"], basics["doing"], basics["total"], basics["hours_left"]) == (1, 1, 3, 25.0)
    assert data["total"]["done"] == 1
    phase = cli("status", "basics")
    assert phase.exit_code == 0
    lines = phase.stdout.splitlines()
    assert any("Python" in line and "done" in line for line in lines)
    assert any("Math" in line and "in progress" in line for line in lines)
    assert any("NumPy Arrays" in line and "blocked" in line for line in lines)


def test_show_text_and_json(cli: Cli):
    cli("done", "python")
    text = cli("show", "numpy").stdout
    assert "NumPy Arrays" in text and "Requires" in text and "Linear Models" in text
    info = json.loads(cli("show", "numpy", "--json").stdout)
    assert [r["id"] for r in info["requires"]] == ["python", "math"]
    assert info["requires"][0]["status"] == "done"
    assert [r["id"] for r in info["required_by"]] == ["linear-models"]
    assert [b["id"] for b in info["blocked_by"]] == ["math"]
    assert info["hours"] == 5.0


def test_show_blocked_topic_lists_open_prerequisites_as_tree(cli: Cli):
    info = json.loads(cli("show", "neural-nets", "--json").stdout)
    assert [(b["depth"], b["id"]) for b in info["blocked_by"]] == [
        (0, "linear-models"),
        (1, "numpy"),
        (2, "python"),
        (2, "math"),
    ]


def test_export_markdown_checklist(cli: Cli):
    cli("done", "python")
    cli("skip", "math")
    cli("start", "numpy")
    text = cli("export").stdout
    assert text.startswith("# Mini Path\n")
    assert "## Basics (2/3)" in text
    assert "- [x] Python `python`" in text
    assert "- [x] ~~Math~~ (skipped) `math`" in text
    assert "- [ ] NumPy Arrays (in progress) `numpy`" in text
    assert "- [ ] Build an MLP `build-mlp`" in text


def test_export_refuses_to_overwrite_without_force(cli: Cli, tmp_path: Path):
    target = tmp_path / "out.md"
    target.write_text("precious")
    result = cli("export", "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr == f"error: {target} already exists; use --force to overwrite it\n"
    assert target.read_text() == "precious"
    assert cli("export", "-o", str(target), "--force").exit_code == 0
    assert target.read_text().startswith("# Mini Path")


def test_json_export_reset_import_restores(engine: str, cli: Cli, tmp_path: Path, llmpath_home: Path):
    cli("done", "python", "math")
    backup = tmp_path / "b.json"
    assert cli("export", "--format", "json", "-o", str(backup)).exit_code == 0
    document = json.loads(backup.read_text())
    assert document["format"] == "llmpath-progress" and document["roadmap"]["id"] == "mini"
    assert {t["id"]: t["status"] for t in document["topics"]}["python"] == "done"
    assert len(document["topics"]) == 6
    cli("reset", "python", "math")
    assert progress_rows() == {}
    result = cli("import", str(backup))
    assert result.exit_code == 0, result.output
    assert "Imported 6 topics" in result.stdout
    assert progress_rows() == {"python": "done", "math": "done"}
    # SQLite takes a file backup first; PostgreSQL's backups are the server's (and this export)
    assert bool(list((llmpath_home / "backups").glob("*before-import.db"))) == (engine == "sqlite")


def test_markdown_import_matches_by_id_and_title(engine: str, cli: Cli, tmp_path: Path):
    checklist = tmp_path / "progress.md"
    checklist.write_text(
        "# My notes\n\n- [x] Python `python`\n- [x] math\n- [ ] NumPy Arrays (in progress)\n"
        "- [x] ~~Linear Models~~ (skipped)\n- [x] Quantum Knitting\n"
    )
    result = cli("import", str(checklist))
    assert result.exit_code == 0, result.output
    assert progress_rows() == {
        "python": "done",
        "math": "done",
        "numpy": "doing",
        "linear-models": "skipped",
    }
    assert "line 7: no topic matches 'Quantum Knitting'" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"format": "something-else", "version": 1}', "not an llmpath progress export"),
        ("just some prose\nwith no checklist\n", "no checklist items"),
        ("- [x] Nothing Matches Here\n", "no line matched a topic"),
    ],
)
def test_invalid_import_changes_nothing(cli: Cli, tmp_path: Path, content: str, message: str):
    cli("done", "python")
    bad = tmp_path / "bad.txt"
    bad.write_text(content)
    result = cli("import", str(bad))
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1
    assert progress_rows() == {"python": "done"}


def test_import_of_another_roadmaps_export_is_refused(cli: Cli, tmp_path: Path):
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps({"format": "llmpath-progress", "version": 1, "roadmap": {"id": "elsewhere"}, "topics": []})
    )
    result = cli("import", str(other))
    assert result.exit_code == 1 and "roadmap 'elsewhere'" in result.stderr


def test_resync_keeps_progress_when_the_roadmap_changes(engine: str, tmp_path: Path):
    roadmap = tmp_path / "mini.yaml"
    shutil.copy(MINI, roadmap)
    cli = Cli(roadmap)
    cli("done", "python", "math")
    text = roadmap.read_text().replace("title: Math\n", "title: Mathematics\n")
    roadmap.write_text(text.replace("requires: [python, math]", "requires: [python]"))
    result = cli("status", "--json")
    assert result.exit_code == 0
    assert "re-loaded" in result.stderr
    assert progress_rows() == {"python": "done", "math": "done"}
    assert json.loads(cli("show", "math", "--json").stdout)["title"] == "Mathematics"


def test_invalid_roadmap_is_reported_and_progress_kept(engine: str, tmp_path: Path):
    roadmap = tmp_path / "mini.yaml"
    shutil.copy(MINI, roadmap)
    cli = Cli(roadmap)
    cli("done", "python")
    roadmap.write_text(roadmap.read_text().replace("requires: [neural-nets]", "requires: [nope]"))
    result = cli("next")  # works on from the copy loaded before, with one warning that names the problem
    assert result.exit_code == 0
    assert result.stderr.startswith(f"warning: roadmap file {roadmap} has an error ({roadmap}:")
    assert "requires unknown topic 'nope'" in result.stderr and len(result.stderr.splitlines()) == 1
    result = cli("sync")  # reloading the file itself: its errors are errors
    assert result.exit_code == 1
    assert f"{roadmap}:" in result.stderr and "requires unknown topic 'nope'" in result.stderr
    assert "Traceback" not in result.output
    assert progress_rows() == {"python": "done"}


def test_paths_and_sync(engine: str, cli: Cli, llmpath_home: Path):
    result = cli("paths")
    database = os.environ.get("LLMPATH_DATABASE_URL", llmpath_home / "llmpath.db")
    assert f"database:     {database}" in result.stdout
    assert f"roadmap:      {MINI}" in result.stdout
    result = cli("sync")
    assert result.exit_code == 0 and "Loaded 'Mini Path' (6 topics)" in result.stdout


def test_dashboard_without_a_command(engine: str, cli: Cli):
    result = cli()
    assert result.exit_code == 0
    assert "Mini Path" in result.stdout and "0/6" in result.stdout and "Python" in result.stdout


def test_output_has_no_ansi_codes_when_not_a_terminal(cli: Cli):
    for args in (("next",), ("status",), ("show", "python"), ()):
        assert "\x1b[" not in cli(*args).stdout


def test_no_color_is_respected_even_on_a_terminal(cli: Cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" not in cli("status").stdout


def test_real_subprocess_run(tmp_path: Path):
    env = {"LLMPATH_HOME": str(tmp_path / "sub-home")}
    first = run_llmpath("--roadmap", str(MINI), "done", "python", env=env)
    assert first.returncode == 0, first.stderr
    result = run_llmpath("--roadmap", str(MINI), "next", "--json", env=env)
    assert [item["id"] for item in json.loads(result.stdout)] == ["math"]
    bad = run_llmpath("--roadmap", str(MINI), "done", "zzz", env=env)
    assert (
        bad.returncode == 1
        and bad.stderr.startswith("error: no topic 'zzz'")
        and "Traceback" not in bad.stderr
    )
    usage = run_llmpath("next", "--count", "zero", env=env)
    assert usage.returncode == 2


def test_installed_console_script_finds_the_shipped_roadmap(tmp_path: Path):
    """The `llmpath` script next to this Python (CI installs the wheel: the roadmap must be inside it)."""
    script = Path(sys.executable).parent / "llmpath"
    if not script.exists():
        pytest.skip("llmpath is not installed as a console script next to this Python")
    env = {**os.environ, "LLMPATH_HOME": str(tmp_path / "script-home")}
    env.pop("LLMPATH_ROADMAP", None)
    result = subprocess.run(
        [str(script), "next", "--json", "-n", "50"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    entry = {item["id"] for item in json.loads(result.stdout)}
    assert {"python-programming", "linear-algebra"} <= entry
    paths_out = subprocess.run([str(script), "paths"], capture_output=True, text=True, env=env).stdout
    assert "roadmap.yaml" in paths_out


def test_review_and_doctor_json(cli: Cli):
    assert json.loads(cli("review", "--json").stdout) == {"every_days": None, "due": []}
    assert json.loads(cli("review", "--every", "2w", "--json").stdout)["every_days"] == 14
    checks = {c["check"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    assert checks["integrity"]["ok"] and checks["schema"]["ok"] and checks["roadmap"]["ok"]


def test_eta_takes_phases_in_order_and_counts_a_redone_topic_once(cli: Cli, monkeypatch: pytest.MonkeyPatch):
    from datetime import datetime, timedelta

    from llmpath import store

    today = datetime(2026, 3, 18, 12, tzinfo=UTC)
    for at, args in [
        (today - timedelta(days=2), ("done", "python")),
        (today - timedelta(days=1), ("reset", "python")),
        (today - timedelta(hours=2), ("done", "python")),
    ]:
        monkeypatch.setattr(store, "now", lambda at=at: at)
        assert cli(*args).exit_code == 0
    monkeypatch.setattr(store, "now", lambda: today)
    stats = json.loads(cli("stats", "--json", "--eta").stdout)
    assert sum(week["topics"] for week in stats["weeks"]) == 1  # done twice, studied once
    assert stats["hours_per_week"] == 10 / 4
    local_today = today.astimezone().date()
    finish = {e["phase"]: e["finish"] for e in stats["eta"]}
    assert finish["basics"] == (local_today + timedelta(days=70)).isoformat()  # 25 h at 2.5 h/week
    assert finish["models"] == (local_today + timedelta(days=143)).isoformat()  # after basics: 51 h
    assert finish["total"] == finish["models"]
