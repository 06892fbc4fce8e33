"""`llmpath report` without a browser: where the file goes, what the page holds, and that it is safe.

Pages are read back with the standard library's `html.parser` into a small element tree, never searched as
text for tags. Expected states are worked out from the YAML and the commands run, not with the planner.
`tests/test_report_browser.py` opens the same pages in Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from llmpath import report
from llmpath.paths import shipped_roadmap_path
from llmpath.planner import Graph, PhaseInfo, TopicInfo

from .conftest import MINI, Cli, Clock, error_line, ok

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


class Page(HTMLParser):
    """An HTML page as a tree of `Element`s (SVG's self-closing tags included)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.current = self.root
        self.elements: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        self.elements.append(element)

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"</{tag}> closes nothing"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)

    def all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag)
            and (cls is None or cls in e.classes)
            and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Element:
        found = self.all(tag, cls, **attrs)
        assert len(found) == 1, (tag, cls, attrs, len(found))
        return found[0]

    def by_id(self, ident: str) -> Element:
        return self.one(id=ident)

    def data(self) -> dict:
        return json.loads(self.by_id("llmpath-data").text())


def expected_states(path: Path, statuses: dict[str, str]) -> dict[str, str]:
    """Each topic's state from the YAML and the statuses the test set, worked out plainly."""
    topics = [t for p in yaml.safe_load(path.read_text(encoding="utf-8"))["phases"] for t in p["topics"]]
    states = {}
    for topic in topics:
        status = statuses.get(topic["id"], "todo")
        if status != "todo":
            states[topic["id"]] = status
        elif all(statuses.get(r) in ("done", "skipped") for r in topic.get("requires", [])):
            states[topic["id"]] = "available"
        else:
            states[topic["id"]] = "blocked"
    return states


def yaml_edges(path: Path) -> list[tuple[str, str]]:
    phases = yaml.safe_load(path.read_text(encoding="utf-8"))["phases"]
    return sorted((r, t["id"]) for p in phases for t in p["topics"] for r in t.get("requires", []))


def nodes(page: Page) -> dict[str, Element]:
    found = [e for e in page.all("g", "topic") if e.parent and e.parent.parent is page.by_id("map")]
    assert len(found) == len(page.all("g", "topic"))  # every topic node sits in the map's topic group
    by_id = {e.attrs["data-topic"]: e for e in found}
    assert len(by_id) == len(found)
    return by_id


def state_of(node: Element) -> str:
    states = [c.removeprefix("state-") for c in node.classes if c.startswith("state-")]
    assert node.classes[0] == "topic" and len(states) == 1, node.classes
    return states[0]


def written(result, path: Path) -> Page:
    ok(result)
    assert result.stderr.strip() == f"Wrote the report to {path}"
    return Page(path.read_text(encoding="utf-8"))


# --- where it goes ------------------------------------------------------------------------------------------


