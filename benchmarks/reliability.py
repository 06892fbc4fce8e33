"""Reliability benchmark: concurrent writers, SIGKILL at random moments, and fuzzing, at a larger size than
the tests (tests/test_reliability.py, tests/test_properties.py). Prints its figures; exits 1 if anything was
lost, damaged or crashed.

    python benchmarks/reliability.py                      # 8 writers x 50 writes, 100 kills, fuzzing
    python benchmarks/reliability.py --writers 4 --writes 20 --kills 30 --fuzz-topics 200
    python benchmarks/reliability.py --writer-mode exec   # writers are `python -m llmpath` interpreters

Everything happens in a temporary directory (`LLMPATH_HOME` points there); nothing else is touched.

Processes are forked from a "fork server" (tests/harness.py, shared with tests/test_reliability.py) that
imported llmpath once: each child runs `llmpath.cli.main()` with `sys.argv` set, exactly what
`python -m llmpath ...` runs, and reports each call's exit code *after* the call returned (so after its
commit). A kill then lands inside the database work rather than inside `import sqlalchemy`, and a run of
hundreds of commands takes seconds, not minutes. The fork server is the parent of every child, so it also
sends the SIGKILLs: a killed pid is never one that was reaped and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# The fork server, its results and the database checks are shared with tests/test_reliability.py: they live
# in tests/harness.py, importable as `tests.harness` once the repository root is on sys.path (this file is
# run as a script, and benchmarks/ is not a package).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.harness import (  # noqa: E402
    LINE_EDITS,
    MINI,
    SRC,
    ChildResult,
    ForkServer,
    child_env,
    db_file,
    done_topics,
    edit_lines,
    integrity_ok,
    query,
    synthetic_roadmap,
)

# --- concurrent writers -----------------------------------------------------------------------------------


@dataclass
class WriterFigures:
    seconds: float = 0.0
    failed_calls: int = 0
    locked_errors: int = 0
    lost_updates: int = 0
    duplicated_events: int = 0
    integrity_failures: int = 0
    tracebacks: int = 0


def bench_writers(server: ForkServer, work: Path, writers: int, writes: int, mode: str) -> WriterFigures:
    total = writers * writes
    roadmap = work / "writers.yaml"
    roadmap.write_text(synthetic_roadmap(total))
    home = work / "writers-home"
    # Writer w marks topics w, w+writers, ...: neighbouring topics come from different processes.
    lanes = [[f"topic-{i}" for i in range(w, total, writers)] for w in range(writers)]
    figures = WriterFigures()
    started = time.monotonic()
    outcomes: list[list[tuple[str, int, str]]] = []  # per writer: (topic, exit code, stderr)
    if mode == "fork":
        results = server.run(home, [[["--roadmap", roadmap, "done", t] for t in lane] for lane in lanes])
        for result, lane in zip(results, lanes, strict=True):
            codes = dict((args[-1], code) for args, code in result.calls)
            outcomes.append([(t, codes.get(t, -1), "") for t in lane])
            figures.locked_errors += result.stderr.lower().count("locked")
            figures.tracebacks += result.stderr.count("Traceback")
    else:
        outcomes = [[] for _ in lanes]

        def writer(w: int) -> None:
            for topic in lanes[w]:
                proc = subprocess.run(
                    [sys.executable, "-m", "llmpath", "--roadmap", str(roadmap), "done", topic],
                    env=child_env(home),
                    capture_output=True,
                    text=True,
                )
                outcomes[w].append((topic, proc.returncode, proc.stderr))

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for lane in outcomes:
            for _, _, stderr in lane:
                figures.locked_errors += stderr.lower().count("locked")
                figures.tracebacks += stderr.count("Traceback")
    figures.seconds = time.monotonic() - started
    db = db_file(home)
    figures.integrity_failures = 0 if integrity_ok(db) else 1
    recorded = done_topics(home, "synth")
    for lane in outcomes:
        for topic, code, _ in lane:
            figures.failed_calls += code != 0
            figures.lost_updates += code == 0 and topic not in recorded
    events = query(db, "SELECT topic_id, count(*) FROM event GROUP BY topic_id HAVING count(*) > 1")
    figures.duplicated_events = len(events)
    return figures


# --- kills ------------------------------------------------------------------------------------------------


@dataclass
class KillFigures:
    kills: int = 0
    by_scenario: dict[str, int] = field(default_factory=lambda: {"first-load": 0, "done": 0, "import": 0})
    interrupted: int = 0  # the child was still running when the SIGKILL came
    integrity_failures: int = 0
    dones_before_kill: int = 0  # dones that exited 0 before some kill
    lost_commits: int = 0
    partial_loads: int = 0
    partial_imports: int = 0
    broken_after: int = 0  # `llmpath next` failed on the killed-into database
    failed_calls: int = 0  # a call exited non-zero before the kill
    seconds: float = 0.0


class KillBench:
    FIRST_LOAD_TOPICS = 700
    DONE_TOPICS = 400

    def __init__(self, server: ForkServer, work: Path, rng: random.Random):
        self.server, self.work, self.rng = server, work, rng
        self.figures = KillFigures()
        self.big = work / "big.yaml"
        self.big.write_text(synthetic_roadmap(self.FIRST_LOAD_TOPICS, summary=True))
        self.synth = work / "synth.yaml"
        self.synth.write_text(synthetic_roadmap(self.DONE_TOPICS))
        self.done_home: Path | None = None
        self.finished: set[str] = set()
        self._homes = 0
        # A template for import kills: the roadmap loaded and topics 0-4 done.
        self.template = work / "import-template"
        self._call(self.template, ["done", *[f"topic-{i}" for i in range(5)]])
        self.export = work / "import.json"
        self.export.write_text(
            json.dumps(
                {
                    "format": "llmpath-progress",
                    "version": 1,
                    "roadmap": {"id": "synth"},
                    "topics": [
                        {
                            "id": f"topic-{i}",
                            "status": "done",
                            "finished_at": "2024-01-02T00:00:00+00:00",
                            "notes": [{"at": "2024-01-01T00:00:00+00:00", "text": f"note on {i}"}],
                        }
                        for i in range(0, self.DONE_TOPICS, 2)
                    ],
                }
            )
        )

    def _home(self) -> Path:
        self._homes += 1
        return self.work / f"kill-home-{self._homes}"

    def _call(self, home: Path, args: list, roadmap: Path | None = None) -> ChildResult:
        result = self.server.one(home, ["--roadmap", roadmap or self.synth, *args])
        if result.codes != [0]:
            raise RuntimeError(f"setup call failed: {args}: {result.stderr}")
        return result

    def _after(self, home: Path, roadmap: Path) -> None:
        if not integrity_ok(db_file(home)):
            self.figures.integrity_failures += 1
            return
        result = self.server.one(home, ["--roadmap", roadmap, "next", "--json"])
        if result.codes != [0]:
            self.figures.broken_after += 1

    def kill(self, scenario: str, delay: float) -> None:
        f = self.figures
        f.kills += 1
        f.by_scenario[scenario] += 1
        getattr(self, "_kill_" + scenario.replace("-", "_"))(delay)

    def _run_killed(self, home: Path, calls: list[list], delay: float) -> ChildResult:
        (result,) = self.server.run([home], [calls], kill_after=delay)
        self.figures.interrupted += result.killed
        self.figures.failed_calls += sum(code != 0 for code in result.codes)
        return result

    def _kill_first_load(self, delay: float) -> None:
        home = self._home()
        self._run_killed(home, [["--roadmap", self.big, "next", "-n", "1"]], delay)
        db = db_file(home)
        if db.exists() and integrity_ok(db):
            tables = {r[0] for r in query(db, "SELECT name FROM sqlite_master")}
            if "topic" in tables and query(db, "SELECT count(*) FROM topic")[0][0] not in (
                0,
                self.FIRST_LOAD_TOPICS,
            ):
                self.figures.partial_loads += 1
        self._after(home, self.big)
        shutil.rmtree(home)

    def _kill_done(self, delay: float) -> None:
        if self.done_home is None or len(self.finished) > self.DONE_TOPICS - 60:
            if self.done_home is not None:
                shutil.rmtree(self.done_home)
            self.done_home = self._home()
            self._call(self.done_home, ["next"])
            self.finished = set()
        home = self.done_home
        remaining = [f"topic-{i}" for i in range(self.DONE_TOPICS) if f"topic-{i}" not in self.finished]
        self.rng.shuffle(remaining)
        result = self._run_killed(home, [["--roadmap", self.synth, "done", t] for t in remaining[:50]], delay)
        completed = {args[-1] for args, code in result.calls if code == 0}
        self.figures.dones_before_kill += len(completed)
        self.finished |= completed
        db = db_file(home)
        if not integrity_ok(db):
            self.figures.integrity_failures += 1
            return
        recorded = done_topics(home, "synth")
        self.figures.lost_commits += len(self.finished - recorded)
        self.finished = recorded  # the in-flight one may have committed just before the kill
        self._after(home, self.synth)

    def _kill_import(self, delay: float) -> None:
        home = self._home()
        shutil.copytree(self.template, home)
        calls = [
            ["--roadmap", self.synth, "done", "topic-301"],
            ["--roadmap", self.synth, "done", "topic-303"],
            ["--roadmap", self.synth, "import", self.export],
        ]
        result = self._run_killed(home, calls, delay)
        completed = [args for args, code in result.calls if code == 0]
        db = db_file(home)
        if not integrity_ok(db):
            self.figures.integrity_failures += 1
            return
        recorded = done_topics(home, "synth")
        dones = [args[-1] for args in completed if args[-2] == "done"]
        self.figures.dones_before_kill += len(dones)
        self.figures.lost_commits += sum(t not in recorded for t in dones)
        notes = query(db, "SELECT count(*) FROM note")[0][0]
        imported = {f"topic-{i}" for i in range(0, self.DONE_TOPICS, 2)}
        whole = notes == len(imported) and imported <= recorded
        nothing = notes == 0 and not (imported - {f"topic-{i}" for i in range(5)}) & recorded
        if not (whole or nothing) or (len(completed) == 3 and not whole):
            self.figures.partial_imports += 1
        self._after(home, self.synth)
        shutil.rmtree(home)


def bench_kills(
    server: ForkServer, work: Path, kills: int, max_delay: float, rng: random.Random
) -> KillFigures:
    started = time.monotonic()
    bench = KillBench(server, work, rng)
    scenarios = ["first-load", "done", "import"]
    for i in range(kills):
        bench.kill(scenarios[i % 3], rng.uniform(0, max_delay))
    bench.figures.seconds = time.monotonic() - started
    return bench.figures


# --- fuzzing ----------------------------------------------------------------------------------------------

TRICKY = [
    "python", "py", "PY", " Python ", "nn", "n", "NumPy Arrays", "", " ", "-", "--", "-x", "--json", "-h",
    "\x00", "'", '"', "%s", "{}", "../../etc/passwd", "*", "?", "\\", "x'; DROP TABLE progress; --",
    "\u202e", "\ud800", "İ", "ß", "ﬁ", "\n", "a" * 2000, "[red]x[/red]", "`rm -rf`", "$(id)",
]  # fmt: skip
YAML_TOKENS = [
    "\n", "\n  ", "\n    ", "- ", ": ", "{", "}", "[", "]", ", ", "&a ", "*a", "<<: *a", "? ", "!!str ",
    "!!binary ", "!!set ", "!!python/object:os.system ", "|", ">", "'", '"', "# ", "---", "...", "~", "null",
    "1e400", ".nan", "2024-01-01", "\t", "\ufeff", "\x85", "schema: 1", "id: x", "title: T", "phases:",
    "topics:", "requires:", "aliases:", "replaces:", "python", "numpy",
]  # fmt: skip
SCALARS = [
    "", "[]", "{}", "-1", "0", "1e999", "null", "true", "[a, b]", "&x y", "*x", "'open", "!!int x",
    "2024-02-30", "a" * 400, "[python, python]", "[nope]", "http://x", "Bad Id",
]  # fmt: skip


def random_text(rng: random.Random, size: int) -> str:
    pools = ["abcxyz-09 ", "\x00\x01\n\r\t\x0b\x85\u2028", "äßİﬁ\u202e😀", "[]{}()<>`*_#|\\'\"%$"]
    return "".join(rng.choice(rng.choice(pools)) for _ in range(size))


def random_topic(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return rng.choice(TRICKY)
    if kind < 0.5:
        return "-".join(random_text(rng, rng.randint(1, 5)).lower() for _ in range(rng.randint(1, 3)))
    return random_text(rng, rng.randint(0, 40))


def malformed_roadmap(rng: random.Random, valid: bytes) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 2000)))
    if kind == 1:
        return "".join(
            rng.choice(YAML_TOKENS) if rng.random() < 0.7 else random_text(rng, 4)
            for _ in range(rng.randint(0, 80))
        ).encode("utf-8", "surrogatepass")
    lines = valid.decode().splitlines()
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        operation = rng.choice([*LINE_EDITS, "bytes"])
        if operation == "bytes":
            lines[i] += random_text(rng, 3)
        else:
            edit_lines(lines, operation, i, j, rng.choice(SCALARS))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def where(exc: BaseException | None) -> str:
    """The innermost frame of a crash, as `file.py:function`."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__) if exc is not None else []
    return f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?"


