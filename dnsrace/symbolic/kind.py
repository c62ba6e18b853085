"""k-induction with simple-path constraints.

A *target* is a property seen as "nothing bad ever happens": a set of state parts (a
predicate on one state) and step parts (a predicate on one step).  An invariant's bad state
is one where it is false or fails to evaluate; a `reachable` property's, one where it holds
or fails to evaluate (a proof makes it `unreachable`); a transition property's bad step is
one where it is false or fails; `assertion` and `type` are the states from which some
transition's effect fails with that kind; `error` is a guard or state property failing at a
state, an effect failing with a run-time error from it, or a transition property failing on a
step; `deadlock` the stuck states.  `lemmas` (names of other properties) are added to every
target: target and lemmas are then proved together, so nothing is assumed that is not also
proved.

For k = 1, 2, ...:
  base  no bad state at depth k-1 and no bad step ending there, from the initial states (the
        BMC unrolling of `bmc.Bmc`, which also finds every shortest counterexample);
  step  no path T_0 -> ... -> T_k of k successful steps, within the slots' bounds, whose
        first k states are pairwise distinct and good, whose first k-1 steps are good, and
        whose last state is bad and distinct from the others, or whose last step is bad (a
        bad step may close a cycle: its target may repeat an earlier state).
The simple-path constraints are sound: a shortest path from an initial state to the first
bad state or step has no repeated state, except that a bad step may end on an earlier one.
Both unsatisfiable (the base for every depth below k): the target holds in every reachable
state.  When the step case is satisfiable, its path is a *counterexample to induction*: it may
start from an unreachable state, so it proves nothing; it is replayed through the explicit
semantics and shown, clearly labelled, with the outcome `unknown`.
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
from ..results import CTI_LABEL, CheckResult, PropertyResult, Stats, Trace
from .bmc import (
    DEFAULT_MODE,
    DEFAULT_RELATION,
    DEFAULT_SOLVER,
    Bmc,
    Query,
    SolverUnknown,
    explainer_for,
    make_solver,
    properties,
    warnings_for,
)
from .encode import Encoding, StateVars

# A property's result from k-induction: its counterexample to induction, when the proof
# failed, is `PropertyResult.cti` (a trace whose first state may be unreachable).
InductionResult = PropertyResult


# A part of a target: (what, index or kind).  `what` is one of sp, tp, effect, guard_error,
# sp_error, tp_error, deadlock, untyped (see validate.Validator.fires).
Part = tuple


TEMPORAL_NOTE = ("k-induction does not check temporal properties: --engine bmc finds "
                 "lassos within --max-depth, --engine bfs or array decides them")


def parts_of(ts: TransitionSystem, name: str, kind: str) -> list[Part]:
    if kind in ("invariant", "reachable"):
        return [("sp", [p.name for p in ts.state_properties].index(name))]
    if kind == "transition":
        return [("tp", [p.name for p in ts.transition_properties].index(name))]
    if kind in ("assertion", "type"):
        return [("effect", kind)]
    if kind == "error":
        return [("guard_error", None), ("sp_error", None), ("effect", "error"),
                ("tp_error", None)]
    if kind == "deadlock":
        return [("deadlock", None)]
    raise ValueError(f"{name}: a {kind} property cannot be proved by induction")


def is_step_part(part: Part) -> bool:
    return part[0] in ("tp", "tp_error")


def template(enc: Encoding, part: Part):
    what, arg = part
    return {"sp": lambda: z3.Not(enc.sp_good[arg]),
            "tp": lambda: z3.Or(enc.tp_fail[arg], enc.tp_bad[arg]),
            "effect": lambda: enc.effect_fail[arg],
            "guard_error": lambda: enc.guard_error,
            "sp_error": lambda: enc.sp_error,
            "tp_error": lambda: enc.tp_error,
            "deadlock": lambda: enc.deadlock,
            "untyped": lambda: z3.Not(enc.typed)}[what]()


@dataclass
class Target:
    name: str
    kind: str
    names: list[str]                 # the target and its lemmas
    parts: list[Part]
    state_bad: object                # template over x
    step_bad: object                 # template over x, y
    proved_k: int | None = None
    base_failed: int | None = None   # the depth where the base case failed
    cti: Trace | None = None
    cti_k: int | None = None
    step: StepCase | None = None


class StepCase:
    """The step case's incremental solver for one target."""

    def __init__(self, enc: Encoding, target: Target, solver: str, deadline, tag: str):
        self.enc, self.target, self.tag = enc, target, tag
        self.q = Query(make_solver(solver), deadline, tag)
        self.T: list[StateVars] = [enc.state(f"{tag}_t0")]
        self.q.add(enc.ranges(self.T[0]))

    def check(self, k: int):
        """A model of a k-step counterexample to induction, or None (k proves it)."""
        enc, tg = self.enc, self.target
        while len(self.T) <= k:
            i = len(self.T) - 1
            # T_i is no longer the last state: it is good, so is the step into it, and it
            # differs from every state before it
            self.q.add(z3.Not(enc.at(tg.state_bad, self.T[i])))
            if i >= 1:
                self.q.add(z3.Not(enc.at(tg.step_bad, self.T[i - 1], self.T[i])))
            self.q.add(*[enc.distinct(self.T[i], s) for s in self.T[:i]])
            nxt = enc.state(f"{self.tag}_t{i + 1}")
            self.q.add(enc.ranges(nxt), enc.step(self.T[i], nxt))
            self.T.append(nxt)
        # A bad state ends a simple path (a first bad state is never a repeat); a bad step
        # may close a cycle, even a self-loop, so its target may repeat an earlier state.
        last = self.T[k]
        bad_state = z3.And(enc.at(tg.state_bad, last),
                           *[enc.distinct(last, s) for s in self.T[:k]])
        return self.q.check(z3.Or(bad_state, enc.at(tg.step_bad, self.T[k - 1], last)))


