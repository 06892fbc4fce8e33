"""llmpath's performance budget, measured: every command against a floor, side by side, in one run.

    python benchmarks/bench.py            # 3 rounds: under two minutes on 2 cores
    python benchmarks/bench.py --quick    # 2 rounds
    python benchmarks/bench.py --runs 7   # more rounds, steadier medians
    python benchmarks/bench.py --samples  # also list every run (wall and CPU time), to judge the noise
    python benchmarks/bench.py --clock cpu  # ratios of CPU time: steadier on a busy shared machine

Everything happens in a temporary directory, with LLMPATH_HOME pointing into it: the user's data is never
touched. A figure is never compared with a number measured on another day or machine: each command runs
in rounds together with its floor (`floor_db.py`, `floor_cli.py`) or base (the same command on the shipped
roadmap), so both see the same machine load, and the table shows medians and their ratio. The exit code
is 0 even when a target is missed: this is a report. The last line says how many targets were met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from synthetic import write_roadmap  # noqa: E402  (a sibling file, not a package)

SIZES = (100, 1_000, 5_000, 20_000)
CLOCK = "wall"  # or "cpu": set by --clock
TARGET_SIZE = 5_000  # where the per-command targets apply
LARGE_SIZE = 20_000  # where growth must stay linear
NOISE_SECONDS = 0.05  # run-to-run noise of one command on a busy 2-core machine: smaller gaps mean nothing
NOISE_MIB = 2.0
FALLBACK_TOPICS = 90  # size of the stand-in when the shipped roadmap is missing or invalid
SYNTHETIC_FIRST = "t00001"  # synthetic topic 1 never has prerequisites: always available


# --- running a command ------------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    cpu: float  # the child's user + system CPU time
    rss_kib: int
    code: int
    stdout: str
    stderr: str


def run(argv: list[str], env: dict[str, str]) -> Run:
    """Run a command to completion, timing it and reading its own peak RSS.

    This is `subprocess.run` with output captured, except that the child is reaped with `os.wait4`, which
    returns that child's resource usage. `getrusage(RUSAGE_CHILDREN)` cannot give it: its `ru_maxrss` is the
    maximum over every child so far, so a small command after a large one would report the large one's.
    Output goes to temporary files rather than pipes so that no output size can block the child.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # tells Popen the child is already reaped
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss,  # KiB on Linux
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


