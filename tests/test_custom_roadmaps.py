"""Custom roadmaps: several in one database, `use`/`init`/`fork`, `validate`, `schema`, Tab completion in real
subprocesses, lazy imports, and JSON output that scripts can rely on."""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from llmpath import paths
from llmpath.cli import app

from .conftest import MINI, Cli, as_json, ok

SHIPPED = paths.shipped_roadmap_path()


# A second small roadmap. It shares the topic id `python` with mini.yaml on purpose: progress is kept per
# roadmap id, so marking one `python` done must not touch the other. Line numbers matter for `validate`.
SIDE = """\
schema: 1
id: side
title: Side Path
phases:
  - id: start
    title: Start
    topics:
      - id: python
        title: Python Again
        hours: 2
      - id: beta
        title: Beta
        requires: [python]
        aliases: [b]
        hours: 3
      - id: gamma
        title: Gamma
        requires: [beta]
        hours: 4
"""
assert SIDE.splitlines()[15] == "      - id: gamma"  # line 16 (1-based), used by the validate tests below


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def side(tmp_path: Path) -> Path:
    return write(tmp_path / "side.yaml", SIDE)


def invoke(*args: str, env: dict[str, str | None] | None = None):
    """The app in-process without `--roadmap`: the roadmap is from `use`, LLMPATH_ROADMAP or the default."""
    return CliRunner().invoke(app, list(args), env=env)


def next_ids(*args: str, run=invoke) -> list[str]:
    return [item["id"] for item in as_json(run("next", "--json", "-n", "1000", *args))]


def roadmaps_by_id(*args: str) -> dict[str, dict]:
    return {entry["id"]: entry for entry in as_json(invoke(*args, "roadmaps", "--json"))}


def in_use(*args: str) -> list[str]:
    return [rid for rid, entry in roadmaps_by_id(*args).items() if entry["in_use"]]


@functools.cache
def _parsed(path: Path) -> str:
    return json.dumps(
        yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    )


def load_yaml(path: Path):
    """A roadmap file as plain data (a fresh copy each time: tests may change it)."""
    return json.loads(_parsed(path))


def shipped_entry_topics() -> list[str]:
    document = load_yaml(SHIPPED)
    return [t["id"] for p in document["phases"] for t in p["topics"] if not t.get("requires")]


# --- several roadmaps in one database ---------------------------------------------------------------------


def test_progress_on_two_roadmaps_is_kept_apart(side: Path):
    mini, other = Cli(MINI), Cli(side)
    ok(mini("done", "python", "math"))
    assert as_json(other("show", "python", "--json"))["status"] == "todo"
    assert next_ids(run=other) == ["python"]
    ok(other("done", "python"))  # the same topic id, another roadmap
    ok(other("start", "beta"))
    assert as_json(mini("show", "python", "--json"))["status"] == "done"
    assert as_json(mini("show", "numpy", "--json"))["status"] == "todo"
    mini_status = as_json(mini("status", "--json"))
    side_status = as_json(other("status", "--json"))
    assert mini_status["roadmap"]["id"] == "mini" and side_status["roadmap"]["id"] == "side"
    assert (mini_status["total"]["done"], mini_status["total"]["doing"]) == (2, 0)
    assert (side_status["total"]["done"], side_status["total"]["doing"]) == (1, 1)
    ok(mini("reset", "python"))  # undoing on one roadmap leaves the other alone
    assert as_json(other("show", "python", "--json"))["status"] == "done"
    assert next_ids(run=other) == ["beta"]
    assert next_ids(run=mini) == ["python"]
    events = as_json(other("log", "--json"))
    assert {(e["id"], e["to"]) for e in events} == {("python", "done"), ("beta", "doing")}


def test_roadmaps_json_lists_both_with_finished_counts_and_the_one_in_use(side: Path):
    ok(Cli(MINI)("done", "python", "math"))
    ok(Cli(MINI)("skip", "numpy"))
    ok(Cli(side)("done", "python"))
    known = roadmaps_by_id()
    assert set(known) == {"mini", "side"}
    assert (known["mini"]["finished"], known["mini"]["topics"]) == (3, 6)
    assert (known["side"]["finished"], known["side"]["topics"]) == (1, 3)
    assert known["mini"]["source_path"] == str(MINI.resolve())
    assert known["side"]["source_path"] == str(side.resolve())
    assert in_use() == []  # the shipped roadmap is in use, but not loaded yet
    assert in_use("--roadmap", str(side)) == ["side"]
    ok(invoke("use", str(MINI)))
    assert in_use() == ["mini"]
    text = ok(invoke("roadmaps"))
    row = next(line for line in text.splitlines() if "mini" in line)
    assert row.lstrip().startswith("▶") and "3/6" in row


