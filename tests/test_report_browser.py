"""`llmpath report` opened in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

Each report is written by the real CLI into a temporary data folder with some progress, then opened from
its file. Every visit records what the page asks of the network (nothing but the file itself is allowed:
any other request fails the test), console errors, uncaught exceptions, dialogs and Content-Security-Policy
violations, and fails on any of them. A roadmap whose topic and phase are titled like an injection, with a
hostile note and a resource URL that tries to break out of its attribute, shows that roadmap text stays
text: checked with the page's CSP on, and again with the CSP bypassed so that it cannot hide an escaping bug.

One browser serves the whole module. Without Chromium or Playwright the tests are skipped with the reason,
except under CI (`CI=true`), where `.ci/run` installs both and their absence is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmpath import paths

from .conftest import Cli, error_line, ok, run_llmpath

HOSTILE = "</script><img src=x onerror=alert(1)>"
HOSTILE_NOTE = "<img src=x onerror=alert(2)></aside><script>alert(3)</script> & \u2028 ok"
HOSTILE_URL = 'https://example.com/a"onmouseover="alert(4)'
STATES = ("done", "doing", "skipped", "available", "blocked")
CHROMIUM_NAMES = ("chromium", "chromium-browser")
# Chromium as root needs no sandbox (Playwright passes --no-sandbox by default); these keep it from calling
# home for updates, safe-browsing lists and sync while a test runs.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Records every Content-Security-Policy violation the page reports, from before its first script runs.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


# --- the browser ------------------------------------------------------------------------------------------


def chromium_path() -> str | None:
    explicit = os.environ.get("LLMPATH_TEST_CHROMIUM")  # another build of Chromium to test with
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next(filter(None, (shutil.which(name) for name in CHROMIUM_NAMES)), None)


def unavailable(reason: str) -> None:
    """Skip, with the reason; under CI, where .ci/run installs Chromium and Playwright, fail instead."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: .ci/run should have installed it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        unavailable(
            f"LLMPATH_TEST_CHROMIUM={os.environ['LLMPATH_TEST_CHROMIUM']} is not a file"
            if os.environ.get("LLMPATH_TEST_CHROMIUM")
            else "Chromium is not installed (apt-get install chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visit:
    """One page in a fresh browser context, with everything it did that a report must never do."""

    def __init__(self, browser: Any, path: Path, **context_options: Any):
        self.uri = path.as_uri()
        self.context = browser.new_context(**context_options)
        self.blocked: list[str] = []  # requests the route refused: anything but the report itself
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)
        self.page.add_init_script(WATCH_CSP)
        self.page.goto(self.uri)

    def _route(self, route: Any) -> None:
        if route.request.url == self.uri:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def js(self, expression: str, argument: Any = None) -> Any:
        return self.page.evaluate(expression, argument)

    def topic(self, topic_id: str) -> Any:
        return self.page.locator(f'#map g.topic[data-topic="{topic_id}"]')

    def check_clean(self) -> None:
        self.page.wait_for_timeout(50)  # lets a late error, request or dialog arrive
        violations = self.js("window.__cspViolations")
        assert self.dialogs == [], "a script from the report's text ran"
        assert self.problems == []
        assert violations == [], "the page tried to load something its CSP forbids"
        assert self.blocked == [], "the page tried to load something besides itself"
        assert {url for url in self.requests if not url.startswith("data:")} <= {self.uri}


@contextmanager
def visit(browser: Any, path: Path, **context_options: Any) -> Iterator[Visit]:
    """Opens `path`; on leaving, fails if the page made any request, error, dialog or CSP violation."""
    page = Visit(browser, path, **context_options)
    try:
        yield page
        page.check_clean()
    finally:
        page.context.close()


# --- the reports ------------------------------------------------------------------------------------------


