"""IC3/PDR for dnsrace: one system of constrained Horn clauses per property, proved in
phases (`check_pdr`, `_PdrRun`).

For a property seen as a k-induction *target* (`kind.parts_of`: its bad states and bad
steps), with an uninterpreted predicate Inv over the slots (`clauses`):

  init     ranges(x) & Init(x)                          -> Inv(x)
  step     Inv(x) & ranges(x, y) & T(x, y, act)         -> Inv(y)
  query    Inv(x) & ranges(x) & Bad(x)                  -> false
           Inv(x) & ranges(x, y) & T(x, y, act) & BadStep(x, y) -> false   (transition props)

Init, T, Bad and BadStep are the formulas of `encode.Encoding` (Int encoding by default: it
suits Spacer's arithmetic better than bit-vectors); with symbolic constants the clauses are
`parametric`'s instead.  `chc.solve` finds Inv: from invariants learned from the spec's
reachable states (`learn`, `houdini`) when they suffice, else with Z3's Spacer, the learned
ones assumed.  Outcomes:

  proved     an inductive invariant, re-checked by a plain solver against the clauses with
             nothing assumed, and printed in the spec's syntax (`invariant_text`);
  reachable  a bad state or step is reachable: the shortest counterexample comes from BMC
             (`bmc.Bmc`, replayed through the explicit semantics);
  unknown    Z3's reason (a time-out, say).

`proof_store` keeps proofs between runs (`--proof-dir`).
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
from . import chc, houdini, learn, proof_store
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


# A property's result from PDR: the inductive invariant of its proof, when it proved the
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
    if v.how == "trivial":
        return "proved: nothing in the spec can fail it"
    if v.how == "learned" and not v.lemmas_used:
        return "proved with no invariant needed: no state of the declared types fails it"
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
              learn_share: float = LEARN_SHARE, lemmas: list[str] | None = None,
              proof_dir: str | None = None) -> CheckResult:
    """IC3/PDR for every safety property: invariants, `reachable` properties (proved
    unreachable), transition properties and the built-ins `assertion`, `type`, `error` (and
    `deadlock` when the model checks it), in phases (`_PdrRun`):

    0. with `proof_dir`, the stored invariants, each checked again against the spec as it
       is now (`proof_store`); a property one of them proves is done;
    1. a short BMC pass (to `prepass_depth` steps, a small share of the time limit) finds
       the shallow counterexamples and witnesses, which Spacer is slow to find;
    2. invariants learned from the spec's reachable states at its constants' values
       (`learn`, a share `learn_share` of the time limit at most);
    3. a proof for every other property (`chc.solve`: from the learned invariants alone, or
       Spacer with them assumed), each with a fair share of the time left, then once more,
       with all of it, on those not decided; `lemmas` (names of invariants) are proved
       together with each property and assumed while proving it;
    4. BMC, to whatever depth it takes, for the traces of the bad events found reachable.
    Never `holds` without an inductive invariant that a plain solver checks against the
    spec's clauses (`chc.Clauses.confirm`), whatever proposed it."""
    run = _PdrRun(model, ts or lower(model), cs, time_limit, mode, relation, use_qgen,
                  symbolic, progress, lemmas or [], proof_dir)
    return run.check(prepass_depth, learn_share)