@dataclass
class FuzzFigures:
    topic_cases: int = 0
    topic_crashes: int = 0
    roadmap_cases: int = 0
    roadmap_crashes: int = 0
    roadmap_cli_cases: int = 0
    roadmap_cli_crashes: int = 0
    invalid_rows: int = 0
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0


def bench_fuzz(work: Path, topics: int, roadmaps: int, roadmaps_cli: int, rng: random.Random) -> FuzzFigures:
    started = time.monotonic()
    home = work / "fuzz-home"
    os.environ["LLMPATH_HOME"] = str(home)
    os.environ.pop("LLMPATH_ROADMAP", None)
    os.environ["NO_COLOR"] = "1"
    sys.path.insert(0, str(SRC))
    from typer.testing import CliRunner

    from llmpath.cli import app
    from llmpath.errors import RoadmapError
    from llmpath.roadmap import parse_roadmap

    figures = FuzzFigures()
    runner = CliRunner()

    def crashed(result, allowed: tuple[int, ...]) -> bool:
        exception = result.exception
        return (
            exception is not None and not isinstance(exception, SystemExit)
        ) or result.exit_code not in allowed

    for _ in range(topics):
        command = rng.choice(["done", "start", "skip", "reset", "show"])
        names = [random_topic(rng) for _ in range(1 if command == "show" else rng.randint(1, 3))]
        result = runner.invoke(app, ["--roadmap", str(MINI), command, *names])
        figures.topic_cases += 1
        if crashed(result, (0, 1, 2)) or (
            result.exit_code == 2 and not any(n.startswith("-") for n in names)
        ):
            figures.topic_crashes += 1
            figures.examples.append(f"{command} {names!r}: exit {result.exit_code} {result.exception!r}")
    db = db_file(home)
    statuses = query(db, "SELECT topic_id, status FROM progress") if db.exists() else []
    mini_ids = {"python", "math", "numpy", "linear-models", "neural-nets", "build-mlp"}
    statuses_ok = {"todo", "doing", "done", "skipped"}
    figures.invalid_rows = sum(t not in mini_ids or s not in statuses_ok for t, s in statuses)

    valid = MINI.read_bytes()
    for _ in range(roadmaps):
        data = malformed_roadmap(rng, valid)
        figures.roadmap_cases += 1
        try:
            parse_roadmap(data, "x.yaml")
        except RoadmapError:
            pass
        except BaseException as exc:  # a crash: anything but the documented error
            figures.roadmap_crashes += 1
            figures.examples.append(f"parse_roadmap: {exc!r} from {where(exc)}")

    broken = work / "fuzz-roadmap.yaml"
    for i in range(roadmaps_cli):
        broken.write_bytes(malformed_roadmap(rng, valid))
        os.utime(broken, ns=(0, 10**18 + i))  # a new mtime each time, so every file is re-read
        result = runner.invoke(app, ["--roadmap", str(broken), "next"])
        figures.roadmap_cli_cases += 1
        if crashed(result, (0, 1)) or "Traceback" in result.stderr:
            figures.roadmap_cli_crashes += 1
            figures.examples.append(f"llmpath next: {result.exception!r} from {where(result.exception)}")
    figures.seconds = time.monotonic() - started
    return figures


