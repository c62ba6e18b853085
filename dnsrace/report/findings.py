"""What the CI formats (junit, sarif, github, markdown) share: the findings of a run (a
property not as expected, a diagnostic, a warning), where in the spec each one is, and a
trace read step by step (who took each step, at which line, and what it changed).

Paths are shown relative to the current directory (where CI runs, the repository root),
so that annotations and code-scanning alerts land on the file in the pull request."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..diagnostics import Diagnostic
from ..results import CheckResult, Location, PropertyResult, SpecFailure, Trace
from .text import BUILTIN, changes, flatten, full, lasso_notes, value_text, verdict

ACTIONS = "actions"   # the lane of the steps no process instance takes
FIRST_LINE = Location(1, 1)


def relative_path(path: str) -> str:
    """`path` relative to the current directory, with forward slashes; as given (with
    forward slashes) when it lies outside it."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_posix()
    return Path(os.path.normpath(p)).as_posix()


@dataclass(frozen=True)
class Finding:
    """One thing a CI format reports against a spec file."""

    path: str                # relative_path of the spec (or of the diagnostic's file)
    location: Location
    level: Literal["error", "warning"]
    rule: str                # a property kind, a diagnostic code, "warning" or "time-limit"
    title: str               # "no_empty_record", "DR201 unknown-name"
    message: str
    prop: PropertyResult | None = None
    diagnostic: Diagnostic | None = None


def findings(outcome: CheckResult | SpecFailure) -> list[Finding]:
    """A spec's findings: each property not as expected (an `unknown` one as a warning),
    each diagnostic, each warning, in that order."""
    if isinstance(outcome, SpecFailure):
        return failure_findings(outcome)
    path = relative_path(outcome.spec_path)
    out = [Finding(path, property_location(outcome, p),
                   "warning" if p.outcome == "unknown" else "error", p.kind, p.name,
                   property_message(p), prop=p)
           for p in outcome.properties if not p.as_expected]
    out += [Finding(path, FIRST_LINE, "warning", "warning", "warning", w)
            for w in outcome.warnings]
    return out


def failure_findings(failure: SpecFailure) -> list[Finding]:
    if not failure.diagnostics:
        return [Finding(relative_path(failure.spec_path), FIRST_LINE, "error", "time-limit",
                        "time-limit", failure.reason)]
    return [Finding(relative_path(d.path or failure.spec_path),
                    Location(d.pos.line, d.pos.col) if d.pos else FIRST_LINE,
                    "warning" if d.severity == "warning" else "error", d.code,
                    f"{d.code} {d.slug}".rstrip(),
                    d.message + (f"\nhint: {d.hint}" if d.hint else ""), diagnostic=d)
            for d in failure.diagnostics]


def property_location(r: CheckResult, p: PropertyResult) -> Location:
    """Where the spec declares the property; for a built-in check (which has no place),
    the transition of the trace's last step, else the first line."""
    loc = r.spec_map.properties.get(p.name)
    if loc is None and p.trace is not None:
        site = r.spec_map.site(p.trace.steps[-1].action)
        loc = site.location if site else None
    return loc or FIRST_LINE


def kind_name(p: PropertyResult) -> str:
    """`invariant`, ..., or `built-in` for the built-in checks."""
    return "built-in" if p.kind in BUILTIN and p.name == p.kind else p.kind


def property_message(p: PropertyResult) -> str:
    """One line saying what happened to the property (and why, for an `unknown` or a
    built-in check), then the property's `about`."""
    head = f"{kind_name(p)} {p.name}: {verdict(p)}"
    if p.message:
        head += f": {p.message}"
    if p.about:
        head += "\n" + p.about.strip()
    return head


def spec_title(outcome: CheckResult | SpecFailure) -> str:
    return outcome.spec_name if isinstance(outcome, CheckResult) else \
        relative_path(outcome.spec_path)


def shown_traces(r: CheckResult, witnesses: bool = False) -> list[PropertyResult]:
    """The properties whose trace a report draws: every counterexample, and the
    witnesses of reachable properties when asked (as the text report does)."""
    return [p for p in r.properties
            if p.trace is not None and (p.kind != "reachable" or witnesses)]


@dataclass(frozen=True)
class StepView:
    """Step `index` of a trace as reports draw it: the transition (None for the initial
    state), who took it (a process instance, ACTIONS, or None for the initial state),
    where the spec declares it, what it changed, and the notes on it (stale checks and
    reads, a lasso's cycle)."""

    index: int
    transition: str | None
    lane: str | None
    location: Location | None
    changed: dict[str, str]   # leaf path -> value text (the whole state at step 0)
    text: str                 # the changes as the text report writes them
    notes: tuple[str, ...]


def step_views(r: CheckResult, trace: Trace) -> list[StepView]:
    notes: dict[int, list[str]] = {}
    for race in trace.races:
        notes.setdefault(race.step, []).append(race.text())
    for k, note in lasso_notes(trace):
        notes.setdefault(k, []).append(note)
    out, prev = [], None
    for k, step in enumerate(trace.steps):
        site = r.spec_map.site(step.action)
        lane = (site.instance or ACTIONS) if site else (ACTIONS if step.action else None)
        if step.state is None:
            changed, text = {}, f"FAILS: {step.message}"
        elif prev is None:
            changed = {key: value_text(v) for key, v in flatten(step.state, r.field_kinds)
                       .items()}
            text = full(step.state)
        else:
            changed = changed_values(prev, step.state, r.field_kinds)
            text = changes(prev, step.state, r.field_kinds)
        out.append(StepView(k, step.action, lane, site.location if site else None, changed,
                            text, tuple(notes.get(k, ()))))
        if step.state is not None:
            prev = step.state
    return out


def changed_values(before: dict, after: dict, kinds: dict[str, str]) -> dict[str, str]:
    """The leaf values a step changed (the same ones `text.changes` lists)."""
    a, b = flatten(before, kinds), flatten(after, kinds)
    return {k: value_text(v) for k, v in b.items() if a.get(k) != v}


def lanes(r: CheckResult) -> list[str]:
    """The process instances in declaration order, then ACTIONS when the spec has
    actions."""
    has_actions = any(t.instance is None for t in r.spec_map.transitions.values())
    return list(r.spec_map.instances) + ([ACTIONS] if has_actions else [])


def short_transition(step: StepView) -> str:
    """The transition without its instance ("check.newer" for Enactor[0]'s step; an
    action keeps its arguments: "crash(e=1)")."""
    name = step.transition or "initial state"
    if step.lane not in (None, ACTIONS) and name.startswith(step.lane + "."):
        return name[len(step.lane) + 1:]
    return name