def test_use_switches_the_default_and_use_default_goes_back(side: Path):
    result = invoke("use", str(side))
    assert "Now using 'Side Path' (side)" in ok(result)
    assert next_ids() == ["python"]
    assert in_use() == ["side"]
    ok(invoke("done", "python"))  # no --roadmap: goes to the side roadmap
    assert as_json(Cli(side)("show", "python", "--json"))["status"] == "done"
    assert f"roadmap:      {side.resolve()}" in ok(invoke("paths"))
    assert "'LLM Engineer' (llm-engineer)" in ok(invoke("use", "default"))
    assert next_ids() == shipped_entry_topics()
    assert in_use() == ["llm-engineer"]
    assert f"roadmap:      {SHIPPED}" in ok(invoke("paths"))


def test_use_with_an_invalid_file_exits_1_and_changes_nothing(side: Path, tmp_path: Path):
    ok(invoke("use", str(side)))
    broken = write(tmp_path / "broken.yaml", SIDE.replace("requires: [beta]", "requires: [nope]"))
    result = invoke("use", str(broken))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {broken.resolve()}:18: topic 'gamma': requires unknown topic")
    assert "Traceback" not in result.stderr
    assert in_use() == ["side"]
    assert next_ids() == ["python"]
    assert "side" in roadmaps_by_id() and len(roadmaps_by_id()) == 1  # nothing loaded from the bad file
    missing = invoke("use", str(tmp_path / "missing.yaml"))
    assert missing.exit_code == 1
    assert "is neither a file nor a known roadmap id" in missing.stderr
    assert invoke("use", "not-a-roadmap-id").exit_code == 1
    assert in_use() == ["side"]


def test_use_a_known_roadmap_id(side: Path):
    ok(Cli(side)("next"))  # loads it
    ok(Cli(MINI)("next"))
    assert "Now using 'Side Path' (side)" in ok(invoke("use", "side"))
    assert next_ids() == ["python"]
    ok(invoke("use", "mini"))
    assert next_ids() == ["python", "math"]
    assert in_use() == ["mini"]


def test_use_reports_what_the_reload_did(side: Path):
    ok(invoke("use", str(side)))
    ok(invoke("done", "beta"))
    side.write_text(
        side.read_text(encoding="utf-8")
        .replace("id: beta\n", "id: beta-two\n        replaces: [beta]\n")
        .replace("requires: [beta]", "requires: [beta-two]"),
        encoding="utf-8",
    )
    result = invoke("use", str(side))
    assert result.exit_code == 0, result.stderr
    assert "progress on 'beta' moved to its new id 'beta-two'" in result.stderr
    assert "backup of the previous state:" in result.stderr
    assert as_json(invoke("show", "beta-two", "--json"))["status"] == "done"


def test_env_variable_overrides_for_one_command(side: Path):
    ok(invoke("use", str(side)))
    assert next_ids(run=lambda *a: invoke(*a, env={"LLMPATH_ROADMAP": str(MINI)})) == ["python", "math"]
    env_run = invoke("roadmaps", "--json", env={"LLMPATH_ROADMAP": str(MINI)})
    assert [e["id"] for e in as_json(env_run) if e["in_use"]] == ["mini"]
    assert next_ids() == ["python"]  # the next command is back on the roadmap chosen with `use`
    # --roadmap beats the environment variable
    both = invoke("--roadmap", str(side), "status", "--json", env={"LLMPATH_ROADMAP": str(MINI)})
    assert as_json(both)["roadmap"]["id"] == "side"


# --- init and fork ----------------------------------------------------------------------------------------


