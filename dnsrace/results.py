"""Results of a check: statistics, each property's verdict, and traces, in the contract's
JSON shape (`to_json`).  Every engine produces these; every report reads them."""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 1


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
    kind: str
    expected: str
    outcome: str  # holds | violated | reachable | unreachable | unknown
    trace: Trace | None = None
    about: str | None = None
    message: str | None = None  # for built-in checks: what went wrong
    engine: str = "bfs"

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected

    def to_json(self) -> dict:
        out = {"name": self.name, "kind": self.kind, "expected": self.expected,
               "outcome": self.outcome, "trace": self.trace.to_json() if self.trace else None,
               "engine": self.engine}
        if self.message is not None:
            out["message"] = self.message
        return out


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

    def to_json(self) -> dict:
        return {"states": self.states, "transitions": self.transitions, "depth": self.depth,
                "seconds": round(self.seconds, 3)}


@dataclass
class CheckResult:
    spec_name: str
    spec_path: str
    spec_sha256: str
    constants: dict[str, int]
    engine: str
    complete: bool
    stats: Stats
    properties: list[PropertyResult]
    stopped: str | None = None  # why the search stopped early: a limit, or an interrupt
    warnings: list[str] = field(default_factory=list)
    # the symbolic constants a proof engine kept unknown -> their assume ("" if none):
    # its proofs hold for every value they allow
    symbolic: dict[str, str] = field(default_factory=dict)
    # per transition family, in file order; None for the engines that explore no states
    coverage: list[Coverage] | None = None

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
        return out

    def trace_file(self, prop: PropertyResult) -> dict:
        """The trace file `dnsrace replay` reads: the trace with spec and constants."""
        return {"version": SCHEMA_VERSION,
                "spec": {"name": self.spec_name, "path": self.spec_path,
                         "sha256": self.spec_sha256},
                "constants": dict(self.constants), "property": prop.name, "kind": prop.kind,
                **prop.trace.to_json()}
