"""Conformance: drive a real system (through an adapter) along a run of the spec, and compare
what the adapter observes with the spec's state after every step.

A run is a list of transitions with the spec's state before the first and after each one
(a trace's states, or states the model computed).  The runner resets the system, compares
the initial state, then performs each transition and compares again.  The first variable
that differs is a conformance failure: the step, the variable (down to an element, like
`record[0]`), the spec's value and the observed one.  Only the variables the adapter
observes are compared.  An adapter that raises stops the run with an AdapterError (DR805)
naming the step; an observation that is not {variable: value} for the spec's variables is
DR806.  See docs/SEMANTICS.md, "Conformance".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .adapters import Action, AdapterError
from .adapters.loader import describe
from .diagnostics import did_you_mean
from .ir.system import Transition
from .report.text import changes, flatten, full, value_text


def action_of(t: Transition) -> Action:
    """The Action an adapter is asked to perform for transition `t`."""
    params = {k: (v if isinstance(v, (bool, int)) else str(v)) for k, v in t.params.items()}
    if t.origin[0] == "process":
        _, process, instance, step, alternative = t.origin
        return Action(t.name, process, instance, step, alternative, None, params)
    return Action(t.name, action=t.origin[1], params=params)


@dataclass(frozen=True)
class Mismatch:
    """The first difference between the spec's state and the observed one."""

    step: int
    action: str | None        # None: the initial state
    variable: str             # the variable, or one element of it (`record[0]`)
    expected: object          # the spec's (or the trace's) value
    observed: object

    def text(self, whose: str = "the spec") -> str:
        after = f"after {self.action}" if self.action else "in the initial state"
        return (f"{after}, {self.variable} differs: {whose} has {value_text(self.expected)}, "
                f"the system has {value_text(self.observed)}")


@dataclass
class RunStep:
    index: int
    action: str | None
    text: str                 # the spec's change (or the whole initial state)
    notes: list[str] = field(default_factory=list)   # what the system said (`notes()`)


@dataclass
class RunReport:
    """One run on the system: the steps that ran, what was observed, the first mismatch."""

    steps: list[RunStep] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)   # the variables compared
    mismatch: Mismatch | None = None

    @property
    def agrees(self) -> bool:
        return self.mismatch is None


class Conformance:
    """Runs of one spec on one adapter.  `kinds` says how each variable's JSON splits into
    elements (`report.spec_map.field_kinds`)."""

    def __init__(self, adapter, constants: dict[str, int], variables: list[str],
                 kinds: dict[str, str]):
        self.adapter, self.constants = adapter, constants
        self.variables, self.kinds = variables, kinds

    def run(self, actions: list[Action], states: list[dict]) -> RunReport:
        """Perform `actions` from the initial state, comparing with `states` (one more
        than actions: the state before the first and after each)."""
        report = RunReport()
        self.call(0, None, "reset", dict(self.constants))
        report.steps.append(RunStep(0, None, full(states[0])))
        if not self.compare(report, 0, None, states[0]):
            return report
        for k, action in enumerate(actions, start=1):
            self.call(k, action.name, "step", action)
            report.steps.append(RunStep(k, action.name,
                                        changes(states[k - 1], states[k], self.kinds),
                                        self.notes(k, action.name)))
            if not self.compare(report, k, action.name, states[k]):
                break
        return report

    def notes(self, k: int, name: str) -> list[str]:
        """The adapter's notes on the step just taken (its optional `notes()`)."""
        if not callable(getattr(self.adapter, "notes", None)):
            return []
        got = self.call(k, name, "notes")
        return ["system: " + " ".join(str(n).split()) for n in got] \
            if isinstance(got, list) else []

    def close(self) -> None:
        close = getattr(self.adapter, "close", None)
        if callable(close):
            self.call(None, None, "close")

    def call(self, k: int | None, name: str | None, method: str, *args):
        """The adapter's `method`, an exception it raises turned into DR805 with the step."""
        try:
            return getattr(self.adapter, method)(*args)
        except AdapterError:
            raise
        except Exception as exc:
            where = "closing" if k is None else "resetting the system" if method == "reset" \
                else f"observing step {k}" + (f" ({name})" if name else " (the initial state)") \
                if method == "observe" else f"at step {k} ({name})"
            raise AdapterError("DR805", f"{where}: the adapter raised {describe(exc)}",
                               "an adapter raises only when it cannot drive the system; "
                               "a refusal the system makes shows in the state it observes"
                               ) from None

    def compare(self, report: RunReport, k: int, name: str | None, expected: dict) -> bool:
        seen = self.call(k, name, "observe")
        self.check_observation(seen, k)
        if not report.observed:
            report.observed = [v for v in self.variables if v in seen]
        for var in self.variables:
            if var in seen and seen[var] != expected[var]:
                path, want, got = self.first_difference(var, expected[var], seen[var])
                report.mismatch = Mismatch(k, name, path, want, got)
                return False
        return True

    def check_observation(self, seen, k: int) -> None:
        if not isinstance(seen, dict):
            raise AdapterError("DR806", f"the adapter's observe() returned "
                               f"{type(seen).__name__} at step {k}, not a dict of variables",
                               "return {variable: JSON value} for the variables it observes")
        if not seen:
            raise AdapterError("DR806", f"the adapter observes none of the spec's variables "
                               f"at step {k}: nothing can be compared",
                               "the spec's variables: " + ", ".join(self.variables))
        unknown = [v for v in seen if v not in self.variables]
        if unknown:
            close = did_you_mean(str(unknown[0]), self.variables, "the spec's variables")
            raise AdapterError("DR806", f"the adapter observes {unknown[0]!r}, which is not a "
                               "variable of the spec", close)

    def first_difference(self, var: str, expected, observed) -> tuple[str, object, object]:
        """The first element of `var` that differs (the whole variable when the shapes
        differ)."""
        want = flatten({var: expected}, self.kinds)
        got = flatten({var: observed}, self.kinds) if _same_shape(expected, observed) else {}
        if set(want) == set(got):
            for path in want:
                if want[path] != got[path]:
                    return path, want[path], got[path]
        return var, expected, observed


def _same_shape(a, b) -> bool:
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys()
    return True


def render(report: RunReport, header: str, whose: str = "the spec") -> str:
    """A run on the system as text: each step with the spec's change, and the verdict."""
    from .replay import step_lines

    lines = [header, *step_lines(report.steps)]
    if report.observed:
        lines.append("observed: " + ", ".join(report.observed))
    m = report.mismatch
    if m is None:
        n = len(report.steps) - 1
        lines.append(f"the system agrees with {whose} on all {n} step{'s' if n != 1 else ''}")
    else:
        lines.append(f"CONFORMANCE FAILURE at step {m.step}: {m.text(whose)}")
    return "\n".join(lines) + "\n"
