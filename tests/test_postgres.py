"""llmpath on a real PostgreSQL server: many clients at once, kills, faults, secrets, and moving progress.

The server is the worker's throwaway one (tests/pg_server.py, the `pg_server` fixture); each test has its own
database. Concurrent and killed clients are real processes forked from the fork server of tests/harness.py:
each child runs `llmpath.cli.main()`, the function behind the `llmpath` console script, with its own
connections, and reports each call's exit code after the call returned. The faults a user meets alone (no
server, a dropped connection, no driver) run the installed `llmpath` script itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from llmpath import postgres
from llmpath.migrations import DATABASE_VERSION

from . import pg_server as pg
from .conftest import MINI, Cli, as_json, error_line, ok
from .harness import ForkServer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX fork and SIGKILL")

TOPICS = ("python", "math", "numpy", "linear-models", "neural-nets", "build-mlp")  # mini.yaml's


@pytest.fixture(scope="module")
def forks(tmp_path_factory: pytest.TempPathFactory):
    server = ForkServer(tmp_path_factory.mktemp("pg-forks"))
    yield server
    server.close()


class Database:
    """One database of the worker's server, read and checked as superuser (never through llmpath)."""

    def __init__(self, server: pg.PgServer, name: str):
        self.server, self.name = server, name
        self.url = server.url(name)

    def rows(self, sql: str, *params) -> list[tuple]:
        return self.server.execute(sql, self.name, params or None)

    def one(self, sql: str, *params):
        (row,) = self.rows(sql, *params)
        return row[0] if len(row) == 1 else row

    def settle(self) -> None:
        """Wait until no client is connected: a killed client's transaction is over, its stats flushed."""
        self.server.disconnect(self.name)


def new_database(request: pytest.FixtureRequest, template: str = "template0") -> Database:
    server: pg.PgServer = request.getfixturevalue("pg_server")
    name = server.create_database(template)
    request.addfinalizer(lambda: server.drop_database(name))
    return Database(server, name)


@pytest.fixture
def empty_db(request: pytest.FixtureRequest) -> Database:
    """A new, empty database: no tables yet."""
    return new_database(request)


@pytest.fixture
def mini_db(request: pytest.FixtureRequest, pg_mini_template: str) -> Database:
    """A database with llmpath's tables and tests/data/mini.yaml loaded (as `cli` has it)."""
    return new_database(request, pg_mini_template)


def client(db: Database, learner: str) -> dict[str, str]:
    """The environment of one client of `db`."""
    return {"LLMPATH_DATABASE_URL": db.url, "LLMPATH_LEARNER": learner}


def llmpath_script() -> list[str]:
    """The installed console script (CI installs the package), else the module."""
    script = Path(sys.executable).parent / "llmpath"
    return [str(script)] if script.exists() else [sys.executable, "-m", "llmpath"]


def script_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMPATH_", "PG"))}
    return {**env, "LLMPATH_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200", **extra}


# --- many clients at once ---------------------------------------------------------------------------------

CLIENTS = 8
WRITES = 25
SHARED = 4  # clients 0-3 are one learner on four computers; clients 4-7 are four other learners


def recipe(client_no: int) -> list[list[str]]:
    """Client c's 25 writes: start, done and note in turn, walking the topics from its own first one, so
    the learner's clients keep meeting on the same rows."""
    calls = []
    for i in range(WRITES):
        topic = TOPICS[(client_no + i) % len(TOPICS)]
        kind = ("start", "done", "note")[i % 3]
        calls.append(["note", topic, f"client {client_no} write {i}"] if kind == "note" else [kind, topic])
    return calls


def replay(calls: list[list[str]]) -> tuple[dict[str, str], int]:
    """What one client's calls leave when nobody else writes: statuses and the number of events."""
    statuses: dict[str, str] = {}
    events = 0
    for call in calls:
        if call[0] == "done":  # always an event (done again is a review)
            statuses[call[1]], events = "done", events + 1
        elif call[0] == "start" and statuses.get(call[1]) != "doing":
            statuses[call[1]], events = "doing", events + 1
    return statuses, events