def hostile_roadmap() -> dict:
    """Six topics in two phases, one of each state after `make_progress`, titled to break out of HTML."""
    return {
        "schema": 1,
        "id": "hostile",
        "title": 'Hostile <b>roadmap</b> & "quotes"',
        "phases": [
            {
                "id": "basics",
                "title": HOSTILE,
                "topics": [
                    {"id": "alpha", "title": "Alpha", "hours": 2},
                    {
                        "id": "beta",
                        "title": HOSTILE,
                        "summary": "<script>alert(5)</script> summary",
                        "concepts": ["<b>bold</b>", "a & b"],
                        "requires": ["alpha"],
                        "hours": 3,
                        "resources": [
                            {"title": '"><svg onload=alert(6)>', "url": HOSTILE_URL},
                            {"title": "Plain", "url": "https://example.org/plain"},
                        ],
                    },
                    {"id": "gamma", "title": "Gamma", "requires": ["alpha"], "hours": 1},
                ],
            },
            {
                "id": "then",
                "title": "Then & <after>",
                "topics": [
                    {"id": "delta", "title": "Delta", "requires": ["beta", "gamma"], "hours": 4},
                    {"id": "epsilon", "title": "Epsilon", "requires": ["gamma"], "hours": 2},
                    {"id": "zeta", "title": "Zeta", "requires": ["delta", "epsilon"], "hours": 5},
                ],
            },
        ],
    }


HOSTILE_STATES = {
    "alpha": "done",
    "beta": "doing",
    "gamma": "skipped",
    "delta": "blocked",
    "epsilon": "available",
    "zeta": "blocked",
}


class Roadmap:
    """A roadmap file as plain data (read with PyYAML, not llmpath): topics, phases, prerequisites."""

    def __init__(self, path: Path):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.phases = [phase["id"] for phase in document["phases"]]
        topics = [topic for phase in document["phases"] for topic in phase["topics"]]
        self.title = {topic["id"]: topic["title"] for topic in topics}
        self.requires = {topic["id"]: topic.get("requires") or [] for topic in topics}

    def edges(self) -> set[tuple[str, str]]:
        return {(pre, topic) for topic, pres in self.requires.items() for pre in pres}

    def states(self, statuses: dict[str, str]) -> dict[str, str]:
        def state(topic: str) -> str:
            if topic in statuses:
                return statuses[topic]
            met = all(statuses.get(pre) in ("done", "skipped") for pre in self.requires[topic])
            return "available" if met else "blocked"

        return {topic: state(topic) for topic in self.title}


