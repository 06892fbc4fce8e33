"""The fork server and database helpers shared by tests/test_reliability.py and benchmarks/reliability.py.

Starting a Python interpreter and importing llmpath's dependencies costs ~1 s of CPU, so llmpath processes
are forked from a small "fork server": a subprocess that imports llmpath once, then forks one child per job.
Each child runs `llmpath.cli.main()` with `sys.argv` set (exactly what `python -m llmpath ...` runs), once
per call, and reports each call's exit code on a pipe *after* the call returned, i.e. after its transaction
committed. A kill then lands inside the database work instead of inside `import sqlalchemy`, and hundreds of
commands take seconds, not minutes. The fork server is the parent of every child, so it also sends the
SIGKILLs: a killed pid is never one that was reaped and reused.

Children run the installed llmpath (`pip install .`, or `pip install -e .` while developing), the same
package every other test and every user runs. This module imports neither pytest nor llmpath itself, so
the benchmark can use it without pytest installed.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
MINI = ROOT / "tests" / "data" / "mini.yaml"
DB_NAME = "llmpath.db"
# Never taken from the developer's shell: a test passes its own database and learner when it wants them.
NOT_INHERITED = ("LLMPATH_DATABASE_URL", "LLMPATH_LEARNER")


# --- environment, roadmaps and database checks ------------------------------------------------------------


def child_env(home: Path) -> dict[str, str]:
    """The environment of a real `python -m llmpath` subprocess: its own data dir, the installed package."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("LLMPATH_ROADMAP", "LLMPATH_HOME", *NOT_INHERITED)
    }
    env["LLMPATH_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    return env


def db_file(home: Path) -> Path:
    return home / DB_NAME


def query(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the database with the sqlite3 module directly, not through llmpath."""
    assert path.exists(), f"{path} does not exist"
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def integrity(path: Path) -> str:
    """`PRAGMA integrity_check` of an existing database: "ok", or what is wrong."""
    rows = query(path, "PRAGMA integrity_check")
    return "; ".join(str(r[0]) for r in rows)


def integrity_ok(path: Path) -> bool:
    """Whether a database that a kill may have hit is undamaged; a missing one (killed before it was
    created) has nothing to damage, and one SQLite cannot even read is damaged."""
    if not path.exists():
        return True
    try:
        return integrity(path) == "ok"
    except sqlite3.DatabaseError:
        return False


def done_topics(home: Path, roadmap_id: str) -> set[str]:
    rows = query(
        db_file(home), "SELECT topic_id FROM progress WHERE roadmap_id = ? AND status = 'done'", (roadmap_id,)
    )
    return {r[0] for r in rows}


def synthetic_roadmap(
    n: int, *, rid: str = "synth", phases: int = 4, summary: bool = False, chain: bool = False
) -> str:
    """A valid roadmap of `n` topics `topic-0..n-1`; topic i requires i-1 and i-7 (when they exist), or with
    `chain` only i-1: one path as deep as the roadmap is long."""
    per = max(1, n // phases)
    doc_phases = []
    i = 0
    for p in range(phases):
        count = per if p < phases - 1 else n - i
        topics = []
        for _ in range(count):
            topic: dict = {"id": f"topic-{i}", "title": f"Topic number {i}"}
            requires = [f"topic-{j}" for j in ((i - 1,) if chain else (i - 1, i - 7)) if j >= 0]
            if requires:
                topic["requires"] = requires
            if summary:
                topic["summary"] = "A longer summary to make the file take a while to load. " * 4
            topics.append(topic)
            i += 1
        doc_phases.append({"id": f"phase-{p}", "title": f"Phase {p}", "topics": topics})
    doc = {"schema": 1, "id": rid, "title": f"Synthetic {n}", "phases": doc_phases}
    return yaml.safe_dump(doc, sort_keys=False)


# --- the fork server --------------------------------------------------------------------------------------

FORK_SERVER = r"""
import json, os, signal, sys, time, traceback
import sqlite3, yaml, sqlalchemy, sqlmodel, rich.console, rich.table, sqlalchemy.dialects.sqlite
import llmpath.cli, llmpath.db, llmpath.export, llmpath.graphs, llmpath.lookup, llmpath.migrations
import llmpath.planner, llmpath.render, llmpath.roadmap, llmpath.store, llmpath.sync, llmpath.transfer
import llmpath.files
try:  # PostgreSQL's driver and dialect, when installed: children then start as fast on either engine
    import psycopg, sqlalchemy.dialects.postgresql.psycopg, llmpath.postgres
except ImportError:
    pass

report = os.fdopen(os.dup(1), "w", buffering=1)


def child(job, gate):
    os.environ.pop("LLMPATH_ROADMAP", None)
    os.environ.update(job["env"])
    os.dup2(os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), 2)
    os.dup2(os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), 1)
    os.read(gate, 1)  # start together with the other children of this batch
    for args in job["calls"]:
        sys.argv = ["llmpath", *args]
        try:
            llmpath.cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        report.write(json.dumps({"pid": os.getpid(), "code": code, "args": args}) + "\n")


