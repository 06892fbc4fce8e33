"""llmpath on PostgreSQL against SQLite, side by side in one run: the daily commands, a study group's
`team status`, and twenty writers at once.

    python benchmarks/postgres.py            # 3 rounds: about 70 s on 2 cores
    python benchmarks/postgres.py --runs 5   # steadier medians
    python benchmarks/postgres.py --clock cpu

It starts its own PostgreSQL on loopback (tests/pg_server.py's server: `initdb` and `pg_ctl` in a temporary
folder, as the `postgres` user when run as root), with PostgreSQL's own durable settings and its data on the
same disk as the SQLite file, and removes it at the end. It needs the server binaries (PostgreSQL 15 on
Debian: `apt-get install postgresql`) and the driver (`pip install -e ".[postgres]"`). Everything else
happens in a temporary directory, with LLMPATH_HOME pointing into it.

As in bench.py, a figure is never compared with a number from another run: each command runs in rounds
together with its base (the same command on SQLite; `status` for `team status`), and a ratio is the median
over rounds of the ratio within a round. The writers are processes forked from tests/harness.py's fork
server (each runs `llmpath.cli.main()`, the console script's function, with its own connection), so their
throughput is the database's, not Python's start-up. The exit code is 0 even when a target is missed: this
is a report. The last line says how many targets were met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
import bench  # noqa: E402  (a sibling file, not a package: run, Series, rounds and the table)
from bench import Job, Row, Series, info_row, llmpath_command, markdown, progress, ratio_row, run, run_round  # noqa: E402

from tests import pg_server as pg  # noqa: E402  (the tests' throwaway server)
from tests.harness import ForkServer  # noqa: E402

LEARNERS = 200  # the study group of `team status`
WRITERS = 20
WRITES = 10  # per writer and scenario
SHARED_TOPICS = 6  # the writers of one learner keep meeting on these


# --- a study group of 200 ---------------------------------------------------------------------------------


def fill_study_group(server: pg.PgServer, dbname: str, learners: int) -> int:
    """`learners` learners in the loaded shipped roadmap, each with a different share of it done (in
    roadmap order, a topic a day) and the next one in progress, a note each, and every fifth following a
    track: written with SQL, as weeks of use would leave them. Returns the number of progress rows."""
    from datetime import UTC, datetime, timedelta

    import psycopg

    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    with psycopg.connect(server.conninfo(dbname)) as conn:
        row = conn.execute("SELECT id, tracks_json FROM roadmap").fetchone()
        assert row is not None, "the shipped roadmap is not loaded"
        rid, tracks = row
        topics = [topic for (topic,) in conn.execute("SELECT id FROM topic ORDER BY position")]
        track_ids = [t["id"] for t in json.loads(tracks)]
        progress_rows, events, notes, settings = [], [], [], []
        for n in range(learners):
            name = f"learner{n:03d}"
            doing = (n * 7) % len(topics)  # learners 0-199 spread over 0-126 topics done
            for i, topic in enumerate(topics[: doing + 1]):
                at = start + timedelta(days=i)
                status = "doing" if i == doing else "done"
                progress_rows.append((name, rid, topic, status, at, None if status == "doing" else at, at))
                events.append((name, rid, topic, at, "todo", status))
            notes.append((name, rid, topics[0], start, f"{name} was here"))
            if n % 5 == 0 and track_ids:
                settings.append((name, f"track:{rid}", track_ids[n % len(track_ids)]))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO progress (learner, roadmap_id, topic_id, status, started_at, finished_at, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                progress_rows,
            )
            cur.executemany(
                "INSERT INTO event (learner, roadmap_id, topic_id, at, old_status, new_status) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                events,
            )
            cur.executemany(
                "INSERT INTO note (learner, roadmap_id, topic_id, at, text) VALUES (%s, %s, %s, %s, %s)",
                notes,
            )
            cur.executemany("INSERT INTO setting (learner, key, value) VALUES (%s, %s, %s)", settings)
        conn.commit()
    return len(progress_rows)


# --- twenty writers ---------------------------------------------------------------------------------------


def writer_calls(writer: int, topics: list[str]) -> list[list[str]]:
    """A writer's calls: start, done and note in turn over the shared topics, from its own first one."""
    calls = []
    for i in range(WRITES):
        topic = topics[(writer + i) % len(topics)]
        kind = ("start", "done", "note")[i % 3]
        calls.append(["note", topic, f"writer {writer} write {i}"] if kind == "note" else [kind, topic])
    return calls


