"""PDR on the parametric IR: proofs for every value of the symbolic constants.

The clauses are those of `pdr` (init, step, query) over an uninterpreted Inv, with three
additions for what `ir.parametric` keeps symbolic:

  * every symbolic constant is an argument of Inv that no step changes, and the initial
    clause requires its `assume`; a proof therefore holds for every value the assumes allow;
  * an array slot (a set over a symbolic range) is not one argument but a *cell*: an index
    i and the membership v of i in the set.  Inv(x, i, v) says "in a reachable state x,
    element i of the set is v", for every i at once (the cell morphing of Monniaux and
    Gonnord, SAS 2016).  A step updates the cell pointwise, v' = upd(i).  Reading the set
    at another index t (`record[e] in deleted`) adds a premise Inv(x, t, w) and uses w, with
    w = v when t = i.  This over-approximates the reachable states, so a proof is sound; a
    counterexample from it is only a hint, and is confirmed (or not) by BMC at the values;
  * `exists` left in a formula is Skolemised where it occurs positively in a query (it
    becomes a variable of the clause); a failure condition that holds one is left out of a
    step's "succeeds" conjuncts (more successors: still sound).  Any other `exists` makes the
    property `unknown`, with that reason.
A transition property (and the `error` check, which includes its evaluation failing) adds
one query per transition: Inv(x) and a step of that transition from x to y on which the bad
term holds (it reads y's scalars; a symbolic set after the step is refused by
`ir.parametric`).
Spacer runs alone for a few seconds first; when that does not decide, again with the lemmas
`houdini` finds assumed in every body (the lease's mutual exclusion is one Spacer alone does
not find).  A proof's invariant (Spacer's, with the lemmas it needs) is checked again by a
plain solver against the clauses without the lemmas (the same reads expanded) before
dnsrace says `holds`, and printed in the spec's syntax with the cell as `all(... for g in
LO..HI)`.
"""

from __future__ import annotations

import time

import z3

from ..ir import terms as T
from ..ir.parametric import ParametricSystem
from ..ir.terms import Term
from . import chc, houdini, learn
from .encode import Intervals, Translator

UNBOUNDED = 1 << 62


class Unsupported(Exception):
    """The parametric system holds something these clauses cannot say."""


class _Intervals(Intervals):
    def _node(self, t: Term):
        if t.op in ("param", "bound"):
            return (-UNBOUNDED if t.lo is None else t.lo, UNBOUNDED if t.hi is None else t.hi)
        if t.op in ("elem", "exists"):
            return 0, 1
        if t.op in ("slot", "post"):
            return (-UNBOUNDED if t.lo is None else t.lo, UNBOUNDED if t.hi is None else t.hi)
        return super()._node(t)


class _Clause(Translator):
    """Terms of one clause: the state's slots, the params, the cells, and the reads of array
    slots at other indices (each a fresh Bool with a premise Inv(x, t, w))."""

    def __init__(self, enc: ParamEncoding, cur: list, post: list | None, cells: dict,
                 positive: bool):
        super().__init__("int", enc.iv, cur, post)
        self.enc = enc
        self.cells = cells          # array slot -> (index var, value var) of this side
        self.reads: dict[int, tuple[int, object, object]] = {}  # id(term) -> (slot, t, w)
        self.skolem: dict[int, object] = {}
        self.positive = positive    # may exists be Skolemised here?

    def _node(self, t: Term):
        op, a = t.op, t.args
        if op == "param":
            return False, self.enc.P[a[0]]
        if op == "bound":
            for k, arr in self.enc.ps.arrays.items():
                if t is arr.cell:
                    return False, self.cells[k][0]
            got = self.skolem.get(id(t))
            if got is None:
                raise Unsupported("a quantifier over a symbolic range in a step")
            return False, got
        if op == "elem":
            k, idx = a
            if idx is self.enc.ps.arrays[k].cell:
                return True, self.cells[k][1]
            got = self.reads.get(id(t))
            if got is None:
                w = z3.Bool(f"w{len(self.enc.fresh)}")
                self.enc.fresh.append(w)
                got = (k, self._int(idx), w)
                self.reads[id(t)] = got
            return True, got[2]
        if op == "exists":
            raise AssertionError("exists is Skolemised before translation")
        return super()._node(t)

    def formula(self, t: Term):
        """t as a Bool; its `exists` Skolemised when this clause allows it."""
        return self.as_bool(self._skolemise(t))

    def _skolemise(self, t: Term) -> Term:
        if not any(x.op == "exists" for x in T.walk(t)):
            return t
        if not self.positive:
            raise Unsupported("a quantifier over a symbolic range remains in a step")

        def go(x: Term, pos: bool) -> Term:
            if x.op == "exists":
                if not pos:
                    raise Unsupported("a universal quantifier over a symbolic range "
                                      "(`all` over it, or a set comparison)")
                var, body = x.args
                v = T.bound(("sk", len(self.enc.fresh)))
                z = z3.Int(f"sk{len(self.enc.fresh)}")
                self.enc.fresh.append(z)
                self.skolem[id(v)] = z
                return go(T.substitute_leaves(body, {id(var): v}), pos)
            if x.op in ("and", "or"):
                return T.mk(x.op, *(go(y, pos) for y in x.args))
            if x.op == "not":
                return T.not_(go(x.args[0], not pos))
            if any(y.op == "exists" for y in T.walk(x)):
                raise Unsupported("a quantifier over a symbolic range inside an expression")
            return x
        return go(t, True)


