"""Incremental bounded model checking: depth by depth, so that the first counterexample found
for a property is a shortest one.

One solver holds the initial state S_0 and the steps S_0 -> S_1 -> ... -> S_d asserted so
far.  At each depth d the queries follow the contract's trace lengths:

  1. state events at S_d, length d: an invariant false or a reachable property true (its
     evaluation not failing), a guard that fails to evaluate, a state property that fails
     to evaluate, a deadlock;
  2. effect events from S_d, length d+1: a transition whose guard holds and whose effect
     fails (its first failing condition, in order, is an assertion, a type or a run-time
     error);
  3. the step S_d -> S_{d+1} is asserted; step events on it, length d+1: a transition
     property false, or failing to evaluate.

Each query is made under a fresh assumption literal; one query first asks for any event of
the phase, and only when that is satisfiable are the properties told apart (every event true
in a model is recorded from that model).  Every trace is replayed through the explicit
semantics before it is reported (`validate.Validator`).  With liveness properties, each
depth also asks for a lasso of that length (`lasso.LassoSearch`).  BMC never proves
anything: a property with no counterexample within the bound is `unknown`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from .. import interrupts
from ..backends.python_codegen import CompiledSystem, compile_system
from ..engines.bfs import build_trace
from ..frontend.model import Model
from ..ir.lower import lower
from ..ir.system import TransitionSystem
from ..results import CheckResult, PropertyResult, Stats, Trace
from .encode import Encoding, StateVars
from .validate import Validator

SOLVERS = ("QF_BV", "QF_FD", "default")
DEFAULT_MODE = "bv"
DEFAULT_SOLVER = "QF_FD"
DEFAULT_RELATION = "onehot"
LEARN = True


def make_solver(kind: str):
    if kind == "default":
        return z3.Solver()
    if kind not in SOLVERS:
        raise ValueError(f"unknown solver {kind!r}; choose one of {', '.join(SOLVERS)}")
    return z3.SolverFor(kind)


class SolverUnknown(Exception):
    """Z3 answered `unknown` (its reason is the message), or the time limit ran out."""

    def __init__(self, reason: str, timed_out: bool):
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


class Query:
    """A solver with a deadline; every check is made under a fresh assumption literal."""

    def __init__(self, solver, deadline: float | None, tag: str):
        self.solver = solver
        self.deadline = deadline
        self.tag = tag
        self.n = 0
        self.checks = 0
        self.learn = LEARN

    def add(self, *fs) -> None:
        self.solver.add(*fs)

    def check(self, formula) -> z3.ModelRef | None:
        """A model where `formula` holds with everything asserted, or None when none does."""
        if z3.is_false(formula):
            return None
        self.n += 1
        lit = z3.Bool(f"{self.tag}!q{self.n}")
        self.solver.add(z3.Implies(lit, formula))
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise SolverUnknown("time limit reached", True)
            self.solver.set("timeout", max(1, int(left * 1000)))
        self.checks += 1
        r = self.solver.check(lit)
        if r == z3.unknown:
            reason = _short(self.solver.reason_unknown())
            timed_out = self.deadline is not None and time.monotonic() >= self.deadline - 0.01
            raise SolverUnknown(reason, timed_out or reason in ("timeout", "canceled"))
        model = self.solver.model() if r == z3.sat else None
        self.solver.add(z3.Not(lit))   # retire the literal
        if model is not None:
            return model
        if self.learn:
            # valid: no model of what is asserted satisfies the formula
            self.solver.add(z3.Not(formula))
        return None


def _short(reason: str) -> str:
    """Z3's reason for `unknown`, on one line (some reasons embed whole formulas)."""
    line = (reason or "unknown").strip().splitlines()[0] if reason and reason.strip() \
        else "unknown"
    return line if len(line) <= 160 else line[:157] + "..."


@dataclass
class Event:
    prop: str
    phase: str      # state | effect | step
    what: str       # sp | sp_error | guard_error | deadlock | effect | tp | tp_error
    template: object
    index: int = -1
    kind: str | None = None


@dataclass
class Found:
    trace: Trace
    message: str | None
    path: list


def events(ts: TransitionSystem, enc: Encoding) -> list[Event]:
    out: list[Event] = []
    for k, p in enumerate(ts.state_properties):
        out.append(Event(p.name, "state", "sp", enc.sp_bad[k], k))
    for k, p in enumerate(ts.transition_properties):
        out.append(Event(p.name, "step", "tp", enc.tp_bad[k], k))
    for kind in ("assertion", "type"):
        out.append(Event(kind, "effect", "effect", enc.effect_fail[kind], kind=kind))
    out.append(Event("error", "state", "guard_error", enc.guard_error))
    out.append(Event("error", "state", "sp_error", enc.sp_error))
    out.append(Event("error", "effect", "effect", enc.effect_fail["error"], kind="error"))
    out.append(Event("error", "step", "tp_error", enc.tp_error))
    if ts.deadlock:
        out.append(Event("deadlock", "state", "deadlock", enc.deadlock))
    return [e for e in out if not z3.is_false(z3.simplify(e.template))]


