"""IC3/PDR through Z3's Spacer: one system of constrained Horn clauses per property.

For a property seen as a k-induction *target* (`kind.parts_of`: its bad states and bad
steps), with an uninterpreted predicate Inv over the slots:

  init     ranges(x) & Init(x)                          -> Inv(x)
  step     Inv(x) & ranges(y) & T(x, y, act)            -> Inv(y)
  query    Inv(x) & Bad(x)                              -> false
           Inv(x) & ranges(y) & T(x, y, act) & BadStep(x, y) -> false   (transition props)

Init, T, Bad and BadStep are the formulas of `encode.Encoding` (Int encoding by default: it
suits Spacer's arithmetic better than bit-vectors).  Outcomes:

  unsat    Spacer found an inductive invariant: the property holds (`unreachable` for a
           `reachable` property); the invariant is attached, in the spec's expression
           syntax over slot names, as `PdrResult.invariant_text`;
  sat      a bad state or step is reachable: the shortest counterexample comes from BMC
           (`bmc.Bmc`, replayed through the explicit semantics), run only for those
           properties, to whatever depth it needs within the time limit;
  unknown  Z3's reason (a time-out, say): `unknown`.

Only concrete constants: a symbolic one is checked at its value (the same warning as BMC).
"""

from __future__ import annotations

import time

import z3

from .. import interrupts
from ..backends.python_codegen import CompiledSystem, compile_system
from ..frontend.model import Model
from ..ir.lower import lower
from ..ir.system import TransitionSystem
from ..results import CheckResult, PropertyResult, Stats
from .bmc import (
    DEFAULT_SOLVER,
    Bmc,
    SolverUnknown,
    _short,
    explainer_for,
    properties,
    warnings_for,
)
from .encode import Encoding, StateVars
from .invariant_text import invariant_text, param_invariant_text
from .kind import is_step_part, parts_of, template

DEFAULT_PDR_MODE = "int"
DEFAULT_PDR_RELATION = "disjunctive"
MAX_TRACE_DEPTH = 10_000
BMC_RESERVE = 0.25   # the share of the time left kept for counterexample traces
PREPASS_DEPTH = 20   # the first BMC pass: traces of at most this many steps
PREPASS_SHARE = 0.15  # ... within this share of the time limit


# A property's result from PDR: the inductive invariant Spacer found when it proved the
# property is `PropertyResult.invariant_text`.
PdrResult = PropertyResult


class _Verdict:
    def __init__(self, status: str, invariant=None, reason: str | None = None,
                 seconds: float = 0.0):
        self.status = status        # proved | reachable | unknown
        self.invariant = invariant  # z3 expression over the template slots, or None
        self.reason = reason
        self.seconds = seconds


