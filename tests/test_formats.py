"""The CI report formats (junit, sarif, github, markdown), each rendered from the outcomes
of `dnsrace.api.check`: the DNS race as checked (every property as expected), the same
result as a team that believes its Enactors safe would see it (every expected violation
turned into an expectation that the property holds: the same search, the same traces,
now failures), a check cut short (`unknown` properties), and a spec that is invalid."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped

from dnsrace.api import check
from dnsrace.diagnostics import SpecError
from dnsrace.report.formats import ReportOptions, render
from dnsrace.report.github import escape_data, escape_property
from dnsrace.report.markdown import md_text, mermaid_text
from dnsrace.results import CheckResult, SpecFailure

ROOT = Path(__file__).resolve().parent.parent
RACE = ROOT / "specs" / "dynamodb_dns_race.yaml"
BROKEN = ROOT / "tests" / "formats" / "broken.yaml"
SCHEMAS = ROOT / "tests" / "schemas"
GOLDEN = ROOT / "tests" / "golden" / "formats"
STABLE = ReportOptions(timing=False)


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    """Reports name files relative to the current directory, as CI runs at the root."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def race() -> CheckResult:
    return check(RACE)


@pytest.fixture(scope="module")
def unexpected(race) -> CheckResult:
    """The DNS race expected to hold: four properties now fail, with their traces."""
    r = copy.deepcopy(race)
    for p in r.properties:
        if p.expected == "violated":
            p.expected = "holds"
    return r


@pytest.fixture(scope="module")
def cut_short() -> CheckResult:
    return check(RACE, max_states=200)


@pytest.fixture(scope="module")
def broken() -> SpecFailure:
    with pytest.raises(SpecError) as err:
        check(BROKEN)
    return SpecFailure(str(BROKEN), err.value.diagnostics)


def flipped(spec: str, **kw) -> CheckResult:
    r = check(ROOT / spec, **kw)
    for p in r.properties:
        if p.expected == "violated":
            p.expected = "holds"
    return r


def spec_line(path: Path, line: int) -> str:
    return path.read_text().splitlines()[line - 1]


# --- SARIF ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    return json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())


def sarif(outcomes) -> dict:
    return json.loads(render("sarif", outcomes, STABLE))


def test_sarif_validates_against_the_official_schema(sarif_schema, race, unexpected,
                                                      cut_short, broken):
    for outcomes in ([race], [unexpected, cut_short, broken]):
        jsonschema.validate(sarif(outcomes), sarif_schema)