def test_init_writes_a_valid_roadmap_and_never_overwrites(tmp_path: Path):
    target = tmp_path / "my.yaml"
    assert f"Wrote {target}" in ok(invoke("init", str(target)))
    text = target.read_text(encoding="utf-8")
    result = invoke("validate", str(target))
    assert result.exit_code == 0
    assert f"{target}: valid — 'my-path', 3 topics in 2 phases, 0 warning(s)" in result.stdout
    assert invoke("validate", "--strict", str(target)).exit_code == 0
    again = invoke("init", str(target))
    assert again.exit_code == 1
    assert again.stderr.startswith(f"error: {target} already exists")
    assert target.read_text(encoding="utf-8") == text
    ok(invoke("use", str(target)))
    assert next_ids() == ["first-topic"]
    assert "First Topic" in ok(invoke("next"))
    assert [t["total"] for t in as_json(invoke("track", "--json"))] == [2]  # its track example works


def test_init_refusal_does_not_advertise_a_missing_option(tmp_path: Path):
    target = write(tmp_path / "my.yaml", "keep me\n")
    refusal = invoke("init", str(target))
    assert refusal.exit_code == 1
    if "--force" in refusal.stderr:
        assert invoke("init", "--force", str(target)).exit_code == 0


def test_fork_copies_the_shipped_roadmap_and_keeps_its_id_and_progress(tmp_path: Path):
    shipped = Cli()
    ok(shipped("done", "llm-overview", "python-programming"))
    ok(shipped("skip", "linear-algebra"))
    copy = tmp_path / "x.yaml"
    ok(invoke("fork", str(copy)))
    assert copy.read_text(encoding="utf-8").endswith(SHIPPED.read_text(encoding="utf-8"))
    result = invoke("validate", str(copy))
    document = load_yaml(SHIPPED)
    topics = sum(len(p["topics"]) for p in document["phases"])
    size = f"{topics} topics in {len(document['phases'])} phases"
    assert result.exit_code == 0 and f"valid — 'llm-engineer', {size}" in result.stdout
    assert invoke("fork", str(copy)).exit_code == 1  # never overwrites
    ok(invoke("use", str(copy)))
    status = as_json(invoke("status", "--json"))
    assert status["roadmap"]["id"] == "llm-engineer"
    assert (status["total"]["done"], status["total"]["skipped"], status["total"]["total"]) == (2, 1, topics)
    assert as_json(invoke("show", "python-programming", "--json"))["status"] == "done"
    assert in_use() == ["llm-engineer"]
    assert roadmaps_by_id()["llm-engineer"]["source_path"] == str(copy.resolve())
    ok(invoke("done", "sql-databases"))  # progress made on the fork shows on the shipped roadmap too
    ok(invoke("use", "default"))
    assert as_json(invoke("status", "--json"))["total"]["done"] == 3


# --- validate -----------------------------------------------------------------------------------------------


def validate(tmp_path: Path, text: str, *flags: str):
    path = write(tmp_path / "check.yaml", text)
    return path, invoke("validate", *flags, str(path))