@pytest.mark.slow
def test_eight_clients_writing_at_once_lose_nothing(forks: ForkServer, mini_db: Database, tmp_path: Path):
    learners = ["ada"] * SHARED + [f"learner{c}" for c in range(SHARED, CLIENTS)]
    calls = [recipe(c) for c in range(CLIENTS)]
    results = forks.run(
        [tmp_path / f"computer-{c}" for c in range(CLIENTS)],
        [[["--roadmap", MINI, *call] for call in lane] for lane in calls],
        env=[client(mini_db, learner) for learner in learners],
    )
    for result in results:
        assert result.status == 0 and result.codes == [0] * WRITES, result.stderr
        assert result.stderr == "", result.stderr
    mini_db.settle()

    # Every note of every client, once.
    notes = Counter(mini_db.rows("SELECT learner, text FROM note"))
    expected_notes = Counter(
        (learners[c], call[2]) for c, lane in enumerate(calls) for call in lane if call[0] == "note"
    )
    assert notes == expected_notes

    # The learners with one client each: exactly what their calls say, in order.
    for c in range(SHARED, CLIENTS):
        statuses, events = replay(calls[c])
        stored = dict(mini_db.rows("SELECT topic_id, status FROM progress WHERE learner = %s", learners[c]))
        assert stored == statuses
        assert mini_db.one("SELECT count(*) FROM event WHERE learner = %s", learners[c]) == events

    # The learner with four clients: every `done` recorded, and each topic's history one unbroken chain
    # (each change starts from the status the one before left) ending in the stored status: no update lost.
    shared_calls = [call for lane in calls[:SHARED] for call in lane]
    history = mini_db.rows(
        "SELECT topic_id, old_status, new_status FROM event WHERE learner = 'ada' ORDER BY id"
    )
    assert sum(new == "done" for _, _, new in history) == sum(call[0] == "done" for call in shared_calls)
    assert sum(new == "doing" for _, _, new in history) <= sum(call[0] == "start" for call in shared_calls)
    last: dict[str, str] = {}
    for topic, old, new in history:
        assert old == last.get(topic, "todo"), (topic, old, new)
        last[topic] = new
    assert dict(mini_db.rows("SELECT topic_id, status FROM progress WHERE learner = 'ada'")) == last
    assert set(last) == set(TOPICS)


@pytest.mark.slow
def test_twenty_clients_starting_together_on_a_new_database_create_and_load_it_once(
    forks: ForkServer, empty_db: Database, tmp_path: Path
):
    learners = [f"learner{c % 10}" for c in range(20)]  # two clients each for ten learners
    results = forks.run(
        [tmp_path / f"computer-{c}" for c in range(20)],
        [[["--roadmap", MINI, "done", TOPICS[c % 2]]] for c in range(20)],
        env=[client(empty_db, learner) for learner in learners],
    )
    for result in results:
        assert result.codes == [0], result.stderr
        assert result.stderr == "", result.stderr  # no error, no "re-loaded"
    empty_db.settle()

    assert empty_db.one("SELECT version FROM llmpath_schema") == DATABASE_VERSION
    # Inserted tuples count every attempt, also rolled back ones: one migration run, one roadmap load.
    inserted = dict(empty_db.rows("SELECT relname, n_tup_ins FROM pg_stat_user_tables"))
    assert inserted["llmpath_schema"] == DATABASE_VERSION  # one row per migration step, once
    assert (inserted["roadmap"], inserted["phase"], inserted["topic"]) == (1, 2, 6)
    assert empty_db.rows("SELECT id, source_path FROM roadmap") == [("mini", str(MINI))]
    assert empty_db.one("SELECT count(*) FROM topic") == 6
    # Each learner's two clients marked the same topic: one finished it, the other reviewed it.
    assert empty_db.rows("SELECT learner, topic_id, status FROM progress ORDER BY 1") == [
        (f"learner{n}", TOPICS[n % 2], "done") for n in range(10)
    ]
    changes = empty_db.rows("SELECT learner, old_status, new_status FROM event ORDER BY learner, id")
    assert changes == [(f"learner{n}", old, "done") for n in range(10) for old in ("todo", "done")]
    assert not any(tmp_path.glob("computer-*/llmpath.db*"))  # nothing written locally


