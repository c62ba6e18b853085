"""Lassos for liveness properties in bounded model checking.

At each depth k of the unrolling S_0 -> ... -> S_k (`bmc.Bmc`), one query per open
property asks for a lasso of length k: either S_k equals an earlier S_l (the cycle is the
steps l+1..k, `loop_start` = l) or S_k is stuck (no transition has a successor: it repeats
forever, `loop_start` = k).  The first depth that has one gives a shortest lasso.

  always eventually P   every state of the cycle has P false (evaluated without error)
  eventually always P   some state of the cycle has P false
  P leads_to Q          every state of the cycle has Q false, and some state i of the path
                        has P true and Q false, with Q false at every state from i on

Fairness on the cycle (a stuck state meets every fairness condition: nothing is enabled
there): a weakly fair unit takes a step in the cycle or is disabled at one of its states; a
strongly fair one takes a step in it or is disabled at all of them.  A unit is enabled at a
state when one of its transitions has a successor there (`Encoding.ok`); a step is the
transition the relation names (`act`).

A lasso the solver finds is replayed through the explicit semantics before it is reported:
every step, the loop closing, a stuck last state, the cycle's fairness (`engines.temporal.
check_lasso`) and the property failing along it (P and Q evaluated by the compiled
predicates); one that does not is a `SymbolicInternalError`.  BMC never proves a liveness
property: without a lasso up to the bound it is `unknown`; `recoverable` is not a property
of one path, so BMC leaves it `unknown`.
"""

from __future__ import annotations

import z3

from ..engines.bfs import build_trace
from ..engines.liveness import FALSE, TRUE
from ..engines.temporal import check_lasso, evaluate, fair_units_taking_steps
from ..ir.system import TemporalProperty
from ..results import Trace
from .encode import Encoding, StateVars

LIVENESS = ("always_eventually", "eventually_always", "leads_to")
RECOVERABLE_NOTE = ("bounded model checking does not check `recoverable` (a trap is a state "
                    "from which no path reaches P: not a property of one path); use --engine "
                    "bfs or array")
RELATION_NOTE = ("the lasso search needs a relation that names the transition taken "
                 "(onehot or selector)")


class _Templates:
    """A liveness property's formulas over the template state (x)."""

    def __init__(self, enc: Encoding, prop: TemporalProperty):
        tr = enc.tr
        fail = z3.Or(*[tr.as_bool(f.cond) for f in prop.failures]) if prop.failures \
            else z3.BoolVal(False)
        p = tr.as_bool(prop.p)
        self.not_p = z3.And(z3.Not(fail), z3.Not(p))
        if prop.q is not None:
            q = tr.as_bool(prop.q)
            self.not_q = z3.And(z3.Not(fail), z3.Not(q))
            self.trigger = z3.And(z3.Not(fail), p, z3.Not(q))