def test_the_default_file_in_the_current_folder_is_replaced_by_the_next_report(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    default = Path("llmpath-report.html")
    first = written(cli("report"), default)
    assert state_of(nodes(first)["python"]) == "available"
    ok(cli("done", "python"))
    second = written(cli("report"), default)  # an earlier report is replaced without --force
    assert state_of(nodes(second)["python"]) == "done"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["llmpath-home", "llmpath-report.html"]


def test_another_file_is_kept_unless_forced(cli: Cli, tmp_path: Path):
    mine = tmp_path / "notes.html"
    mine.write_text("<p>my own page</p>", encoding="utf-8")
    line = error_line(cli("report", "-o", str(mine)))
    assert line == f"error: {mine} already exists and is not an llmpath report; use --force to overwrite it"
    assert mine.read_text(encoding="utf-8") == "<p>my own page</p>"
    page = written(cli("report", "-o", str(mine), "--force"), mine)
    assert len(nodes(page)) == 6


def test_output_to_a_file_or_to_standard_output(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "out" / "me.html"
    target.parent.mkdir()
    to_file = written(cli("report", "-o", str(target)), target)
    result = cli("report", "-o", "-")
    to_stdout = Page(ok(result))
    assert result.stderr == ""
    assert not Path("llmpath-report.html").exists() and not Path("-").exists()
    assert to_file.data() == to_stdout.data() and len(nodes(to_stdout)) == 6


def test_open_shows_the_written_file_in_the_browser(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *args, **kwargs: opened.append(url) or True)
    target = tmp_path / "r.html"
    written(cli("report", "-o", str(target), "--open"), target)
    assert opened == [target.resolve().as_uri()]


def test_open_with_standard_output_is_refused_before_anything_is_read(llmpath_home: Path):
    result = Cli(MINI)("report", "-o", "-", "--open")
    assert result.exit_code == 2 and "--open needs a file" in result.stderr
    assert not llmpath_home.exists()  # no database was opened


# --- what it shows ------------------------------------------------------------------------------------------


def test_one_node_per_topic_with_its_state_and_one_curve_per_prerequisite(shipped_cli: Cli, tmp_path: Path):
    statuses = {
        "llm-overview": "done",
        "python-programming": "done",
        "linear-algebra": "doing",
        "calculus": "skipped",
        "dev-environment": "doing",
    }
    ok(shipped_cli("done", "llm-overview", "python-programming"))
    ok(shipped_cli("start", "linear-algebra", "dev-environment"))
    ok(shipped_cli("skip", "calculus"))
    page = written(shipped_cli("report", "-o", str(tmp_path / "r.html")), tmp_path / "r.html")
    by_id = nodes(page)
    expected = expected_states(shipped_roadmap_path(), statuses)
    assert {t: state_of(n) for t, n in by_id.items()} == expected
    assert len(by_id) == 127 and {"done", "doing", "skipped", "available", "blocked"} == set(
        expected.values()
    )
    for topic_id, node in by_id.items():
        assert node.attrs["tabindex"] == "0" and node.attrs["role"] == "button"
        assert node.attrs["aria-label"].endswith(f"({report.STATE_WORDS[expected[topic_id]]})")
        # a text mark as well as a colour
        mark = [c for c in node.children if isinstance(c, Element) and "mark" in c.classes]
        assert [m.text() for m in mark] == [report.MARKS[expected[topic_id]]]
    edges = page.all("path", "edge")
    assert sorted((e.attrs["data-from"], e.attrs["data-to"]) for e in edges) == yaml_edges(
        shipped_roadmap_path()
    )
    legend = page.by_id("legend")
    counts = {state: list(expected.values()).count(state) for state in report.STATES}
    assert [re.sub(r"\s+", " ", li.text()).strip() for li in legend.children if isinstance(li, Element)][
        :5
    ] == [f"{report.MARKS[s]}{report.STATE_WORDS[s]} {counts[s]}" for s in report.STATES]
    # the phase bars: one per phase, in roadmap order, with the counts
    phases = page.all("div", "phase")
    assert [p.attrs["data-phase"] for p in phases] == [
        p["id"] for p in yaml.safe_load(shipped_roadmap_path().read_text(encoding="utf-8"))["phases"]
    ]
    assert "3/12" in phases[0].text() and "2 in progress" in phases[0].text()
    header = page.one("header").text()
    assert "3 of 127 topics finished" in header and "2 in progress" in header


def test_the_side_panel_data_holds_details_dates_notes_and_links(cli: Cli, monkeypatch: pytest.MonkeyPatch):
    clock = Clock(monkeypatch, datetime(2025, 3, 4, 12, 0, tzinfo=UTC))
    ok(cli("start", "python"))
    clock(datetime(2025, 3, 6, 12, 0, tzinfo=UTC))
    ok(cli("done", "python"))
    ok(cli("note", "python", "line one\nline two"))
    page = Page(ok(cli("report", "-o", "-")))
    data = page.data()
    python = data["topics"]["python"]
    assert python["title"] == "Python" and python["summary"] == "The language."
    assert python["state"] == "done" and python["phase"] == "Basics" and python["hours"] == 10
    assert (python["started"], python["finished"]) == ("2025-03-04", "2025-03-06")
    assert python["notes"] == [{"at": "2025-03-06", "text": "line one\nline two"}]
    assert python["unlocks"] == [["numpy", "NumPy Arrays", "blocked", True]]
    numpy = data["topics"]["numpy"]
    assert numpy["requires"] == [["python", "Python", "done", True], ["math", "Math", "available", True]]
    assert set(data["topics"]) == {"python", "math", "numpy", "linear-models", "neural-nets", "build-mlp"}
    panel = page.by_id("panel")
    assert "hidden" in panel.attrs and page.by_id("panel-title").text() == ""


def test_the_page_loads_nothing_and_allows_only_its_own_style_and_script(shipped_cli: Cli):
    html = ok(shipped_cli("report", "-o", "-"))
    page = Page(html)
    metas = page.all("meta", http_equiv="Content-Security-Policy")
    assert len(metas) == 1
    policy = dict(
        (part.split()[0], part.split()[1:]) for part in (metas[0].attrs["content"] or "").split(";")
    )
    assert policy["default-src"] == ["'none'"]
    styles, scripts = page.all("style"), page.all("script")
    assert len(styles) == 1 and [s.attrs.get("type") for s in scripts] == ["application/json", None]

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert policy["style-src"] == [sha(styles[0].text())]
    assert policy["script-src"] == [sha(scripts[1].text())]
    assert policy["img-src"] == ["data:"] and "'unsafe-inline'" not in html
    # nothing to fetch: no element that loads, no src or href, no URL outside the topics' data
    assert not page.all("img") and not page.all("link") and not page.all("iframe") and not page.all("object")
    assert not [e for e in page.elements for name in e.attrs if name in ("src", "href", "xlink:href")]
    data_block = scripts[0].text()
    assert re.search("https?://", html.replace(data_block, "")) is None
    urls = [r["url"] for t in page.data()["topics"].values() for r in t["resources"]]
    assert len(urls) > 100 and all(re.match(r"https?://[^\s]+$", u) for u in urls)


# --- hostile text -------------------------------------------------------------------------------------------

EVIL = "</script><img src=x onerror=alert(1)>"
QUOTES = "\"quoted\" and 'single' & <b>bold</b>"


def hostile_yaml(tmp_path: Path) -> Path:
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["title"] = EVIL
    data["phases"][0]["title"] = QUOTES
    topic = data["phases"][0]["topics"][0]
    topic["title"] = EVIL
    topic["summary"] = f"{EVIL} \u2028 {QUOTES} <!--"
    topic["concepts"] = [EVIL]
    topic["resources"] = [
        {"title": EVIL, "url": 'https://example.com/"onmouseover="alert(1)'},
        {"title": "fine", "url": "https://example.com/ok?a=1&b=2"},
    ]
    data["tracks"][0]["title"] = QUOTES
    file = tmp_path / "evil.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return file


def test_hostile_titles_notes_and_links_come_out_as_text(tmp_path: Path):
    hcli = Cli(hostile_yaml(tmp_path))
    ok(hcli("track", "coder"))
    ok(hcli("note", "python", f"{EVIL}\n<script>alert(2)</script>"))
    html = ok(hcli("report", "-o", "-"))
    page = Page(html)
    # no element the text could have made
    assert not page.all("img") and not page.all("b")
    assert len(page.all("script")) == 2
    assert not [name for e in page.elements for name in e.attrs if name.startswith("on")]
    # the text shows as written: in the header, the map's title and label, the phase bar, the data
    assert page.one("h1").text() == EVIL
    assert page.all("title")[0].parent.tag == "head"
    assert page.all("title")[0].text() == f"{EVIL} · progress report"
    node = nodes(page)["python"]
    assert node.attrs["aria-label"] == f"{EVIL} (available now)"
    label = next(c for c in node.children if isinstance(c, Element) and "label" in c.classes)
    assert " ".join(line.text() for line in children(label, "tspan")) == EVIL  # wrapped at spaces
    assert page.one("div", "phase", data_phase="basics").text().strip().startswith(QUOTES)
    assert QUOTES in page.one("header").text()  # the followed track
    python = page.data()["topics"]["python"]
    assert python["title"] == EVIL and python["concepts"] == [EVIL]
    assert python["summary"] == f"{EVIL} <U+2028> {QUOTES} <!--"  # made visible, as in a terminal
    assert python["notes"][0]["text"] == f"{EVIL}\n<script>alert(2)</script>"
    assert [r["url"] for r in python["resources"]] == [
        'https://example.com/"onmouseover="alert(1)',
        "https://example.com/ok?a=1&b=2",
    ]
    # and the data block itself holds no character that could end it
    block = page.by_id("llmpath-data").text()
    assert not set("<>&\u2028\u2029") & set(block)


def direct_input(resources: list[dict]) -> report.ReportInput:
    graph = Graph.from_edges([PhaseInfo("p", "P")], [TopicInfo("a", "A", "p", 0, 2.0)], [])
    return report.ReportInput(
        title="T",
        graph=graph,
        statuses={},
        now=datetime(2025, 1, 1, tzinfo=UTC),
        fields={"a": {"summary": "", "resources": resources}},
    )


def test_only_http_and_https_links_are_kept():
    # the roadmap loader refuses other schemes already; an older database or an import may not have
    urls = [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "file:///etc/passwd",
        "//evil.example/x",
        "https:no-host",
        "https://exa mple.com",
        "https://example.com/\u202egnp.exe",
        "http://example.com/a",
        "HTTPS://example.com/b",
    ]
    page = Page(report.build_report(direct_input([{"title": u, "url": u} for u in urls] + ["not a dict"])))
    kept = page.data()["topics"]["a"]["resources"]
    assert [r["url"] for r in kept] == ["http://example.com/a", "HTTPS://example.com/b"]
    assert [report.safe_url(u) for u in urls] == [None] * 10 + urls[10:]


def test_embedded_json_cannot_close_its_element():
    value = {"t": "</script><!--<script>&amp;\u2028\u2029'\""}
    text = report.embedded_json(value)
    assert json.loads(text) == value
    assert not set("<>&\u2028\u2029") & set(text)


def test_control_characters_and_lone_surrogates_are_shown_not_written(tmp_path: Path):
    graph = Graph.from_edges([PhaseInfo("p", "P\x1b[2J")], [TopicInfo("a", "A\ud800\u202eB", "p", 0)], [])
    html = report.build_report(
        report.ReportInput(title="T\x07", graph=graph, statuses={}, now=datetime(2025, 1, 1, tzinfo=UTC))
    )
    html.encode("utf-8")  # a lone surrogate would make the file unwritable
    page = Page(html)
    assert page.one("h1").text() == "T^G"
    assert page.data()["topics"]["a"]["title"] == "A<U+D800><U+202E>B"


# --- scope, activity, estimates -----------------------------------------------------------------------------


def test_phase_track_and_goal_narrow_the_map(cli: Cli):
    def shown(*args: str) -> list[str]:
        return list(nodes(Page(ok(cli("report", "-o", "-", *args)))))

    assert shown("--phase", "basics") == ["python", "math", "numpy"]
    assert shown("--track", "coder") == ["python", "math", "numpy"]
    assert shown("--phase", "models", "--track", "modeller") == ["linear-models", "neural-nets", "build-mlp"]
    assert error_line(cli("report", "-o", "-", "--phase", "models", "--track", "coder")) == (
        "error: no topic is in Phase: Models and Track: Coder; nothing to show"
    )
    assert "no goal is set" in error_line(cli("report", "-o", "-", "--goal"))
    ok(cli("done", "python"))
    ok(cli("goal", "linear-models"))
    assert shown("--goal") == ["python", "math", "numpy", "linear-models"]  # done ones too
    page = Page(ok(cli("report", "-o", "-")))
    assert len(nodes(page)) == 6  # the whole map, the goal's open way outlined
    assert sorted(t for t, n in nodes(page).items() if n.attrs.get("data-aim")) == [
        "linear-models",
        "math",
        "numpy",
    ]
    assert "Goal: Linear Models — 3 topics to go, about 33 h left" in page.one("header").text()


def children(element: Element, tag: str | None = None, cls: str | None = None) -> list[Element]:
    return [
        c
        for c in element.children
        if isinstance(c, Element) and (tag is None or c.tag == tag) and (cls is None or cls in c.classes)
    ]


def local_day(at: datetime):
    return at.astimezone().date()


def test_weekly_activity_and_finish_estimates(cli: Cli, monkeypatch: pytest.MonkeyPatch):
    clock = Clock(monkeypatch, datetime(2025, 6, 4, 12, 0, tzinfo=UTC))  # a Wednesday
    ok(cli("done", "python", "math"))  # 10 + 20 h
    clock(datetime(2025, 6, 11, 12, 0, tzinfo=UTC))
    ok(cli("done", "numpy"))  # 5 h
    page = Page(ok(cli("report", "-o", "-")))
    weeks = page.all("g", "week")
    assert len(weeks) == report.WEEKS
    values = {w.attrs["data-week"]: [c.text() for c in children(w, cls="value")] for w in weeks}
    this_monday = local_day(clock.at) - timedelta(days=local_day(clock.at).weekday())
    assert values[this_monday.isoformat()] == ["5 h", "1"]
    assert values[(this_monday - timedelta(weeks=1)).isoformat()] == ["30 h", "2"]
    assert sum(1 for v in values.values() if v) == 2  # empty weeks carry no numbers
    assert not page.all("table", "estimates")  # estimates are opt-in
    ok(cli("config", "eta", "on"))
    page = Page(ok(cli("report", "-o", "-")))
    body = children(page.one("table", "estimates"), "tbody")[0]
    cells = [[c.text() for c in children(row)] for row in children(body, "tr")]
    # pace: 35 h in the last 28 days, 8.75 h a week; Basics is finished, Models needs 26 h more
    finish = local_day(clock.at + timedelta(weeks=26 / 8.75)).isoformat()
    assert cells == [["Basics", "0 h", local_day(clock.at).isoformat()], ["Models", "26 h", finish]]
    assert f"finished by about {finish} at your pace" in page.one("header").text()
