"""Results of a check: statistics, each property's verdict, and traces, in the contract's
JSON shape (`to_json`).  Every engine produces these; every report reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SCHEMA_VERSION = 1

Outcome = Literal["holds", "violated", "reachable", "unreachable", "unknown"]
Expected = Literal["holds", "violated", "reachable", "unreachable"]
# the built-in checks are properties too, named as their kind
PropertyKind = Literal["invariant", "transition", "reachable", "temporal", "assertion", "type",
                       "error", "deadlock"]
EngineName = Literal["auto", "bfs", "array", "bmc", "kind", "pdr", "all"]
# why a search stopped early; None when it did not
StopReason = Literal["max-states", "max-depth", "time-limit", "stop-on-first",
                     "memory-limit", "solver-unknown", "temporal-unchecked", "interrupted",
                     "terminated", "worker-lost"]
# how a report shows a variable's values: one value, an array, or one of either per instance
FieldKind = Literal["value", "array", "instances", "instances-array"]


@dataclass
class TraceStep:
    action: str | None
    state: dict | None
    message: str | None = None
    error: object = None   # explain.FailureExplanation of a failing last step

    def to_json(self) -> dict:
        out = {"action": self.action, "state": self.state}
        if self.message is not None:
            out["message"] = self.message
        if self.error is not None:
            out["error"] = self.error.to_json()
        return out


@dataclass
class Trace:
    steps: list[TraceStep]
    loop_start: int | None = None
    races: list = field(default_factory=list)  # explain.StaleCheck and StaleRead, by step
    # a lasso's fairness units that take a step in its cycle ("Worker[0] (weak)"), for the
    # text report; not part of the JSON trace
    fair_steps: list[str] = field(default_factory=list)

    @property
    def length(self) -> int:
        return len(self.steps) - 1

    def to_json(self) -> dict:
        out = {"length": self.length, "steps": [s.to_json() for s in self.steps]}
        if self.loop_start is not None:
            out["loop_start"] = self.loop_start
        for key, kind in (("stale_checks", "check"), ("stale_reads", "read")):
            mine = [c.to_json() for c in self.races if c.kind == kind]
            if mine:
                out[key] = mine
        return out


@dataclass
class PropertyResult:
    name: str
    kind: PropertyKind
    expected: Expected
    outcome: Outcome
    trace: Trace | None = None
    about: str | None = None
    message: str | None = None  # for built-in checks: what went wrong; for unknown: why
    engine: EngineName = "bfs"
    # engine extras: PDR's inductive invariant (in the spec's syntax over slot names) when
    # it proved the property; k-induction's counterexample to induction when it could not
    invariant_text: str | None = None
    cti: Trace | None = None
    k: int | None = None

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected

    def to_json(self) -> dict:
        out = {"name": self.name, "kind": self.kind, "expected": self.expected,
               "outcome": self.outcome, "trace": self.trace.to_json() if self.trace else None,
               "engine": self.engine}
        if self.message is not None:
            out["message"] = self.message
        if self.invariant_text is not None:
            out["invariant"] = self.invariant_text
        if self.cti is not None:
            out["counterexample_to_induction"] = {"k": self.k, "label": CTI_LABEL,
                                                  **self.cti.to_json()}
        return out


CTI_LABEL = ("counterexample to induction: NOT a counterexample; it may start from an "
             "unreachable state")


@dataclass(frozen=True)
class Location:
    """Where the spec declares something: 1-based line and column."""

    line: int
    col: int


@dataclass(frozen=True)
class TransitionSite:
    """A transition as traces name it ("Enactor[0].check.newer", "crash(e=1)"): the family
    it belongs to ("Enactor.check.newer", "crash"), the process instance that takes it
    ("Enactor[0]"; None for an action), and where the spec declares its step or action."""

    family: str
    instance: str | None
    location: Location | None


@dataclass
class SpecMap:
    """What reports need to point into the spec: each property's and transition's place,
    and the process instances (in declaration order), so formats that draw lanes or locate
    findings never re-read the spec."""

    properties: dict[str, Location] = field(default_factory=dict)
    transitions: dict[str, TransitionSite] = field(default_factory=dict)
    instances: list[str] = field(default_factory=list)

    def site(self, transition: str | None) -> TransitionSite | None:
        return self.transitions.get(transition) if transition else None


@dataclass
class Coverage:
    """One transition family's coverage (see `engines.coverage`): the (state, transition)
    pairs explored where one of its transitions was enabled, and the states it found first."""

    transition: str  # as the spec names it: "Worker.read", "Enactor.check.newer", "crash"
    enabled: int
    new: int

    def to_json(self) -> dict:
        return {"transition": self.transition, "enabled": self.enabled, "new": self.new}


@dataclass
class Stats:
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    queue: int = 0
    symmetry: list[str] | None = None  # the scalarsets a reduced search reduced
    # why a spec with scalarsets was explored whole although reduction was on
    symmetry_off: str | None = None

    def to_json(self) -> dict:
        out = {"states": self.states, "transitions": self.transitions, "depth": self.depth,
               "seconds": round(self.seconds, 3)}
        if self.symmetry:
            out["symmetry"] = list(self.symmetry)
        if self.symmetry_off:
            out["symmetry_off"] = self.symmetry_off
        return out


@dataclass
class CheckResult:
    spec_name: str
    spec_path: str
    spec_sha256: str
    constants: dict[str, int]
    engine: EngineName
    complete: bool
    stats: Stats
    properties: list[PropertyResult]
    stopped: StopReason | None = None  # why the search stopped early
    warnings: list[str] = field(default_factory=list)
    # the symbolic constants a proof engine kept unknown -> their assume ("" if none):
    # its proofs hold for every value they allow
    symbolic: dict[str, str] = field(default_factory=dict)
    # per transition family, in file order; None for the engines that explore no states
    coverage: list[Coverage] | None = None
    # filled in by `dnsrace.check` for every engine: how reports show each variable
    # (`FieldKind` by variable key), and where things are in the spec
    field_kinds: dict[str, str] = field(default_factory=dict)
    spec_map: SpecMap = field(default_factory=SpecMap)
    cached: bool = False   # reported from `--cache` rather than explored again

    @property
    def passed(self) -> bool:
        return self.complete and all(p.as_expected for p in self.properties)

    @property
    def failed(self) -> bool:
        """Some property is definitely not as expected (exit status 1)."""
        return any(p.outcome != "unknown" and not p.as_expected for p in self.properties)

    @property
    def exit_code(self) -> int:
        if self.stopped == "interrupted":
            return 130
        if self.failed:
            return 1
        if not self.complete:
            return 3
        return 0

    def property(self, name: str) -> PropertyResult:
        return next(p for p in self.properties if p.name == name)

    def to_json(self) -> dict:
        out = {
            "version": SCHEMA_VERSION,
            "spec": {"name": self.spec_name, "path": self.spec_path, "sha256": self.spec_sha256},
            "constants": dict(self.constants),
            "engine": self.engine,
            "complete": self.complete,
            "passed": self.passed,
            "stats": self.stats.to_json(),
            "properties": [p.to_json() for p in self.properties],
        }
        if self.stopped:
            out["stopped"] = self.stopped
        if self.symbolic:
            out["symbolic"] = dict(self.symbolic)
        if self.coverage is not None:
            out["coverage"] = [c.to_json() for c in self.coverage]
        out["warnings"] = list(self.warnings)
        if self.cached:
            out["cached"] = True
        return out

    def trace_file(self, prop: PropertyResult) -> dict:
        """The trace file `dnsrace replay` reads: the trace with spec and constants."""
        return {"version": SCHEMA_VERSION,
                "spec": {"name": self.spec_name, "path": self.spec_path,
                         "sha256": self.spec_sha256},
                "constants": dict(self.constants), "property": prop.name, "kind": prop.kind,
                **prop.trace.to_json()}


@dataclass
class SpecFailure:
    """A spec that was not checked: it is invalid (its `diagnostics`, exit 2), or the time
    limit ran out while it was compiled (`stopped` "time-limit", exit 3).  Reports show it
    beside the results of the specs that were checked."""

    spec_path: str
    diagnostics: list = field(default_factory=list)   # diagnostics.Diagnostic
    stopped: StopReason | None = None

    passed = False
    complete = False

    @property
    def exit_code(self) -> int:
        return 3 if self.stopped == "time-limit" and not self.diagnostics else 2

    @property
    def reason(self) -> str:
        if self.diagnostics:
            d = self.diagnostics[0]
            more = len(self.diagnostics) - 1
            return f"{d.code}: {d.message}" + (f" (and {more} more)" if more else "")
        return "the time limit ran out while compiling; nothing was checked"

    def to_json(self) -> dict:
        if self.diagnostics:
            return {"spec": {"path": self.spec_path}, "errors": [
                {"code": d.code, "message": d.message,
                 "line": d.pos.line if d.pos else None,
                 "col": d.pos.col if d.pos else None, "hint": d.hint}
                for d in self.diagnostics]}
        return {"spec": {"path": self.spec_path}, "complete": False, "stopped": self.stopped,
                "properties": []}


# What a run over many specs yields, one per spec, in order: a result or a failure.
SpecOutcome = CheckResult | SpecFailure