class Bmc:
    """The incremental unrolling from the initial states, and the traces it finds."""

    def __init__(self, model: Model, ts: TransitionSystem, cs: CompiledSystem, enc: Encoding,
                 solver: str, deadline: float | None, engine: str = "bmc"):
        self.model, self.ts, self.cs, self.enc = model, ts, cs, enc
        self.engine = engine
        self.q = Query(make_solver(solver), deadline, "bmc")
        self.validator = Validator(ts, cs, engine)
        self.events = events(ts, enc)
        self.found: dict[str, Found] = {}
        self.closed: set[str] = set()   # decided otherwise (proved): not searched further
        self.S: list[StateVars] = []
        self.depth = -1          # the deepest d whose state events have been checked
        self.lassos = None       # a lasso.LassoSearch for the liveness properties, or None

    # ------------------------------------------------------------------ unrolling
    def start(self) -> None:
        s0 = self.enc.state("s0")
        self.S.append(s0)
        self.q.add(self.enc.ranges(s0), self.enc.initial(s0))

    def extend(self) -> None:
        d = len(self.S) - 1
        nxt = self.enc.state(f"s{d + 1}")
        self.q.add(self.enc.ranges(nxt), self.enc.step(self.S[d], nxt))
        self.S.append(nxt)

    def open_events(self, phase: str) -> list[Event]:
        return [e for e in self.events if e.phase == phase and e.prop not in self.found
                and e.prop not in self.closed]

    def phase(self, d: int, phase: str) -> None:
        """Check the phase's events at depth d for every property still open."""
        evs = self.open_events(phase)
        if not evs:
            return
        nxt = self.S[d + 1] if phase == "step" else None
        inst = [self.enc.at(e.template, self.S[d], nxt) for e in evs]
        pending = list(range(len(evs)))
        while pending:
            m = self.q.check(z3.Or(*[inst[i] for i in pending]))
            if m is None:
                return
            fired = [i for i in pending
                     if evs[i].prop not in self.found
                     and z3.is_true(m.eval(inst[i], model_completion=True))]
            if not fired:
                raise AssertionError("a model of a disjunction satisfies none of its parts")
            for i in fired:
                if evs[i].prop not in self.found:
                    self.found[evs[i].prop] = self.trace(m, evs[i], d)
            pending = [i for i in pending if evs[i].prop not in self.found]

    # ------------------------------------------------------------------ traces
    def trace(self, m, ev: Event, d: int) -> Found:
        v = self.validator
        last = d + 1 if ev.phase == "step" else d
        states = [self.enc.values(m, S) for S in self.S[:last + 1]]
        path = v.path(states)
        end = path[-1][1]
        message = None
        fail_message = None
        if ev.what == "sp":
            v.state_property(end, ev.index, states)
        elif ev.what == "sp_error":
            message = v.property_error(end, states)
        elif ev.what == "guard_error":
            message = v.guard_error(end, states)
        elif ev.what == "deadlock":
            v.deadlock(end, states)
        elif ev.what == "effect":
            tid, fail_message = v.effect_failure(end, ev.kind, states)
            message = fail_message
            path = path + [(tid, None)]
        elif ev.what == "tp":
            v.transition_property(path[-2][1], end, ev.index, states)
        elif ev.what == "tp_error":
            message = v.transition_property_error(path[-2][1], end, states)
        else:
            raise AssertionError(ev.what)
        return Found(build_trace(self.ts, self.cs, path, fail_message), message, path)

    # ------------------------------------------------------------------ the loop
    def run(self, max_depth: int, per_depth=None) -> None:
        """Unroll to max_depth (traces of at most max_depth steps).  `per_depth(d)` is called
        after the state events at depth d; it returns False to stop."""
        self.start()
        for d in range(max_depth + 1):
            self.phase(d, "state")
            if self.lassos is not None:
                self.lassos.at_depth(d)
            self.depth = d
            if per_depth is not None and per_depth(d) is False:
                return
            if d == max_depth or self.all_found():
                return
            self.phase(d, "effect")
            self.extend()
            self.phase(d, "step")

    def all_found(self) -> bool:
        return all(e.prop in self.found or e.prop in self.closed for e in self.events) \
            and not (self.lassos is not None and self.lassos.open())