report.write("ready\n")
for line in sys.stdin:
    batch = json.loads(line)
    gate, release = os.pipe()
    pids = []
    for job in batch["jobs"]:
        pid = os.fork()
        if pid == 0:
            try:
                os.close(release)
                child(job, gate)
            finally:
                os._exit(0)
        pids.append(pid)
    os.close(gate)
    report.write(json.dumps({"forked": pids}) + "\n")
    os.write(release, b"x" * len(pids))
    os.close(release)
    if batch["kill_after"] is not None:
        started = time.monotonic()
        for delay, pid in sorted(zip(batch["kill_after"], pids)):
            time.sleep(max(0.0, started + delay - time.monotonic()))
            os.kill(pid, signal.SIGKILL)  # our own unreaped child (maybe a zombie): never another process
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        report.write(json.dumps({"reaped": pid, "status": status}) + "\n")
"""


@dataclass
class ChildResult:
    pid: int
    calls: list[tuple[list[str], int]] = field(default_factory=list)  # (args, exit code) of finished calls
    status: int = 0
    stdout: str = ""
    stderr: str = ""

    @property
    def killed(self) -> bool:
        return os.WIFSIGNALED(self.status) and os.WTERMSIG(self.status) == signal.SIGKILL

    @property
    def codes(self) -> list[int]:
        return [code for _, code in self.calls]


class ForkServer:
    """The fork server subprocess. `timeout` is how long `run` waits for the next report of a batch (a
    finished call or a reaped child) before it gives up."""

    def __init__(self, workdir: Path, *, timeout: float = 120):
        self.workdir = workdir
        self.timeout = timeout
        self.errlog = workdir / "fork-server.err"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errlog.open("w"),
            env=child_env(workdir / "unused-home"),
        )
        self._buffer = b""
        self._jobs = 0
        if self._readline(120) != "ready":
            raise RuntimeError("fork server did not start:\n" + self.errlog.read_text())

    def _readline(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError(f"fork server silent for {timeout} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("fork server died:\n" + self.errlog.read_text())
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def run(
        self,
        home: Path | list[Path],
        calls_per_child: list[list[list]],
        *,
        kill_after: float | list[float] | None = None,
        env: dict[str, str] | list[dict[str, str]] | None = None,
    ) -> list[ChildResult]:
        """Fork one child per call list, all started together, each on `home` (or its own of a list), with
        `env` (or its own of a list) added to its environment (LLMPATH_DATABASE_URL, LLMPATH_LEARNER).

        With `kill_after`, SIGKILL every child that many seconds after they started (or each child after
        its own delay, from a list). Each child's stdout and stderr are read into its result, and their
        files deleted.
        """
        homes = home if isinstance(home, list) else [home] * len(calls_per_child)
        envs = env if isinstance(env, list) else [env or {}] * len(calls_per_child)
        if isinstance(kill_after, (int, float)):
            kill_after = [kill_after] * len(calls_per_child)
        jobs = []
        for child_home, calls, extra in zip(homes, calls_per_child, envs, strict=True):
            self._jobs += 1
            jobs.append(
                {
                    "env": {"LLMPATH_HOME": str(child_home), "NO_COLOR": "1", "COLUMNS": "200", **extra},
                    "stdout": str(self.workdir / f"child-{self._jobs}.out"),
                    "stderr": str(self.workdir / f"child-{self._jobs}.err"),
                    "calls": [[str(a) for a in call] for call in calls],
                }
            )
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"jobs": jobs, "kill_after": kill_after}) + "\n").encode())
        self.proc.stdin.flush()
        pids = json.loads(self._readline(120))["forked"]
        results = {pid: ChildResult(pid) for pid in pids}
        reaped = 0
        while reaped < len(pids):
            message = json.loads(self._readline(self.timeout))
            if "reaped" in message:
                results[message["reaped"]].status = message["status"]
                reaped += 1
            else:
                results[message["pid"]].calls.append((message["args"], message["code"]))
        out = [results[pid] for pid in pids]
        for job, result in zip(jobs, out, strict=True):
            for stream in ("stdout", "stderr"):
                path = Path(job[stream])
                if path.exists():
                    setattr(result, stream, path.read_text(errors="replace"))
                    path.unlink()
        return out

    def one(self, home: Path, *calls: list) -> ChildResult:
        """One child on `home` that makes `calls` one after the other."""
        (result,) = self.run(home, [list(calls)])
        return result

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


LINE_EDITS = ("delete", "duplicate", "indent", "dedent", "swap", "value", "swapvalue")


def edit_lines(lines: list[str], operation: str, i: int, j: int, value: str) -> None:
    """One malformation of a roadmap file's lines, in place: the vocabulary both fuzzers draw from."""
    if operation == "delete":
        del lines[i]
    elif operation == "duplicate":
        lines.insert(j, lines[i])
    elif operation == "indent":
        lines[i] = "  " + lines[i]
    elif operation == "dedent":
        lines[i] = lines[i][2:]
    elif operation == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif operation == "value" and ":" in lines[i]:
        lines[i] = f"{lines[i].split(':', 1)[0]}: {value}"
    elif operation == "swapvalue" and ":" in lines[i] and ":" in lines[j]:
        (ki, vi), (kj, vj) = lines[i].split(":", 1), lines[j].split(":", 1)
        lines[i], lines[j] = f"{ki}:{vj}", f"{kj}:{vi}"