class _PdrRun:
    def __init__(self, model: Model, ts: TransitionSystem, cs: CompiledSystem | None,
                 time_limit: float | None, mode: str, relation: str, use_qgen: bool,
                 symbolic: bool, progress, lemma_names: list[str], proof_dir: str | None):
        self.t0 = time.monotonic()
        self.model, self.ts = model, ts
        self.cs = cs or compile_system(ts)
        self.time_limit = time_limit
        self.deadline = None if time_limit is None else self.t0 + time_limit
        self.mode, self.relation, self.use_qgen = mode, relation, use_qgen
        self.progress = progress
        self.ps = None
        if model.symbolic and symbolic:
            # the symbolic constants stay unknown (a SpecError when they cannot)
            from ..ir.parametric import lower_parametric
            self.ps = lower_parametric(model)
        self.kinds = {name: kind for name, kind, _ in ts.property_order}
        for x in lemma_names:
            if self.kinds.get(x) != "invariant":
                raise ValueError(f"lemmas: {x!r} is not an invariant of {ts.name}")
        self.lemma_names = list(dict.fromkeys(lemma_names))
        self.store_error: str | None = None
        self.store = None if proof_dir is None else proof_store.ProofStore(
            proof_dir, model, "param" if self.ps is not None else mode)
        self.stopped: str | None = None
        self.found: dict = {}
        self.bmc_depth = 0
        self.verdicts: dict[str, chc.Verdict] = {}
        self.notes: dict[str, str] = {}   # per property: what became of its stored proof
        self.trace_reason: str | None = None
        self.enc = None
        self.lemmas: chc.Lemmas | None = None

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    def guarded(self, fn, *args):
        """fn(*args); a signal sets `stopped` to interrupted (None returned)."""
        try:
            return fn(*args)
        except interrupts.SIGNAL_ERRORS as exc:
            if not interrupts.signalled(exc):
                raise
            self.stopped = "interrupted"
            return None

    # ------------------------------------------------------------------ phases
    def check(self, prepass_depth: int, learn_share: float) -> CheckResult:
        self.enc = self.encoding()
        todo = self.targets()
        if self.store is not None and self.stopped is None:
            self.guarded(self.recheck_stored, todo)
        open_ = {n for n in self.kinds if n not in self.verdicts}
        if prepass_depth > 0 and self.stopped is None and open_:
            self.say(f"BMC to depth {prepass_depth}")
            until = None if self.deadline is None else \
                self.t0 + PREPASS_SHARE * self.time_limit
            self.guarded(self.run_bmc, open_, prepass_depth, until)
        pending = [(n, p) for n, p in todo if n not in self.found and n not in self.verdicts]
        if pending and self.stopped is None and learn_share > 0:
            self.say("learning invariants from the reachable states at the constants' values")
            until = None if self.deadline is None else \
                time.monotonic() + learn_share * self.time_limit
            smp = self.guarded(learn.sample, self.ts, self.cs, until)
            self.use_sample(smp)
        if self.stopped is None:
            self.prove_all(pending)
        bad = {n for n, v in self.verdicts.items() if v.status == "reachable"
               and n not in self.found}
        if bad and self.stopped is None:
            self.trace_reason = self.guarded(self.run_bmc, bad, MAX_TRACE_DEPTH, self.deadline)
            if self.stopped == "interrupted":
                self.trace_reason = "interrupted"
        if self.store is not None and self.stopped != "interrupted":
            try:
                self.store.write()
            except OSError as exc:   # the proofs stand; only keeping them failed
                self.store_error = (f"the proofs could not be stored at {self.store.path}: "
                                    f"{exc.strerror or exc}")
        return self.result()

    def encoding(self):
        if self.ps is not None:
            from . import parametric
            return parametric.ParamEncoding(self.ps)
        return Encoding(self.ts, self.mode, self.relation)

    def use_sample(self, smp) -> None:
        if self.ps is not None:
            self.enc.sample = smp
        else:
            self.lemmas = concrete_lemmas(self.enc, self.ts, smp, self.deadline)

    def targets(self) -> list[tuple[str, list]]:
        todo = []
        for name, kind, _ in self.ts.property_order:
            if kind == "temporal":
                self.verdicts[name] = _Verdict("unknown", reason=temporal_reason(self.ts, name))
                continue
            try:
                parts = parts_of(self.ts, name, kind)
            except ValueError:
                self.verdicts[name] = _Verdict("unknown", reason=f"PDR does not check {kind} "
                                               "properties")
                continue
            if kind == "deadlock" and not self.ts.deadlock:
                parts = []
            todo.append((name, parts))
        return todo

    def run_bmc(self, targets: set[str], depth: int, until: float | None):
        """BMC for `targets` only; returns the reason it stopped early, or None."""
        bmc = Bmc(self.model, self.ts, self.cs, Encoding(self.ts, "bv", "onehot"),
                  DEFAULT_SOLVER, until, engine="pdr")
        bmc.closed = {n for n in self.kinds if n not in targets}
        why = None
        try:
            bmc.run(depth)
        except SolverUnknown as exc:
            why = exc.reason
        for n, f in bmc.found.items():
            self.found.setdefault(n, f)
        self.bmc_depth = max(self.bmc_depth, bmc.depth)
        return why

    def prove_all(self, todo: list) -> None:
        for rnd in (1, 2):
            pending = [(n, p) for n, p in todo if n not in self.found and (
                n not in self.verdicts or (rnd == 2 and self.verdicts[n].status == "unknown"
                                           and self.verdicts[n].reason in
                                           ("timeout", "canceled")))]
            if rnd == 2 and self.deadline is None:
                return
            for k, (name, parts) in enumerate(pending):
                timeout_ms = None
                if self.deadline is not None:
                    left = self.deadline - time.monotonic()
                    if left <= 0.05:
                        self.verdicts.setdefault(name, _Verdict("unknown",
                                                                reason="time limit reached"))
                        self.stopped = "time-limit"
                        continue
                    # round 1: a fair share of what is left, so that one hard property does
                    # not starve the others; some is kept for the traces
                    share = left * (1 - BMC_RESERVE)
                    timeout_ms = max(1, int(share / (len(pending) - k) * 1000) if rnd == 1
                                     else int(share * 1000))
                self.say(f"PDR on {name}, {k + 1} of {len(pending)}"
                         + (" (second round)" if rnd == 2 else ""))
                v = self.guarded(self.prove, name, parts, timeout_ms)
                if v is None:
                    self.verdicts[name] = _Verdict("unknown", reason="interrupted")
                    return
                self.verdicts[name] = v
                if v.status == "proved" and self.store is not None and v.invariant is not None:
                    self.store.keep(name, v.invariant, self.names(), self.text(v.invariant))

    def prove(self, name: str, parts: list, ms: int | None) -> chc.Verdict:
        """One property; with lemmas, proved together with them (and assuming them), and
        alone when that fails (a lemma may be what is violated)."""
        others = [x for x in self.lemma_names if x != name]
        if others:
            extra = [p for x in others for p in parts_of(self.ts, x, "invariant")]
            v = self.prove_parts(name, parts + extra, ms, self.lemma_formulas(others))
            if v.status == "proved":
                v.notes.append(f"with the lemmas {', '.join(others)}")
                return v
        return self.prove_parts(name, parts, ms, [])

    def prove_parts(self, name: str, parts: list, ms: int | None, given: list):
        if self.ps is not None:
            from . import parametric
            return parametric.prove(self.enc, parts, name, ms, deadline=self.deadline,
                                    given=given)
        return _prove(self.enc, parts, name, ms, self.use_qgen, self.lemmas, given)

    def lemma_formulas(self, names: list[str]) -> list:
        """The lemmas as formulas over the state, those that can be (a lemma that reads a
        set over a symbolic range at another index is proved, not assumed)."""
        index = {p.name: k for k, p in enumerate(self.ts.state_properties)}
        if self.ps is None:
            return [self.enc.sp_good[index[n]] for n in names]
        from . import parametric
        return parametric.state_formulas(self.enc, [index[n] for n in names])

    # ------------------------------------------------------------------ stored proofs
    def names(self) -> dict[str, object]:
        """The state's parts by stable name, as `proof_store` stores invariants."""
        ts, enc = self.ts, self.enc
        if self.ps is None:
            return {s.name: enc.X[s.index] for s in ts.slots}
        out = {ts.slots[j].name: enc.X[j] for j in enc.scalar}
        out.update(enc.P)
        for k in self.ps.arrays:
            out[f"cell:{ts.slots[k].name}"] = enc.cx[k][0]
            out[f"member:{ts.slots[k].name}"] = enc.cx[k][1]
        return out

    def recheck_stored(self, todo: list) -> None:
        store = self.store
        if store.read_error:
            for name, _ in todo:
                self.notes[name] = f"the stored proofs could not be read ({store.read_error})"
            return
        names = self.names()
        for name, parts in todo:
            if name not in store.entries:
                continue
            self.say(f"checking the stored proof of {name}")
            t = time.monotonic()
            inv, why = store.invariant(name, names)
            if inv is not None:
                why = self.confirm_stored(name, parts, inv)
            if why is None:
                v = _Verdict("proved", inv, seconds=time.monotonic() - t, how="stored")
                self.verdicts[name] = v
                store.keep(name, inv, names, store.entries[name].get("text"))
            else:
                self.notes[name] = (f"the stored proof no longer holds ({why}); "
                                    "PDR searched again")

    def confirm_stored(self, name: str, parts: list, inv) -> str | None:
        # a stored invariant is untrusted text (quantifiers, recursive functions): its check
        # keeps to --time-limit like every other phase, and "unknown" is a failure
        ms = None if self.deadline is None else \
            max(1, int((self.deadline - time.monotonic()) * 1000))
        if self.ps is not None:
            from . import parametric
            return parametric.confirm(self.enc, parts, name, inv, ms)
        cl, _, _ = clauses(self.enc, parts, name)
        return None if cl is None else cl.confirm(inv, ms)

    # ------------------------------------------------------------------ result
    def text(self, inv) -> str:
        if self.ps is not None:
            return param_invariant_text(self.enc, inv)
        return invariant_text(self.ts, self.enc, inv)

    def result(self) -> CheckResult:
        ps = self.ps
        for_every = at_values = ""
        if ps is not None:
            names = ", ".join(ps.params)
            for_every = f", for every {names}" + (f" with {ps.describe()}" if ps.assume_texts
                                                  else "")
            at_values = ", ".join(f"{n}={v}" for n, v in ps.values.items())
        depth, why = self.bmc_depth, self.trace_reason

        def open_outcome(name, kind):
            v = self.verdicts.get(name) or _Verdict("unknown", reason="interrupted")
            note = f"; {self.notes[name]}" if name in self.notes else ""
            if kind == "temporal":
                return "unknown", v.reason
            if v.status == "proved":
                with_ = f" ({'; '.join(v.notes)})" if v.notes else ""
                return ("unreachable" if kind == "reachable" else "holds"), \
                    f"{proved_how(v)}{with_} in {v.seconds:.2f}s" + for_every + note
            if v.status == "reachable" and ps is not None:
                return "unknown", ("PDR found a counterexample for some value of the symbolic "
                                   f"constants, but BMC found none at {at_values} "
                                   f"({why or 'depth limit'}; depth {depth}); "
                                   "try other values with --const" + note)
            if v.status == "reachable":
                # found reachable, but BMC gave no trace in time: no verdict without one
                return "unknown", ("PDR found a counterexample, but BMC could not produce its "
                                   f"trace in time ({why or 'depth limit'}; depth {depth})"
                                   + note)
            return "unknown", f"Z3 (Spacer) could not decide: {v.reason}" + note

        props = properties(self.ts, self.found, "pdr", open_outcome,
                           explainer_for(self.model, self.ts, self.cs, self.found))
        out = []
        for p in props:
            v = self.verdicts.get(p.name)
            text = None
            if p.trace is None and v is not None and v.status == "proved" \
                    and v.invariant is not None:
                text = self.text(v.invariant)
            out.append(PropertyResult(p.name, p.kind, p.expected, p.outcome, p.trace, p.about,
                                      p.message, "bmc" if p.trace is not None else "pdr",
                                      invariant_text=text))
        complete = all(p.outcome != "unknown" for p in out)
        stopped = self.stopped
        if not complete and stopped is None and all(p.kind == "temporal" for p in out
                                                     if p.outcome == "unknown"):
            stopped = "temporal-unchecked"
        if not complete and stopped is None:
            timed = self.deadline is not None and time.monotonic() >= self.deadline - 0.1
            timed = timed or any(v.reason in ("timeout", "canceled", "time limit reached")
                                 for v in self.verdicts.values() if v.status == "unknown")
            stopped = "time-limit" if timed else "solver-unknown"
        stats = Stats(0, 0, max(self.bmc_depth, 0), time.monotonic() - self.t0, 0)
        model = self.model
        return CheckResult(model.name, model.path, model.sha256, model.constant_values(),
                           "pdr", complete, stats, out, None if complete else stopped,
                           warnings_for(model, "pdr" if ps is not None else "pdr-values")
                           + ([self.store_error] if self.store_error else []),
                           {c.name: c.assume_text for c in model.symbolic} if ps is not None
                           else {})
