"""The README's picture of `llmpath report`: the shipped roadmap after a month of study, as Chromium shows it.

    python benchmarks/report_screenshot.py                       # docs/report.png, a 1600x1000 window
    python benchmarks/report_screenshot.py --full-page -o /tmp/full.png --html /tmp/report.html

A learner follows the application-engineer track with finish estimates on. On the first day they skip two
topics they already know; then, on about three days in four for 30 days, they study 1.5 to 3.5 hours; when
the hours put in reach a topic's estimate they mark it done, with a note now and then, and start the first
topic `next` offers. The dates are fixed and the choices seeded, so the same code gives the same picture.
Everything runs in-process (`store.now` is set to each simulated moment) in a temporary LLMPATH_HOME; the
user's data is never touched. The screenshot is taken by Playwright driving the system's Chromium
(`chromium`, or LLMPATH_TEST_CHROMIUM), as in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))  # the checkout's llmpath, installed or not

START = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)  # a Monday evening
DAYS = 30
TRACK = "application-engineer"
KNOWN = ["python-programming", "dev-environment"]  # skipped on day one
NOTES = {
    "llm-overview": "Karpathy's talk first, then the Google intro; the life-cycle picture helped",
    "tokenization": "BPE by hand on a tiny corpus: merges make sense now",
}


def simulate(home: Path, html: Path) -> None:
    """A month of study in `home`, then the report written to `html`."""
    os.environ["LLMPATH_HOME"] = str(home)
    os.environ.pop("LLMPATH_ROADMAP", None)
    os.environ["NO_COLOR"] = "1"
    from typer.testing import CliRunner

    from llmpath import store
    from llmpath.cli import app

    runner = CliRunner()
    when = START

    def cli(*args: str) -> str:
        store.now = lambda: when
        result = runner.invoke(app, list(args))
        if result.exit_code != 0:
            raise SystemExit(f"llmpath {' '.join(args)} failed: {result.stderr or result.exception}")
        return result.stdout

    rng = random.Random(15)
    cli("track", TRACK)
    cli("config", "eta", "on")
    cli("skip", *KNOWN)
    hours_in = 0.0  # studied on the current topic so far
    for day in range(DAYS):
        when = START + timedelta(days=day, minutes=rng.randrange(-90, 120))
        if day and rng.random() < 0.25:
            continue  # a day off
        hours_in += rng.uniform(1.5, 3.5)
        offered = json.loads(cli("next", "--json"))
        doing = next((t for t in offered if t["status"] == "doing"), None)
        if doing is not None and hours_in >= (doing["hours"] or 1):
            hours_in -= doing["hours"] or 1
            cli("done", doing["id"])
            if doing["id"] in NOTES:
                cli("note", doing["id"], NOTES[doing["id"]])
            when += timedelta(minutes=rng.randrange(20, 80))
            doing = None
        if doing is None:
            todo = [t["id"] for t in json.loads(cli("next", "--json")) if t["status"] != "doing"]
            if todo:
                cli("start", todo[0])
    when += timedelta(hours=2)
    cli("report", "-o", str(html))


def chromium() -> str:
    found = (
        os.environ.get("LLMPATH_TEST_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not found:
        raise SystemExit("Chromium is not installed (apt-get install chromium)")
    return found


def screenshot(html: Path, png: Path, *, width: int, height: int, full_page: bool) -> None:
    from playwright.sync_api import sync_playwright

    args = [
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
    ]
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium(), args=args)
        page = browser.new_page(viewport={"width": width, "height": height}, color_scheme="light")
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(html.as_uri())
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png), full_page=full_page)
        browser.close()
    if problems:
        raise SystemExit("the page reported errors:\n" + "\n".join(problems))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=REPO / "docs" / "report.png", help="the PNG")
    parser.add_argument("--html", type=Path, help="also keep the report's HTML here")
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--full-page", action="store_true", help="the whole page, not just the window")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmpath-screenshot-") as folder:
        html = Path(folder) / "llmpath-report.html"
        simulate(Path(folder) / "home", html)
        if args.html:
            shutil.copyfile(html, args.html)
        screenshot(html, args.output, width=args.width, height=args.height, full_page=args.full_page)
    print(f"Wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