ERROR_CASES = {
    "unknown requires": (
        SIDE.replace("requires: [beta]", "requires: [betta]"),
        [":18: topic 'gamma': requires unknown topic 'betta' (hint: did you mean 'beta'?)"],
    ),
    "duplicate id": (
        SIDE + "      - id: beta\n        title: Beta Again\n",
        [":20: topic 'beta': duplicate topic id 'beta'"],
    ),
    "unknown field": (
        SIDE.replace("        hours: 4\n", "        hours: 4\n        colour: red\n"),
        [":20: topic 'gamma': unknown field 'colour' (hint: allowed: aliases, concepts,"],
    ),
    "bad id": (
        SIDE.replace("id: gamma", "id: Gamma_X"),
        [":16: topic 'Gamma_X': id: 'Gamma_X' is not a valid id (hint: use lowercase"],
    ),
    "yaml syntax": (
        SIDE.replace("title: Gamma", "title: [Gamma"),
        [
            ":18: invalid YAML: did not find expected ',' or ']' "
            "(while parsing a flow sequence started on line 17)"
        ],
    ),
    "alias collision": (
        SIDE.replace("        hours: 4\n", "        hours: 4\n        aliases: [b]\n"),
        [":20: topic 'gamma': alias 'b' is already an alias of topic 'beta'"],
    ),
    "alias is another id": (
        SIDE.replace("        hours: 4\n", "        hours: 4\n        aliases: [python]\n"),
        [":20: topic 'gamma': alias 'python' is already the id of topic 'python'"],
    ),
    "wrong type": (
        SIDE.replace("hours: 4", "hours: lots"),
        [":19: topic 'gamma': hours: Input should be a valid number"],
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_validate_reports_each_error_class_with_file_and_line(tmp_path: Path, case: str):
    text, expected = ERROR_CASES[case]
    path, result = validate(tmp_path, text)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()  # problems go to standard error, like every other error
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == len(expected), lines
    for line, fragment in zip(errors, expected, strict=True):
        assert line.startswith(f"error: {path}{fragment}"), line
    assert lines[-1] == f"{path}: invalid — {len(expected)} error(s)"
    assert not [line for line in lines if line.startswith("warning:")]
    assert result.stdout == ""


def test_validate_reports_a_cycle_at_one_of_its_topics(tmp_path: Path):
    path, result = validate(tmp_path, SIDE.replace("requires: [python]", "requires: [gamma]"))
    assert result.exit_code == 1
    match = re.fullmatch(
        rf"error: {re.escape(str(path))}:(\d+): topic '(beta|gamma)': prerequisite cycle: "
        r"(beta -> gamma -> beta|gamma -> beta -> gamma) \(hint: .*\)",
        result.stderr.splitlines()[0],
    )
    assert match, result.stderr
    assert int(match[1]) == {"beta": 13, "gamma": 18}[match[2]]  # the topic's `requires:` line
    assert match[3].startswith(match[2])


def test_validate_lists_every_error_at_once(tmp_path: Path):
    text = SIDE.replace("requires: [beta]", "requires: [betta]")
    text += "      - id: python\n        title: Twice\n"
    path, result = validate(tmp_path, text)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors[0] == f"error: {path}:20: topic 'python': duplicate topic id 'python'"
    assert errors[1].startswith(f"error: {path}:18: topic 'gamma': requires unknown topic 'betta'")
    assert result.stderr.splitlines()[-1] == f"{path}: invalid — 2 error(s)"


def test_validate_points_at_the_second_of_two_topics_with_the_same_id(tmp_path: Path):
    text = SIDE + "      - id: beta\n        title: Beta Again\n        requires: [nope]\n"
    path, result = validate(tmp_path, text)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors[0] == f"error: {path}:20: topic 'beta': duplicate topic id 'beta'"
    assert errors[1].startswith(f"error: {path}:22: topic 'beta': requires unknown topic 'nope'"), errors


BACKWARD = (
    SIDE.replace("        title: Python Again\n", "        title: Python Again\n        requires: [delta]\n")
    + "  - id: later\n    title: Later\n    topics:\n      - id: delta\n        title: Delta\n"
)
WARNING_CASES = {
    "redundant edge": (
        SIDE.replace("requires: [beta]", "requires: [beta, python]"),
        ":18: topic 'gamma': requires 'python' already implied by another prerequisite "
        "(hint: remove 'python' from requires)",
    ),
    "later phase": (BACKWARD, ":10: topic 'python': requires 'delta' from a later phase ('later')"),
    "loose topic": (
        SIDE + "      - id: omega\n        title: Omega\n",
        ":20: topic 'omega': nothing requires this topic and it requires nothing",
    ),
    "empty phase": (
        SIDE + "  - id: nothing\n    title: Nothing\n",
        ":20: phase 'nothing': phase has no topics",
    ),
}


@pytest.mark.parametrize("case", list(WARNING_CASES))
def test_validate_warns_about_likely_mistakes_and_strict_fails(tmp_path: Path, case: str):
    text, fragment = WARNING_CASES[case]
    path, result = validate(tmp_path, text)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith("warning: ")] == [
        line for line in lines if line.startswith(f"warning: {path}{fragment}")
    ]
    assert len([line for line in lines if line.startswith("warning: ")]) == 1, lines
    assert not [line for line in lines if line.startswith("error:")]
    verdict = result.stdout.strip()
    assert verdict.startswith(f"{path}: valid — 'side',") and verdict.endswith(", 1 warning(s)")
    _, strict = validate(tmp_path, text, "--strict")
    assert strict.exit_code == 1
    assert (strict.stdout, strict.stderr) == (result.stdout, result.stderr)


@pytest.mark.parametrize("roadmap", [MINI, SHIPPED], ids=["mini", "shipped"])
def test_shipped_and_test_roadmaps_validate_cleanly(roadmap: Path):
    result = invoke("validate", "--strict", str(roadmap))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().endswith("0 warning(s)")


def test_validate_of_a_missing_file(tmp_path: Path):
    result = invoke("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"error: {tmp_path / 'nope.yaml'}: no such file"


# --- the JSON Schema --------------------------------------------------------------------------------------


@pytest.fixture
def schema() -> dict:
    return as_json(invoke("schema"))


def test_schema_is_draft_2020_12_and_accepts_the_shipped_roadmap(schema: dict, tmp_path: Path):
    jsonschema = pytest.importorskip("jsonschema")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in (SHIPPED, MINI):
        jsonschema.validate(load_yaml(path), schema)
    starter = tmp_path / "starter.yaml"
    ok(invoke("init", str(starter)))
    jsonschema.validate(yaml.safe_load(starter.read_text(encoding="utf-8")), schema)
    assert {"schema", "id", "title", "phases"} <= set(schema["required"])


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d["phases"][0]["topics"][0].update(colour="red"), "'colour' was unexpected"),
        (lambda d: d["phases"][0]["topics"][0].update(hours="lots"), "'lots'"),
        (lambda d: d["phases"][0]["topics"][0].update(id="Bad_Id"), "'Bad_Id' does not match"),
        (lambda d: d["phases"][0]["topics"][0].update(requires="python"), "'python'"),
        (lambda d: d["phases"][0]["topics"][0].pop("title"), "'title' is a required property"),
        (lambda d: d.update(schema=2), "1 was expected"),
        (lambda d: d.update(phases=[]), "should be non-empty"),
        (lambda d: d.update(extra=True), "'extra' was unexpected"),
    ],
    ids=[
        "unknown field",
        "wrong type",
        "bad id",
        "requires not a list",
        "missing title",
        "schema 2",
        "no phases",
        "unknown top-level field",
    ],
)
def test_schema_rejects_broken_documents(schema: dict, change, complaint: str):
    jsonschema = pytest.importorskip("jsonschema")
    document = load_yaml(SHIPPED)
    change(document)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert errors, "the schema accepted a broken roadmap"
    assert any(complaint in e.message for e in errors), [e.message for e in errors]