def properties(ts: TransitionSystem, found: dict[str, Found], engine: str,
               open_outcome, explainer=None) -> list[PropertyResult]:
    """PropertyResults in report order; `open_outcome(name, kind)` gives (outcome, message)
    for a property without a trace."""
    about = {p.name: p.about for p in ts.state_properties}
    about.update({p.name: p.about for p in ts.transition_properties})
    about.update({p.name: p.about for p in ts.temporal})
    out = []
    for name, kind, expected in ts.property_order:
        f = found.get(name)
        if f is not None:
            if explainer is not None:
                explainer.annotate(f.trace, f.path, f.message)
            outcome = "reachable" if kind == "reachable" else "violated"
            out.append(PropertyResult(name, kind, expected, outcome, f.trace, about.get(name),
                                      f.message, engine))
        else:
            outcome, message = open_outcome(name, kind)
            out.append(PropertyResult(name, kind, expected, outcome, None, about.get(name),
                                      message, engine))
    return out


def warnings_for(model: Model, engine: str = "bmc") -> list[str]:
    """The model's warnings, and one per symbolic constant for the engines that use its
    value (BMC and k-induction; PDR keeps it unknown, see `ir.parametric`)."""
    out = [w.message for w in model.warnings]
    if engine == "pdr":
        return out
    name = {"kind": "k-induction"}.get(engine, engine)
    for c in model.constants.values():
        if c.symbolic:
            out.append(f"constant {c.name} is symbolic; {name} checks it at its value "
                       f"{c.value} only (PDR keeps it unknown)")
    return out


def explainer_for(model, ts, cs, found):
    if not found:
        return None
    from ..explain import Explainer
    return Explainer(model, ts, cs)


def check_bmc(model: Model, max_depth: int = 20, time_limit: float | None = None,
              mode: str = DEFAULT_MODE, solver: str = DEFAULT_SOLVER,
              relation: str = DEFAULT_RELATION, ts: TransitionSystem | None = None,
              cs: CompiledSystem | None = None, progress=None
              ) -> CheckResult:
    """Bounded model checking of every property up to `max_depth` steps (`progress(text)`,
    when given, hears each depth reached).

    Violations, errors and witnesses come with a shortest trace, replayed through the
    explicit semantics; every other property is `unknown` (BMC proves nothing)."""
    t0 = time.monotonic()
    ts = ts or lower(model)
    cs = cs or compile_system(ts)
    deadline = None if time_limit is None else t0 + time_limit
    enc = Encoding(ts, mode, relation)
    bmc = Bmc(model, ts, cs, enc, solver, deadline)
    if ts.temporal:
        from .lasso import LassoSearch
        bmc.lassos = LassoSearch(bmc)
    stopped, reason = "max-depth", None
    try:
        bmc.run(max_depth, None if progress is None else
                lambda d: progress(f"BMC depth {d} of {max_depth}"))
    except SolverUnknown as exc:
        stopped = "time-limit" if exc.timed_out else "solver-unknown"
        reason = exc.reason
        if interrupts.received():   # Z3 gave up because the signal's watcher asked it to
            stopped, reason = "interrupted", "interrupted"
    except interrupts.SIGNAL_ERRORS as exc:
        if not interrupts.signalled(exc):
            raise
        stopped, reason = "interrupted", "interrupted"
    except z3.Z3Exception:
        # the watcher's Z3_interrupt cancels whatever Z3 call is running, not only a check:
        # a simplify or substitute then raises "canceled" before Python sees the signal
        if not interrupts.received():
            raise
        stopped, reason = "interrupted", "interrupted"
    depth = max(bmc.depth, 0)

    def open_outcome(name, kind):
        if kind == "temporal" and bmc.lassos.why_not(name) is not None:
            return "unknown", bmc.lassos.why_not(name)
        if reason is not None:
            return "unknown", f"Z3 could not decide depth {depth + 1}: {reason}" \
                if stopped != "interrupted" else "interrupted"
        if kind == "temporal":
            return "unknown", (f"no lasso within {depth} steps (bounded model checking "
                               "never proves a liveness property)")
        what = "witness" if kind == "reachable" else "violation"
        return "unknown", f"no {what} within {depth} steps (bounded model checking)"

    found = dict(bmc.found)
    if bmc.lassos is not None:
        found.update({n: Found(t, None, path) for n, (t, path) in bmc.lassos.found.items()})
    props = properties(ts, found, "bmc", open_outcome, explainer_for(model, ts, cs, found))
    complete = all(p.outcome != "unknown" for p in props)
    stats = Stats(0, 0, depth, time.monotonic() - t0, 0)
    return CheckResult(model.name, model.path, model.sha256, model.constant_values(), "bmc",
                       complete, stats, props, None if complete else stopped,
                       warnings_for(model))