def lost_updates(
    rows: dict[str, list[tuple]], learners: list[str], calls: list[list[list[str]]]
) -> list[str]:
    """What went missing: notes not stored exactly once, `done`s without their event, a topic whose history
    breaks (a change that does not start from the status the one before left), a stored status that is not
    its history's last. Empty when nothing was lost."""
    problems = []
    expected_notes = Counter(
        (learners[w], call[2]) for w, lane in enumerate(calls) for call in lane if call[0] == "note"
    )
    if Counter(rows["notes"]) != expected_notes:
        problems.append(f"notes: {sum(expected_notes.values())} written, {len(rows['notes'])} stored")
    dones = Counter(learners[w] for w, lane in enumerate(calls) for call in lane if call[0] == "done")
    stored_dones = Counter(learner for learner, _, _, new in rows["events"] if new == "done")
    if stored_dones != dones:
        problems.append(f"done events: {sum(dones.values())} made, {sum(stored_dones.values())} stored")
    last: dict[tuple[str, str], str] = {}
    for learner, topic, old, new in rows["events"]:
        if old != last.get((learner, topic), "todo"):
            problems.append(
                f"{learner}/{topic}: a change from {old} after one to {last.get((learner, topic))}"
            )
        last[(learner, topic)] = new
    statuses = {(learner, topic): status for learner, topic, status in rows["progress"]}
    if statuses != last:
        problems.append("stored statuses differ from the last change of their history")
    return problems


def read_writes(server: pg.PgServer | None, dbname: str, sqlite_file: Path | None) -> dict[str, list[tuple]]:
    queries = {
        "notes": "SELECT learner, text FROM note",
        "events": "SELECT learner, topic_id, old_status, new_status FROM event ORDER BY id",
        "progress": "SELECT learner, topic_id, status FROM progress",
    }
    if server is not None:
        return {k: server.execute(q, dbname) for k, q in queries.items()}
    import sqlite3

    assert sqlite_file is not None
    con = sqlite3.connect(sqlite_file)
    try:
        return {k: con.execute(q).fetchall() for k, q in queries.items()}
    finally:
        con.close()


def run_writers(
    forks: ForkServer, homes: list[Path], envs: list[dict[str, str]], topics: list[str]
) -> tuple[float, list[str], list[list[list[str]]]]:
    """The writers at once, writer w in homes[w] with envs[w]: (writes per second, the writers that
    failed, the calls each made)."""
    calls = [writer_calls(w, topics) for w in range(WRITERS)]
    began = time.perf_counter()
    results = forks.run(homes, calls, env=envs)
    seconds = time.perf_counter() - began
    failed = [
        f"a writer exited {r.status}, its calls {r.codes}: {r.stderr.strip()[-200:]}"
        for r in results
        if r.status != 0 or r.codes != [0] * WRITES
    ]
    return WRITERS * WRITES / seconds, failed, calls