def test_sarif_has_a_result_per_property_not_as_expected_and_per_diagnostic(
        race, unexpected, broken):
    assert sarif([race])["runs"][0]["results"] == []
    results = sarif([unexpected, broken])["runs"][0]["results"]
    assert [(r["ruleId"], r["level"], r.get("properties", {}).get("property"))
            for r in results] == [
        ("invariant", "error", "no_empty_record"),
        ("temporal", "error", "record_recoverable"),
        ("temporal", "error", "regional_heals"),
        ("temporal", "error", "endpoints_settle"),
        ("DR201", "error", None), ("DR201", "error", None)]
    rules = sarif([unexpected, broken])["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["invariant", "transition", "reachable", "temporal",
                                        "assertion", "type", "error", "deadlock", "DR201"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def region(result: dict) -> tuple[str, int, int]:
    loc = result["physicalLocation"] if "physicalLocation" in result else \
        result["locations"][0]["physicalLocation"]
    return (loc["artifactLocation"]["uri"], loc["region"]["startLine"],
            loc["region"]["startColumn"])


def test_a_counterexample_result_points_at_the_property_line(unexpected):
    result = sarif([unexpected])["runs"][0]["results"][0]
    uri, line, col = region(result)
    assert uri == "specs/dynamodb_dns_race.yaml"
    assert spec_line(RACE, line).strip() == "no_empty_record:"
    assert col == spec_line(RACE, line).index("no_empty_record") + 1


def test_a_diagnostic_result_points_at_the_error(broken):
    results = sarif([broken])["runs"][0]["results"]
    assert [region(r) for r in results] == [("tests/formats/broken.yaml", 11, 25),
                                            ("tests/formats/broken.yaml", 13, 24)]
    assert results[0]["message"]["text"].startswith("DR201 unknown-name: unknown name 'limit'")


def test_the_counterexample_is_a_code_flow_with_a_thread_per_instance(unexpected):
    result = sarif([unexpected])["runs"][0]["results"][0]
    flows = result["codeFlows"][0]["threadFlows"]
    assert [f["id"] for f in flows] == ["Planner[0]", "Enactor[0]", "Enactor[1]"]
    steps = {loc["executionOrder"]: (flow["id"], loc) for flow in flows
             for loc in flow["locations"]}
    assert sorted(steps) == list(range(1, 12))   # every step, once, in one global order
    thread, step9 = steps[9]
    assert thread == "Enactor[0]"
    assert step9["location"]["message"]["text"].startswith(
        "step 9: Enactor[0].write: record[0]=2, Enactor.ep[0]=1; stale check: Enactor[0] "
        "checked `plan > applied` at step 5")
    assert step9["state"] == {"record[0]": {"text": "2"}, "Enactor.ep[0]": {"text": "1"}}
    site = unexpected.spec_map.transitions["Enactor[0].write"].location
    assert region(step9["location"])[1:] == (site.line, site.col)
    assert "name: write" in spec_line(RACE, site.line)


def test_an_actions_step_is_on_the_actions_thread():
    r = flipped("specs/dns_enactor_crash.yaml")
    results = sarif([r])["runs"][0]["results"]
    flows = {f["id"]: f for res in results for f in res["codeFlows"][0]["threadFlows"]}
    assert "actions" in flows
    texts = [loc["location"]["message"]["text"] for loc in flows["actions"]["locations"]]
    assert texts and all(": crash(e=" in t for t in texts)


def test_an_unknown_property_is_a_warning(cut_short):
    results = sarif([cut_short])["runs"][0]["results"]
    assert results and {r["level"] for r in results} == {"warning"}
    assert all("unknown" in r["message"]["text"] for r in results)


# --- JUnit ---------------------------------------------------------------------------

def junit_file(tmp_path, outcomes, options=STABLE) -> Path:
    path = tmp_path / "report.xml"
    path.write_text(render("junit", outcomes, options))
    return path


@pytest.mark.parametrize("timing", [False, True])
def test_junit_validates_against_the_xunit_plugin_schema(tmp_path, race, unexpected,
                                                         cut_short, broken, timing):
    schema = xmlschema.XMLSchema(SCHEMAS / "junit-10.xsd")
    path = junit_file(tmp_path, [race, unexpected, cut_short, broken],
                      ReportOptions(timing=timing))
    schema.validate(str(path))


def test_junit_reads_back_with_the_counts(tmp_path, race, unexpected, cut_short, broken):
    xml = JUnitXml.fromfile(str(junit_file(tmp_path, [race, unexpected, cut_short, broken])))
    suites = list(xml)
    assert [(s.name, s.tests, s.failures, s.errors, s.skipped) for s in suites] == [
        ("dynamodb-dns-race", 11, 0, 0, 0),
        ("dynamodb-dns-race", 11, 4, 0, 0),
        ("dynamodb-dns-race", 11, 0, 0, sum(p.outcome == "unknown"
                                             for p in cut_short.properties)),
        ("tests/formats/broken.yaml", 2, 0, 2, 0)]
    assert (xml.tests, xml.failures, xml.errors) == (35, 4, 2)
    assert all(s._elem.get("file") in ("specs/dynamodb_dns_race.yaml",
                                       "tests/formats/broken.yaml") for s in suites)


def test_a_junit_failure_is_the_counterexample_table(tmp_path, unexpected):
    suite = next(iter(JUnitXml.fromfile(str(junit_file(tmp_path, [unexpected])))))
    cases = {c.name: c for c in suite}
    assert all(c.classname == "dynamodb-dns-race" for c in cases.values())
    [failure] = cases["no_empty_record"].result
    assert isinstance(failure, Failure)
    assert failure.type == "invariant"
    assert failure.message == ("invariant no_empty_record: violated, trace of 11 steps "
                               "(expected holds)")
    text = failure.text.splitlines()
    assert text[2].split() == ["step", "transition", "changes"]
    assert "     9  Enactor[0].write        record[0]=2, Enactor.ep[0]=1" in text
    assert any("stale check: Enactor[0] checked `plan > applied`" in t for t in text)
    assert cases["catches_up"].is_passed


def test_an_unknown_property_is_skipped_with_its_reason(tmp_path, cut_short):
    suite = next(iter(JUnitXml.fromfile(str(junit_file(tmp_path, [cut_short])))))
    skipped = [c.result[0] for c in suite if c.result and isinstance(c.result[0], Skipped)]
    assert skipped
    assert all(s.message.startswith("unknown: ") for s in skipped)


def test_a_spec_failure_is_an_error_per_diagnostic(tmp_path, broken):
    suite = next(iter(JUnitXml.fromfile(str(junit_file(tmp_path, [broken])))))
    errors = [c.result[0] for c in suite]
    assert all(isinstance(e, Error) and e.type == "DR201" for e in errors)
    assert [c.name for c in suite] == ["DR201 unknown-name at 11:25",
                                       "DR201 unknown-name at 13:24"]
    assert errors[0].text.splitlines() == [
        "tests/formats/broken.yaml:11:25: error[DR201 unknown-name]: unknown name 'limit'",
        "  hint: declare it under constants, variables, types or define"]


# --- github and markdown: golden files -------------------------------------------------

def golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_github_annotations_golden(unexpected, broken, update_goldens):
    golden("dns_race_unexpected.github", render("github", [unexpected], STABLE),
           update_goldens)
    golden("broken.github", render("github", [broken], STABLE), update_goldens)


def test_github_notice_only_when_all_is_as_expected(race):
    out = render("github", [race], STABLE).splitlines()
    assert out == ["::notice file=specs/dynamodb_dns_race.yaml,title=dnsrace "
                   "dynamodb-dns-race::dynamodb-dns-race: PASSED; 11 of 11 properties as "
                   "expected; 66,436 states, 206,550 transitions, depth 30; complete"]


def test_github_escapes_data_and_properties():
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_markdown_summary_golden(race, broken, update_goldens):
    golden("dns_race.md", render("markdown", [race], STABLE), update_goldens)
    golden("broken.md", render("markdown", [broken], STABLE), update_goldens)


def test_markdown_draws_the_actions_lane_when_the_spec_has_actions():
    r = check(ROOT / "specs" / "lease_handoff.yaml")
    out = render("markdown", [r], ReportOptions(timing=False, witnesses=True))
    assert "    participant L2 as actions\n    participant S as shared state" in out
    assert "    L2->>S: 1. crash(w=0): health[0]=down" in out


def test_markdown_and_mermaid_escapes():
    assert md_text("a|b <i>*x*</i> `c` _d_") == \
        r"a\|b &lt;i&gt;\*x\*&lt;/i&gt; \`c\` \_d\_"
    assert mermaid_text("x > y; #1 `z`\nnext") == "x #62; y#59; #35;1 #96;z#96; next"