# --- Tab completion in a real subprocess --------------------------------------------------------------------


def _subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_LLMPATH", "_TYPER", "COMP_"))}
    env.pop("LLMPATH_ROADMAP", None)
    env.update({"LLMPATH_HOME": str(home), "COLUMNS": "200", **extra})
    return env


def _bash(words: str) -> dict[str, str]:
    parts = shlex.split(words)
    cword = len(parts) if words.endswith(" ") else len(parts) - 1
    return {"_LLMPATH_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}


class Completions:
    """Every completion request of this module, made in real subprocesses.

    They start together when the module's first test runs, writing to files, and run on another core
    while the in-process tests go on; the first completion test waits for them.
    """

    def __init__(self, folder: Path, empty_home: Path):
        self.folder = folder
        self.empty_home = empty_home
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict[str, str], stdin: str = "") -> None:
        (self.folder / f"{len(self.running)}.in").write_text(stdin)
        with (
            (self.folder / f"{len(self.running)}.in").open() as given,
            (self.folder / f"{len(self.running)}.out").open("w") as out,
            (self.folder / f"{len(self.running)}.err").open("w") as err,
        ):
            self.running[name] = subprocess.Popen(
                command, env=env, stdin=given, stdout=out, stderr=err, text=True, cwd=self.folder
            )

    @functools.cached_property
    def results(self) -> dict[str, subprocess.CompletedProcess]:
        results = {}
        for number, (name, process) in enumerate(self.running.items()):
            process.wait(timeout=60)
            out = (self.folder / f"{number}.out").read_text()
            err = (self.folder / f"{number}.err").read_text()
            if name == "driver":
                assert process.returncode == 0, err
                for case, (code, case_out, case_err) in json.loads(out).items():
                    results[case] = subprocess.CompletedProcess(case, code, case_out, case_err)
            else:
                results[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        assert not self.empty_home.exists(), "completion created a data folder"
        return results

    def __getitem__(self, name: str) -> subprocess.CompletedProcess:
        return self.results[name]

    def offered(self, name: str) -> list[str]:
        result = self.results[name]
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return [line for line in result.stdout.splitlines() if line]


def _imported(stderr: str) -> set[str]:
    """Module names from `python -X importtime` output."""
    names = set()
    for line in stderr.splitlines():
        match = re.match(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", line)
        if match:
            names.add(match[1])
    return names


# Starting Python with Typer costs a few tenths of a second, so most completion requests share one real
# subprocess: for each request it sets the completion variables and runs the console-script entry point
# (`llmpath.cli:main`), exactly as the shell would, capturing what it prints and its exit code.
_DRIVER = """
import contextlib, io, json, os, sys
from llmpath.cli import main
results = {}
for name, env in json.loads(sys.stdin.read()).items():
    saved = dict(os.environ)
    os.environ.update(env)
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code or 0
    os.environ.clear()
    os.environ.update(saved)
    results[name] = [code, out.getvalue(), err.getvalue()]
sys.stdout.write(json.dumps(results))
"""


@pytest.fixture(scope="module", autouse=True)
def completions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Completions]:
    base = tmp_path_factory.mktemp("completion")
    home, empty_home, damaged_home = base / "home", base / "no-home", base / "damaged"
    side = write(base / "side.yaml", SIDE)

    def setup(*args: str) -> None:
        result = CliRunner().invoke(app, list(args), env={"LLMPATH_HOME": str(home), "LLMPATH_ROADMAP": None})
        assert result.exit_code == 0, result.output

    setup("use", str(MINI))
    setup("done", "python")
    setup("start", "math")
    setup("--roadmap", str(side), "done", "beta")
    damaged_home.mkdir()
    (damaged_home / "llmpath.db").write_bytes(b"this is not a database" * 100)

    importtime = [sys.executable, "-X", "importtime", "-m", "llmpath"]
    script = Path(sys.executable).parent / "llmpath"
    # each in a process of its own
    alone: dict[str, tuple[list[str], dict[str, str]]] = {
        "done n": (importtime, _bash("llmpath done n")),
        "imports: --version": ([*importtime, "--version"], {}),
        "imports: --help": ([*importtime, "--help"], {}),
    }
    if script.exists():
        alone["console script"] = ([str(script)], _bash("llmpath done n"))
    # together in the driver
    shared: dict[str, dict[str, str]] = {
        "done nu": _bash("llmpath done nu"),
        "done all": _bash("llmpath done "),
        "done p": _bash("llmpath done p"),
        "reset all": _bash("llmpath reset "),
        "start all": _bash("llmpath start "),
        "show p": _bash("llmpath show p"),
        "status b": _bash("llmpath status b"),
        "next --phase m": _bash("llmpath next --phase m"),
        "graph --goal b": _bash("llmpath graph --goal b"),
        "--roadmap side": _bash(f"llmpath --roadmap {shlex.quote(str(side))} reset "),
        "env side": {**_bash("llmpath show "), "LLMPATH_ROADMAP": str(side)},
        "zsh": {"_LLMPATH_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "llmpath done nu"},
        "fish": {
            "_LLMPATH_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
            "_TYPER_COMPLETE_ARGS": "llmpath done n",
        },
        "no database": {**_bash("llmpath done n"), "LLMPATH_HOME": str(empty_home)},
        "damaged database": {**_bash("llmpath done n"), "LLMPATH_HOME": str(damaged_home)},
    }

    completions = Completions(base, empty_home)
    completions.start("driver", [sys.executable, "-c", _DRIVER], _subprocess_env(home), json.dumps(shared))
    for name, (command, env) in alone.items():
        completions.start(name, command, _subprocess_env(home, **env))
    yield completions
    unused = "results" not in completions.__dict__  # e.g. `pytest -k` chose no completion test
    for process in completions.running.values():  # never leave our children running
        if unused:
            process.kill()
        process.wait(timeout=60)


def test_completion_offers_matching_topics_not_yet_done(completions: Completions):
    # state: python done, math in progress (mini.yaml, chosen with `use`)
    assert completions.offered("done n") == ["numpy", "neural-nets", "nn"]
    assert completions.offered("done nu") == ["numpy"]
    assert completions.offered("done all") == [
        "math",
        "numpy",
        "linear-models",
        "neural-nets",
        "nn",
        "build-mlp",
    ]
    assert completions.offered("done p") == []  # python and its alias py are done already


def test_completion_for_reset_offers_only_topics_with_progress(completions: Completions):
    assert completions.offered("reset all") == ["python", "py", "math"]


def test_completion_for_start_offers_only_topics_to_do(completions: Completions):
    assert completions.offered("start all") == ["numpy", "linear-models", "neural-nets", "nn", "build-mlp"]


def test_completion_offers_aliases(completions: Completions):
    assert completions.offered("show p") == ["python", "py"]


def test_completion_of_phases(completions: Completions):
    assert completions.offered("status b") == ["basics"]
    assert completions.offered("next --phase m") == ["models"]


def test_completion_of_an_option_taking_a_topic(completions: Completions):
    assert completions.offered("graph --goal b") == ["build-mlp"]


def test_completion_follows_roadmap_option_and_environment(completions: Completions):
    assert completions.offered("--roadmap side") == ["beta", "b"]
    assert completions.offered("env side") == ["python", "beta", "b", "gamma"]


def test_completion_for_zsh_and_fish(completions: Completions):
    assert completions.offered("zsh") == ['_arguments \'*: :(("numpy":"NumPy Arrays"))\'']
    assert completions.offered("fish") == [
        "numpy\tNumPy Arrays",
        "neural-nets\tNeural Networks",
        "nn\tNeural Networks",
    ]


def test_completion_through_the_console_script(completions: Completions):
    if "console script" not in completions.results:
        pytest.skip("no llmpath console script next to this Python")
    assert completions.offered("console script") == ["numpy", "neural-nets", "nn"]


@pytest.mark.parametrize("case", ["no database", "damaged database"])
def test_completion_without_a_usable_database_prints_nothing(completions: Completions, case: str):
    result = completions[case]
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "", "")


# --- fast start: heavy modules stay unimported --------------------------------------------------------------

HEAVY = (
    "sqlmodel",
    "sqlalchemy",
    "yaml",
    "llmpath.store",
    "llmpath.sync",
    "llmpath.transfer",
    "llmpath.db",
    "llmpath.roadmap",
    "llmpath.models",
    # `llmpath report` only
    "jinja2",
    "markupsafe",
    "llmpath.report",
    "llmpath.layout",
)


@pytest.mark.parametrize("case", ["imports: --version", "imports: --help", "done n"])
def test_fast_paths_do_not_import_the_database_or_yaml(completions: Completions, case: str):
    result = completions[case]
    assert result.returncode == 0, result.stderr[-2000:]
    modules = _imported(result.stderr)
    assert "llmpath.cli" in modules  # the import log was parsed
    heavy = sorted(m for m in modules if m in HEAVY or m.split(".")[0] in HEAVY)
    assert heavy == []
    if case == "imports: --version":
        assert result.stdout.startswith("llmpath ")
    elif case == "imports: --help":
        assert "Usage" in result.stdout and "next" in result.stdout
    else:
        assert result.stdout.split() == [
            "numpy",
            "neural-nets",
            "nn",
        ]  # it really completed from the database


# --- every listing command prints JSON ----------------------------------------------------------------------


def test_every_listing_command_prints_valid_json(cli: Cli):
    ok(cli("done", "python"))
    ok(cli("start", "math"))
    ok(cli("note", "python", "a note"))
    ok(cli("goal", "neural-nets"))
    commands = {
        ("next", "--json"): list,
        ("next", "--json", "--all", "--sort", "unlocks"): list,
        ("status", "--json"): dict,
        ("status", "basics", "--json"): dict,
        ("show", "python", "--json"): dict,
        ("show", "nn", "--json"): dict,
        ("roadmaps", "--json"): list,
        ("goal", "--json"): dict,
        ("notes", "--json"): list,
        ("notes", "py", "--json"): list,
        ("path", "build-mlp", "--json"): dict,
        ("log", "--json"): list,
        ("log", "--json", "--since", "7d"): list,
        ("stats", "--json"): dict,
        ("stats", "--json", "--eta"): dict,
    }
    for args, kind in commands.items():
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
        data = json.loads(result.stdout)
        assert isinstance(data, kind), args
        assert data, args  # something in it
    assert json.loads(cli("goal", "--json").stdout)["goals"] == ["neural-nets"]