# --- the benchmark ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of the side-by-side comparisons")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="as in bench.py")
    args = parser.parse_args()
    bench.CLOCK = args.clock
    runs = max(1, args.runs)
    llmpath, extra_env = llmpath_command()
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    try:
        server = pg.PgServer.launch(durable=True)
    except pg.Unavailable as reason:
        sys.stderr.write(f"no PostgreSQL server to measure: {reason}\n")
        return 1
    try:
        with tempfile.TemporaryDirectory(prefix="llmpath-bench-pg-") as tmp_name:
            tmp = Path(tmp_name)
            rows, notes = measure(server, tmp, llmpath, extra_env, runs)
    finally:
        server.close()

    print(markdown(rows))
    print()
    version = run([*llmpath, "--version"], {**os.environ, **extra_env}).stdout.strip()
    print(
        f"{version} · Python {platform.python_version()} · {platform.system()} · {os.cpu_count()} CPUs · "
        f"PostgreSQL on loopback, durable settings, data on the SQLite file's disk · load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after. Clock: {args.clock}. Medians of {runs} "
        "rounds; a ratio is the median over rounds of the ratio within a round."
    )
    for note in notes:
        print(f"Note: {note}")
    print(f"Wall time: {time.perf_counter() - started:.0f} s")
    targets = [r for r in rows if r.ok is not None]
    print(f"{sum(1 for r in targets if r.ok)} of {len(targets)} targets met")
    return 0