class ParamEncoding:
    def __init__(self, ps: ParametricSystem):
        self.ps = ps
        ts = ps.ts
        self.ts = ts
        self.iv = _Intervals(ts)
        self.fresh: list = []
        self.P = {name: z3.Int(name) for name in ps.params}
        n = len(ts.slots)
        self.X = [z3.Int(f"x{j}") for j in range(n)]
        self.Y = [z3.Int(f"y{j}") for j in range(n)]
        self.cx = {k: (z3.Int(f"i{k}"), z3.Bool(f"vx{k}")) for k in ps.arrays}
        self.cy = {k: (self.cx[k][0], z3.Bool(f"vy{k}")) for k in ps.arrays}
        # Inv's arguments: scalar slots, params, cells
        self.scalar = [j for j in range(n) if j not in ps.arrays]
        self.bounds = [(-UNBOUNDED if s.lo is None else s.lo,
                        UNBOUNDED if s.hi is None else s.hi) for s in ts.slots]
        for j in ps.bounds:
            self.bounds[j] = (-UNBOUNDED, UNBOUNDED)
        self.lemmas: chc.Lemmas | None = None   # found once per system
        self.sample: learn.Sample | None = None  # reachable states of the spec at its values
        self.learned: learn.Learned | None = None

    def args(self, S: list, cells: dict) -> list:
        out = [S[j] for j in self.scalar] + list(self.P.values())
        for k in sorted(cells):
            out += list(cells[k])
        return out

    def clause(self, post: bool = False, positive: bool = False) -> _Clause:
        return _Clause(self, self.X, self.Y if post else None, self.cx, positive)

    def ranges(self, c: _Clause, S: list) -> list:
        """The slots of S (X or Y) within their bounds, symbolic ones included, and the
        assumes (the params never change, so every clause may rely on them)."""
        out = [c.formula(self.ps.assume)]
        for j in self.scalar:
            if j in self.ps.bounds:
                lo, hi = self.ps.bounds[j]
                out += [c.as_int(lo) <= S[j], S[j] <= c.as_int(hi)]
            else:
                lo, hi = self.bounds[j]
                out += [S[j] >= lo, S[j] <= hi]
        return out

    def reads_premises(self, inv, c: _Clause, S: list, cells: dict) -> list:
        """Inv at each index the clause read an array slot at, and their consistency."""
        out = []
        by_slot: dict[int, list] = {}
        for k, idx, w in c.reads.values():
            alt = dict(cells)
            alt[k] = (idx, w)
            out.append(inv(*self.args(S, alt)))
            i, v = cells[k]
            out.append(z3.Implies(idx == i, w == v))
            by_slot.setdefault(k, []).append((idx, w))
        for rs in by_slot.values():
            for n, (a, wa) in enumerate(rs):
                for b, wb in rs[n + 1:]:
                    out.append(z3.Implies(a == b, wa == wb))
        return out


Verdict = chc.Verdict


def _transition(enc: ParamEncoding, c: _Clause, t, drop: list) -> object:
    """t succeeds and the successor is its update (over X, Y and the cells)."""
    parts = []
    if t.pc is not None:
        parts.append(enc.X[t.pc[0]] == t.pc[1])
    for f in t.guard_failures:
        if _has_exists(f.cond):
            drop.append(f.message)   # over-approximation: see the module's text
            continue
        parts.append(z3.Not(c.formula(f.cond)))
    parts.append(c.formula(t.guard))
    for f in t.effect_failures:
        if _has_exists(f.cond):
            drop.append(f.message)
            continue
        parts.append(z3.Not(c.formula(f.cond)))
    for j in enc.scalar:
        u = t.updates.get(j)
        parts.append(enc.Y[j] == (enc.X[j] if u is None else c.as_int(u)))
    for k in enc.ps.arrays:
        u = t.updates.get(k)
        parts.append(enc.cy[k][1] == (enc.cx[k][1] if u is None else c.formula(u)))
    return z3.And(*parts)