def _prove(enc: Encoding, parts: list, name: str, timeout_ms: int | None,
           use_qgen: bool = False) -> _Verdict:
    """One CHC query for the target made of `parts`."""
    t0 = time.monotonic()
    X, Y, A = enc.X, enc.Y, enc.A
    state_bad = [template(enc, p) for p in parts if not is_step_part(p)]
    step_bad = [template(enc, p) for p in parts if is_step_part(p)]
    sb = z3.simplify(z3.Or(*state_bad)) if state_bad else z3.BoolVal(False)
    tb = z3.simplify(z3.Or(*step_bad)) if step_bad else z3.BoolVal(False)
    if z3.is_false(sb) and z3.is_false(tb):
        return _Verdict("proved", z3.BoolVal(True), seconds=time.monotonic() - t0)
    sorts = [x.sort() for x in X]
    inv = z3.Function(f"Inv_{name}", *sorts, z3.BoolSort())
    s = z3.SolverFor("HORN")
    s.set("engine", "spacer")
    if use_qgen:
        s.set("spacer.q3.use_qgen", True)
    if timeout_ms is not None:
        s.set("timeout", max(1, timeout_ms))
    init = enc.initial(StateVars(list(X), []))
    rng_x = enc.range_x
    rng_y = z3.substitute(enc.range_x, *zip(X, Y)) if X else z3.BoolVal(True)
    xy = list(X) + list(Y) + list(A)

    def rule(body, head):
        # every constant of the rule is a variable of the clause (unused ones are harmless)
        f = z3.Implies(body, head)
        return z3.ForAll(xy, f) if xy else f

    s.add(rule(z3.And(rng_x, init), inv(*X)))
    s.add(rule(z3.And(inv(*X), rng_y, enc.relation), inv(*Y)))
    bad = []
    if not z3.is_false(sb):
        bad.append(z3.And(inv(*X), sb))
    if not z3.is_false(tb):
        bad.append(z3.And(inv(*X), rng_y, enc.relation, tb))
    for b in bad:
        s.add(rule(b, z3.BoolVal(False)))
    r = s.check()
    dt = time.monotonic() - t0
    if r == z3.unsat:
        # the clauses are unsatisfiable: a derivation of false, i.e. a reachable bad state
        return _Verdict("reachable", seconds=dt)
    if r == z3.sat:
        # the clauses are satisfiable: Inv's interpretation is an inductive invariant
        m = s.model()
        body = _interp(m, inv, X)
        problem = _confirm(body, rng_x, init, rng_y, enc, sb, tb, timeout_ms)
        if problem is not None:
            return _Verdict("unknown", reason=f"Spacer's invariant does not check: {problem}",
                            seconds=time.monotonic() - t0)
        return _Verdict("proved", body, seconds=time.monotonic() - t0)
    return _Verdict("unknown", reason=_short(s.reason_unknown()), seconds=dt)


def _confirm(inv, rng_x, init, rng_y, enc: Encoding, sb, tb, timeout_ms) -> str | None:
    """Check Spacer's invariant independently, on quantifier-free queries: it contains the
    initial states, is closed under the transition relation, and excludes every bad state
    and step.  None when it does; else what fails."""
    X, Y = enc.X, enc.Y
    inv_y = z3.substitute(inv, *zip(X, Y)) if X else inv
    checks = [("initial states", z3.And(rng_x, init, z3.Not(inv))),
              ("induction", z3.And(rng_x, inv, rng_y, enc.relation, z3.Not(inv_y))),
              ("bad states", z3.And(rng_x, inv, sb)),
              ("bad steps", z3.And(rng_x, inv, rng_y, enc.relation, tb))]
    return first_failing(checks, timeout_ms)


def first_failing(checks: list, timeout_ms: int | None) -> str | None:
    """The first (what, formula) a plain solver does not refute: "what: a counterexample"
    (or Z3's reason); None when every formula is unsatisfiable."""
    for what, f in checks:
        if z3.is_false(z3.simplify(f)):
            continue
        s = z3.Solver()
        if timeout_ms is not None:
            s.set("timeout", max(1000, timeout_ms))
        s.add(f)
        r = s.check()
        if r == z3.sat:
            return f"{what}: a counterexample"
        if r != z3.unsat:
            return f"{what}: {_short(s.reason_unknown())}"
    return None


def _interp(m, inv, X):
    """Inv's interpretation in the model, over the template slots X."""
    fi = m[inv]
    if fi is None:
        return z3.BoolVal(True)
    if isinstance(fi, z3.FuncInterp):
        e = fi.else_value()
        # the else value is over Var(0..n-1)
        return z3.substitute_vars(e, *X) if e is not None else z3.BoolVal(True)
    if z3.is_quantifier(fi) and fi.is_lambda():
        return z3.substitute_vars(fi.body(), *reversed(list(X)))
    return fi


# ----------------------------------------------------------------------------- check
def temporal_reason(ts: TransitionSystem, name: str) -> str:
    """Why PDR leaves a temporal property `unknown`."""
    prop = next(p for p in ts.temporal if p.name == name)
    if prop.form == "recoverable":
        return ("PDR cannot prove `recoverable`: from every reachable state some path "
                "reaches P, which no inductive invariant of the reachable states says; use "
                "--engine bfs or array")
    return ("PDR does not check liveness (a violation is a fair cycle, not a bad state): "
            "--engine bmc finds lassos within --max-depth, --engine bfs or array decides it")