def measure(
    server: pg.PgServer, tmp: Path, llmpath: list[str], extra_env: dict[str, str], runs: int
) -> tuple[list[Row], list[str]]:
    skip = ("LLMPATH_", "_LLMPATH_", "COMP_", "PYTHONDONTWRITEBYTECODE", "PG")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(skip)} | extra_env
    base_env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")  # as bench.py: bytecode cached, as pip does
    notes: list[str] = []

    def env(home: str, **more: str) -> dict[str, str]:
        (tmp / home).mkdir(exist_ok=True)
        return {**base_env, "LLMPATH_HOME": str(tmp / home), "LLMPATH_LEARNER": "ada", **more}

    def database() -> tuple[str, str]:
        name = server.create_database()
        return name, server.url(name)

    progress("PostgreSQL started; warm-up and the study group")
    sqlite_env = env("sqlite")
    _, daily_url = database()
    pg_env = env("pg", LLMPATH_DATABASE_URL=daily_url)
    first = {}
    for name, e in (("sqlite", sqlite_env), ("postgresql", pg_env)):
        for argv in (["next", "--json"], ["done", "python-programming", "llm-overview", "linear-algebra"]):
            done = run([*llmpath, *argv], e)
            if done.code != 0:
                raise SystemExit(f"llmpath fails on {name}: {done.stderr.strip()}")
        first[name] = json.loads(run([*llmpath, "next", "--json"], e).stdout)[0]["id"]
    topic = first["sqlite"]
    assert first["postgresql"] == topic, first

    team_db, team_url = database()
    team_env = env("team", LLMPATH_DATABASE_URL=team_url, LLMPATH_LEARNER="learner000")
    run([*llmpath, "status"], team_env)  # tables and the shipped roadmap
    stored = fill_study_group(server, team_db, LEARNERS)
    listed = run([*llmpath, "team", "status", "--json"], team_env)
    if listed.code != 0 or len(json.loads(listed.stdout)["learners"]) != LEARNERS:
        raise SystemExit(f"team status does not list the {LEARNERS} learners: {listed.stderr.strip()}")
    notes.append(f"The study group: {LEARNERS} learners, {stored:,} progress rows in the shipped roadmap.")

    # --- side by side: the same command on each engine in every round
    series = {
        f"{command}, {engine}": Series(f"{command}, {engine}")
        for command in ("next", "status", "done")
        for engine in ("sqlite", "postgresql")
    }
    team = {k: Series(k) for k in ("team status", "status, learner000")}
    jobs = []
    for engine, e in (("sqlite", sqlite_env), ("postgresql", pg_env)):
        jobs += [
            Job(series[f"next, {engine}"], [*llmpath, "next"], e),
            Job(series[f"status, {engine}"], [*llmpath, "status"], e),
            Job(
                series[f"done, {engine}"], [*llmpath, "done", topic], e, after=([*llmpath, "reset", topic], e)
            ),
        ]
    jobs += [
        Job(team["team status"], [*llmpath, "team", "status"], team_env),
        Job(team["status, learner000"], [*llmpath, "status"], team_env),
    ]
    for number in range(runs):
        progress(f"next, status, done and team status: round {number + 1}/{runs}")
        run_round(jobs, shift=number * 2)

    # --- twenty writers at once: twenty learners on one server, one learner on twenty computers, and one
    # learner's twenty processes on one computer's SQLite file
    (tmp / "forks").mkdir()
    forks = ForkServer(tmp / "forks")
    throughput: dict[str, list[float]] = {}
    problems: dict[str, list[str]] = {}
    shared = ["python-programming", "llm-overview", "linear-algebra", "probability-statistics",
              "dev-environment", "sql-databases"][:SHARED_TOPICS]  # fmt: skip
    scenarios = {
        "PostgreSQL, 20 learners": [f"writer{w:02d}" for w in range(WRITERS)],
        "PostgreSQL, one learner": ["ada"] * WRITERS,
        "SQLite, one learner": ["ada"] * WRITERS,
    }
    try:
        for number in range(runs):
            progress(f"{WRITERS} writers x {WRITES} writes: round {number + 1}/{runs}")
            for scenario, (label, learners) in enumerate(scenarios.items()):
                folder = tmp / f"writers-{number}-{scenario}"
                if label.startswith("PostgreSQL"):
                    name, url = database()
                    homes = [folder / f"computer-{w}" for w in range(WRITERS)]
                    envs = [{"LLMPATH_DATABASE_URL": url, "LLMPATH_LEARNER": n} for n in learners]
                    sqlite_file = None
                else:
                    name, homes = "", [folder / "home"] * WRITERS
                    envs = [{"LLMPATH_LEARNER": n} for n in learners]
                    sqlite_file = folder / "home" / "llmpath.db"
                loaded = forks.run(homes[0], [[["next"]]], env=envs[0])[0]  # the roadmap, before the clock
                if loaded.codes != [0]:
                    raise SystemExit(f"{label}: the first load failed: {loaded.stderr.strip()}")
                rate, failed, calls = run_writers(forks, homes, envs, shared)
                writes = read_writes(server if sqlite_file is None else None, name, sqlite_file)
                throughput.setdefault(label, []).append(rate)
                problems.setdefault(label, []).extend(failed + lost_updates(writes, learners, calls))
    finally:
        forks.close()

    rows = []
    for command in ("next", "status", "done"):
        label = f"{command} (shipped)" if command != "done" else f"done {topic} (shipped)"
        rows.append(info_row(f"{label}, SQLite", series[f"{command}, sqlite"]))
        rows.append(
            ratio_row(
                f"{label}, PostgreSQL",
                series[f"{command}, postgresql"],
                series[f"{command}, sqlite"],
                1.3,
                "SQLite",
            )
        )
    rows.append(info_row(f"status, one of {LEARNERS} learners (PostgreSQL)", team["status, learner000"]))
    rows.append(
        ratio_row(
            f"team status, {LEARNERS} learners x shipped",
            team["team status"],
            team["status, learner000"],
            1.5,
            "status",
        )
    )
    sqlite_rate = statistics.median(throughput["SQLite, one learner"])
    for label, rates in throughput.items():
        rate = statistics.median(rates)
        ratio = f"{rate / sqlite_rate:.2f}x" if not label.startswith("SQLite") else ""
        base = f"{sqlite_rate:.0f} /s" if ratio else ""
        rows.append(Row(f"{WRITERS} writers x {WRITES} writes, {label}", f"{rate:.0f} /s", base, ratio))
    lost = {label: found for label, found in problems.items() if found}
    rows.append(
        Row(
            f"lost updates, {WRITERS} writers ({runs * len(throughput) * WRITERS * WRITES:,} writes)",
            str(sum(len(found) for found in lost.values())),
            target="0",
            ok=not lost,
        )
    )
    for label, found in lost.items():
        notes.append(f"{label}: " + "; ".join(found[:5]))
    for s in [*series.values(), *team.values()]:
        if s.failure:
            notes.append(f"Failed: {s.label}: {s.failure}")
    return rows, notes


if __name__ == "__main__":
    sys.exit(main())