def big_backup(path: Path, notes_per_topic: int) -> Path:
    """A JSON backup that takes a while to import: every topic done, with many notes each."""
    document = {
        "format": "llmpath-progress",
        "version": 1,
        "roadmap": {"id": "mini"},
        "topics": [
            {
                "id": topic,
                "status": "done",
                "finished_at": "2024-01-02T00:00:00+00:00",
                "notes": [
                    {
                        "at": f"2024-01-01T{k // 3600:02d}:{k // 60 % 60:02d}:{k % 60:02d}+00:00",
                        "text": f"n{k}",
                    }
                    for k in range(notes_per_topic)
                ],
            }
            for topic in TOPICS
        ],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_client_killed_mid_import_leaves_all_of_it_or_nothing(
    forks: ForkServer, request: pytest.FixtureRequest, pg_mini_template: str, tmp_path: Path
):
    notes_per_topic = 300  # the import takes about half a second here, one note after the other
    backup = big_backup(tmp_path / "backup.json", notes_per_topic)
    calls = [["--roadmap", MINI, "done", "python"], ["--roadmap", MINI, "done", "math"]]
    calls.append(["--roadmap", MINI, "import", backup])
    killed_inside_the_import = 0
    for i, delay in enumerate((0.3, 0.55, 0.8)):
        db = new_database(request, pg_mini_template)
        home = tmp_path / f"computer-{i}"
        (result,) = forks.run(home, [calls], kill_after=delay, env=client(db, "ada"))
        assert result.killed or result.codes == [0, 0, 0], result.stderr
        finished = [args[-1] for args, code in result.calls if code == 0]
        # The next command works at once (it waits, if at all, for the server to end the dead transaction).
        (after,) = forks.run(home, [[["--roadmap", MINI, "done", "neural-nets"]]], env=client(db, "ada"))
        assert after.codes == [0], after.stderr
        db.settle()

        notes = db.one("SELECT count(*) FROM note")
        statuses = dict(db.rows("SELECT topic_id, status FROM progress"))
        if notes:  # the import committed: all of it
            assert notes == len(TOPICS) * notes_per_topic
            assert statuses == dict.fromkeys(TOPICS, "done")
        else:  # it did not: nothing of it
            assert str(backup) not in finished, "import exited 0 but its notes are missing"
            recorded = {"python", "math"} & set(finished) | {"neural-nets"}
            assert statuses.keys() >= recorded and set(statuses.values()) == {"done"}
            assert statuses.keys() <= {"python", "math", "neural-nets"}  # nothing of the import
            # Rows the import had written before the kill, all rolled back:
            written = db.one("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'note'")
            killed_inside_the_import += written > 0
    assert killed_inside_the_import >= 1, "no kill landed while the import was writing"


# --- faults -----------------------------------------------------------------------------------------------


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_an_unreachable_server_is_one_line_within_seconds_and_nothing_is_written_locally(tmp_path: Path):
    with pg.silent_server() as silent:  # accepts the connection, never answers: the connect timeout ends it
        urls = {"closed": pg.closed_port_url(), "silent": silent}
        began = time.perf_counter()
        running = {
            name: subprocess.Popen(
                [*llmpath_script(), "done", "python-programming"],
                env=script_env(tmp_path / name, LLMPATH_DATABASE_URL=url, PGCONNECT_TIMEOUT="2"),  # libpq's
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, url in urls.items()
        }
        finished = {}
        for name, proc in running.items():  # both at once: the test waits for the timeout only once
            stdout, stderr = proc.communicate(timeout=30)
            done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
            finished[name] = (done, time.perf_counter() - began)
    # Limits with room for starting Python on a busy 2-core machine; the point is seconds, not a hang.
    for name, why, most in (("closed", "refused", 8), ("silent", "timeout", 2 + 8)):
        done, seconds = finished[name]
        line = one_error_line(done)
        assert line.startswith(f"error: cannot reach the database at {urls[name]} (") and why in line, line
        assert seconds < most
        home = tmp_path / name
        assert not (home / "llmpath.db").exists() and not (home / "backups").exists()
    assert finished["silent"][1] >= 2  # it did wait for the timeout


def test_the_connect_timeout_is_five_seconds_unless_the_url_or_libpq_says_otherwise(monkeypatch):
    url = "postgresql://ada@db.example/llmpath"
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    assert postgres.connect_args(url) == {"application_name": "llmpath", "connect_timeout": 5}
    assert "connect_timeout" not in postgres.connect_args(url + "?connect_timeout=20")
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "9")
    assert "connect_timeout" not in postgres.connect_args(url)


def test_a_server_restart_between_two_commands_is_invisible(
    pg_server: pg.PgServer, mini_db: Database, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("LLMPATH_DATABASE_URL", mini_db.url)
    cli = Cli(MINI)
    ok(cli("done", "python"))
    pg_server.restart()  # every connection is cut; the data stays
    result = cli("done", "math")
    assert ok(result) and result.stderr == ""
    assert as_json(cli("status", "--json"))["total"]["done"] == 2


def test_a_connection_dropped_mid_command_rolls_back_and_says_so(
    mini_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import psycopg

    env = script_env(tmp_path / "home", LLMPATH_DATABASE_URL=mini_db.url, LLMPATH_LEARNER="ada")
    with psycopg.connect(mini_db.server.conninfo(mini_db.name), autocommit=True) as holder:
        # Hold ada's write lock, so the command waits inside its transaction; then cut its connection.
        holder.execute("SELECT pg_advisory_lock(%s)", (postgres.lock_key("learner:ada"),))
        command = [*llmpath_script(), "--roadmap", str(MINI), "done", "python", "math"]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            waiting: list[tuple] = []
            while not waiting and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
                waiting = mini_db.rows(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'llmpath' "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
            assert waiting, "the command never waited for the lock"
            mini_db.rows("SELECT pg_terminate_backend(%s)", waiting[0][0])
            stdout, stderr = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    line = one_error_line(subprocess.CompletedProcess(command, proc.returncode, stdout, stderr))
    assert line.startswith(f"error: lost the connection to the database at {mini_db.url} ("), line
    assert line.endswith("the transaction was rolled back, nothing was saved: run the command again"), line
    assert mini_db.rows("SELECT * FROM progress") == [] and mini_db.rows("SELECT * FROM event") == []
    monkeypatch.setenv("LLMPATH_DATABASE_URL", mini_db.url)
    monkeypatch.setenv("LLMPATH_LEARNER", "ada")
    ok(Cli(MINI)("done", "python", "math"))  # and it works again
    assert sorted(mini_db.rows("SELECT topic_id, status FROM progress")) == [
        ("math", "done"),
        ("python", "done"),
    ]


def test_without_the_driver_a_postgresql_url_says_which_extra_to_install(tmp_path: Path):
    home = tmp_path / "home"
    env = script_env(home, LLMPATH_DATABASE_URL="postgresql://ada:s3cret@127.0.0.1:1/llmpath")
    no_driver = "import sys; sys.modules['psycopg'] = None; from llmpath.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", no_driver, "next"], capture_output=True, text=True, env=env, timeout=60
    )
    line = one_error_line(done)
    assert "pip install 'llmpath[postgres]'" in line and "psycopg" in line, line
    assert "s3cret" not in line and "postgresql://ada:***@127.0.0.1:1/llmpath" in line
    assert not (home / "llmpath.db").exists()


# --- secrets ----------------------------------------------------------------------------------------------

SECRET = "Xyzzy-s3cret-PW"


def test_a_password_in_the_url_is_never_printed(
    pg_server: pg.PgServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    role = pg_server.create_role(password=SECRET)
    db = new_database(request)
    db.rows(f'ALTER DATABASE "{db.name}" OWNER TO "{role}"')  # its owner may create llmpath's tables
    url = pg_server.url(db.name, user=role, password=SECRET)
    masked = url.replace(SECRET, "***")
    monkeypatch.setenv("PGPASSFILE", os.devnull)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    cli = Cli(MINI)
    said = ok(cli("connect", url))
    assert f"Connected to {masked} as learner {role}" in said
    for args in (("done", "python"), ("paths",), ("whoami",), ("whoami", "--json"), ("doctor",),
                 ("doctor", "--json")):  # fmt: skip
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        assert SECRET not in result.stdout + result.stderr, args
    assert masked in ok(cli("paths")) and as_json(cli("whoami", "--json"))["database"] == masked
    checks = {c["check"]: c for c in as_json(cli("doctor", "--json"))}
    assert checks["connection"]["ok"] and masked in checks["connection"]["detail"]

    wrong = pg_server.url(db.name, user=role, password="Wrong-" + SECRET)  # nor a wrong one
    monkeypatch.setenv("LLMPATH_DATABASE_URL", wrong)
    line = error_line(cli("next"))
    assert "refused the login" in line and SECRET not in line and "***" in line, line


# --- one learner, several computers -----------------------------------------------------------------------


def table_dump(db: Database) -> dict[str, list[tuple]]:
    tables = ("progress", "event", "note", "goal", "setting")
    return {t: sorted(db.rows(f"SELECT * FROM {t}"), key=repr) for t in tables}


def backup_of(cli: Cli) -> dict:
    document = as_json(cli("export", "--format", "json"))
    del document["exported_at"]
    return document


def test_connect_bring_local_copies_everything_once_and_local_goes_back(
    cli: Cli, empty_db: Database, llmpath_home: Path, monkeypatch: pytest.MonkeyPatch
):
    from datetime import UTC, datetime

    from llmpath import store

    day = datetime(2026, 10, 1, 9, tzinfo=UTC)
    steps = [
        ("done", "python", "math"),
        ("note", "python", "loops"),
        ("start", "numpy"),
        ("reset", "math"),
        ("goal", "build-mlp"),
        ("track", "modeller"),
        ("review", "--every", "14d"),
        ("note", "numpy", "views"),
    ]
    for hours, args in enumerate(steps):  # an hour apart
        monkeypatch.setattr(store, "now", lambda hours=hours: day.replace(hour=9 + hours))
        ok(cli(*args))
    local, history = backup_of(cli), as_json(cli("log", "--json"))
    local_file = (llmpath_home / "llmpath.db").read_bytes()

    said = ok(cli("connect", empty_db.url, "--bring-local"))
    assert "Brought your local progress in 'mini': 2 topic(s), 4 history event(s), 2 note(s)" in said, said
    assert as_json(cli("whoami", "--json"))["engine"] == "postgresql"
    assert backup_of(cli) == local and as_json(cli("log", "--json")) == history
    stored = table_dump(empty_db)
    assert len(stored["event"]) == 4 and len(stored["note"]) == 2 and len(stored["goal"]) == 1

    said = ok(cli("connect", empty_db.url, "--bring-local"))  # twice: nothing new
    assert "Brought your local progress in 'mini': 0 topic(s), 0 history event(s), 0 note(s)" in said, said
    assert table_dump(empty_db) == stored

    ok(cli("connect", "--local"))
    assert as_json(cli("whoami", "--json"))["engine"] == "sqlite"
    assert backup_of(cli) == local
    ok(cli("done", "linear-models"))  # the local file is used again, and only it
    assert (llmpath_home / "llmpath.db").read_bytes() != local_file
    assert table_dump(empty_db) == stored


def test_two_computers_of_one_learner_see_one_progress(
    empty_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Each computer has its own data folder and its own copy of the roadmap file (another path, other
    times); `llmpath connect URL --as ada` on both."""
    computers = {}
    for name in ("laptop", "desktop"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "mini.yaml").write_bytes(MINI.read_bytes())
        computers[name] = (folder / "home", Cli(folder / "mini.yaml"))

    def on(name: str) -> Cli:
        monkeypatch.setenv("LLMPATH_HOME", str(computers[name][0]))
        return computers[name][1]

    for name in computers:
        ok(on(name)("connect", empty_db.url, "--as", "ada"))
    steps = [
        ("laptop", ("done", "python")),
        ("desktop", ("note", "python", "written on the desktop")),
        ("desktop", ("start", "math")),
        ("laptop", ("goal", "numpy")),
        ("laptop", ("done", "math")),
    ]
    for name, args in steps:
        result = on(name)(*args)
        assert ok(result) and result.stderr == "", result.stderr  # no "re-loaded" on the other computer
    seen = {}
    for name in computers:
        cli = on(name)
        seen[name] = (backup_of(cli), as_json(cli("log", "--json")), as_json(cli("next", "--json")))
    assert seen["laptop"] == seen["desktop"]
    backup, log, _ = seen["laptop"]
    statuses = {t["id"]: t["status"] for t in backup["topics"] if t["status"] != "todo"}
    assert statuses == {"python": "done", "math": "done"} and backup["goals"] == ["numpy"]
    assert [(e["id"], e["from"], e["to"]) for e in log] == [
        ("math", "doing", "done"), ("math", "todo", "doing"), ("python", "todo", "done")
    ]  # fmt: skip
    assert [n["text"] for t in backup["topics"] for n in t["notes"]] == ["written on the desktop"]
    empty_db.settle()
    assert empty_db.one("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'topic'") == 6  # one load
    for home, _ in computers.values():
        assert sorted(p.name for p in home.iterdir()) == ["config.json"]  # nothing else kept locally
