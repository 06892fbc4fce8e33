"""Tracks: `llmpath track` lists, follows and clears them; `next`, `status` and the dashboard keep to the
followed track; a goal takes precedence; roadmap files declare tracks and `validate` checks them.

Expected track contents are computed here from the YAML by brute force, never with llmpath's planner.
Following and clearing a track run on both engines (`engine`).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from llmpath.migrations import DATABASE_VERSION, migrate

from .conftest import MINI, Cli, as_json, error_line, ok


def brute_track(path: Path, track_id: str) -> list[str]:
    """The track's goals and everything they require, in roadmap order, straight from the YAML."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    requires = {t["id"]: t.get("requires", []) for p in document["phases"] for t in p["topics"]}
    goals = next(t["goals"] for t in document["tracks"] if t["id"] == track_id)
    members: set[str] = set()
    frontier = list(goals)
    while frontier:
        topic = frontier.pop()
        if topic not in members:
            members.add(topic)
            frontier += requires[topic]
    return [t for t in requires if t in members]


def next_ids(cli: Cli, *args: str) -> list[str]:
    return [item["id"] for item in as_json(cli("next", "--json", "-n", "1000", *args))]


def test_track_lists_every_track_with_its_size_hours_and_progress(cli: Cli):
    ok(cli("done", "python"))
    rows = as_json(cli("track", "--json"))
    assert [r["id"] for r in rows] == ["coder", "modeller"]
    document = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    hours = {t["id"]: t.get("hours", 0) for p in document["phases"] for t in p["topics"]}
    for row in rows:
        members = brute_track(MINI, row["id"])
        assert row["total"] == len(members)
        assert row["hours"] == sum(hours[t] for t in members)
        assert row["done"] == 1 and row["hours_left"] == row["hours"] - hours["python"]
        assert row["following"] is False
    table = ok(cli("track"))
    assert "Coder" in table and "1/3" in table and "Modeller" in table and "1/6" in table


def test_following_a_track_scopes_next_status_and_the_dashboard(engine: str, cli: Cli):
    coder = brute_track(MINI, "coder")
    assert "Following track Coder (coder): 3 topics" in ok(cli("track", "cod"))  # a unique prefix
    assert as_json(cli("track", "--json"))[0]["following"] is True
    ok(cli("done", "python", "math"))
    assert next_ids(cli) == ["numpy"]
    ok(cli("done", "numpy"))
    assert next_ids(cli) == []
    out = ok(cli("next"))
    assert "Track: Coder" in out and "Track finished: all 3 of its topics" in out
    assert next_ids(cli, "--all") == ["linear-models"]

    status = as_json(cli("status", "--json"))
    assert status["track"] == {"id": "coder", "title": "Coder"}
    assert [p["id"] for p in status["phases"]] == ["basics"]  # the track has no topic in "models"
    assert status["total"]["total"] == len(coder) and status["total"]["done"] == 3
    whole = as_json(cli("status", "--json", "--all"))
    assert whole["track"] is None and whole["total"]["total"] == 6
    assert "Track: Coder" in ok(cli("status"))
    line = error_line(cli("status", "models"))
    assert "phase 'models' has no topics in track 'coder'" in line

    dashboard = ok(cli())
    assert "Mini Path · Coder" in dashboard and "3/3" in dashboard and "Track finished" in dashboard


def test_a_goal_comes_before_the_followed_track_in_next(engine: str, cli: Cli):
    ok(cli("track", "coder"))
    ok(cli("done", "python", "math", "numpy"))
    ok(cli("goal", "neural-nets"))
    assert next_ids(cli) == ["linear-models"]  # outside the track, but on the way to the goal
    assert "Goal: Neural Networks" in ok(cli("next"))
    ok(cli("goal", "--clear"))
    assert next_ids(cli) == []


def test_clear_goes_back_to_the_whole_roadmap(cli: Cli):
    ok(cli("track", "coder"))
    assert "Not following a track" in ok(cli("track", "--clear"))
    assert next_ids(cli) == ["python", "math"]
    assert as_json(cli("status", "--json"))["track"] is None
    assert not any(r["following"] for r in as_json(cli("track", "--json")))


