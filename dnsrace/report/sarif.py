"""SARIF 2.1.0 for code scanning: one run, one result per property not as expected and per
diagnostic, each located in the spec.

A property's counterexample is a `codeFlow`: one `threadFlow` per process instance that
takes a step (and one for the actions), each step a location at the line of its step or
action in the spec, saying what it changed; `executionOrder` numbers the steps globally,
so a viewer can replay the interleaving.  Levels: `error` for a property not as
expected and an invalid spec, `warning` for an `unknown` property and a warning."""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from ..diagnostics import CODES
from ..results import CheckResult, Location, SpecOutcome
from .findings import Finding, StepView, findings, lanes, step_views

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

RULES = {
    "invariant": "An invariant is false in a reachable state",
    "transition": "A transition property is false on a reachable step",
    "reachable": "A reachable property's condition is never reached (the spec may be "
                 "vacuous), or one expected unreachable is reached",
    "temporal": "A temporal property fails on some behaviour (a lasso or a finite trace)",
    "assertion": "An assert in an effect fails on a reachable step",
    "type": "A step gives a variable a value outside its type",
    "error": "A step fails at run time (division by zero, an index out of range, ...)",
    "deadlock": "A reachable state has no successor",
}
OTHER_RULES = {
    "warning": "A warning about the spec",
    "time-limit": "The time limit ran out while compiling the spec; nothing was checked",
}


def render_run(outcomes: list[SpecOutcome], options) -> str:
    found = [(o, f) for o in outcomes for f in findings(o)]
    rules = list(RULES) + sorted({f.rule for _, f in found} - set(RULES))
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "dnsrace", "version": __version__,
                            "semanticVersion": __version__,
                            "rules": [rule(r) for r in rules]}},
        "columnKind": "unicodeCodePoints",
        "results": [result(o, f, rules.index(f.rule)) for o, f in found],
    }]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def rule(rule_id: str) -> dict:
    if rule_id in RULES:
        text, name, level = RULES[rule_id], f"{rule_id}-property", "error"
    elif rule_id in OTHER_RULES:
        text, name, level = OTHER_RULES[rule_id], rule_id, "warning"
    else:   # a diagnostic code
        name = CODES.get(rule_id, rule_id)
        text, level = f"{rule_id} {name}", "error"
    return {"id": rule_id, "name": name, "shortDescription": {"text": text},
            "defaultConfiguration": {"level": level}}


def artifact(path: str) -> dict:
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": path, "uriBaseId": "%SRCROOT%"}


def physical(path: str, loc: Location) -> dict:
    return {"physicalLocation": {"artifactLocation": artifact(path),
                                 "region": {"startLine": loc.line, "startColumn": loc.col}}}


def result(o: SpecOutcome, f: Finding, rule_index: int) -> dict:
    out = {"ruleId": f.rule, "ruleIndex": rule_index, "level": f.level,
           "message": {"text": f"{f.title}: {f.message}" if f.prop is None else f.message},
           "locations": [physical(f.path, f.location)]}
    if f.prop is not None and f.prop.trace is not None:
        steps = step_views(o, f.prop.trace)
        out["message"]["text"] += "".join(f"\n{n}" for s in steps for n in s.notes)
        out["codeFlows"] = [code_flow(o, f, steps)]
    if f.prop is not None:
        out["properties"] = {"spec": o.spec_name, "property": f.prop.name,
                             "expected": f.prop.expected, "outcome": f.prop.outcome}
    return out


def code_flow(r: CheckResult, f: Finding, steps: list[StepView]) -> dict:
    """One thread flow per process instance (in declaration order), then one for the
    actions; a lane that takes no step has none (a thread flow has a location at least)."""
    flows: dict[str, list[dict]] = {lane: [] for lane in lanes(r)}
    for s in steps[1:]:
        flows.setdefault(s.lane, []).append(flow_location(f, s))
    n = len(steps) - 1
    return {"message": {"text": f"{f.prop.name}: {n} step{'s' if n != 1 else ''} from the "
                                f"initial state {steps[0].text}"},
            "threadFlows": [{"id": lane, "message": {"text": lane}, "locations": locs}
                            for lane, locs in flows.items() if locs]}


def flow_location(f: Finding, s: StepView) -> dict:
    text = f"step {s.index}: {s.transition}: {s.text}"
    text += "".join(f"; {n}" for n in s.notes)
    loc = physical(f.path, s.location or f.location)
    loc["message"] = {"text": text}
    out = {"location": loc, "executionOrder": s.index}
    if s.changed:
        out["state"] = {k: {"text": v} for k, v in s.changed.items()}
    return out
