"""Reliability benchmark: concurrent writers, SIGKILL at random moments, and fuzzing, at a larger size than
the tests (tests/test_reliability.py, tests/test_properties.py). Prints its figures; exits 1 if anything was
lost, damaged or crashed.

    python benchmarks/reliability.py                      # 8 writers x 50 writes, 100 kills, fuzzing
    python benchmarks/reliability.py --writers 4 --writes 20 --kills 30 --fuzz-topics 200
    python benchmarks/reliability.py --writer-mode exec   # writers are `python -m llmpath` interpreters

Then the cases of issue 11, in-process: simulated months of use exported and imported back (in both formats
nothing may change, and a JSON backup in a fresh home gives the same log, stats, review), roadmaps, notes and
imports full of terminal control characters (none may reach the output), and pathological inputs (long
prerequisite chains, deeply nested JSON, lone surrogates, extreme dates in other time zones, an unwritable
backups folder, a 60,000-space markdown line) that must never end in a traceback.

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
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

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


# --- issue 11: round trips, terminal safety, the edges --------------------------------------------------
#
# In-process like the fuzzing (CliRunner, NO_COLOR), each case in a home of its own. A group whose fix is not
# in the code reports "not measured" (and why) instead of failing: round trips and extreme dates need export
# format 2, hostile text needs llmpath.terminal, the problem-8 sizes need their `MAX_…` limit (without it they
# take minutes and gigabytes), and the 60,000-space markdown line needs a 12,000-space probe under 1 s.

# What must never reach a terminal: C0 controls but tab and newline, DEL, C1 controls, bidi controls.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
HOSTILE = [
    "\x1b]0;owned\x07",  # OSC 0: the window title
    "\x1b[2J\x1b[H",  # CSI: clear the screen
    "\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\",  # OSC 8: a hidden hyperlink
    "\u202eexe.txt",  # a bidi override
    "\u2066isolate\u2069",
    "\x07bell",
    "\x9b2J",  # C1 CSI
    "\x9d0;c1 title\x9c",  # C1 OSC
    "\x1bP+q544e\x1b\\",  # DCS
    "back\x08\x08\x7f",
    "over\rwrite",
]  # fmt: skip
LEARNER_TABLES = ("progress", "event", "note", "goal", "setting")


def _ready_round_trips() -> str | None:
    from llmpath import export

    if export.EXPORT_FORMAT_VERSION < 2:
        return "the lossless export (format version 2) is not in the code yet"
    return None


def _ready_terminal() -> str | None:
    import importlib.util

    if importlib.util.find_spec("llmpath.terminal") is None:
        return "terminal-safe output (llmpath.terminal) is not in the code yet"
    return None


def _limit(*fragments: str) -> str | None:
    """The name of a `MAX_…` constant whose name holds one of `fragments`, in the modules that keep limits."""
    import importlib

    for module in ("paths", "roadmap", "store", "export", "vocab"):
        found = importlib.import_module(f"llmpath.{module}")
        for name in dir(found):
            if name.startswith("MAX_") and any(fragment in name for fragment in fragments):
                return f"{module}.{name}"
    return None


@dataclass
class EdgeFigures:
    round_trips: int = 0  # simulated months exported and imported back
    markdown_changed: int = 0  # a markdown export imported into the same home changed a learner table
    json_changed: int = 0  # the same with the JSON export
    fresh_differs: int = 0  # a JSON backup in a fresh home gave different log/stats/review/status
    hostile_runs: int = 0  # command runs over a roadmap, notes and imports full of control characters
    hostile_leaks: int = 0  # runs whose stdout or stderr held a raw control character
    edge_cases: int = 0  # the pathological inputs of issue 11 (problems 7 and 8)
    edge_crashes: int = 0  # a traceback, an exit code other than 0/1, or over its time limit
    edge_slowest: tuple[float, str] = (0.0, "")
    crashes: int = 0  # a traceback anywhere in the round trips or hostile runs
    not_measured: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> int:
        return (
            self.markdown_changed
            + self.json_changed
            + self.fresh_differs
            + self.hostile_leaks
            + self.edge_crashes
            + self.crashes
        )


class EdgeBench:
    def __init__(self, work: Path, rng: random.Random):
        os.environ.pop("LLMPATH_ROADMAP", None)
        os.environ["NO_COLOR"] = "1"
        sys.path.insert(0, str(SRC))
        from typer.testing import CliRunner

        from llmpath import store
        from llmpath.cli import app

        self.work, self.rng, self.app, self.store = work, rng, app, store
        self.runner = CliRunner()
        self.figures = EdgeFigures()
        self._homes = 0
        self._real_now = store.now

    def home(self) -> Path:
        self._homes += 1
        home = self.work / f"edge-home-{self._homes}"
        os.environ["LLMPATH_HOME"] = str(home)
        return home

    def at(self, when: datetime) -> None:
        self.store.now = lambda: when

    def cli(self, *args: str | Path, allowed: tuple[int, ...] = (0,), what: str = "") -> Any:
        result = self.runner.invoke(self.app, [str(a) for a in args])
        crashed = (
            result.exception is not None and not isinstance(result.exception, SystemExit)
        ) or "Traceback" in result.stdout + result.stderr
        if crashed or result.exit_code not in allowed:
            self.figures.crashes += 1
            name = what or " ".join(str(a) for a in args)[:80]
            self.figures.examples.append(
                f"{name!a}: exit {result.exit_code} {result.exception!a} {result.stderr.strip()[-160:]!a}"
            )
        return result

    def finish(self) -> None:
        self.store.now = self._real_now

    # --- round trips: a simulated month, exported and imported back --------------------------------------

    def round_trips(self, rounds: int) -> None:
        reason = _ready_round_trips()
        if reason:
            self.figures.not_measured.append(f"round trips: {reason}")
            return
        roadmap = self.work / "round-trip.yaml"
        roadmap.write_text(synthetic_roadmap(40, rid="month"))
        for _ in range(rounds):
            self._round_trip(roadmap)

    def _simulated_month(self, roadmap: Path) -> datetime:
        rng = self.rng
        topics = [f"topic-{i}" for i in range(40)]
        when = datetime(2024, 10, 1, 8, tzinfo=UTC) + timedelta(minutes=rng.randrange(24 * 60))
        self.at(when)
        self.cli("--roadmap", roadmap, "goal", rng.choice(topics[20:]))
        if rng.random() < 0.5:
            self.cli("--roadmap", roadmap, "config", "eta", rng.choice(["on", "off"]))
        for _ in range(30):
            when += timedelta(days=1, minutes=rng.randrange(-120, 120))
            for _ in range(rng.randint(0, 3)):
                when += timedelta(minutes=rng.randrange(1, 90))
                self.at(when)
                kind = rng.random()
                topic = rng.choice(topics)
                if kind < 0.45:
                    self.cli("--roadmap", roadmap, "done", topic)
                elif kind < 0.6:
                    self.cli("--roadmap", roadmap, "start", topic)
                elif kind < 0.68:
                    self.cli("--roadmap", roadmap, "skip", topic)
                elif kind < 0.73:
                    self.cli("--roadmap", roadmap, "reset", topic)
                else:
                    text = rng.choice(
                        ["rank 8 was enough", "re-read §3", "`code` *and* [links](x)", "- [ ] no"]
                    )
                    self.cli("--roadmap", roadmap, "note", topic, "--", text)
        self.at(when)
        self.cli("--roadmap", roadmap, "review", "--every", f"{rng.randint(5, 40)}d")
        return when + timedelta(days=rng.randint(1, 50))  # the day of the export

    def _round_trip(self, roadmap: Path) -> None:
        f = self.figures
        f.round_trips += 1
        home = self.home()
        today = self._simulated_month(roadmap)
        self.at(today)
        db = db_file(home)
        before = _learner_rows(db)
        views = self._views(roadmap)
        for format, suffix in (("markdown", "md"), ("json", "json")):
            exported = home.parent / f"edge-{self._homes}.{suffix}"
            self.cli("--roadmap", roadmap, "export", "-f", format, "-o", exported)
            self.at(today + timedelta(days=20))  # imported weeks later: nothing may take today's date
            self.cli("--roadmap", roadmap, "import", exported)
            self.at(today)
            if _learner_rows(db) != before:
                if format == "markdown":
                    f.markdown_changed += 1
                else:
                    f.json_changed += 1
                f.examples.append(f"{format} round trip changed {_changed_tables(before, _learner_rows(db))}")
                before = _learner_rows(db)
        # The JSON backup in a fresh home: the same log, stats, review and status.
        backup = home.parent / f"edge-{self._homes}.json"
        self.home()
        self.cli("--roadmap", roadmap, "import", backup)
        fresh = self._views(roadmap)
        if fresh != views:
            f.fresh_differs += 1
            differ = [name for name in views if views[name] != fresh.get(name)]
            f.examples.append(f"JSON backup in a fresh home: {', '.join(differ)} differ")

    def _views(self, roadmap: Path) -> dict[str, str]:
        commands = {
            "log": ["log", "--json", "-n", "100000"],
            "stats": ["stats", "--json"],
            "review": ["review", "--json"],
            "status": ["status", "--json"],
            "next": ["next", "--json", "-n", "50"],
        }
        return {name: self.cli("--roadmap", roadmap, *args).stdout for name, args in commands.items()}

    # --- terminal safety: control characters in every field, note and import ----------------------------

    def hostile(self, rounds: int) -> None:
        reason = _ready_terminal()
        if reason:
            self.figures.not_measured.append(f"terminal safety: {reason}")
            return
        for _ in range(rounds):
            self._hostile_round()

    def _bad(self, *, one_line: bool = False, url: bool = False) -> str:
        """1-3 hostile strings; a title holds no CR (the loader refuses line breaks), a URL no space."""
        pool = [h for h in HOSTILE if not ((one_line or url) and "\r" in h)]
        text = "".join(self.rng.choice(pool) for _ in range(self.rng.randint(1, 3)))
        return text.replace(" ", "-") if url else text

    def _hostile_roadmap(self) -> dict:
        doc = yaml.safe_load(MINI.read_text())
        bad, line = self._bad, lambda: self._bad(one_line=True)
        doc["title"] = f"Mini {line()}"
        doc["description"] = bad()
        for source in doc["sources"]:
            source["title"] = line()
            source["url"] = f"https://example.com/{self._bad(url=True)}"
        for phase in doc["phases"]:
            phase["title"] = f"{phase['title']} {line()}"
            phase["summary"] = bad()
            for topic in phase["topics"]:
                topic["title"] = f"{topic['title']} {line()}"
                topic["summary"] = bad()
                topic["concepts"] = [line(), line()]
                topic["tools"] = [line()]
                topic["resources"] = [{"title": line(), "url": f"https://example.com/{self._bad(url=True)}"}]
        for track in doc["tracks"]:
            track["title"] = f"{track['title']} {line()}"
            track["summary"] = bad()
        return doc

    def _hostile_round(self) -> None:
        home = self.home()
        roadmap = home.parent / f"hostile-{self._homes}.yaml"
        doc = self._hostile_roadmap()
        roadmap.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=False))
        bad = self._bad
        ids = [t["id"] for phase in doc["phases"] for t in phase["topics"]]
        runs: list[list[str | Path]] = [
            [],  # the dashboard
            ["next", "--all"],
            ["status"],
            ["status", "basics"],
            ["done", "python"],
            ["start", "math"],
            ["note", "python", bad()],
            ["note", "numpy", f"first line\n{bad()}\nlast"],
            *[["show", topic] for topic in ids],
            ["path", "build-mlp"],
            ["log"],
            ["stats"],
            ["roadmaps"],
            ["track"],
            ["track", "coder"],
            ["goal", "build-mlp"],
            ["graph"],
            ["graph", "--format", "dot"],
            ["export"],
            ["export", "--graph"],
            ["show", f"nope{bad()}"],  # the error names what was typed
            ["done", f"pyth{bad()}"],
            ["paths"],
            ["doctor"],
        ]
        for args in runs:
            self._check_output(["--roadmap", roadmap, *args])
        # The re-load notice on stderr names the roadmap.
        doc["title"] = f"Mini again {self._bad(one_line=True)}"
        write_text_newer(roadmap, yaml.safe_dump(doc, sort_keys=False, allow_unicode=False))
        self._check_output(["--roadmap", roadmap, "next"])
        # Imports: lines and ids that match nothing are named in warnings.
        markdown = home.parent / f"hostile-{self._homes}.md"
        markdown.write_text(f"# {bad()}\n\n- [x] {bad()} `python`\n- [x] Title {bad()}\n- [ ] {bad()}\n")
        self._check_output(["--roadmap", roadmap, "import", markdown])
        document = {
            "format": "llmpath-progress",
            "version": 1,
            "roadmap": {"id": "mini", "title": bad()},
            "topics": [
                {
                    "id": f"x{i}",
                    "title": bad(),
                    "status": "done",
                    "notes": [{"at": "2024-01-01T00:00:00+00:00", "text": bad()}],
                }
                for i in range(2)
            ]
            + [
                {
                    "id": "math",
                    "status": "done",
                    "notes": [{"at": "2024-01-01T00:00:00+00:00", "text": bad()}],
                }
            ],
        }
        backup = home.parent / f"hostile-{self._homes}.json"
        backup.write_text(json.dumps(document))
        self._check_output(["--roadmap", roadmap, "import", backup])
        self._check_output(["--roadmap", roadmap, "show", "math"])
        # validate: the command people run on files they do not trust.
        untrusted = home.parent / f"untrusted-{self._homes}.yaml"
        broken = dict(doc)
        broken[f"ti{bad()}tle"] = "x"
        broken["phases"] = [{**doc["phases"][0], "id": f"Bad {bad()}"}]
        untrusted.write_text(yaml.safe_dump(broken, sort_keys=False, allow_unicode=False))
        self._check_output(["validate", untrusted], allowed=(0, 1))
        self._check_output(["--roadmap", untrusted, "next"], allowed=(1,))

    def _check_output(self, args: list[str | Path], allowed: tuple[int, ...] = (0, 1)) -> None:
        f = self.figures
        f.hostile_runs += 1
        result = self.cli(*args, allowed=allowed)
        raw = RAW_CONTROL.search(result.stdout + result.stderr)
        if raw:
            f.hostile_leaks += 1
            shown = ascii(" ".join(str(a) for a in args[2:])[:60])  # the benchmark's own output stays safe
            f.examples.append(f"raw {raw[0]!a} from `llmpath {shown}`")

    # --- the edges: pathological inputs (problems 7 and 8) ----------------------------------------------

    def edges(self) -> None:
        self._edge_crashes()
        self._edge_unwritable_backups()
        reason = _ready_round_trips()
        if reason:
            self.figures.not_measured.append(f"extreme dates: {reason}")
        else:
            for zone in ("Asia/Tokyo", "America/Los_Angeles"):
                self._edge_extreme_dates(zone)
        self._edge_long_markdown_line()
        self._edge_limits()

    def _edge_crashes(self) -> None:
        chain = {n: self._chain(n) for n in (1200, 5000)}
        for n, roadmap in chain.items():
            last = f"topic-{n - 1}"
            for i, args in enumerate(
                (["show", last], ["path", last], ["next", "--sort", "unlocks"], ["graph"])
            ):
                self._edge(f"{n}-topic chain: {args[0]}", ["--roadmap", roadmap, *args], fresh=i == 0)
        deep = self.work / "deep.json"
        deep.write_text("[" * 3000 + "]" * 3000)
        self._edge("JSON nested 3,000 deep", ["--roadmap", MINI, "import", deep])
        deeper = self.work / "deeper.json"
        nested = '{"a": ' * 3000 + "1" + "}" * 3000
        deeper.write_text(
            '{"format": "llmpath-progress", "version": 1, "roadmap": {"id": "mini"}, "topics": '
            f'[{{"id": "python", "status": "done", "notes": [{nested}]}}]}}'
        )
        self._edge("JSON nested 3,000 deep in a note", ["--roadmap", MINI, "import", deeper])
        self._edge("a lone surrogate in a note", ["--roadmap", MINI, "note", "python", "a\ud800b"])
        self._edge("... then show", ["--roadmap", MINI, "show", "python"], fresh=False)
        self._edge("... then export", ["--roadmap", MINI, "export"], fresh=False)
        surrogate = self.work / "surrogate.json"
        surrogate.write_text(
            '{"format": "llmpath-progress", "version": 1, "roadmap": {"id": "mini"}, "topics": '
            '[{"id": "python", "status": "done", "notes": [{"at": "2024-01-01T00:00:00+00:00", '
            '"text": "a\\ud800b"}]}]}'
        )
        self._edge("a lone surrogate in an imported note", ["--roadmap", MINI, "import", surrogate])

    def _edge_limits(self) -> None:
        """Unbounded work of problem 8, each run only once llmpath has the limit that bounds it (without it
        they take minutes and gigabytes)."""
        big_note = _limit("NOTE")
        if big_note is None:
            self.figures.not_measured.append("a 15 MB note: no limit on a note's size in the code yet")
        else:
            self._edge(f"a 15 MB note ({big_note})", ["--roadmap", MINI, "note", "python", "x" * 15_000_000])
            self._edge("... then show", ["--roadmap", MINI, "show", "python"], fresh=False, limit=5.0)
        long_lists = _limit("LIST", "ITEMS", "CONCEPTS")
        if long_lists is None:
            self.figures.not_measured.append(
                "1.5M concepts: no limit on a topic's list lengths in the code yet"
            )
        else:
            roadmap = self.work / "concepts.yaml"
            roadmap.write_text(_one_topic_roadmap("concepts: [" + ",".join(["a"] * 1_500_000) + "]"))
            self._edge(f"1.5M concepts ({long_lists})", ["--roadmap", roadmap, "next"], limit=10.0)
        many_errors = _limit("ERRORS", "PROBLEMS")
        if many_errors is None:
            self.figures.not_measured.append(
                "1.5M bad items: no limit on the errors collected in the code yet"
            )
        else:
            roadmap = self.work / "bad-items.yaml"
            roadmap.write_text(_one_topic_roadmap("requires: [" + ",".join(["A"] * 1_500_000) + "]"))
            self._edge(f"validate, 1.5M bad items ({many_errors})", ["validate", roadmap], limit=10.0)

    def _chain(self, n: int) -> Path:
        roadmap = self.work / f"chain-{n}.yaml"
        topics = [{"id": "topic-0", "title": "Topic 0"}] + [
            {"id": f"topic-{i}", "title": f"Topic {i}", "requires": [f"topic-{i - 1}"]} for i in range(1, n)
        ]
        doc = {
            "schema": 1,
            "id": f"chain{n}",
            "title": "Chain",
            "phases": [{"id": "all", "title": "All", "topics": topics}],
        }
        roadmap.write_text(yaml.safe_dump(doc, sort_keys=False))
        return roadmap

    def _edge(self, name: str, args: list[str | Path], limit: float = 20.0, fresh: bool = True) -> Any:
        f = self.figures
        f.edge_cases += 1
        if fresh:
            self.home()
        crashes = f.crashes
        started = time.monotonic()
        result = self.cli(*args, allowed=(0, 1), what=name)
        seconds = time.monotonic() - started
        f.edge_crashes += f.crashes - crashes
        f.crashes = crashes  # counted once, as an edge crash
        if seconds > limit:
            f.edge_crashes += 1
            f.examples.append(f"{name}: {seconds:.1f} s (limit {limit:.0f} s)")
        if seconds > f.edge_slowest[0]:
            f.edge_slowest = (seconds, name)
        return result

    def _edge_unwritable_backups(self) -> None:
        home = self.home()
        self.cli("--roadmap", MINI, "done", "python")
        backups = home / "backups"
        shutil.rmtree(backups, ignore_errors=True)
        if os.geteuid() == 0:  # root writes into a 0500 folder: a file where the folder should be instead
            backups.write_text("not a folder\n")
        else:
            backups.mkdir(mode=0o500)
        export = self.work / "unwritable.json"
        self.cli("--roadmap", MINI, "export", "-f", "json", "-o", export)
        self._edge(
            "import with an unwritable backups/ folder", ["--roadmap", MINI, "import", export], fresh=False
        )
        if backups.is_dir():
            backups.chmod(0o700)

    def _edge_extreme_dates(self, zone: str) -> None:
        old = os.environ.get("TZ")
        os.environ["TZ"] = zone
        time.tzset()
        try:
            for stamp in ("9999-12-31T23:59:59Z", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z"):
                export = self.work / "extreme.json"
                export.write_text(
                    json.dumps(
                        {
                            "format": "llmpath-progress",
                            "version": 1,
                            "roadmap": {"id": "mini"},
                            "topics": [{"id": "python", "status": "done", "finished_at": stamp}],
                        }
                    )
                )
                self._edge(
                    f"finished_at {stamp} under TZ={zone}: import", ["--roadmap", MINI, "import", export]
                )
                for command in ("show python", "log", "stats", "doctor"):
                    self._edge(f"... then {command}", ["--roadmap", MINI, *command.split()], fresh=False)
        finally:
            if old is None:
                os.environ.pop("TZ", None)
            else:
                os.environ["TZ"] = old
            time.tzset()

    def _edge_long_markdown_line(self) -> None:
        """`- [ ] ` + 60,000 spaces + `x`: 34 s while markdown parsing was quadratic. A smaller line first,
        so that quadratic parsing is reported in a second, not waited for."""
        probe = self.work / "probe.md"
        probe.write_text("- [ ] " + " " * 12_000 + "x\n")
        started = time.monotonic()
        self._edge("markdown line of 12,000 spaces", ["--roadmap", MINI, "import", probe])
        seconds = time.monotonic() - started
        if seconds > 1.0:
            self.figures.not_measured.append(
                f"markdown line of 60,000 spaces: 12,000 took {seconds:.1f} s, parsing is still quadratic"
            )
            return
        line = self.work / "long-line.md"
        line.write_text("- [ ] " + " " * 60_000 + "x\n")
        self._edge("markdown line of 60,000 spaces", ["--roadmap", MINI, "import", line], limit=2.0)


def _one_topic_roadmap(field: str) -> str:
    topic = f"      - id: t\n        title: T\n        {field}\n"
    return "schema: 1\nid: huge\ntitle: Huge\nphases:\n  - id: p\n    title: P\n    topics:\n" + topic


def write_text_newer(path: Path, text: str) -> None:
    old = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(old, old + 10**9))


def _learner_rows(db: Path) -> dict[str, list[tuple]]:
    """Everything a learner made, as rows. Settings: only the learner's own (review, eta, a followed track),
    not what llmpath keeps for itself (the roadmap in use, when it last took a backup...)."""
    rows = {table: sorted(query(db, f"SELECT * FROM {table}"), key=repr) for table in LEARNER_TABLES}
    rows["setting"] = [
        row
        for row in rows["setting"]
        if row[0] in ("review_every_days", "eta") or str(row[0]).startswith("track:")
    ]
    return rows


def _changed_tables(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> str:
    return ", ".join(t for t in LEARNER_TABLES if before[t] != after[t]) or "nothing"


def bench_edges(work: Path, round_trips: int, hostile: int, edges: bool, rng: random.Random) -> EdgeFigures:
    started = time.monotonic()
    bench = EdgeBench(work, rng)
    try:
        bench.round_trips(round_trips)
        bench.hostile(hostile)
        if edges:
            bench.edges()
    finally:
        bench.finish()
    bench.figures.seconds = time.monotonic() - started
    return bench.figures


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
    parser.add_argument(
        "--round-trips", type=int, default=4, help="simulated months exported and imported back (4)"
    )
    parser.add_argument(
        "--hostile", type=int, default=4, help="rounds of control characters in every field (4)"
    )
    parser.add_argument(
        "--no-edges", action="store_true", help="leave out the pathological inputs (chains, deep JSON...)"
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
        e = bench_edges(work, args.round_trips, args.hostile, not args.no_edges, rng)
        print(f"issue 11 cases in {e.seconds:.1f} s")
        if e.round_trips:
            print(
                f"  round trips of a simulated month: {e.round_trips}; markdown import changed progress: "
                f"{e.markdown_changed}   JSON import changed progress: {e.json_changed}   JSON backup in a "
                f"fresh home differs: {e.fresh_differs}"
            )
        if e.hostile_runs:
            print(
                f"  runs over hostile text: {e.hostile_runs}, "
                f"raw control characters in output: {e.hostile_leaks}"
            )
        if e.edge_cases:
            print(
                f"  pathological inputs: {e.edge_cases}, tracebacks or too slow: {e.edge_crashes} "
                f"(slowest: {e.edge_slowest[1]}, {e.edge_slowest[0]:.1f} s)"
            )
        print(f"  other tracebacks: {e.crashes}")
        for reason in e.not_measured:
            print(f"  not measured: {reason}")
        for example in e.examples[:10]:
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
        + e.problems
    )
    verdict = f"{problems} PROBLEMS" if problems else "no problems"
    print(f"total: {time.monotonic() - started:.0f} s; {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