def _has_exists(t: Term) -> bool:
    return any(x.op == "exists" for x in T.walk(t))


def bad_terms(ps: ParametricSystem, part) -> list[tuple[Term, object, bool]]:
    """The terms (with a pc condition, if any) whose truth is the part's bad event:
    [(term, pc or None, on a step)].  Effect failures come with their transition's
    enabledness; a step's term (a transition property's) reads the state before the step
    and after it."""
    ts = ps.ts
    what, arg = part
    out = []
    if what == "tp":
        p = ts.transition_properties[arg]
        fail = T.or_(*(f.cond for f in p.failures))
        out.append((T.and_(T.not_(fail), T.not_(p.term)), None, True))
    elif what == "tp_error":
        for p in ts.transition_properties:
            for f in p.failures:
                out.append((f.cond, None, True))
    elif what == "sp":
        p = ts.state_properties[arg]
        fail = T.or_(*(f.cond for f in p.failures))
        hit = T.not_(p.term) if p.kind == "invariant" else p.term
        out.append((T.and_(T.not_(fail), hit), None, False))
    elif what == "sp_error":
        for p in ts.state_properties:
            for f in p.failures:
                out.append((f.cond, None, False))
    elif what == "guard_error":
        for t in ts.transitions:
            for f in t.guard_failures:
                out.append((f.cond, t.pc, False))
    elif what == "effect":
        for t in ts.transitions:
            for j, f in enumerate(t.effect_failures):
                kind = f.kind if f.kind in ("assertion", "type") else "error"
                if kind != arg:
                    continue
                earlier = [g.cond for g in t.effect_failures[:j]]
                gfail = [g.cond for g in t.guard_failures]
                first = T.and_(f.cond, *(T.not_(x) for x in earlier + gfail))
                out.append((T.and_(t.guard, first), t.pc, False))
    elif what == "deadlock":
        en = []
        for t in ts.transitions:
            g = T.and_(t.guard, *(T.not_(f.cond) for f in t.guard_failures))
            en.append(T.and_(T.eq(ts.slot_term(t.pc[0]), T.const(t.pc[1])), g)
                      if t.pc is not None else g)
        term = T.not_(T.or_(*en))
        if ts.terminal is not None:
            term = T.and_(T.not_(ts.terminal), term)
        out.append((term, None, False))
    else:
        raise Unsupported(f"{what} properties")
    return out


def prove(enc: ParamEncoding, parts: list, name: str, timeout_ms: int | None,
          options: dict | None = None, deadline: float | None = None,
          given: list | None = None) -> Verdict:
    """PDR for one target (see `chc.solve`).  `timeout_ms` bounds this call's Spacer runs;
    the lemmas, found once for the whole system, may take until `deadline` (the whole
    check's).  `given`: the user's lemmas, as formulas over the state (proved together with
    the target: `parts` includes them)."""
    t0 = time.monotonic()
    try:
        bads = [b for p in parts for b in bad_terms(enc.ps, p)]
    except Unsupported as exc:
        return Verdict("unknown", reason=str(exc))
    if not bads:
        return Verdict("proved", z3.BoolVal(True), how="trivial")
    try:
        cl, init, steps = clauses(enc, bads, name)
    except Unsupported as exc:
        return Verdict("unknown", reason=str(exc), seconds=time.monotonic() - t0)
    if enc.lemmas is None:
        enc.lemmas = chc.Lemmas(lambda: _find_lemmas(enc, init, steps, deadline))
    opts = {"spacer.q3.use_qgen": True, **(options or {})}
    v = chc.solve(cl, timeout_ms, enc.lemmas, opts, cheap_lemmas=enc.sample is not None,
                  given=given)
    v.seconds = time.monotonic() - t0
    return v


