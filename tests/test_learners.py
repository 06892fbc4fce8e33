"""Learners: every row a learner makes names them, existing data migrates to the local learner, two learners
sharing a database never see each other's progress, and `whoami` says who and where."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Cli, as_json, error_line, ok

SCHEMA_V4 = Path(__file__).parent / "data" / "schema-v4.sql"


def make_v4_database(home: Path) -> Path:
    """A database exactly as llmpath 0.2.0 (schema 4, before learners) left it."""
    home.mkdir(mode=0o700, exist_ok=True)
    database = home / "llmpath.db"
    for leftover in home.glob("llmpath.db*"):  # a fixture's template database
        leftover.unlink()
    con = sqlite3.connect(database)
    con.executescript(SCHEMA_V4.read_text(encoding="utf-8"))
    con.close()
    return database


def rows(database: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(database)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def without_learner(database: Path, table: str) -> tuple[set[str], list[tuple]]:
    """The learners named in `table`, and its rows without that column, sorted."""
    con = sqlite3.connect(database)
    try:
        cursor = con.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        at = names.index("learner")
        found = cursor.fetchall()
    finally:
        con.close()
    return {r[at] for r in found}, sorted(r[:at] + r[at + 1 :] for r in found)


def test_a_schema_4_database_migrates_to_the_local_learner_with_nothing_lost(
    shipped_cli: Cli, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("LLMPATH_LEARNER", "ada")
    database = make_v4_database(llmpath_home)
    before = {t: rows(database, f"SELECT * FROM {t} ORDER BY 1, 2") for t in ("progress", "event", "note")}
    assert len(before["progress"]) == 4 and len(before["note"]) == 2

    shown = as_json(shipped_cli("show", "python-programming", "--json"))
    assert shown["status"] == "done"
    assert [n["text"] for n in shown["notes"]] == ["Fluent Python ch. 1-5 — done"]

    assert rows(database, "PRAGMA user_version") == [(5,)]
    for table, old in before.items():
        learners, now = without_learner(database, table)
        assert learners == {"ada"}, table  # every row names the local learner
        assert now == sorted(old), table  # and holds exactly what it held
    assert rows(database, "SELECT learner, key, value FROM setting ORDER BY key") == [
        ("ada", "eta", "on"),
        ("ada", "review_every_days", "30"),
        ("ada", "track:llm-engineer", "application-engineer"),
    ]
    assert rows(database, "SELECT learner, roadmap_id, topic_id FROM goal") == [
        ("ada", "llm-engineer", "rag-fundamentals")
    ]
    # What the learner sees is theirs: the followed track, the goal, the statuses, the log.
    assert as_json(shipped_cli("goal", "--json"))["goals"] == ["rag-fundamentals"]
    assert "application-engineer" in ok(shipped_cli("track"))
    logged = [(e["id"], e["to"]) for e in as_json(shipped_cli("log", "--json"))]
    assert ("linear-algebra", "skipped") in logged and ("sql-databases", "doing") in logged
    backups = list((llmpath_home / "backups").glob("*-before-migration.db"))
    assert len(backups) == 1 and rows(backups[0], "PRAGMA user_version") == [(4,)]


def test_two_learners_in_one_database_never_see_each_others_progress(
    engine: str, cli: Cli, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("LLMPATH_LEARNER", "ada")
    ok(cli("done", "python"))
    ok(cli("note", "python", "ada's note"))
    ok(cli("goal", "nn"))
    monkeypatch.setenv("LLMPATH_LEARNER", "bob")
    assert as_json(cli("status", "--json"))["total"]["done"] == 0
    assert as_json(cli("show", "python", "--json"))["notes"] == []
    assert as_json(cli("goal", "--json"))["goals"] == []
    ok(cli("done", "math"))
    monkeypatch.setenv("LLMPATH_LEARNER", "ada")
    status = as_json(cli("status", "--json"))
    assert status["total"]["done"] == 1
    assert as_json(cli("show", "math", "--json"))["status"] == "todo"
    assert [n["text"] for n in as_json(cli("show", "python", "--json"))["notes"]] == ["ada's note"]


def test_whoami_names_the_learner_and_the_database(cli: Cli, monkeypatch: pytest.MonkeyPatch, llmpath_home):
    monkeypatch.setenv("LLMPATH_LEARNER", "ada")
    text = ok(cli("whoami"))
    assert "ada" in text and str(llmpath_home / "llmpath.db") in text
    data = as_json(cli("whoami", "--json"))
    assert data["learner"] == "ada" and data["engine"] == "sqlite"
    assert data["learner_from"] == "LLMPATH_LEARNER"


@pytest.mark.parametrize("name", ["", "a b", "x" * 64, "-dash", "tab\there", "é"])
def test_an_unusable_learner_name_is_one_line_and_changes_nothing(cli: Cli, monkeypatch, name: str):
    ok(cli("done", "python"))
    monkeypatch.setenv("LLMPATH_LEARNER", name)
    if not name:  # empty means "not set": the system user
        return
    result = cli("done", "math")
    assert result.exit_code != 0
    assert "learner name" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.delenv("LLMPATH_LEARNER")
    assert as_json(cli("show", "math", "--json"))["status"] == "todo"


def test_json_export_carries_progress_from_one_learner_to_another(
    engine: str, cli: Cli, monkeypatch, tmp_path: Path
):
    monkeypatch.setenv("LLMPATH_LEARNER", "ada")
    ok(cli("done", "python", "math"))
    backup = tmp_path / "ada.json"
    ok(cli("export", "--format", "json", "-o", str(backup)))
    monkeypatch.setenv("LLMPATH_LEARNER", "bob")
    ok(cli("import", str(backup)))
    assert as_json(cli("status", "--json"))["total"]["done"] == 2
    assert len(as_json(cli("log", "--json"))) == 2  # the history came along


def test_connect_local_goes_back_and_remembers_the_learner(cli: Cli, llmpath_home: Path):
    ok(cli("done", "python"))
    text = ok(cli("connect", "--local", "--as", "ada"))
    assert str(llmpath_home / "llmpath.db") in text and "ada" in text
    assert as_json(cli("whoami", "--json"))["learner_from"] == "llmpath connect --local --as"
    assert as_json(cli("status", "--json"))["total"]["done"] == 0  # ada has no progress yet
    config = llmpath_home / "config.json"
    assert config.stat().st_mode & 0o077 == 0  # private: a URL may hold a password


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "give a PostgreSQL URL, or --local"),
        (["mysql://x@h/db"], "not a PostgreSQL URL"),
        (["postgresql+psycopg2://x@h/db"], "psycopg 3"),
        (["postgresql://u:secret@h/db", "--local"], "give a PostgreSQL URL, or --local"),
        (["postgresql://u@h/db", "--as", "a b"], "learner name"),
    ],
)
def test_connect_refuses_bad_input_before_any_io(cli: Cli, llmpath_home: Path, args, expected):
    result = cli("connect", *args)
    assert result.exit_code != 0
    assert expected in result.stdout + result.stderr
    assert "secret" not in result.stdout + result.stderr
    assert not (llmpath_home / "config.json").exists()


def test_connect_to_an_unreachable_server_remembers_nothing(cli: Cli, llmpath_home: Path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("connect", f"postgresql://ada:secret@127.0.0.1:{port}/study")
    assert result.exit_code == 1
    assert "cannot reach the database at postgresql://ada:***@127.0.0.1" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr
    assert not (llmpath_home / "config.json").exists()
    assert as_json(cli("whoami", "--json"))["engine"] == "sqlite"


def test_a_broken_config_file_is_one_line_naming_it(cli: Cli, llmpath_home: Path):
    llmpath_home.mkdir(exist_ok=True)
    (llmpath_home / "config.json").write_text("{not json", encoding="utf-8")
    result = cli("next")
    assert result.exit_code == 1
    assert str(llmpath_home / "config.json") in result.stderr and "line 1" in result.stderr


def test_going_back_to_the_local_file_finds_the_local_progress(cli: Cli, pg_url: str):
    ok(cli("done", "python"))  # as the system user, in the local file
    ok(cli("connect", pg_url, "--as", "ada"))
    assert as_json(cli("whoami", "--json"))["learner"] == "ada"
    ok(cli("done", "math"))  # ada's, in the database
    ok(cli("connect", "--local"))
    who = as_json(cli("whoami", "--json"))
    assert who["engine"] == "sqlite" and who["learner_from"] == "the system user"
    assert as_json(cli("show", "python", "--json"))["status"] == "done"
    assert as_json(cli("show", "math", "--json"))["status"] == "todo"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("garbage-secret", "'***' (from LLMPATH_DATABASE_URL) is not a PostgreSQL URL"),
        ("sqlite:///tmp/x.db", "'sqlite:///tmp/x.db' (from LLMPATH_DATABASE_URL) is not a PostgreSQL URL"),
        ("postgresql://ada:secret@127.0.0.1:99999/db", "cannot reach the database at postgresql://ada:***@"),
        ("postgresql://ada@h.invalid/d?password=secret", "?password=***"),
    ],
)
def test_a_bad_database_url_in_the_environment_is_one_line_without_its_password(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, llmpath_home: Path, url: str, expected: str
):
    monkeypatch.setenv("LLMPATH_DATABASE_URL", url)
    result = cli("next")
    assert result.exit_code in (1, 2)
    assert expected in result.stderr, result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["backups", "restore"])
def test_backups_and_restore_on_postgresql_point_to_the_servers_tools(
    cli: Cli, pg_url: str, monkeypatch: pytest.MonkeyPatch, llmpath_home: Path, command: str
):
    monkeypatch.setenv("LLMPATH_DATABASE_URL", pg_url)
    line = error_line(cli(command))
    assert "pg_dump" in line and "export --format json" in line
    assert not (llmpath_home / "backups").exists()
