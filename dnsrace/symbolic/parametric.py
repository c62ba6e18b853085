"""PDR (Spacer) on the parametric IR: proofs for every value of the symbolic constants.

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
from dataclasses import dataclass

import z3

from ..ir import terms as T
from ..ir.parametric import ParametricSystem
from ..ir.terms import Term
from .encode import Intervals, Translator
from . import houdini
from .pdr import _interp, first_failing

UNBOUNDED = 1 << 62
FIRST_TRY_MS = 5000   # Spacer alone first, this long at most


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

    def __init__(self, enc: "ParamEncoding", cur: list, post: list | None, cells: dict,
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
        self.lemmas: list | None = None   # found once per system (houdini)
        self.lemmas_helped = False         # Spacer alone failed where they decided

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


@dataclass
class Verdict:
    status: str            # proved | reachable | unknown
    invariant: object = None
    reason: str | None = None
    seconds: float = 0.0


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
          options: dict | None = None, deadline: float | None = None) -> Verdict:
    """PDR for one target.  `timeout_ms` bounds this call's Spacer runs; the lemmas, found
    once for the whole system, may take until `deadline` (the whole check's)."""
    t0 = time.monotonic()
    try:
        bads = [b for p in parts for b in bad_terms(enc.ps, p)]
    except Unsupported as exc:
        return Verdict("unknown", reason=str(exc))
    if not bads:
        return Verdict("proved", z3.BoolVal(True))
    ps = enc.ps
    sorts = [a.sort() for a in enc.args(enc.X, enc.cx)]
    inv = z3.Function(f"Inv_{name}", *sorts, z3.BoolSort())
    rules = []
    dropped: list[str] = []
    try:
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
    except Unsupported as exc:
        return Verdict("unknown", reason=str(exc), seconds=time.monotonic() - t0)
    allv = list(dict.fromkeys([*enc.X, *enc.Y, *enc.P.values(),
                               *[v for k in ps.arrays for v in (*enc.cx[k], enc.cy[k][1])],
                               *enc.fresh]))

    def spacer(lemmas: list, ms: int | None):
        """Spacer on the clauses, with the lemmas assumed in every body but the initial."""
        s = z3.SolverFor("HORN")
        s.set("engine", "spacer")
        s.set("spacer.q3.use_qgen", True)
        for k, v in (options or {}).items():
            s.set(k, v)
        if ms is not None:
            s.set("timeout", max(1, ms))
        helped = z3.And(*lemmas)
        for n, (body, head) in enumerate(rules):
            s.add(z3.ForAll(allv, z3.Implies(body if n == 0 else z3.And(body, helped), head)))
        for q in queries:
            s.add(z3.ForAll(allv, z3.Implies(z3.And(q, helped), z3.BoolVal(False))))
        return s, s.check()

    def left() -> int | None:
        return None if timeout_ms is None else \
            max(1, int(timeout_ms - (time.monotonic() - t0) * 1000))

    # First Spacer alone, briefly; then, if it did not decide, with the lemmas Houdini finds
    # (see `houdini`), for the time left.
    first = FIRST_TRY_MS if timeout_ms is None else min(FIRST_TRY_MS, timeout_ms // 4)
    lemmas: list = []
    if enc.lemmas_helped:   # an earlier property needed them: no time on Spacer alone
        s, r = None, z3.unknown
    else:
        s, r = spacer(lemmas, first)
    rest = left()
    if r == z3.unknown and (rest is None or rest > 1):
        if enc.lemmas is None:   # found once per system; a time-out leaves it to retry
            enc.lemmas = houdini.lemmas(enc, rules[0][0], steps, deadline)
        lemmas = enc.lemmas or []
        if enc.lemmas is not None:
            s, r = spacer(lemmas, left())
            enc.lemmas_helped = enc.lemmas_helped or r != z3.unknown
    if s is None:
        return Verdict("unknown", reason="timeout", seconds=time.monotonic() - t0)
    dt = time.monotonic() - t0
    if r == z3.unsat:
        return Verdict("reachable", seconds=dt)
    if r == z3.sat:
        # Spacer's invariant may assume the lemmas: with those it needs, it is inductive for
        # the clauses without them, which is what the plain solver checks
        part = _interp(s.model(), inv, enc.args(enc.X, enc.cx))
        needed = _needed(enc, inv, part, lemmas, rules, queries, timeout_ms)
        body = z3.And(*needed, part)
        problem = _confirm(enc, inv, body, rules, queries, timeout_ms)
        if problem is not None:
            return Verdict("unknown", reason=f"Spacer's invariant does not check: {problem}",
                           seconds=time.monotonic() - t0)
        return Verdict("proved", body, seconds=time.monotonic() - t0)
    return Verdict("unknown", reason=str(s.reason_unknown()).splitlines()[0][:120],
                   seconds=dt)


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


def _apply(inv, args, body, e):
    """e with each application Inv(a...) replaced by body[args := a]."""
    apps = []

    def collect(x):
        if z3.is_app(x) and x.decl().eq(inv):
            apps.append(x)
            return
        for ch in (x.children() if z3.is_app(x) else []):
            collect(ch)
    collect(e)
    subs = [(app, z3.substitute(body, *zip(args, app.children()))) for app in
            dict.fromkeys(apps)]
    return z3.substitute(e, *subs) if subs else e


def _confirm(enc, inv, body, rules, queries, timeout_ms) -> str | None:
    """Every clause holds with Inv := the invariant, by a plain solver: no Spacer trust."""
    args = enc.args(enc.X, enc.cx)
    checks = [("a clause", z3.And(_apply(inv, args, body, b),
                                  z3.Not(_apply(inv, args, body, h)))) for b, h in rules]
    checks += [("a bad state", _apply(inv, args, body, q)) for q in queries]
    return first_failing(checks, timeout_ms)


def _needed(enc, inv, part, lemmas: list, rules, queries, timeout_ms) -> list:
    """The lemmas Spacer's invariant `part` needs: grown from the unsat cores of its steps
    and queries until the chosen lemmas carry themselves (all of them when a check fails)."""
    if not lemmas:
        return []
    args = enc.args(enc.X, enc.cx)
    track = [z3.Bool(f"lemma{i}") for i in range(len(lemmas))]
    at_x = z3.And(part, *[z3.Implies(p, lem) for p, lem in zip(track, lemmas)])
    index = {str(p): i for i, p in enumerate(track)}
    need: set[int] = set()
    while True:
        head = z3.And(part, *[lemmas[i] for i in sorted(need)])
        new: set[int] = set()
        for b, h in [*rules[1:], *[(q, None) for q in queries]]:
            sv = z3.Solver()
            sv.set("core.minimize", True)
            if timeout_ms is not None:
                sv.set("timeout", max(1000, timeout_ms))
            sv.add(_apply(inv, args, at_x, b))
            if h is not None:
                sv.add(z3.Not(_apply(inv, args, head, h)))
            if sv.check(*track) != z3.unsat:
                return lemmas
            new |= {index[str(p)] for p in sv.unsat_core()}
        if new <= need:
            return [lemmas[i] for i in sorted(need)]
        need |= new