def check_kind(model: Model, max_k: int = 20, time_limit: float | None = None,
               lemmas: list[str] | dict[str, list[str]] | None = None,
               mode: str = DEFAULT_MODE,
               solver: str = DEFAULT_SOLVER, relation: str = DEFAULT_RELATION,
               ts: TransitionSystem | None = None, cs: CompiledSystem | None = None,
               progress=None) -> CheckResult:
    """k-induction for every property that is a safety property (invariants, `reachable`
    as unreachability, transition properties, the built-ins), with k up to `max_k`, and BMC
    to depth `max_k` for the shortest counterexamples.

    `lemmas` names properties assumed in the step case, and proved together with the
    target: a list (for every target) or a dict (target name -> its lemmas)."""
    t0 = time.monotonic()
    ts = ts or lower(model)
    cs = cs or compile_system(ts)
    deadline = None if time_limit is None else t0 + time_limit
    enc = Encoding(ts, mode, relation)
    bmc = Bmc(model, ts, cs, enc, solver, deadline, engine="kind")
    kinds = {name: kind for name, kind, _ in ts.property_order}
    if lemmas is None or isinstance(lemmas, dict):
        per_target = {k: list(v) for k, v in (lemmas or {}).items()}
    else:
        per_target = {name: list(lemmas) for name in kinds}
    for name, ls in per_target.items():
        for x in [name, *ls]:
            if x not in kinds:
                raise ValueError(f"lemmas: {x!r} is not a property of {ts.name}")
    targets: list[Target] = []
    for name, kind, _ in ts.property_order:
        if kind == "temporal":
            continue
        names = [name] + [x for x in per_target.get(name, []) if x != name]
        # every target includes well-typedness: assumed in the step case, and so proved too
        parts = [p for n in names for p in parts_of(ts, n, kinds[n])] + [("untyped", None)]
        sb = [template(enc, p) for p in parts if not is_step_part(p)]
        tb = [template(enc, p) for p in parts if is_step_part(p)]
        targets.append(Target(name, kind, names, parts,
                              z3.Or(*sb) if sb else z3.BoolVal(False),
                              z3.Or(*tb) if tb else z3.BoolVal(False)))
    by_name = {t.name: t for t in targets}
    by_expected = {name: expected for name, _, expected in ts.property_order}
    proved: dict[str, tuple[int, list[str]]] = {}   # name -> (k, proved together with)

    def open_targets() -> list[Target]:
        return [t for t in targets if t.name not in bmc.found and t.name not in proved
                and t.base_failed is None]

    def per_depth(d: int):
        S = bmc.S
        if progress is not None:
            progress(f"k-induction, k = {d + 1} of {max_k}")

        def base_bad(t: Target):
            # the base case at depth d (the step into S_d is asserted by the unrolling)
            bad = enc.at(t.state_bad, S[d])
            return z3.Or(bad, enc.at(t.step_bad, S[d - 1], S[d])) if d >= 1 else bad

        todo = open_targets()
        if todo and bmc.q.check(z3.Or(*[base_bad(t) for t in todo])) is not None:
            for t in todo:
                if bmc.q.check(base_bad(t)) is not None:
                    t.base_failed = d
        for t in open_targets():
            if t.step is None:
                t.step = StepCase(enc, t, solver, deadline, f"k{len(proved)}_{t.name}")
            m = t.step.check(d + 1)
            if m is None:
                for n in t.names:
                    if n not in proved and n not in bmc.found:
                        proved[n] = (d + 1, t.names)
                        bmc.closed.add(n)
                continue
            t.cti, t.cti_k = cti_trace(bmc, t, m, d + 1), d + 1
        # stop when every property has its verdict
        return not all(n in bmc.found or n in proved for n in kinds
                       if kinds[n] != "temporal")

    stopped, reason = "max-depth", None
    try:
        bmc.run(max_k, per_depth)
    except SolverUnknown as exc:
        stopped = "time-limit" if exc.timed_out else "solver-unknown"
        reason = exc.reason
    except interrupts.SIGNAL_ERRORS as exc:
        if not interrupts.signalled(exc):
            raise
        stopped, reason = "interrupted", "interrupted"
    depth = max(bmc.depth, 0)

    def open_outcome(name, kind):
        if kind == "temporal":
            return "unknown", TEMPORAL_NOTE
        if name in proved:
            k, together = proved[name]
            outcome = "unreachable" if kind == "reachable" else "holds"
            with_ = [n for n in together if n != name]
            return outcome, f"proved by {k}-induction" + \
                (f" together with {', '.join(with_)}" if with_ else "")
        t = by_name[name]
        if reason is not None:
            msg = "interrupted" if stopped == "interrupted" else \
                f"Z3 could not decide: {reason}"
        elif t.base_failed is not None:
            msg = (f"not proved: the induction hypothesis ({', '.join(t.names)}) fails in a "
                   f"reachable state at depth {t.base_failed}")
        elif t.cti is not None and kind == "reachable" and by_expected[name] == "reachable":
            msg = f"no witness within {depth} steps (and not proved unreachable)"
        elif t.cti is not None:
            msg = (f"not proved{' unreachable' if kind == 'reachable' else ''}: not "
                   f"{t.cti_k}-inductive; {CTI_LABEL} ({t.cti.length} steps, see "
                   "counterexample_to_induction)")
        else:
            msg = "not proved"
        return "unknown", msg

    props = properties(ts, bmc.found, "kind", open_outcome,
                       explainer_for(model, ts, cs, bmc.found))
    out = []
    for p in props:
        t = by_name.get(p.name)
        show = t is not None and p.outcome == "unknown" and t.cti is not None \
            and t.base_failed is None and reason is None \
            and p.expected in ("holds", "unreachable")
        out.append(PropertyResult(p.name, p.kind, p.expected, p.outcome, p.trace, p.about,
                                  p.message, "bmc" if p.trace is not None else "kind",
                                  cti=t.cti if show else None, k=t.cti_k if show else None))
    complete = all(p.outcome != "unknown" for p in out)
    stats = Stats(0, 0, depth, time.monotonic() - t0, 0)
    return CheckResult(model.name, model.path, model.sha256, model.constant_values(), "kind",
                       complete, stats, out, None if complete else stopped,
                       warnings_for(model, "kind"))


def cti_trace(bmc: Bmc, t: Target, m, k: int) -> Trace:
    """The step case's model as a trace, replayed through the explicit semantics: every
    step an enabled transition giving the next state, the first k states and k-1 steps good,
    the last state or step bad."""
    v = bmc.validator
    states = [bmc.enc.values(m, S) for S in t.step.T[:k + 1]]
    path = v.path(states, from_initial=False)
    packed = [p for _, p in path]
    for i in range(k):
        post = packed[i + 1] if i + 1 < k else None
        for part in t.parts:
            if is_step_part(part) and post is None:
                continue
            if v.fires(part, packed[i], post if is_step_part(part) else None):
                v.fail(f"counterexample to induction: {part[0]} already happens at step {i}",
                       states)
    if not any(v.fires(part, packed[k - 1] if is_step_part(part) else packed[k],
                       packed[k] if is_step_part(part) else None) for part in t.parts):
        v.fail("counterexample to induction: nothing bad happens at its end", states)
    return build_trace(bmc.ts, bmc.cs, path)