def clauses(enc: ParamEncoding, bads: list, name: str):
    """The target's clauses, with the initial condition and each transition's step (for
    Houdini) beside them."""
    ps = enc.ps
    sorts = [a.sort() for a in enc.args(enc.X, enc.cx)]
    inv = z3.Function(f"Inv_{name}", *sorts, z3.BoolSort())
    rules = []
    dropped: list[str] = []
    # init
    c = enc.clause()
    init = z3.Or(*[z3.And(*[enc.X[j] == c.as_int(st[j]) for j in enc.scalar],
                          *[enc.cx[k][1] == c.formula(st[k]) for k in ps.arrays])
                   for st in ps.initial])
    rules.append((z3.And(c.formula(ps.assume), *enc.ranges(c, enc.X), init),
                  inv(*enc.args(enc.X, enc.cx))))
    # steps: one clause for the transitions that read no set at another index, one per
    # transition that does
    plain = []
    steps = []   # each transition on its own, for the lemmas (houdini)
    for t in ps.ts.transitions:
        c = enc.clause(post=True)
        tr = _transition(enc, c, t, dropped)
        steps.append(z3.And(*enc.ranges(c, enc.X), tr, *_ranges_y(enc, c)))
        if c.reads:
            body = [inv(*enc.args(enc.X, enc.cx)),
                    *enc.reads_premises(inv, c, enc.X, enc.cx), *enc.ranges(c, enc.X), tr]
            rules.append((z3.And(*body, *_ranges_y(enc, c)), inv(*enc.args(enc.Y, enc.cy))))
        else:
            plain.append((c, tr))
    if plain:
        c0 = plain[0][0]
        body = [inv(*enc.args(enc.X, enc.cx)), *enc.ranges(c0, enc.X),
                z3.Or(*[tr for _, tr in plain])]
        rules.append((z3.And(*body, *_ranges_y(enc, c0)), inv(*enc.args(enc.Y, enc.cy))))
    # queries
    queries = []
    for term, pc, on_step in bads:
        if on_step:
            queries += _step_queries(enc, inv, term, dropped)
            continue
        c = enc.clause(positive=True)
        f = c.formula(term)
        body = [inv(*enc.args(enc.X, enc.cx)), *enc.ranges(c, enc.X), f]
        if pc is not None:
            body.append(enc.X[pc[0]] == pc[1])
        body += enc.reads_premises(inv, c, enc.X, enc.cx)
        queries.append(z3.And(*body))
    allv = list(dict.fromkeys([*enc.X, *enc.Y, *enc.P.values(),
                               *[v for k in ps.arrays for v in (*enc.cx[k], enc.cy[k][1])],
                               *enc.fresh]))
    return (chc.Clauses(inv, enc.args(enc.X, enc.cx), rules, queries, allv),
            rules[0][0], steps)


def state_formulas(enc: ParamEncoding, indices: list[int]) -> list:
    """The state properties at `indices` as formulas over the state (their evaluation may
    fail: that counts as holding here, the `error` check covers it); those that read a set
    over a symbolic range at another index, or quantify over one, are left out."""
    out = []
    for k in indices:
        p = enc.ps.ts.state_properties[k]
        good = T.or_(*(f.cond for f in p.failures), p.term) if p.failures else p.term
        c = enc.clause()
        try:
            f = c.formula(good)
        except Unsupported:
            continue
        if not c.reads:
            out.append(f)
    return out


def confirm(enc: ParamEncoding, parts: list, name: str, inv, ms: int | None) -> str | None:
    """Whether `inv` (over the arguments of Inv) is an inductive invariant that excludes the
    parts' bad events: None when it is, else what fails."""
    try:
        bads = [b for p in parts for b in bad_terms(enc.ps, p)]
        if not bads:
            return None
        cl, _, _ = clauses(enc, bads, name)
    except Unsupported as exc:
        return str(exc)
    return cl.confirm(inv, ms)


def _find_lemmas(enc: ParamEncoding, init, steps: list, deadline: float | None):
    """The system's lemmas: candidates learned from the small instance when there is one
    (`learn`), else Houdini's own grammar; the inductive subset (None on a time-out)."""
    if enc.sample is not None:
        symbolic = set(enc.ps.bounds)
        cands = [c.formula(enc.X) for c in
                 learn.candidates(enc.ts, enc.sample, enc.scalar, symbolic)]
        t0 = time.monotonic()
        got = houdini.lemmas(enc, init, steps, deadline, cands)
        if got is not None:
            enc.learned = learn.Learned(got, enc.sample.states.shape[0],
                                        enc.sample.complete, len(cands),
                                        enc.sample.seconds + time.monotonic() - t0)
        return got
    return houdini.lemmas(enc, init, steps, deadline)


def _step_queries(enc: ParamEncoding, inv, term: Term, dropped: list) -> list:
    """One query per transition: a step of it from a state of Inv on which `term` (over the
    state before and after) holds."""
    out = []
    for t in enc.ps.ts.transitions:
        c = enc.clause(post=True)
        tr = _transition(enc, c, t, dropped)
        c.positive = True          # the bad term occurs positively: exists is Skolemised
        f = c.formula(term)
        out.append(z3.And(inv(*enc.args(enc.X, enc.cx)), *enc.ranges(c, enc.X), tr,
                          *_ranges_y(enc, c), f, *enc.reads_premises(inv, c, enc.X, enc.cx)))
    return out


def _ranges_y(enc: ParamEncoding, c: _Clause) -> list:
    return enc.ranges(c, enc.Y)