@dataclass
class Series:
    """Every run of one measured command, with the round it ran in."""

    label: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    round_ids: list[int] = field(default_factory=list)
    failure: str = ""  # the first failed run's exit code and stderr

    def add(self, result: Run, round_id: int) -> None:
        if result.code != 0:
            if not self.failure:
                self.failure = f"exit {result.code}: {result.stderr.strip()[-300:]}"
            return
        self.seconds.append(result.cpu if CLOCK == "cpu" else result.seconds)
        self.cpu.append(result.cpu)
        self.rss_kib.append(result.rss_kib)
        self.round_ids.append(round_id)

    @property
    def ok(self) -> bool:
        return bool(self.seconds) and not self.failure

    @property
    def time(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    def by_round(self) -> dict[int, float]:
        rounds: dict[int, list[float]] = {}
        for round_id, seconds in zip(self.round_ids, self.seconds, strict=True):
            rounds.setdefault(round_id, []).append(seconds)
        return {round_id: statistics.median(times) for round_id, times in rounds.items()}

    @property
    def rss_mib(self) -> float:
        return statistics.median(self.rss_kib) / 1024 if self.rss_kib else float("nan")


@dataclass
class Job:
    """One step of a round: an optional untimed preparation, the timed command, an optional untimed undo."""

    series: Series
    argv: list[str]
    env: dict[str, str]
    before: Callable[[], None] | None = None
    after: tuple[list[str], dict[str, str]] | None = None


_rounds_run = 0


def run_round(jobs: list[Job], shift: int = 0) -> None:
    """Run every job once, starting at `jobs[shift]`.

    Interleaving puts a command and its floor under the same conditions (CPU frequency, other load, page
    cache); starting each round elsewhere keeps a job from always following the same neighbour.
    """
    global _rounds_run
    _rounds_run += 1
    shift %= len(jobs)
    for job in jobs[shift:] + jobs[:shift]:
        if job.before is not None:
            job.before()
        job.series.add(run(job.argv, job.env), _rounds_run)
        if job.after is not None:
            undo = run(*job.after)
            if undo.code != 0:
                job.series.failure = job.series.failure or f"undo failed: {undo.stderr.strip()[-300:]}"


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    sys.stderr.write(f"[{time.perf_counter() - _STARTED:5.1f} s] {message}\n")
    sys.stderr.flush()


# --- the report -------------------------------------------------------------------------------------------


@dataclass
class Row:
    measure: str
    median: str
    base: str = ""
    ratio: str = ""
    target: str = ""
    ok: bool | None = None  # None: information, not a target


def seconds(value: float) -> str:
    return f"{value:.3f} s"


def mib(value: float) -> str:
    return f"{value:.1f} MiB"


def paired_ratio(value: Series, base: Series) -> float:
    """The median, over the rounds both ran in, of value / base within a round.

    A machine's speed drifts during a run (other programs start and stop); a ratio taken inside each round
    cancels the drift that a ratio of the two overall medians would keep. Without common rounds, that one.
    """
    mine, theirs = value.by_round(), base.by_round()
    common = mine.keys() & theirs.keys()
    if not common:
        return value.time / base.time
    return statistics.median(mine[r] / theirs[r] for r in common)


def ratio_row(measure: str, value: Series, base: Series, limit: float, base_name: str) -> Row:
    """`value` against `limit` x `base`, by time."""
    if not (value.ok and base.ok):
        return Row(measure, "FAILED" if not value.ok else seconds(value.time), target=base_name, ok=False)
    ratio = paired_ratio(value, base)
    return Row(
        measure,
        seconds(value.time),
        seconds(base.time),
        f"{ratio:.2f}x",
        f"≤ {limit:.2f}x {base_name}",
        ratio <= limit,
    )


def rss_row(measure: str, value: Series, base: Series, limit: float, base_name: str) -> Row:
    if not (value.ok and base.ok):
        return Row(measure, "FAILED", target=base_name, ok=False)
    ratio = value.rss_mib / base.rss_mib
    return Row(
        measure,
        mib(value.rss_mib),
        mib(base.rss_mib),
        f"{ratio:.2f}x",
        f"≤ {limit:.2f}x {base_name}",
        ratio <= limit,
    )


def growth_row(measure: str, large: Series, mid: Series, floor: Series, *, memory: bool = False) -> Row:
    """Linear growth: (large - floor) ≤ 4 x (mid - floor), 4 being 20,000 / 5,000 topics.

    Subtracting the floor keeps the constant cost of starting Python and importing the stack out of the
    comparison; what remains grows with the roadmap and may grow at most in proportion to it. Times are
    compared within each round, as in `paired_ratio`; peak memory, which does not drift, by medians.
    Where the 5,000-topic command costs next to nothing over the floor, that difference is mostly noise
    and would make any ratio explode, so it counts as at least NOISE_SECONDS (NOISE_MIB for memory).
    """
    factor = LARGE_SIZE / TARGET_SIZE
    rule = f"(20k - floor) ≤ {factor:.0f} x (5k - floor)"
    if not (large.ok and mid.ok and floor.ok):
        shown = mib(large.rss_mib) if memory else seconds(large.time)
        return Row(measure, shown if large.ok else "FAILED", target=rule, ok=False)
    if memory:
        pairs = [(large.rss_mib - floor.rss_mib, mid.rss_mib - floor.rss_mib)]
    else:
        big, middle, base = large.by_round(), mid.by_round(), floor.by_round()
        common = big.keys() & middle.keys() & base.keys()
        if common:
            pairs = [(big[r] - base[r], middle[r] - base[r]) for r in common]
        else:
            pairs = [(large.time - floor.time, mid.time - floor.time)]
    noise = NOISE_MIB if memory else NOISE_SECONDS
    growths = [grown / max(before, noise) for grown, before in pairs]
    growth = statistics.median(growths)
    show = mib if memory else seconds
    return Row(
        measure,
        show(large.rss_mib if memory else large.time),
        show(mid.rss_mib if memory else mid.time),
        f"{growth:.2f}",
        rule,
        growth <= factor,
    )


def info_row(measure: str, series: Series, *, memory: bool = False) -> Row:
    if not series.ok:
        return Row(measure, "FAILED")  # listed under the table; not a target
    return Row(measure, mib(series.rss_mib) if memory else seconds(series.time))


def markdown(rows: list[Row]) -> str:
    header = ["measure", "median", "floor/base", "ratio", "target", "ok"]
    marks = {True: "PASS", False: "MISS", None: ""}
    body = [[r.measure, r.median, r.base, r.ratio, r.target, marks[r.ok]] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    right = {1, 2, 3}  # numbers align right

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        ("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return "\n".join([line(header), rule + "|", *(line(b) for b in body)])


# --- the benchmark ----------------------------------------------------------------------------------------


def llmpath_command() -> tuple[list[str], dict[str, str]]:
    """The console script users run, from this interpreter's bin folder; else `python -m llmpath`."""
    script = Path(sys.executable).parent / "llmpath"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)], {}
    extra = {}
    try:
        import llmpath  # noqa: F401
    except ImportError:  # not installed: run the source checkout
        extra["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    return [sys.executable, "-m", "llmpath"], extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds instead of 3 (about a minute)")
    parser.add_argument("--runs", type=int, default=None, help="rounds of the side-by-side comparisons")
    parser.add_argument("--samples", action="store_true", help="also list every run's wall and CPU time")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="what a run's time is: wall (what a user waits; the default) or cpu (the command's user+system "
        "CPU time: far less disturbed by other processes on a shared machine, but blind to fsync waits)",
    )
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock
    runs = args.runs or (2 if args.quick else 3)
    if runs < 1:
        parser.error("--runs must be at least 1")
    # The budget is two minutes and a data command costs about a second (0.6 s of it is Python importing
    # the stack), so runs are spent where targets are: every round holds floor_db, the shipped roadmap,
    # 5,000 and 20,000 topics. 100 and 1,000 topics are for information and get fewer rounds; a first load
    # at 20,000 takes about 7 s and runs once unless many rounds are asked for.
    small_runs = max(1, runs // 3)
    large_first_runs = max(1, runs // 4)

    llmpath, extra_env = llmpath_command()
    py = sys.executable
    started = time.perf_counter()
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="llmpath-bench-") as tmp_name:
        tmp = Path(tmp_name)
        skip = ("LLMPATH_", "_LLMPATH_", "COMP_", "PYTHONDONTWRITEBYTECODE")
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(skip)} | extra_env
        # Cache bytecode as an installed package does (pip compiles it), but in the temporary folder: an
        # editable install under PYTHONDONTWRITEBYTECODE would otherwise recompile llmpath on every run
        # (about 50 ms), which users never pay. The warm-up fills this cache for every program measured.
        base_env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")

        def env(home: str, **more: str) -> dict[str, str]:
            (tmp / home).mkdir(exist_ok=True)
            return {**base_env, "LLMPATH_HOME": str(tmp / home), **more}

        floor_cli = [py, str(HERE / "floor_cli.py"), "--help"]
        floor_db = [py, str(HERE / "floor_db.py"), str(tmp / "floor.db")]
        files = {n: write_roadmap(tmp / f"synthetic-{n}.yaml", n) for n in SIZES}
        notes: list[str] = []

        # Warm-up: page cache, bytecode, the floor's database; and the shipped roadmap loaded once.
        progress("warm-up")
        for argv in (floor_cli, floor_db, [*llmpath, "--help"]):
            run(argv, base_env)
        shipped_env = env("shipped")
        first = run([*llmpath, "next", "--json"], shipped_env)
        if first.code != 0:
            # The shipped roadmap is missing or invalid (it may be mid-edit): stand in a synthetic one.
            stand_in = write_roadmap(tmp / "stand-in.yaml", FALLBACK_TOPICS)
            reason = (first.stderr.strip().splitlines() or [f"exit code {first.code}"])[-1]
            notes.append(
                f"The shipped roadmap did not load ({reason}); the 'shipped' figures use a synthetic "
                f"{FALLBACK_TOPICS}-topic roadmap instead."
            )
            shipped_env = env("stand-in", LLMPATH_ROADMAP=str(stand_in))
            first = run([*llmpath, "next", "--json"], shipped_env)
            if first.code != 0:
                sys.stderr.write(f"llmpath does not run: {first.stderr}\n")
                return 1
        topic = json.loads(first.stdout)[0]["id"]  # the first topic `next` offers: show it, mark it done
        shipped_topics = json.loads(run([*llmpath, "status", "--json"], shipped_env).stdout)["total"]["total"]
        version = run([*llmpath, "--version"], base_env).stdout.strip()

        # Tab completion: check that it offers ids before timing it.
        def completion(prefix: str) -> tuple[list[str], dict[str, str]]:
            words = f"llmpath done {prefix}"
            return [*llmpath], {
                **shipped_env,
                "_LLMPATH_COMPLETE": "complete_bash",
                "COMP_WORDS": words,
                "COMP_CWORD": "2",
            }

        floor_completion = {
            **base_env,
            "_FLOOR_CLI.PY_COMPLETE": "complete_bash",  # Typer's variable for the program "floor_cli.py"
            "COMP_WORDS": "floor_cli.py --na",
            "COMP_CWORD": "1",
        }
        prefix = "tra"
        candidates = run(*completion(prefix)).stdout.split()
        if not candidates:  # no "tra..." id in this roadmap: complete the first topic's prefix instead
            prefix = topic[:3]
            candidates = run(*completion(prefix)).stdout.split()

        # --- the cheap paths against the smallest Typer program
        cli = {name: Series(name) for name in ("floor_cli", "help", "version", "complete", "floor_complete")}
        if not candidates:
            cli["complete"].failure = f"completing '{prefix}' offered no topic id"
        cheap = [
            Job(cli["floor_cli"], floor_cli, base_env),
            Job(cli["help"], [*llmpath, "--help"], shipped_env),
            Job(cli["version"], [*llmpath, "--version"], shipped_env),
            Job(cli["complete"], *completion(prefix)),
            # For information: Typer's completion path costs more than --help, as it parses the arguments
            # (and recent Typer, 0.29 here, coerces them with pydantic, which it imports): the floor's own.
            Job(cli["floor_complete"], [py, str(HERE / "floor_cli.py")], floor_completion),
        ]
        for number in range(runs):
            progress(f"--help, --version, completion: round {number + 1}/{runs}")
            run_round(cheap, shift=number)

        # --- synthetic roadmaps, each size in its own data folder
        sized = {
            n: {k: Series(f"{k}, {n} topics") for k in ("first", "resync", "next", "status", "done")}
            for n in SIZES
        }

        def touch(path: Path) -> Callable[[], None]:
            # A new mtime with the same content: llmpath hashes the file and finds nothing to re-load.
            return lambda: os.utime(path, ns=(time.time_ns(), time.time_ns()))

        def first_load(n: int, number: int) -> Job:
            # A fresh data folder each time; number 0's stays, for the steady-state measures.
            home = env(f"{n}-{number}" if number else f"{n}")
            return Job(sized[n]["first"], [*llmpath, "--roadmap", str(files[n]), "next"], home)

        def steady(n: int) -> list[Job]:
            home, roadmap = env(f"{n}"), ["--roadmap", str(files[n])]
            reset = ([*llmpath, *roadmap, "reset", SYNTHETIC_FIRST], home)
            return [
                Job(sized[n]["resync"], [*llmpath, *roadmap, "next"], home, before=touch(files[n])),
                Job(sized[n]["next"], [*llmpath, *roadmap, "next"], home),
                Job(sized[n]["status"], [*llmpath, *roadmap, "status"], home),
                Job(sized[n]["done"], [*llmpath, *roadmap, "done", SYNTHETIC_FIRST], home, after=reset),
            ]

        # 100 and 1,000 topics, for information. A round's first loads precede its other runs: no rotation.
        for number in range(small_runs):
            progress(f"100 and 1,000 topics: round {number + 1}/{small_runs}")
            jobs = [job for n in SIZES[:2] for job in (first_load(n, number), *steady(n))]
            run_round(jobs)

        # First loads of 5,000 and 20,000 topics into the data folders the rounds below use; with floor_db in
        # the same round, for the growth check.
        floor = Series("floor_db")
        progress("first loads of 5,000 and 20,000 topics")
        run_round([Job(floor, floor_db, base_env), first_load(TARGET_SIZE, 0), first_load(LARGE_SIZE, 0)])

        # --- the data commands, side by side: floor_db, the shipped roadmap, 5,000 and 20,000 topics
        shipped = {k: Series(f"{k}, shipped") for k in ("next", "status", "show", "done", "report")}
        report_file = tmp / "report.html"  # removed before each run: every run writes a new file
        common = [
            Job(floor, floor_db, base_env),
            Job(shipped["next"], [*llmpath, "next"], shipped_env),
            Job(shipped["status"], [*llmpath, "status"], shipped_env),
            Job(
                shipped["report"],
                [*llmpath, "report", "-o", str(report_file)],
                shipped_env,
                before=lambda: report_file.unlink(missing_ok=True),
            ),
            Job(shipped["show"], [*llmpath, "show", topic], shipped_env),
            Job(
                shipped["done"],
                [*llmpath, "done", topic],
                shipped_env,
                after=([*llmpath, "reset", topic], shipped_env),
            ),
            *steady(TARGET_SIZE),
            Job(floor, floor_db, base_env),  # twice a round: five ratios rest on it
            *steady(LARGE_SIZE),
        ]
        for number in range(runs):
            progress(f"shipped roadmap, 5,000 and 20,000 topics: round {number + 1}/{runs}")
            jobs = [*common, first_load(TARGET_SIZE, number + 1)]
            if number + 1 < large_first_runs:
                jobs.append(first_load(LARGE_SIZE, number + 1))
            run_round(jobs, shift=number * 3)

    # --- the table
    k5, k20 = sized[TARGET_SIZE], sized[LARGE_SIZE]
    rows = [
        info_row("floor_cli.py --help", cli["floor_cli"]),
        ratio_row("llmpath --help", cli["help"], cli["floor_cli"], 1.2, "floor_cli"),
        ratio_row("llmpath --version", cli["version"], cli["floor_cli"], 1.2, "floor_cli"),
        ratio_row(f"Tab completion 'done {prefix}'", cli["complete"], cli["floor_cli"], 1.2, "floor_cli"),
        info_row("floor_cli.py Tab completion (for information)", cli["floor_complete"]),
        info_row("floor_db.py", floor),
        ratio_row(f"next (shipped, {shipped_topics} topics)", shipped["next"], floor, 1.15, "floor_db"),
        ratio_row("status (shipped)", shipped["status"], floor, 1.15, "floor_db"),
        ratio_row(f"show {topic} (shipped)", shipped["show"], floor, 1.15, "floor_db"),
        ratio_row(f"done {topic} (shipped)", shipped["done"], floor, 1.25, "floor_db"),
        ratio_row("report, the HTML map (shipped)", shipped["report"], shipped["status"], 1.3, "status"),
        info_row("peak RSS of next (shipped)", shipped["next"], memory=True),
    ]
    for n in SIZES[:2]:
        label = f"{n:,}"
        rows += [
            info_row(f"first load, {label} topics", sized[n]["first"]),
            info_row(f"re-sync unchanged file, {label}", sized[n]["resync"]),
            info_row(f"next, {label}", sized[n]["next"]),
            info_row(f"status, {label}", sized[n]["status"]),
            info_row(f"done, {label}", sized[n]["done"]),
            info_row(f"peak RSS of next, {label}", sized[n]["next"], memory=True),
        ]
    rows += [
        ratio_row("first load, 5,000 topics", k5["first"], floor, 10, "floor_db"),
        ratio_row("re-sync unchanged file, 5,000", k5["resync"], k5["next"], 1.1, "next 5,000"),
        ratio_row("next, 5,000", k5["next"], shipped["next"], 1.5, "shipped"),
        ratio_row("status, 5,000", k5["status"], shipped["status"], 1.5, "shipped"),
        ratio_row("done, 5,000", k5["done"], shipped["done"], 1.5, "shipped"),
        rss_row("peak RSS of next, 5,000", k5["next"], shipped["next"], 1.5, "shipped"),
        growth_row("first load, 20,000 topics", k20["first"], k5["first"], floor),
        growth_row("re-sync unchanged file, 20,000", k20["resync"], k5["resync"], floor),
        growth_row("next, 20,000", k20["next"], k5["next"], floor),
        growth_row("status, 20,000", k20["status"], k5["status"], floor),
        growth_row("done, 20,000", k20["done"], k5["done"], floor),
        growth_row("peak RSS of next, 20,000", k20["next"], k5["next"], floor, memory=True),
    ]

    print(markdown(rows))
    print()
    print(
        f"{version} · Python {platform.python_version()} · {platform.system()} · {os.cpu_count()} CPUs · "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after. Clock: {CLOCK}. "
        f"Medians of {runs} rounds "
        f"({small_runs} at 100 and 1,000 topics; first load at 20,000: {large_first_runs} run). A ratio is "
        "the median over rounds of the ratio within a round. 20,000 rows: (20k - floor_db) / "
        "(5k - floor_db), also within rounds (peak RSS: from the medians), the 5k gap counted as at least "
        f"{NOISE_SECONDS * 1000:.0f} ms ({NOISE_MIB:.0f} MiB); 4 or less is linear growth."
    )
    for note in notes:
        print(f"Note: {note}")
    every = [*cli.values(), floor, *shipped.values(), *(s for d in sized.values() for s in d.values())]
    for series in every:
        if series.failure:
            print(f"Failed: {series.label}: {series.failure}")
    if args.samples:
        print("Every run, as round: wall / CPU seconds:")
        for series in every:
            listed = zip(series.round_ids, series.seconds, series.cpu, strict=True)
            print(f"  {series.label}: " + "  ".join(f"r{r}: {w:.3f} / {c:.3f}" for r, w, c in listed))
    print(f"Wall time: {time.perf_counter() - started:.0f} s")
    targets = [r for r in rows if r.ok is not None]
    print(f"{sum(1 for r in targets if r.ok)} of {len(targets)} targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
