"""JUnit XML, as Jenkins, GitLab and the test-report actions read it: a `<testsuite>` per
spec, a `<testcase>` per property (classname: the spec's name).

- A property as expected passes; an expected counterexample goes in its `<system-out>`.
- A property not as expected is a `<failure>` whose text is the counterexample table.
- An `unknown` property is `<skipped>` with the reason: nothing was found, nothing was
  proved.  The run still exits 3, so the CI step fails; the report says which properties
  were left undecided rather than counting them as found bugs.
- A spec that could not be checked is a suite with one `<error>` test case per
  diagnostic (or one for a time limit that ran out while compiling)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from ..diagnostics import render as render_diagnostic
from ..results import CheckResult, PropertyResult, SpecFailure, SpecOutcome
from .findings import failure_findings, property_message, relative_path
from .text import summary_line, trace_table


def render_run(outcomes: list[SpecOutcome], options) -> str:
    root = ET.Element("testsuites", name="dnsrace")
    suites = [suite(o, options) for o in outcomes]
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key)) for s in suites)))
    if options.timing:
        root.set("time", seconds(sum(o.stats.seconds for o in outcomes
                                     if isinstance(o, CheckResult))))
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def seconds(t: float) -> str:
    return f"{t:.3f}"


def suite(o: SpecOutcome, options) -> ET.Element:
    if isinstance(o, SpecFailure):
        cases = [failure_case(o, f) for f in failure_findings(o) if f.level == "error"]
        el = suite_element(relative_path(o.spec_path), o.spec_path, cases)
        warnings = [render_diagnostic(replace(d, path=relative_path(d.path or o.spec_path)))
                    for d in o.diagnostics if d.severity == "warning"]
        if warnings:
            ET.SubElement(el, "system-out").text = "\n".join(warnings)
        return el
    el = suite_element(o.spec_name, o.spec_path, [case(o, p) for p in o.properties])
    if options.timing:
        el.set("time", seconds(o.stats.seconds))
    props = ET.Element("properties")
    for name, value in (("path", relative_path(o.spec_path)), ("engine", o.engine),
                        ("constants", ", ".join(f"{k}={v}" for k, v in o.constants.items())),
                        ("search", summary_line(o, options.timing))):
        ET.SubElement(props, "property", name=name, value=value)
    el.insert(0, props)
    if o.warnings:
        ET.SubElement(el, "system-out").text = "\n".join(f"warning: {w}" for w in o.warnings)
    return el


def suite_element(name: str, path: str, cases: list[ET.Element]) -> ET.Element:
    el = ET.Element("testsuite", name=name)
    el.set("tests", str(len(cases)))
    for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        el.set(key, str(sum(c.find(tag) is not None for c in cases)))
    el.set("file", relative_path(path))
    el.extend(cases)
    return el


def case(r: CheckResult, p: PropertyResult) -> ET.Element:
    el = ET.Element("testcase", classname=r.spec_name, name=p.name)
    if p.outcome == "unknown":
        ET.SubElement(el, "skipped", message=f"unknown: {p.message or 'not decided'}")
    elif not p.as_expected:
        failure = ET.SubElement(el, "failure", type=p.kind,
                                message=property_message(p).split("\n", 1)[0])
        failure.text = property_text(r, p)
    elif p.trace is not None and p.kind != "reachable":
        ET.SubElement(el, "system-out").text = property_text(r, p)
    return el


def property_text(r: CheckResult, p: PropertyResult) -> str:
    """The property's message, then its counterexample table."""
    lines = [property_message(p)]
    if p.trace is not None:
        lines += trace_table(p.trace, r.field_kinds, False)
    return "\n".join(lines) + "\n"


def failure_case(o: SpecFailure, f) -> ET.Element:
    line, col = f.location.line, f.location.col
    el = ET.Element("testcase", classname=relative_path(o.spec_path),
                    name=f"{f.title} at {line}:{col}")
    error = ET.SubElement(el, "error", type=f.rule, message=f.message.split("\n", 1)[0])
    error.text = (render_diagnostic(replace(f.diagnostic, path=f.path)) if f.diagnostic
                  else f"{f.path}: {f.message}") + "\n"
    return el