class LassoSearch:
    """Lassos of every liveness property, depth by depth, on the unrolling of a `Bmc`."""

    def __init__(self, bmc):
        self.bmc = bmc
        enc = bmc.enc
        self.enc = enc
        ts = bmc.ts
        self.props = [p for p in ts.temporal if p.form in LIVENESS]
        self.usable = enc.style != "disjunctive"
        self.templates = {p.name: _Templates(enc, p) for p in self.props} if self.usable \
            else {}
        self.stuck = z3.Not(z3.Or(*enc.ok)) if enc.ok else z3.BoolVal(True)
        self.units = ts.fairness
        self.enabled = [z3.Or(*[enc.ok[t] for t in u.transitions]) for u in self.units]
        self.found: dict[str, tuple[Trace, list]] = {}   # name -> (trace, path)

    def open(self) -> list[TemporalProperty]:
        return [p for p in self.props if p.name not in self.found] if self.usable else []

    def why_not(self, name: str) -> str | None:
        """Why the search does not look for a lasso of this temporal property (None: it
        does)."""
        if not any(p.name == name for p in self.props):
            return RECOVERABLE_NOTE
        return None if self.usable else RELATION_NOTE

    # ------------------------------------------------------------------ formulas
    def _at(self, template, j: int):
        return self.bmc.enc.at(template, self.bmc.S[j])

    def _taken(self, u: int, j: int):
        act = self.bmc.S[j].act
        return z3.Or(*[self.enc.act_is(act, t) for t in self.units[u].transitions])

    def _fair(self, lo: int, k: int):
        """The cycle of the states lo..k-1 (with the steps from them) is fair."""
        parts = []
        js = range(lo, k)
        for u, unit in enumerate(self.units):
            taken = z3.Or(*[self._taken(u, j) for j in js])
            off = [z3.Not(self._at(self.enabled[u], j)) for j in js]
            parts.append(z3.Or(taken, *off) if unit.kind == "weak"
                         else z3.Or(taken, z3.And(*off)))
        return z3.And(*parts)

    def _same(self, a: StateVars, b: StateVars):
        return z3.And(*[x == y for x, y in zip(a.slots, b.slots)]) if a.slots \
            else z3.BoolVal(True)

    def _cycle_bad(self, prop: TemporalProperty, lo: int, hi: int, k: int):
        """The property fails along a lasso of length k whose cycle visits the states
        lo..hi (hi = lo = k for a stuck last state)."""
        t = self.templates[prop.name]
        js = range(lo, hi + 1)
        if prop.form == "always_eventually":
            return z3.And(*[self._at(t.not_p, j) for j in js])
        if prop.form == "eventually_always":
            return z3.Or(*[self._at(t.not_p, j) for j in js])
        # leads_to: Q false on the cycle, and a trigger from which Q stays false to the end
        rest = [z3.BoolVal(True)] * (hi + 2)     # rest[j]: Q false at every state j..hi
        for j in range(hi, -1, -1):
            rest[j] = z3.And(self._at(t.not_q, j), rest[j + 1])
        trig = z3.Or(*[z3.And(self._at(t.trigger, i), rest[i]) for i in range(hi + 1)])
        return z3.And(rest[lo], trig)

    def _lasso(self, prop: TemporalProperty, k: int) -> list[tuple[int, object]]:
        """(loop_start, formula) for every lasso shape of length k."""
        S = self.bmc.S
        out = [(k, z3.And(self._at(self.stuck, k), self._cycle_bad(prop, k, k, k)))]
        for lo in range(k):
            out.append((lo, z3.And(self._same(S[k], S[lo]), self._fair(lo, k),
                                   self._cycle_bad(prop, lo, k - 1, k))))
        return out

    # ------------------------------------------------------------------ the search
    def at_depth(self, k: int) -> None:
        """Look for a lasso of length k for every open liveness property."""
        for prop in self.open():
            shapes = self._lasso(prop, k)
            m = self.bmc.q.check(z3.Or(*[f for _, f in shapes]))
            if m is None:
                continue
            lo = next(lo for lo, f in shapes if z3.is_true(m.eval(f, model_completion=True)))
            self.found[prop.name] = self.trace(prop, m, k, lo)

    def trace(self, prop: TemporalProperty, m, k: int, lo: int) -> tuple[Trace, list]:
        """The lasso in the model, replayed through the explicit semantics."""
        bmc, enc = self.bmc, self.enc
        v = bmc.validator
        states = [enc.values(m, S) for S in bmc.S[:k + 1]]
        packed = [p for _, p in v.path(states)]   # in bounds, initial, each step possible
        tids = [-1] + [self._act(m, bmc.S[j]) for j in range(k)]
        problems = check_lasso(bmc.ts, bmc.cs, packed, tids, lo)
        problems += self._not_violated(prop, packed, lo)
        if problems:
            v.fail(f"the lasso of {prop.name}: {'; '.join(problems)}", states)
        path = list(zip(tids, packed))
        trace = build_trace(bmc.ts, bmc.cs, path)
        trace.loop_start = lo
        trace.fair_steps = fair_units_taking_steps(bmc.ts, tids[lo + 1:])
        return trace, path

    def _act(self, m, S: StateVars) -> int:
        enc = self.enc
        for t in range(enc.n_trans):
            if z3.is_true(m.eval(enc.act_is(S.act, t), model_completion=True)):
                return t
        raise AssertionError("a step without a transition")

    def _not_violated(self, prop: TemporalProperty, packed: list[int], lo: int) -> list[str]:
        """Why the property does not fail along the lasso, by the compiled predicates
        (empty: it fails)."""
        ts = self.bmc.ts
        k = len(packed) - 1
        pv, qv = evaluate(ts, self.bmc.cs, packed)[ts.temporal.index(prop)]
        cycle = range(lo, k) if lo < k else range(k, k + 1)
        if prop.form == "always_eventually":
            ok = all(pv[j] == FALSE for j in cycle)
        elif prop.form == "eventually_always":
            ok = any(pv[j] == FALSE for j in cycle)
        else:
            last = cycle[-1]
            ok = any(pv[i] == TRUE and all(qv[j] == FALSE for j in range(i, last + 1))
                     for i in range(last + 1)) and all(qv[j] == FALSE for j in cycle)
        return [] if ok else [f"{prop.name} does not fail along it"]
