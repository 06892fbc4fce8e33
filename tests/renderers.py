"""The real chart parsers the graph tests check against: Mermaid (npm, run by Node) and Graphviz's `dot`.

Mermaid and jsdom, at the versions pinned in tests/mermaid/package-lock.json, are installed once with
`npm ci` into a cache folder outside the repository (`$XDG_CACHE_HOME/llmpath-test-node`, else
`~/.cache/llmpath-test-node`; `LLMPATH_TEST_NODE_DIR` overrides it) and reused by every later run. `.ci/run`
runs this file as a script to install it before the tests; a test calls `mermaid_dir()` and skips, with the
reason, only where Node or npm is missing or npm cannot reach its registry.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SOURCE = Path(__file__).parent / "mermaid"
PINNED = ("package.json", "package-lock.json")
# How npm reports a registry it cannot reach (npm's error codes and its "network" category).
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH",
                  "EHOSTUNREACH", "npm error network", "npm ERR! network")  # fmt: skip


# Without network, npm's default retries take two minutes to give up; one try with a 30 s timeout is enough.
FAST_FAIL = ("--fetch-retries=0", "--fetch-timeout=30000")


class Unavailable(Exception):
    """Why a parser cannot run here (a reason to skip, not a failure)."""


def node_dir() -> Path:
    if explicit := os.environ.get("LLMPATH_TEST_NODE_DIR"):
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "llmpath-test-node"


def _stamp() -> str:
    digest = hashlib.sha256()
    for name in PINNED:
        digest.update((SOURCE / name).read_bytes())
    return digest.hexdigest()


def mermaid_dir() -> Path:
    """The folder holding node_modules with Mermaid and parse.mjs; installs them on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise Unavailable("Node.js (node and npm) is not installed")
    folder = node_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test runs install once, one after the other
        script = (SOURCE / "parse.mjs").read_bytes()
        if not (folder / "parse.mjs").exists() or (folder / "parse.mjs").read_bytes() != script:
            (folder / "parse.mjs").write_bytes(script)
        stamp = folder / "installed.sha256"
        if stamp.exists() and stamp.read_text() == _stamp() and (folder / "node_modules/mermaid").is_dir():
            return folder
        unreachable = folder / "unreachable.txt"  # offline, npm's timeout is paid once an hour, not every run
        if unreachable.exists() and time.time() - unreachable.stat().st_mtime < 3600:
            raise Unavailable(
                f"{unreachable.read_text().strip()} (in the last hour; delete {unreachable} to retry)"
            )
        for name in PINNED:
            shutil.copyfile(SOURCE / name, folder / name)
        try:
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", *FAST_FAIL],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            raise Unavailable("npm ci took over 5 minutes (no network?)") from None
        if done.returncode != 0:
            if any(code in done.stderr for code in NETWORK_ERRORS):
                first = next((line for line in done.stderr.splitlines() if line.strip()), "")
                reason = f"npm cannot reach its registry to install Mermaid: {first}"
                unreachable.write_text(reason + "\n")
                raise Unavailable(reason)
            raise RuntimeError(f"npm ci failed in {folder}:\n{done.stderr}")
        stamp.write_text(_stamp())
        unreachable.unlink(missing_ok=True)
    return folder


def parse_mermaid(charts: dict[str, str]) -> dict[str, dict]:
    """Each chart as the real Mermaid parser sees it (nodes, edges, subgraphs), all in one Node process."""
    folder = mermaid_dir()
    done = subprocess.run(
        ["node", str(folder / "parse.mjs")],
        cwd=folder,
        input=json.dumps(charts),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def dot_json(text: str) -> dict:
    """DOT text as Graphviz reads it (`dot -Tjson0`: nodes and edges, no layout)."""
    if shutil.which("dot") is None:
        raise Unavailable("Graphviz (dot) is not installed")
    done = subprocess.run(["dot", "-Tjson0"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return json.loads(done.stdout)


if __name__ == "__main__":  # `python tests/renderers.py`: install Mermaid now (what .ci/run does)
    (node_dir() / "unreachable.txt").unlink(missing_ok=True)  # asked to install: try the network again
    try:
        print(f"Mermaid for the graph tests is in {mermaid_dir()}")
    except Unavailable as reason:
        print(f"Mermaid not installed: {reason}; its tests will be skipped", file=sys.stderr)