@contextmanager
def home(folder: Path) -> Iterator[None]:
    """LLMPATH_HOME set to `folder` (module fixtures run outside the per-test home of conftest)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMPATH_HOME", str(folder / "llmpath-home"))
        patch.delenv("LLMPATH_ROADMAP", raising=False)
        patch.setenv("COLUMNS", "200")
        yield


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Roadmap]:
    folder = tmp_path_factory.mktemp("hostile")
    roadmap_file = folder / "hostile.yaml"
    roadmap_file.write_text(yaml.safe_dump(hostile_roadmap(), allow_unicode=True), encoding="utf-8")
    report = folder / "report.html"
    with home(folder):
        cli = Cli(roadmap_file)
        ok(cli("done", "alpha"))
        ok(cli("start", "beta"))
        ok(cli("skip", "gamma"))
        ok(cli("note", "beta", HOSTILE_NOTE))
        ok(cli("report", "-o", str(report)))
    return report, Roadmap(roadmap_file)


SHIPPED_PROGRESS = {
    "done": ["llm-overview", "python-programming", "dev-environment", "linear-algebra"],
    "skip": ["research-frontier"],
    "start": ["calculus", "docker-basics"],
}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Roadmap, dict[str, str]]:
    """The shipped roadmap with some progress and a followed track, written by a real `llmpath` process."""
    folder = tmp_path_factory.mktemp("shipped")
    report = folder / "report.html"
    with home(folder):
        cli = Cli()
        for command, topics in SHIPPED_PROGRESS.items():
            ok(cli(command, *topics))
        ok(cli("track", "application-engineer"))
        done = run_llmpath("report", "-o", str(report), env={"LLMPATH_HOME": os.environ["LLMPATH_HOME"]})
    assert done.returncode == 0, done.stderr
    state_of = {"done": "done", "skip": "skipped", "start": "doing"}
    statuses = {topic: state_of[command] for command, topics in SHIPPED_PROGRESS.items() for topic in topics}
    roadmap = Roadmap(paths.shipped_roadmap_path())
    return report, roadmap, roadmap.states(statuses)


# --- what the map shows -----------------------------------------------------------------------------------

MAP_STATE = """() => [...document.querySelectorAll('#map g.topic')].map((g) => [
    g.dataset.topic, [...g.classList].filter((c) => c.startsWith('state-')).map((c) => c.slice(6))])"""
EDGES = """() => [...document.querySelectorAll('#map path.edge')].map((p) => [p.dataset.from, p.dataset.to,
    p.getAttribute('d')])"""


def check_map(page: Visit, roadmap: Roadmap, states: dict[str, str]) -> None:
    shown = page.js(MAP_STATE)
    assert len(shown) == len(roadmap.title), "one node per topic"
    assert {topic: classes for topic, classes in shown} == {t: [s] for t, s in states.items()}
    edges = page.js(EDGES)
    assert len(edges) == len(roadmap.edges())
    assert {(pre, topic) for pre, topic, _ in edges} == roadmap.edges()
    assert all(re.match(r"^\s*M", d) and "C" in d for _, _, d in edges), "edges are drawn as curves"
    phases = page.js("() => [...document.querySelectorAll('#phases .phase')].map((p) => p.dataset.phase)")
    assert phases == roadmap.phases
    legend = page.page.inner_text("#legend").lower()
    assert all(state in legend or (state == "doing" and "progress" in legend) for state in STATES), legend
    assert page.page.locator("#activity").count() == 1


def test_shipped_map_has_every_topic_in_its_state(browser, shipped):
    report, roadmap, states = shipped
    with visit(browser, report, viewport={"width": 1600, "height": 1000}) as page:
        check_map(page, roadmap, states)
        assert "LLM Application Engineer" in page.page.inner_text("body")  # the followed track
        # Each state has its own text mark, so that the map reads in grey and without colour vision.
        marks = page.js("""() => [...document.querySelectorAll('#map g.topic')].map((g) => [
            [...g.classList].find((c) => c.startsWith('state-')),
            g.querySelector('text.mark').textContent])""")
        mark_of = {state: {mark for s, mark in marks if s == state} for state, _ in marks}
        assert all(len(shown) == 1 and shown != {""} for shown in mark_of.values()), mark_of
        assert len({mark for shown in mark_of.values() for mark in shown}) == len(STATES), mark_of
        # Every box shows its title and a mark; the text, as the browser lays it out, stays inside its box.
        overflowing = page.js("""() => [...document.querySelectorAll('#map g.topic')].flatMap((g) => {
            const box = g.querySelector('rect').getBBox();
            return [...g.querySelectorAll('text')].filter((t) => {
                const b = t.getBBox();
                return b.x < box.x - 1 || b.y < box.y - 1 || b.x + b.width > box.x + box.width + 1
                    || b.y + b.height > box.y + box.height + 1;
            }).map((t) => `${g.dataset.topic}: ${t.textContent}`);
        })""")
        assert overflowing == []


def test_hostile_map_states_and_titles_are_text(browser, hostile):
    report, roadmap = hostile
    for bypass_csp in (False, True):  # without the CSP, an escaping bug would run its script
        with visit(browser, report, bypass_csp=bypass_csp) as page:
            check_map(page, roadmap, HOSTILE_STATES)
            beta = page.topic("beta")
            label = beta.get_attribute("aria-label") or ""
            assert re.fullmatch(re.escape(HOSTILE) + r" \((doing|in progress)\)", label), label
            assert "</script><img" in re.sub(r"\s", "", beta.text_content() or "")
            phase = page.page.locator('#phases .phase[data-phase="basics"]').text_content() or ""
            assert HOSTILE in phase
            assert 'Hostile <b>roadmap</b> & "quotes"' in page.page.inner_text("body")
            check_nothing_injected(page)


def check_nothing_injected(page: Visit) -> None:
    injected = page.js("""() => ({
        images: document.querySelectorAll('img[src="x"], svg svg, b').length,
        handlers: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes])
            .map((a) => a.name).filter((name) => name.startsWith('on')),
        scripts: [...document.scripts].filter((s) => s.id !== 'llmpath-data' && /alert/.test(s.text)).length,
        data: document.querySelectorAll('script#llmpath-data').length,
    })""")
    assert injected == {"images": 0, "handlers": [], "scripts": 0, "data": 1}


def test_no_network_even_when_every_request_is_refused(browser, hostile):
    """The report is served by the route itself, which aborts everything else: the page still works."""
    report, roadmap = hostile
    with visit(browser, report, bypass_csp=True) as page:
        page.context.unroute("**/*")
        served: list[str] = []

        def only_the_report(route: Any) -> None:
            if route.request.url == page.uri and not served:
                served.append(route.request.url)
                route.fulfill(body=report.read_bytes(), content_type="text/html; charset=utf-8")
            else:
                page.blocked.append(route.request.url)
                route.abort()

        page.context.route("**/*", only_the_report)
        page.page.reload()
        assert served == [page.uri]
        check_map(page, roadmap, HOSTILE_STATES)
        page.topic("beta").click()
        assert page.page.locator("#panel-title").text_content() == HOSTILE
        page.js("() => { new Image().src = 'https://example.invalid/probe.png'; }")
        page.page.wait_for_timeout(100)
        assert page.blocked == ["https://example.invalid/probe.png"]  # the route does see a real request
        page.blocked.clear()
        page.requests.remove("https://example.invalid/probe.png")
        page.problems.remove("console error: Failed to load resource: net::ERR_FAILED")


def test_content_security_policy_forbids_network_loads(browser, hostile):
    report, _ = hostile
    with visit(browser, report) as page:
        policy = page.page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        assert policy is not None and "default-src 'none'" in policy
        page.js("() => { new Image().src = 'https://example.invalid/probe.png'; }")
        page.page.wait_for_timeout(100)
        violations = page.js("window.__cspViolations")
        assert violations and "example.invalid" in violations[0], violations
        assert page.blocked == [], "the CSP stops it before it reaches the network"
        assert len(page.problems) == 1 and "Content Security Policy" in page.problems[0], page.problems
        # The probe's violation, request event and console error were expected: nothing else may follow.
        page.js("() => { window.__cspViolations = []; }")
        page.requests.remove("https://example.invalid/probe.png")
        page.problems.clear()


# --- interaction ------------------------------------------------------------------------------------------


def panel(page: Visit) -> dict:
    return page.js("""() => {
        const panel = document.getElementById('panel');
        return {hidden: panel.hidden || getComputedStyle(panel).display === 'none',
                title: document.getElementById('panel-title').textContent,
                text: panel.textContent,
                links: [...panel.querySelectorAll('a')].map((a) => [a.getAttribute('href'), a.protocol,
                    a.rel, a.textContent])};
    }""")


def test_panel_opens_on_click_with_the_topic_and_closes_on_escape(browser, hostile):
    report, _ = hostile
    with visit(browser, report, bypass_csp=True) as page:
        assert panel(page)["hidden"]
        page.topic("beta").click()
        shown = panel(page)
        assert not shown["hidden"] and shown["title"] == HOSTILE
        for text in ("<script>alert(5)</script> summary", "<b>bold</b>", "a & b", HOSTILE_NOTE[:50]):
            assert text in shown["text"]
        assert [link[0] for link in shown["links"]] == [HOSTILE_URL, "https://example.org/plain"]
        for _, protocol, rel, _ in shown["links"]:
            assert protocol in ("http:", "https:") and {"noopener", "noreferrer"} <= set(rel.split())
        assert shown["links"][0][3] == '"><svg onload=alert(6)>'
        check_nothing_injected(page)
        page.page.keyboard.press("Escape")
        assert panel(page)["hidden"]
        page.topic("alpha").click()
        assert panel(page)["title"] == "Alpha"


RELATED = "() => [...document.querySelectorAll('g.topic.related')].map((g) => g.dataset.topic)"
LIT = "() => [...document.querySelectorAll('path.edge.lit')].map((p) => [p.dataset.from, p.dataset.to])"


def test_keyboard_tab_to_a_topic_enter_opens_escape_closes(browser, hostile):
    report, roadmap = hostile
    with visit(browser, report) as page:
        focused = None
        for _ in range(60):
            page.page.keyboard.press("Tab")
            focused = page.js("() => document.activeElement?.dataset?.topic ?? null")
            if focused == "beta":
                break
        assert focused == "beta", "Tab reaches every topic"
        related = page.js(RELATED)
        assert sorted(related) == ["alpha", "delta"]  # focus lights prerequisites and dependents
        page.page.keyboard.press("Enter")
        assert panel(page)["title"] == HOSTILE and not panel(page)["hidden"]
        page.page.keyboard.press("Escape")
        assert panel(page)["hidden"]
        assert page.js("() => document.activeElement?.dataset?.topic ?? null") == "beta", "focus comes back"
        page.page.keyboard.press("Tab")
        following = page.js("() => document.activeElement?.dataset?.topic ?? null")
        assert following in roadmap.title
        page.page.keyboard.press("Space")
        assert panel(page)["title"] == roadmap.title[following] and not panel(page)["hidden"]


def test_hover_marks_prerequisites_and_dependents(browser, hostile):
    report, _ = hostile
    with visit(browser, report) as page:
        page.topic("delta").hover()
        related = page.js(RELATED)
        assert sorted(related) == ["beta", "gamma", "zeta"]
        lit = page.js(LIT)
        assert sorted(map(tuple, lit)) == [("beta", "delta"), ("delta", "zeta"), ("gamma", "delta")]
        page.page.mouse.move(0, 0)
        assert page.js("() => document.querySelectorAll('.related, .lit').length") == 0


# --- dark mode and print ----------------------------------------------------------------------------------

BACKGROUND = """() => {
    const body = getComputedStyle(document.body).backgroundColor;
    return body === 'rgba(0, 0, 0, 0)' ? getComputedStyle(document.documentElement).backgroundColor : body;
}"""
# Per state, the colours of a topic's box, its title and its mark, as the browser computed them.
COLOURS = """() => Object.fromEntries([...document.querySelectorAll('#map g.topic')].map((g) => [
    [...g.classList].find((c) => c.startsWith('state-')).slice(6),
    {box: getComputedStyle(g.querySelector('rect.box')).fill,
     label: getComputedStyle(g.querySelector('text.label')).fill,
     mark: getComputedStyle(g.querySelector('text.mark')).fill,
     opacity: getComputedStyle(g).opacity}]))"""


def luminance(css_color: str) -> float:
    """WCAG relative luminance of an `rgb(r, g, b)` colour: 0 black, 1 white."""
    channels = [int(n) / 255 for n in re.findall(r"\d+", css_color)[:3]]
    red, green, blue = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_dark_mode_follows_the_system_and_every_state_stays_readable(browser, shipped):
    """The page turns dark with the system; in both schemes each state's title reads on its box (WCAG AA:
    4.5:1) and its mark stands out (3:1, as for graphics)."""
    report, _, states = shipped
    backgrounds = {}
    for scheme in ("light", "dark"):
        with visit(browser, report, color_scheme=scheme) as page:
            backgrounds[scheme] = page.js(BACKGROUND)
            colours = page.js(COLOURS)
        assert set(colours) == set(STATES) == set(states.values())
        for state, colour in colours.items():
            assert colour["opacity"] == "1", f"{scheme} {state}: a faded box"
            assert contrast(colour["label"], colour["box"]) >= 4.5, f"{scheme} {state}: {colour}"
            assert contrast(colour["mark"], colour["box"]) >= 3, f"{scheme} {state}: {colour}"
    assert luminance(backgrounds["dark"]) < 0.1 < 0.6 < luminance(backgrounds["light"]), backgrounds


def test_print_media_lays_out_without_errors(browser, shipped):
    report, roadmap, states = shipped
    with visit(browser, report) as page:
        page.page.emulate_media(media="print")
        assert page.js("() => matchMedia('print').matches")
        check_map(page, roadmap, states)
        pdf = page.page.pdf(format="A4", landscape=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


# --- without a browser ------------------------------------------------------------------------------------


def test_a_javascript_url_in_a_roadmap_is_refused(tmp_path: Path):
    """Only http(s) links reach a report: the roadmap itself refuses any other scheme."""
    document = hostile_roadmap()
    document["phases"][0]["topics"][1]["resources"] = [{"title": "x", "url": "javascript:alert(7)"}]
    roadmap_file = tmp_path / "js.yaml"
    roadmap_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    report = tmp_path / "report.html"
    line = error_line(Cli(roadmap_file)("report", "-o", str(report)))
    assert "javascript:alert(7)" in line and "http" in line
    assert not report.exists()
