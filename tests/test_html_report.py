"""The HTML report (`dnsrace.report.html`): one self-contained page with the verdicts and
each trace as swimlanes, a lane per process instance and a row per step.

Read without a browser (html.parser): the lanes and rows, the changed values in the lane of
the instance that took the step, the arrows of stale checks and reads, a lasso's cycle,
escaping of everything a spec provides, nothing fetched from the network, diagnostics of a
spec that could not be checked.  Then in headless Chromium (Debian's `chromium` and
`chromedriver`, through selenium): the rows in the DOM, the keys that move the current row,
the arrow between the right rows, and a screenshot that is not blank."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from dnsrace import api
from dnsrace.diagnostics import SpecError
from dnsrace.report.formats import ReportOptions, render
from dnsrace.results import SpecFailure
from tests.helpers import ROOT, write_spec
from tests.html_browser import (
    CHROMEDRIVER,
    CHROMIUM,
    browser,
    open_report,
    png_pixels,
    press,
)

DNS_RACE = "specs/dynamodb_dns_race.yaml"
DNS_LANES = ["Planner[0]", "Enactor[0]", "Enactor[1]", "Enactor[2]"]


# --- a small DOM from html.parser -----------------------------------------------------------

VOID = {"meta", "link", "col", "br", "img", "input", "hr", "source", "wbr", "area", "base"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.classes):
                    out.append(c)
                out += c.all(tag, cls)
        return out

    def one(self, tag: str | None = None, cls: str | None = None) -> Node:
        found = self.all(tag, cls)
        assert len(found) == 1, (tag, cls, len(found))
        return found[0]

    def by_id(self, ident: str) -> Node:
        return next(n for n in self.all() if n.attrs.get("id") == ident)


class Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.at = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_startendtag(self, tag, attrs):
        self.at.children.append(Node(tag, dict(attrs), self.at))

    def handle_endtag(self, tag):
        node = self.at
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"</{tag}> closes nothing"
        self.at = node.parent

    def handle_data(self, data):
        self.at.children.append(data)


def dom(page: str) -> Node:
    b = Builder()
    b.feed(page)
    b.close()
    assert b.at is b.root, f"<{b.at.tag}> is never closed"
    return b.root


def trace_of(doc: Node, prop: str) -> Node:
    """The section of the trace of property `prop`."""
    return next(s for s in doc.all("section", "trace")
                if s.one("h3").text().startswith(prop + ":"))


def lanes(section: Node) -> list[str]:
    return [th.text() for th in section.one("table", "swimlane").all("th", "lane")]


def rows(section: Node) -> list[Node]:
    return section.one("table", "swimlane").all("tr", "step")


# --- the DNS race, checked once ---------------------------------------------------------------

@pytest.fixture(scope="module")
def dns_result():
    return api.check(ROOT / DNS_RACE)


@pytest.fixture(scope="module")
def dns_page(dns_result) -> str:
    return render("html", [dns_result], ReportOptions(timing=False))


@pytest.fixture(scope="module")
def dns_dom(dns_page) -> Node:
    return dom(dns_page)


def test_a_lane_per_process_instance_in_declaration_order(dns_dom, dns_result):
    section = trace_of(dns_dom, "no_empty_record")
    assert dns_result.spec_map.instances == DNS_LANES
    assert lanes(section) == DNS_LANES          # no actions in the spec: no actions lane
    heads = [th.attrs.get("scope") for th in section.one("thead").all("th")]
    assert heads == ["col"] * (len(DNS_LANES) + 2)   # step, the lanes, state


def test_every_step_is_a_row_with_its_transition_in_its_instance_lane(dns_dom, dns_result):
    trace = dns_result.property("no_empty_record").trace
    assert trace.length == 11
    section = trace_of(dns_dom, "no_empty_record")
    found = rows(section)
    assert [r.attrs["data-step"] for r in found] == [str(k) for k in range(12)]
    assert found[0].one("td", "init").text() == "initial state"
    for row, step in zip(found[1:], trace.steps[1:]):
        cells = row.all("td")[:-1]               # the last is the state
        taken = [i for i, c in enumerate(cells) if "taken" in c.classes]
        instance, name = step.action.split(".", 1)
        assert taken == [DNS_LANES.index(instance)], step.action
        assert cells[taken[0]].one("span", "tr").text() == name


def test_a_cell_shows_the_values_its_step_changed_highlighted(dns_dom):
    section = trace_of(dns_dom, "no_empty_record")
    cell = section.by_id(rows(section)[9].attrs["id"] + "-l1")   # Enactor[0].write
    assert [m.text() for m in cell.all("mark")] == ["record[0]=2", "ep=1"]
    state = rows(section)[9].one("td", "state")
    changed = {d.one("dt").text(): d.one("dd").text() for d in state.all("div", "changed")}
    assert changed == {"record[0]": "2", "Enactor.ep[0]": "1"}


def test_the_stale_check_runs_from_the_check_to_the_write_that_broke_it(dns_dom):
    section = trace_of(dns_dom, "no_empty_record")
    # check at step 5 (Enactor[0], lane 1), broken by step 8 (Enactor[1], lane 2);
    # the read of step 2 (lane 1) changed by step 4 (the Planner, lane 0)
    assert section.one("div", "lanes").attrs["data-links"].split() == \
        ["read,2,1,4,0", "check,5,1,8,2"]
    tid = section.attrs["id"]
    assert "checks plan > applied" in section.by_id(f"{tid}-s5-l1").one(cls="m-check").text()
    assert section.by_id(f"{tid}-s8-l2").one(cls="m-break").text() == \
        "breaks the check of step 5"
    stale = [m.text() for m in section.by_id(f"{tid}-s9-l1").all(cls="m-stale")]
    assert stale == ["\u26a0 stale check: plan > applied (checked at step 5, broken at step 8)"]
    assert section.by_id(f"{tid}-s2-l1").one(cls="m-read").text() == "reads plan = 2"
    assert [m.text() for m in section.by_id(f"{tid}-s5-l1").all(cls="m-stale")] == \
        ["\u26a0 stale read: plan = 2 (reading again gives 4)"]
    notes = [li.text() for li in section.one("ul", "notes").all("li")]
    assert notes[1].startswith("step 9: stale check: Enactor[0] checked `plan > applied` at "
                               "step 5; step 8 (Enactor[1].write)")


def test_a_lassos_cycle_is_marked_from_loop_start(dns_dom, dns_result):
    trace = dns_result.property("endpoints_settle").trace
    start, last = trace.loop_start, trace.length
    assert 0 < start < last
    found = rows(trace_of(dns_dom, "endpoints_settle"))
    assert [k for k, r in enumerate(found) if "cycle" in r.classes] == list(range(start,
                                                                                  last + 1))
    assert "cycle-start" in found[start].classes and "cycle-end" in found[last].classes
    assert found[last].one("span", "cyc").text() == f"\u21a9 {start}"
    notes = trace_of(dns_dom, "endpoints_settle").one("ul", "notes").text()
    assert f"steps {start + 1}..{last} repeat forever" in notes


def test_the_verdict_table_has_a_row_per_property(dns_dom, dns_result):
    table = dns_dom.one("table", "verdicts")
    names = [th.text() for th in table.one("tbody").all("th")]
    assert names == [p.name for p in dns_result.properties]
    first = table.one("tbody").all("tr")[0]
    assert [td.text() for td in first.all("td")][:3] == \
        ["ok", "invariant", "violated, trace of 11 steps (as expected)"]


def test_counterexamples_are_open_and_witnesses_folded(dns_dom):
    def is_open(prop):
        return "open" in trace_of(dns_dom, prop).all("details")[0].attrs
    assert is_open("no_empty_record") and is_open("regional_heals")
    assert not is_open("repair_trap")


def test_the_page_fetches_nothing(dns_page, dns_dom):
    assert not re.search(r"https?://", dns_page)
    assert not dns_dom.all("link") and not dns_dom.all("img") and not dns_dom.all("iframe")
    assert all("src" not in s.attrs for s in dns_dom.all("script"))
    assert "@import" not in dns_page and not re.search(r"url\((?!#)", dns_page)
    policy = next(m.attrs["content"] for m in dns_dom.all("meta")
                  if m.attrs.get("http-equiv") == "Content-Security-Policy")
    assert policy.startswith("default-src 'none';")
    # the inline style and script are the ones the policy allows, by hash
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        body = dns_dom.one(tag).text().encode()
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy


def test_no_element_has_an_event_handler_attribute(dns_dom):
    assert not [n.tag for n in dns_dom.all() if any(a.startswith("on") for a in n.attrs)]


def test_the_same_results_give_the_same_page(dns_result, dns_page):
    assert render("html", [dns_result], ReportOptions(timing=False)) == dns_page


# --- other specs ------------------------------------------------------------------------------

HOSTILE = """
    dnsrace: 1
    name: hostile
    description: "</title><script>alert(1)</script>"
    variables:
      x: {type: "0..2", init: 0}
    processes:
      W:
        steps:
          - name: go
            guard: x < 2
            effect: x += 1
            next: go
    actions:
      - name: reset
        guard: x == 2
        effect: x = 0
    invariants:
      small:
        expr: "x < 2"
        about: "<img src=x onerror=alert(2)> & \\"quotes\\" <script>alert(3)</script>"
    """


def test_spec_text_is_escaped(tmp_path):
    result = api.check(write_spec(tmp_path, HOSTILE))
    page = render("html", [result], ReportOptions(timing=False))
    assert "<img" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(2)&gt; &amp; &quot;quotes&quot; " \
           "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    doc = dom(page)
    assert len(doc.all("script")) == 1


def test_actions_have_a_lane_of_their_own(tmp_path):
    reach = """
    dnsrace: 1
    name: mixed
    variables:
      x: {type: "0..3", init: 0}
    processes:
      W:
        count: 2
        steps:
          - name: go
            guard: x < 2
            effect: x += 1
            next: go
    actions:
      - name: jump
        guard: x == 2
        effect: x = 3
    reachable:
      three: "x == 3"
    """
    result = api.check(write_spec(tmp_path, reach, "mixed.yaml"))
    section = trace_of(dom(render("html", [result], ReportOptions(timing=False))), "three")
    assert lanes(section) == ["W[0]", "W[1]", "actions"]
    last = rows(section)[-1]
    taken = [i for i, c in enumerate(last.all("td")[:-1]) if "taken" in c.classes]
    assert taken == [2] and last.one("span", "tr").text() == "jump"


def test_a_failing_step_shows_the_error_and_where(tmp_path):
    result = api.check(ROOT / "tests" / "runtime" / "index.yaml")
    section = trace_of(dom(render("html", [result], ReportOptions(timing=False))), "error")
    assert lanes(section) == ["actions"]
    last = rows(section)[-1]
    assert last.one("span", "fails").text() == "FAILS: array index out of range"
    where = last.one("pre", "error").text()
    assert "index.yaml:11:13: array index out of range: record[e] with e = 2, record has 2 " \
        "elements" in where, where


EVEN = """
    dnsrace: 1
    name: even
    variables:
      x: {type: "0..30", init: 0}
    actions:
      - name: step2
        guard: "x < 28"
        effect: x += 2
    invariants:
      not_odd_end: "x != 29"
    """


def test_a_counterexample_to_induction_is_labelled_and_starts_from_any_state(tmp_path):
    result = api.check(write_spec(tmp_path, EVEN), engine="kind", max_depth=3)
    assert result.property("not_odd_end").cti is not None
    doc = dom(render("html", [result], ReportOptions(timing=False)))
    section = doc.one("section", "trace")
    assert section.one("h3").text() == (
        "not_odd_end: not proved; counterexample to induction: NOT a counterexample; it may "
        "start from an unreachable state counterexample to induction")
    assert rows(section)[0].one("td", "init").text() == "any state"
    assert "not 4-inductive" in section.one("p", "message").text()
    assert doc.one("table", "verdicts").one("a").text() == "not proved: see why"


def test_a_spec_that_could_not_be_checked_shows_its_diagnostics(tmp_path, dns_result):
    broken = os.path.relpath(ROOT / "tests" / "broken" / "arity_len.yaml")
    with pytest.raises(SpecError) as caught:
        api.check(broken)
    failure = SpecFailure(broken, caught.value.diagnostics)
    doc = dom(render("html", [failure, dns_result], ReportOptions(timing=False)))
    section = doc.all("section", "spec")[0]
    assert section.one("span", "status").text() == "INVALID"
    expected = (ROOT / "tests" / "broken" / "arity_len.expected").read_text()
    assert section.one("pre", "diagnostics").text() == \
        expected.replace("tests/broken/arity_len.yaml", broken)
    assert [li.text() for li in doc.one("ul", "contents").all("li")] == \
        [f"{broken} INVALID", "dynamodb-dns-race PASSED"]


# --- in a real browser ------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="no chromium or chromedriver on PATH (Debian: apt install chromium "
           "chromium-driver)")


@pytest.fixture(scope="module")
def page_in_browser(dns_page, tmp_path_factory):
    with browser(1400, 900) as driver:
        open_report(driver, tmp_path_factory.mktemp("html"), dns_page)
        yield driver


FIRST_TRACE = "document.querySelector('section.trace')"


def current_step(driver) -> str:
    return driver.execute_script(
        f"return {FIRST_TRACE}.querySelector('tr.step.current').getAttribute('data-step')")


@needs_chromium
def test_browser_has_the_lanes_and_rows(page_in_browser):
    counts = page_in_browser.execute_script(f"""
        var t = {FIRST_TRACE};
        return [t.querySelectorAll('table.swimlane thead th.lane').length,
                t.querySelectorAll('table.swimlane tbody tr.step').length,
                document.querySelectorAll('section.trace').length];""")
    assert counts == [4, 12, 7]


@needs_chromium
def test_browser_keys_move_the_current_row_and_show_its_state(page_in_browser):
    driver = page_in_browser
    assert current_step(driver) == "0"
    press(driver, "\ue015")          # the down arrow key
    assert current_step(driver) == "1"
    press(driver, "j", 8)
    assert current_step(driver) == "9"
    press(driver, "k")
    assert current_step(driver) == "8"
    panel = driver.execute_script(f"""
        var p = {FIRST_TRACE}.querySelector('.state-panel');
        return [p.querySelector('.sp-step').textContent, p.querySelector('.sp-label').textContent,
                Array.from(p.querySelectorAll('dl .changed dt')).map(d => d.textContent)];""")
    assert panel == ["8", "Enactor[1].write", ["record[0]", "Enactor.ep[1]"]]
    # the style applies (its hash is in the policy): the current row is highlighted
    colour = driver.execute_script(
        f"return getComputedStyle({FIRST_TRACE}.querySelector('tr.current > td')).backgroundColor")
    assert colour == "rgb(228, 239, 255)"


@needs_chromium
def test_browser_draws_the_stale_check_arrow_between_its_rows(page_in_browser):
    box = page_in_browser.execute_script(f"""
        var t = {FIRST_TRACE}, id = t.id;
        function r(e) {{ var b = e.getBoundingClientRect(); return [b.top, b.bottom]; }}
        return [r(t.querySelector('svg.arrows path.check')), r(document.getElementById(id + '-s5')),
                r(document.getElementById(id + '-s8'))];""")
    arrow, row5, row8 = box
    assert row5[0] <= arrow[0] <= row5[1]      # leaves the row of the check
    assert row8[0] <= arrow[1] <= row8[1]      # ends in the row of the write


@needs_chromium
def test_browser_screenshot_is_not_blank(page_in_browser):
    pixels = png_pixels(page_in_browser.get_screenshot_as_png())[..., :3]
    assert pixels.shape[:2] == (900, 1400)
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    background = (pixels == 255).all(axis=2).mean()
    assert len(colours) > 50, len(colours)
    assert background < 0.95, background