# --- main -------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer processes (default 8)")
    parser.add_argument("--writes", type=int, default=50, help="`done` calls per writer (default 50)")
    parser.add_argument(
        "--writer-mode",
        choices=["fork", "exec"],
        default="fork",
        help="fork: writers forked from a fork server (most contention, default); exec: every write is a "
        "fresh `python -m llmpath` interpreter (slow: ~1 s of CPU each)",
    )
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs, round-robin over scenarios (100)")
    parser.add_argument("--max-delay", type=float, default=0.5, help="kill delays are uniform in 0..this (s)")
    parser.add_argument("--fuzz-topics", type=int, default=1000, help="random TOPIC cases via the CLI (1000)")
    parser.add_argument("--fuzz-roadmaps", type=int, default=3000, help="malformed roadmaps parsed (3000)")
    parser.add_argument(
        "--fuzz-roadmaps-cli", type=int, default=200, help="malformed roadmaps via the CLI (200)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.monotonic()

    print(
        f"llmpath reliability benchmark: seed {args.seed}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory(prefix="llmpath-reliability-") as tmp:
        work = Path(tmp)
        server = ForkServer(work, timeout=600)
        try:
            w = bench_writers(server, work, args.writers, args.writes, args.writer_mode)
            print(
                f"writers: {args.writers} x {args.writes} = {args.writers * args.writes} `done` calls "
                f"({args.writer_mode} mode) in {w.seconds:.1f} s\n"
                f'  lost updates: {w.lost_updates}   "locked" errors: {w.locked_errors}   failed calls: '
                f"{w.failed_calls}   duplicated events: {w.duplicated_events}   integrity failures: "
                f"{w.integrity_failures}   tracebacks: {w.tracebacks}"
            )
            k = bench_kills(server, work, args.kills, args.max_delay, rng)
            scenarios = ", ".join(f"{name} {count}" for name, count in k.by_scenario.items())
            print(
                f"kills: {k.kills} ({scenarios}; delays 0-{args.max_delay} s) in {k.seconds:.1f} s; "
                f"{k.interrupted} interrupted a running command\n"
                f"  integrity failures: {k.integrity_failures}   lost commits: {k.lost_commits} "
                f"(of {k.dones_before_kill} dones that exited 0 before a kill)   partial loads: "
                f"{k.partial_loads}   partial imports: {k.partial_imports}   broken afterwards: "
                f"{k.broken_after}   failed calls: {k.failed_calls}"
            )
        finally:
            server.close()
        fz = bench_fuzz(work, args.fuzz_topics, args.fuzz_roadmaps, args.fuzz_roadmaps_cli, rng)
        print(
            f"fuzz: {fz.topic_cases + fz.roadmap_cases + fz.roadmap_cli_cases} cases in {fz.seconds:.1f} s\n"
            f"  random TOPIC strings via the CLI: {fz.topic_cases}, crashes: {fz.topic_crashes}, "
            f"invalid progress rows: {fz.invalid_rows}\n"
            f"  malformed roadmaps via parse_roadmap: {fz.roadmap_cases}, crashes: {fz.roadmap_crashes}\n"
            f"  malformed roadmaps via `llmpath next`: {fz.roadmap_cli_cases}, "
            f"crashes: {fz.roadmap_cli_crashes}"
        )
        for example in fz.examples[:10]:
            print(f"    {example}")
    problems = (
        w.lost_updates
        + w.locked_errors
        + w.failed_calls
        + w.duplicated_events
        + w.integrity_failures
        + w.tracebacks
        + k.integrity_failures
        + k.lost_commits
        + k.partial_loads
        + k.partial_imports
        + k.broken_after
        + k.failed_calls
        + fz.topic_crashes
        + fz.invalid_rows
        + fz.roadmap_crashes
        + fz.roadmap_cli_crashes
    )
    verdict = f"{problems} PROBLEMS" if problems else "no problems"
    print(f"total: {time.monotonic() - started:.0f} s; {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