def check_pdr(model: Model, time_limit: float | None = None,
              ts: TransitionSystem | None = None, cs: CompiledSystem | None = None,
              mode: str = DEFAULT_PDR_MODE, relation: str = DEFAULT_PDR_RELATION,
              use_qgen: bool = False, prepass_depth: int = PREPASS_DEPTH,
              symbolic: bool = True, progress=None) -> CheckResult:
    """IC3/PDR (Z3's Spacer) for every safety property: invariants, `reachable` properties
    (proved unreachable), transition properties and the built-ins `assertion`, `type`,
    `error` (and `deadlock` when the model checks it).

    1. a short BMC pass (to `prepass_depth` steps, a small share of the time limit) finds
       the shallow counterexamples and witnesses, which Spacer is slow to find;
    2. Spacer on every other property, each with a fair share of the time left, then once
       more, with all of it, on those it could not decide;
    3. BMC, to whatever depth it takes, for the traces of the bad events Spacer reached.
    Never `holds` without an inductive invariant from Spacer, checked again by a plain
    solver (`_confirm`)."""
    t0 = time.monotonic()
    ts = ts or lower(model)
    cs = cs or compile_system(ts)
    ps = None
    if model.symbolic and symbolic:
        # the symbolic constants stay unknown for Spacer (a SpecError when they cannot)
        from ..ir.parametric import lower_parametric
        ps = lower_parametric(model)
    deadline = None if time_limit is None else t0 + time_limit
    kinds = {name: kind for name, kind, _ in ts.property_order}
    stopped = None
    found: dict = {}
    bmc_depth = 0

    def run_bmc(targets: set[str], depth: int, until: float | None):
        """BMC for `targets` only; returns the reason it stopped early, or None."""
        nonlocal bmc_depth
        bmc = Bmc(model, ts, cs, Encoding(ts, "bv", "onehot"), DEFAULT_SOLVER, until,
                  engine="pdr")
        bmc.closed = {n for n in kinds if n not in targets}
        why = None
        try:
            bmc.run(depth)
        except SolverUnknown as exc:
            why = exc.reason
        for n, f in bmc.found.items():
            found.setdefault(n, f)
        bmc_depth = max(bmc_depth, bmc.depth)
        return why

    # 1. shallow counterexamples
    if progress is not None:
        progress(f"BMC to depth {prepass_depth}")
    if prepass_depth > 0:
        until = None if deadline is None else t0 + PREPASS_SHARE * time_limit
        try:
            run_bmc(set(kinds), prepass_depth, until)
        except interrupts.SIGNAL_ERRORS as exc:
            if not interrupts.signalled(exc):
                raise
            stopped = "interrupted"

    # 2. Spacer
    if ps is not None:
        from . import parametric
        enc = parametric.ParamEncoding(ps)
    else:
        enc = Encoding(ts, mode, relation)
    verdicts: dict[str, _Verdict] = {}
    todo = []
    for name, kind, _ in ts.property_order:
        if name in found:
            continue
        if kind == "temporal":
            verdicts[name] = _Verdict("unknown", reason=temporal_reason(ts, name))
            continue
        try:
            parts = parts_of(ts, name, kind)
        except ValueError:
            verdicts[name] = _Verdict("unknown", reason=f"PDR does not check {kind} "
                                      "properties")
            continue
        if kind == "deadlock" and not ts.deadlock:
            parts = []
        todo.append((name, parts))
    for rnd in (1, 2):
        if stopped == "interrupted":
            break
        pending = [(n, ps) for n, ps in todo
                   if n not in verdicts or (rnd == 2 and verdicts[n].status == "unknown"
                                            and verdicts[n].reason in ("timeout", "canceled"))]
        if rnd == 2 and deadline is None:
            break
        for k, (name, parts) in enumerate(pending):
            timeout_ms = None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0.05:
                    verdicts.setdefault(name, _Verdict("unknown", reason="time limit reached"))
                    stopped = "time-limit"
                    continue
                # round 1: a fair share of what is left, so that one hard property does
                # not starve the others; some is kept for the traces
                share = left * (1 - BMC_RESERVE)
                timeout_ms = int(share / (len(pending) - k) * 1000) if rnd == 1 \
                    else int(share * 1000)
            if progress is not None:
                progress(f"PDR (Spacer) on {name}, {k + 1} of {len(pending)}"
                         + (" (second round)" if rnd == 2 else ""))
            try:
                ms = None if timeout_ms is None else max(1, timeout_ms)
                if ps is not None:
                    verdicts[name] = parametric.prove(enc, parts, name, ms, deadline=deadline)
                else:
                    verdicts[name] = _prove(enc, parts, name, ms, use_qgen)
            except interrupts.SIGNAL_ERRORS as exc:
                if not interrupts.signalled(exc):
                    raise
                verdicts[name] = _Verdict("unknown", reason="interrupted")
                stopped = "interrupted"
                break

    # 3. the traces of what Spacer found reachable
    bad = {n for n, v in verdicts.items() if v.status == "reachable" and n not in found}
    trace_reason = None
    if bad and stopped != "interrupted":
        try:
            trace_reason = run_bmc(bad, MAX_TRACE_DEPTH, deadline)
        except interrupts.SIGNAL_ERRORS as exc:
            if not interrupts.signalled(exc):
                raise
            stopped, trace_reason = "interrupted", "interrupted"

    for_every = at_values = ""
    if ps is not None:
        names = ", ".join(ps.params)
        for_every = f", for every {names}" + (f" with {ps.describe()}" if ps.assume_texts
                                              else "")
        at_values = ", ".join(f"{n}={v}" for n, v in ps.values.items())

    def open_outcome(name, kind):
        v = verdicts.get(name) or _Verdict("unknown", reason="interrupted")
        if kind == "temporal":
            return "unknown", v.reason
        if v.status == "proved":
            return ("unreachable" if kind == "reachable" else "holds"), \
                f"proved by PDR (Spacer) in {v.seconds:.2f}s" + for_every
        if v.status == "reachable" and ps is not None:
            return "unknown", ("PDR found a counterexample for some value of the symbolic "
                               f"constants, but BMC found none at {at_values} "
                               f"({trace_reason or 'depth limit'}; depth {bmc_depth}); "
                               "try other values with --const")
        if v.status == "reachable":
            # Spacer found it reachable, but BMC gave no trace in time: no verdict without one
            return "unknown", ("PDR found a counterexample, but BMC could not produce its "
                               f"trace in time ({trace_reason or 'depth limit'}; "
                               f"depth {bmc_depth})")
        return "unknown", f"Z3 (Spacer) could not decide: {v.reason}"

    props = properties(ts, found, "pdr", open_outcome, explainer_for(model, ts, cs, found))
    out = []
    for p in props:
        v = verdicts.get(p.name)
        text = None
        if p.trace is None and v is not None and v.status == "proved" \
                and v.invariant is not None:
            text = param_invariant_text(enc, v.invariant) if ps is not None \
                else invariant_text(ts, enc, v.invariant)
        out.append(PropertyResult(p.name, p.kind, p.expected, p.outcome, p.trace, p.about,
                                  p.message, "bmc" if p.trace is not None else "pdr",
                                  invariant_text=text))
    complete = all(p.outcome != "unknown" for p in out)
    if not complete and stopped is None and all(p.kind == "temporal" for p in out
                                                 if p.outcome == "unknown"):
        stopped = "temporal-unchecked"
    if not complete and stopped is None:
        timed = deadline is not None and time.monotonic() >= deadline - 0.1
        timed = timed or any(v.reason in ("timeout", "canceled", "time limit reached")
                             for v in verdicts.values() if v.status == "unknown")
        stopped = "time-limit" if timed else "solver-unknown"
    stats = Stats(0, 0, max(bmc_depth, 0), time.monotonic() - t0, 0)
    return CheckResult(model.name, model.path, model.sha256, model.constant_values(), "pdr",
                       complete, stats, out, None if complete else stopped,
                       warnings_for(model, "pdr" if ps is not None else "pdr-values"),
                       {c.name: c.assume_text for c in model.symbolic} if ps is not None
                       else {})