def test_unknown_track_is_one_line_with_suggestions_and_changes_nothing(cli: Cli):
    ok(cli("track", "coder"))
    assert "did you mean 'modeller'" in error_line(cli("track", "modeler"))
    assert "tracks are: coder, modeller" in error_line(cli("track", "xyz"))
    assert as_json(cli("status", "--json"))["track"]["id"] == "coder"
    result = cli("track", "coder", "--clear")
    assert result.exit_code == 2 and "not both" in result.stderr


def test_a_roadmap_without_tracks_says_so(tmp_path: Path):
    plain = tmp_path / "plain.yaml"
    document = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    del document["tracks"]
    plain.write_text(yaml.safe_dump(document), encoding="utf-8")
    cli = Cli(plain)
    assert "has no tracks" in ok(cli("track"))
    assert "this roadmap has no tracks" in error_line(cli("track", "coder"))
    assert as_json(cli("track", "--json")) == []


def test_a_followed_track_removed_from_the_file_falls_back_to_everything(tmp_path: Path):
    path = tmp_path / "mini.yaml"
    path.write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    cli = Cli(path)
    ok(cli("track", "coder"))
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["tracks"] = [t for t in document["tracks"] if t["id"] != "coder"]
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = cli("next", "--json")
    assert [i["id"] for i in json.loads(ok(result))] == ["python", "math"]
    assert "followed track 'coder' is no longer in this roadmap" in result.stderr


@pytest.mark.parametrize(
    ("tracks", "expected"),
    [
        ([{"id": "a", "title": "A", "goals": ["numpy", "nope"]}], "track 'a': goal 'nope' is not a topic"),
        ([{"id": "a", "title": "A", "goals": ["pyhton"]}], "did you mean 'python'?"),
        ([{"id": "a", "title": "A", "goals": ["math", "math"]}], "track 'a': lists goal 'math' twice"),
        (
            [{"id": "a", "title": "A", "goals": ["math"]}, {"id": "a", "title": "B", "goals": ["numpy"]}],
            "duplicate track id 'a'",
        ),
        ([{"id": "a", "title": "A", "goals": []}], "track 'a': goals: List should have at least 1 item"),
        ([{"id": "a", "title": "A", "goal": ["math"]}], "unknown field 'goal' (hint: did you mean 'goals'?)"),
        ([{"id": "Bad Id", "title": "A", "goals": ["math"]}], "is not a valid id"),
    ],
)
def test_validate_checks_tracks_with_file_and_line(tmp_path: Path, tracks: list, expected: str):
    document = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    document["tracks"] = tracks
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    result = Cli()("validate", str(path))
    assert result.exit_code == 1
    output = result.stdout + result.stderr
    assert expected in output, output
    tracks_line = path.read_text(encoding="utf-8").splitlines().index("tracks:") + 1
    located = [line for line in output.splitlines() if expected in line]
    line_number = int(re.search(r"bad\.yaml:(\d+): ", located[0]).group(1))
    assert line_number > tracks_line, located  # the problem points into the tracks section


def test_schema_describes_tracks():
    schema = as_json(Cli()("schema"))
    assert "tracks" in schema["properties"]
    track = schema["$defs"]["Track"]
    assert set(track["required"]) == {"id", "title", "goals"}


def test_database_from_before_tracks_gains_them_on_upgrade(tmp_path: Path, llmpath_home: Path):
    from sqlalchemy import create_engine

    llmpath_home.mkdir(mode=0o700)
    database = llmpath_home / "llmpath.db"
    with create_engine(f"sqlite:///{database}").begin() as conn:
        migrate(conn, 0, 3, learner="me")
        conn.exec_driver_sql("ALTER TABLE roadmap DROP COLUMN tracks_json")  # as version 3 made it
    cli = Cli(MINI)
    assert [r["id"] for r in as_json(cli("track", "--json"))] == ["coder", "modeller"]
    con = sqlite3.connect(database)
    assert con.execute("PRAGMA user_version").fetchone()[0] == DATABASE_VERSION
    con.close()


def test_tab_completion_offers_track_ids(cli: Cli):
    from llmpath import completion

    ok(cli("next"))  # load the roadmap into the database
    assert completion._query("track", "", "track", str(MINI)) == [
        ("coder", "Coder"),
        ("modeller", "Modeller"),
    ]
    assert completion._query("track", "mo", "track", str(MINI)) == [("modeller", "Modeller")]
