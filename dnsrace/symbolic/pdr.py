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
from . import chc, houdini, learn
from .bmc import (
    DEFAULT_SOLVER,
    Bmc,
    SolverUnknown,
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
LEARN_SHARE = 0.15    # the explicit search that invariants are learned from, at most


# A property's result from PDR: the inductive invariant Spacer found when it proved the
# property is `PropertyResult.invariant_text`.
PdrResult = PropertyResult


_Verdict = chc.Verdict


def _prove(enc: Encoding, parts: list, name: str, timeout_ms: int | None,
           use_qgen: bool = False, lemmas: chc.Lemmas | None = None,
           given: list | None = None) -> chc.Verdict:
    """One CHC query for the target made of `parts` (see `chc.solve`)."""
    t0 = time.monotonic()
    cl, _, _ = clauses(enc, parts, name)
    if cl is None:
        return _Verdict("proved", z3.BoolVal(True), how="trivial")
    v = chc.solve(cl, timeout_ms, lemmas, {"spacer.q3.use_qgen": True} if use_qgen else None,
                  given=given)
    v.seconds = time.monotonic() - t0
    return v


def clauses(enc: Encoding, parts: list, name: str):
    """The target's clauses over the slots (None when it has no bad event), the initial
    condition and the step relation (for Houdini)."""
    X, Y, A = enc.X, enc.Y, enc.A
    state_bad = [template(enc, p) for p in parts if not is_step_part(p)]
    step_bad = [template(enc, p) for p in parts if is_step_part(p)]
    sb = z3.simplify(z3.Or(*state_bad)) if state_bad else z3.BoolVal(False)
    tb = z3.simplify(z3.Or(*step_bad)) if step_bad else z3.BoolVal(False)
    init = z3.And(enc.range_x, enc.initial(StateVars(list(X), [])))
    rng_y = z3.substitute(enc.range_x, *zip(X, Y)) if X else z3.BoolVal(True)
    step = z3.And(enc.range_x, rng_y, enc.relation)
    if z3.is_false(sb) and z3.is_false(tb):
        return None, init, [step]
    sorts = [x.sort() for x in X]
    inv = z3.Function(f"Inv_{name}", *sorts, z3.BoolSort())
    rules = [(init, inv(*X)), (z3.And(inv(*X), step), inv(*Y))]
    queries = []
    if not z3.is_false(sb):
        queries.append(z3.And(inv(*X), enc.range_x, sb))
    if not z3.is_false(tb):
        queries.append(z3.And(inv(*X), step, tb))
    return chc.Clauses(inv, list(X), rules, queries, list(X) + list(Y) + list(A)), init, [step]


def concrete_lemmas(enc: Encoding, ts: TransitionSystem, smp: learn.Sample | None,
                    deadline: float | None) -> chc.Lemmas | None:
    """The learned lemmas of a concrete system (Int encoding only), found on first use."""
    if smp is None or enc.mode != "int":
        return None
    holder: dict = {}

    def find():
        _, init, steps = clauses(enc, [], "lemmas")
        cands = [c.formula(enc.X) for c in learn.candidates(ts, smp, list(range(len(enc.X))))]
        t0 = time.monotonic()
        got = houdini.lemmas(enc, init, steps, deadline, cands)
        if got is not None:
            holder["learned"] = learn.Learned(got, smp.states.shape[0], smp.complete,
                                              len(cands), smp.seconds + time.monotonic() - t0)
        return got
    lem = chc.Lemmas(find)
    lem.holder = holder
    return lem


# ----------------------------------------------------------------------------- check
def proved_how(v: chc.Verdict) -> str:
    """How a proof was found, for the property's message."""
    if v.how == "learned":
        return (f"proved from {v.lemmas_used} invariant{'s' if v.lemmas_used != 1 else ''} "
                "learned from the reachable states at the constants' values")
    if v.how == "stored":
        return "proved by the stored inductive invariant, checked again"
    if v.lemmas_used:
        return f"proved by PDR (Spacer, with {v.lemmas_used} learned invariants)"
    return "proved by PDR (Spacer)"


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
              symbolic: bool = True, progress=None,
              learn_share: float = LEARN_SHARE) -> CheckResult:
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

    # 2. Spacer, after learning from the spec at its values
    smp = None
    if stopped != "interrupted" and learn_share > 0:
        if progress is not None:
            progress("learning invariants from the reachable states at the constants' values")
        until = None if deadline is None else time.monotonic() + learn_share * time_limit
        try:
            smp = learn.sample(ts, cs, until)
        except interrupts.SIGNAL_ERRORS as exc:
            if not interrupts.signalled(exc):
                raise
            stopped = "interrupted"
    if ps is not None:
        from . import parametric
        enc = parametric.ParamEncoding(ps)
        enc.sample = smp
        lemmas = None
    else:
        enc = Encoding(ts, mode, relation)
        lemmas = concrete_lemmas(enc, ts, smp, deadline)
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
                    verdicts[name] = _prove(enc, parts, name, ms, use_qgen, lemmas)
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
                f"{proved_how(v)} in {v.seconds:.2f}s" + for_every
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
