"""Lower a typed model to the transition IR.

Each transition (per process instance or action, per parameter binding) is run
symbolically: the effect's statements update a map slot -> term, `if` merges both branches
with `ite`, `for` is unrolled, and every way evaluation can fail becomes a `Failure` guarded
by the path condition that reaches it (so short-circuiting is kept exactly).  Defines are
expanded in place, their arguments lowered where the body uses them (substitution).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace

from ..bounds import (MAX_EXPANDED_DEPTH, MAX_LOWERING_WORK, MAX_SET_SPAN, MAX_SET_WIDTH,
                      MAX_UNROLLED,
                      NO_DEADLINE, Deadline)
from ..diagnostics import Diagnostic, Pos, SpecError
from ..frontend import syntax as S
from ..frontend.model import Model, Process, Ref
from ..frontend.build import check_initial_count, check_transition_count
from ..frontend.types import ArrayT, BoolT, IntT, SetT, Sym, SymT, Type
from ..frontend.unparse import unparse
from . import terms as T
from .layout import ArrayRep, Field, Layout, Rep, ScalarRep, SymbolTable, set_universe
from .scalarsets import scalarsets_of
from .system import (FairnessUnit, Failure, Read, StateProperty, TemporalProperty, Transition,
                     TransitionProperty, TransitionSystem)
from .terms import Term
from .values import ArrV, Scalar, SeqV, SetTooWide, Value, as_seq, equal, merge, pad, set_align, \
    set_rebase, set_within, \
    zero_like

UNBOUNDED_LIMIT = 1 << 62  # the explicit engines keep unbounded ints within +-2^62


@dataclass
class _Lazy:
    """A define argument: lowered where (and each time) the body uses it."""

    expr: S.Expr
    env: "Env"


@dataclass
class Env:
    state: dict[int, Term]
    names: dict[str, object] = field(default_factory=dict)
    process: Process | None = None
    instance: int | None = None
    post: dict[int, Term] | None = None  # the successor's slots, for primes


class Lowerer:
    def __init__(self, model: Model, deadline: Deadline = NO_DEADLINE):
        self.model = model
        self.deadline = deadline
        self.work = 0    # expressions lowered so far (the budget: MAX_LOWERING_WORK)
        self.unrolled = 1    # iterations of the `for` loops around the statement lowered now
        self.where: Pos | None = None   # the expression lowered last (for DR503's position)
        self.depth = 0   # expressions being lowered, one inside the other
        self.symbols = SymbolTable(model.symbols)
        self.layout = Layout(self.symbols)
        self.vars: dict[str, Field] = {}
        self.pcs: dict[str, Field] = {}
        self.locals: dict[tuple[str, str], Field] = {}
        for v in model.variables:
            self.vars[v.name] = self.layout.add_field(v.name, v.type, None)
        for p in model.processes:
            pc_type = SymT(tuple(p.pc_values))
            self.pcs[p.name] = self.layout.add_field(f"{p.name}.pc", pc_type, p.count)
            for loc in p.locals:
                self.locals[(p.name, loc.name)] = self.layout.add_field(
                    f"{p.name}.{loc.name}", loc.type, p.count)
        self.failures: list[Failure] = []

    # ------------------------------------------------------------ small helpers
    def current(self) -> dict[int, Term]:
        return {s.index: T.slot(s.index, s.lo, s.hi) for s in self.layout.slots}

    def posts(self) -> dict[int, Term]:
        return {s.index: T.post(s.index, s.lo, s.hi) for s in self.layout.slots}

    def fail(self, path: Term, bad: Term, kind: str, message: str, pos: Pos | None,
             why=None) -> None:
        """A failure where path and bad hold; `why()` gives the failing expression, as the
        spec writes it, and what it reads (`reads`), to explain the failure."""
        cond = T.and_(path, bad)
        if cond is not T.FALSE:
            expr, reads = why() if why is not None else (None, [])
            self.failures.append(Failure(cond, kind, message, pos, expr, reads))

    def reads(self, shown: list[tuple[str, Value]], exprs: list[S.Expr], env: Env,
              path: Term) -> list[Read]:
        """What a failing expression reads, for its explanation: the `shown` values, then
        the variables, locals and bound names inside `exprs` (at this point of the effect)."""
        out: list[Read] = []
        seen: set[str] = set()
        for label, v in shown:
            if label not in seen and not _literal(label):
                seen.add(label)
                out += _reads_of(label, v)
        saved, work = self.failures, self.work   # explaining is not the spec's lowering work
        self.failures = []
        try:
            for e in exprs:
                for node in S.walk(e):
                    if isinstance(node, S.Name) and isinstance(node.ref, Ref) and \
                            node.id not in seen and (node.ref.kind in ("var", "local") or (
                                node.ref.kind in ("param", "bound") and
                                node.id in env.names)):
                        seen.add(node.id)
                        out += _reads_of(node.id, self.expr(node, env, path))
        finally:
            self.failures, self.work = saved, work
        return out

    def limit(self, pos: Pos, message: str, hint: str | None = None):
        raise SpecError([Diagnostic("DR501", message, self.model.path, pos, hint or
                                    "give the values a bounded type (LO..HI), or narrow "
                                    "the expression")])

    def sym(self, name: str) -> Term:
        return T.const(self.symbols.id(name))

    def read(self, rep: Rep, state: dict[int, Term]) -> Value:
        if isinstance(rep, ScalarRep):
            return self.scalar_of_type(state[rep.slot], rep.type)
        if isinstance(rep, ArrayRep):
            keykind = "sym" if isinstance(rep.type.key, SymT) else "int"
            keys = tuple(self.symbols.id(k) for k in rep.type.keys) if keykind == "sym" \
                else rep.type.keys
            return ArrV(keys, keykind, [self.read(r, state) for r in rep.elems])
        return SeqV(state[rep.len_slot], [self.read(r, state) for r in rep.elems])

    def scalar_of_type(self, t: Term, ty: Type) -> Scalar:
        if isinstance(ty, BoolT):
            return Scalar(t, "bool")
        if isinstance(ty, IntT):
            return Scalar(t, "int")
        if isinstance(ty, SymT):
            return Scalar(t, "sym")
        kind, base, width = set_universe(ty.elem, self.symbols)
        return Scalar(t, "set", kind, base, width)

    def const_value(self, v, ty: Type | None = None) -> Value:
        """A Python value (from consteval or a parameter domain) as a constant Value."""
        if isinstance(v, bool):
            return Scalar(T.const(int(v)), "bool")
        if isinstance(v, Sym):
            return Scalar(self.sym(v), "sym")
        if isinstance(v, int):
            return Scalar(T.const(v), "int")
        if isinstance(v, frozenset):
            return self.const_set(v)
        if isinstance(v, tuple):
            vals = [self.const_value(x) for x in v]
            return SeqV(T.const(len(vals)), vals)
        raise AssertionError(v)

    def const_set(self, v: frozenset) -> Scalar:
        if not v:
            return Scalar(T.ZERO, "set", None, 0, 0)
        x = next(iter(v))
        if isinstance(x, bool):
            return Scalar(T.const(sum(1 << int(b) for b in v)), "set", "bool", 0, 2)
        if isinstance(x, Sym):
            return Scalar(T.const(sum(1 << self.symbols.id(s) for s in v)), "set", "sym", 0,
                          len(self.symbols))
        lo, hi = min(v), max(v)
        return Scalar(T.const(sum(1 << (i - lo) for i in v)), "set", "int", lo, hi - lo + 1)

    # ------------------------------------------------------------ expressions
    def expr(self, e: S.Expr, env: Env, path: Term) -> Value:
        """Lower e, within the budget: MAX_EXPANDED_DEPTH nesting (defines expanded in
        place), MAX_LOWERING_WORK expressions in all, and the deadline."""
        self.work += 1
        self.where = e.pos
        if not self.work & 1023:
            self.check_budget(e.pos)
        if self.depth >= MAX_EXPANDED_DEPTH:
            raise SpecError([Diagnostic(
                "DR504", f"expressions are nested more than {MAX_EXPANDED_DEPTH} deep here once "
                "the defines are expanded in place", self.model.path, e.pos,
                "flatten the defines: a define that uses a define that uses a define ... "
                "nests each body inside the one before")])
        self.depth += 1
        try:
            return self._lower(e, env, path)
        except SetTooWide as exc:
            self.too_wide(exc, e.pos)
        finally:
            self.depth -= 1

    def too_wide(self, exc: SetTooWide, pos: Pos | None):
        self.limit(pos, f"the sets here would need one universe of {exc.hi - exc.lo + 1:,} "
                   f"values ({exc.lo}..{exc.hi}), more than the {MAX_SET_SPAN:,} dnsrace "
                   "holds", "keep the elements of sets that meet within a narrower range")

    def check_budget(self, pos: Pos | None) -> None:
        """Stop when lowering has done more work than MAX_LOWERING_WORK, or the time limit
        has run out (CompileTimeout)."""
        if self.work > MAX_LOWERING_WORK:
            raise SpecError([Diagnostic(
                "DR503", f"lowering this spec takes more than {MAX_LOWERING_WORK:,} steps "
                "(this is where it stopped)", self.model.path, pos,
                "a define used twice in a define used twice ... doubles at each level, and "
                "nested loops multiply: name a shared value with a variable, or make the "
                "domains smaller")])
        self.deadline.check()

    def _lower(self, e: S.Expr, env: Env, path: Term) -> Value:
        match e:
            case S.Num(value=v):
                return Scalar(T.const(v), "int")
            case S.BoolLit(value=v):
                return Scalar(T.const(int(v)), "bool")
            case S.Name():
                return self.name(e, env, path)
            case S.Attr(ref=ref):
                return self.process_field(ref, env)
            case S.Index(obj=o, index=i):
                ov, iv = self.expr(o, env, path), self.expr(i, env, path)
                return self.index(ov, iv, path, e.pos, lambda: (
                    unparse(e), self.reads([(unparse(i), iv), (unparse(o), ov)], [i], env,
                                           path)))
            case S.Prime(expr=x):
                return self.expr(x, replace(env, state=env.post), path)
            case S.Call():
                return self.call(e, env, path)
            case S.Comprehension():
                return self.comprehension(e, env, path)
            case S.SetLit(elems=es):
                acc = Scalar(T.ZERO, "set", None, 0, 0)
                for x in es:
                    acc = self.set_union(acc, self.singleton(self.expr(x, env, path), x.pos))
                return acc
            case S.SeqLit(elems=es):
                vals = [self.expr(x, env, path) for x in es]
                return SeqV(T.const(len(vals)), vals)
            case S.Unary(op="-", operand=o):
                return Scalar(T.mk("neg", self.expr(o, env, path).t), "int")
            case S.Unary(op="not", operand=o):
                return Scalar(T.not_(self.expr(o, env, path).t), "bool")
            case S.BoolOp(op=op, left=l, right=r):
                a = self.expr(l, env, path).t
                if op == "and":
                    b = self.expr(r, env, T.and_(path, a)).t
                    return Scalar(T.and_(a, b), "bool")
                if op == "or":
                    b = self.expr(r, env, T.and_(path, T.not_(a))).t
                    return Scalar(T.or_(a, b), "bool")
                b = self.expr(r, env, T.and_(path, a)).t
                return Scalar(T.or_(T.not_(a), b), "bool")
            case S.IfExp(cond=c, then=t, orelse=o):
                ct = self.expr(c, env, path).t
                a = self.expr(t, env, T.and_(path, ct))
                b = self.expr(o, env, T.and_(path, T.not_(ct)))
                return merge(ct, a, b)
            case S.BinOp():
                return self.binop(e, env, path)
            case S.Compare():
                return self.compare(e, env, path)
        raise AssertionError(f"cannot lower {e!r}")

    def process_field(self, ref: Ref, env: Env) -> Value:
        """`P.pc` or `P.x`: an array by instance."""
        fld = self.pcs[ref.process] if ref.kind == "procpc" else \
            self.locals[(ref.process, ref.name)]
        return ArrV(tuple(range(len(fld.reps))), "int",
                    [self.read(r, env.state) for r in fld.reps])

    def name(self, e: S.Name, env: Env, path: Term) -> Value:
        ref: Ref = e.ref
        match ref.kind:
            case "const":
                return Scalar(T.const(ref.value), "int")
            case "bool":
                return Scalar(T.const(int(ref.value)), "bool")
            case "sym":
                return Scalar(self.sym(ref.name), "sym")
            case "enumset":
                return Scalar(T.const(sum(1 << self.symbols.id(s) for s in ref.value)), "set",
                              "sym", 0, len(self.symbols))
            case "scalarset":   # the set of every identity
                return Scalar(T.const((1 << ref.value) - 1), "set", "int", 0, ref.value)
            case "var":
                return self.read(self.vars[ref.name].reps[0], env.state)
            case "local":
                return self.read(self.locals[(ref.process, ref.name)].reps[env.instance],
                                 env.state)
            case "self":
                return Scalar(T.const(env.instance), "int")
            case "pc":
                return self.read(self.pcs[ref.process].reps[env.instance], env.state)
            case "procpc" | "proclocal":   # `P.x` as an action's write names it
                return self.process_field(ref, env)
            case "param" | "bound" | "defarg":
                v = env.names[ref.name]
                if isinstance(v, _Lazy):
                    # substitution: the argument reads the state the body reads
                    return self.expr(v.expr, replace(v.env, state=env.state, post=env.post), path)
                return v
            case "define":
                d = self.model.defines[ref.name]
                return self.expr(d.body, Env(env.state, {}, None, None, env.post), path)
        raise AssertionError(ref)

    def index(self, obj: Value, i: Value, path: Term, pos: Pos, why=None) -> Value:
        if isinstance(obj, ArrV):
            conds = [T.eq(i.t, T.const(k)) for k in obj.keys]
            if i.t.is_const:
                for k, x in zip(obj.keys, obj.elems):
                    if k == i.t.value:
                        return x
            self.fail(path, T.not_(T.or_(*conds)), "error",
                      "array index out of range", pos, why)
            if obj.keykind == "int" and obj.keys == tuple(range(obj.keys[0], obj.keys[0]
                                                                 + len(obj.keys))):
                idx = T.mk("sub", i.t, T.const(obj.keys[0]))
                return self.select(idx, obj.elems)
            acc = zero_like(obj.elems[0])
            for c, x in reversed(list(zip(conds, obj.elems))):
                acc = merge(c, x, acc)
            return acc
        seq = as_seq(obj)
        ok = T.and_(T.mk("le", T.ZERO, i.t), T.mk("lt", i.t, seq.length))
        self.fail(path, T.not_(ok), "error", "sequence index out of range", pos, why)
        if not seq.elems:
            return Scalar(T.ZERO, "int")
        return self.select(i.t, seq.elems)

    def select(self, idx: Term, elems: list[Value]) -> Value:
        first = elems[0]
        if isinstance(first, Scalar):
            if first.kind == "set":
                aligned = elems
                for x in elems[1:]:
                    first, _ = set_align(first, x)
                aligned = [set_align(first, x)[1] for x in elems]
                first = aligned[0]
                elems = aligned
            return Scalar(T.mk("select", idx, *(x.t for x in elems)), first.kind, first.ekind,
                          first.base, first.width)
        if isinstance(first, ArrV):
            return ArrV(first.keys, first.keykind,
                        [self.select(idx, [x.elems[k] for x in elems])
                         for k in range(len(first.elems))])
        n = max(len(x.elems) for x in elems)
        seqs = [SeqV(x.length, pad(x.elems, n, max(elems, key=lambda y: len(y.elems)).elems))
                for x in elems]
        return SeqV(T.mk("select", idx, *(x.length for x in seqs)),
                    [self.select(idx, [x.elems[k] for x in seqs]) for k in range(n)] if n else [])

    # ------------------------------------------------------------ sets
    def singleton(self, v: Value, pos: Pos) -> Scalar:
        if not isinstance(v, Scalar) or v.kind == "set":
            self.limit(pos, "sets hold integers, booleans or symbols only",
                       "for a set of collections, use an array of booleans or of sets")
        if v.kind == "bool":
            return Scalar(T.mk("setbit", v.t), "set", "bool", 0, 2)
        if v.kind == "sym":
            return Scalar(T.mk("setbit", v.t), "set", "sym", 0, len(self.symbols))
        lo, hi = v.t.lo, v.t.hi
        if lo is None or hi is None:
            self.limit(pos, "this set element's values are not bounded, so the set cannot be "
                       "stored as a bitmask")
        if hi - lo + 1 > MAX_SET_WIDTH:
            self.limit(pos, f"this set element's values range over {lo}..{hi}, "
                       f"{hi - lo + 1:,} values, more than the {MAX_SET_WIDTH} a set can hold",
                       f"narrow the expression so that its values span at most "
                       f"{MAX_SET_WIDTH} (the range follows from the types of what it reads)")
        return Scalar(T.mk("setbit", T.mk("sub", v.t, T.const(lo))), "set", "int", lo,
                      hi - lo + 1)

    def set_union(self, a: Scalar, b: Scalar) -> Scalar:
        a, b = set_align(a, b)
        return Scalar(T.mk("bor", a.t, b.t), "set", a.ekind, a.base, a.width)

    def member(self, x: Value, coll: Value) -> Term:
        if isinstance(coll, Scalar):
            if coll.ekind is None or coll.width == 0:
                return T.FALSE
            return T.mk("bit", coll.t, T.mk("sub", x.t, T.const(coll.base)))
        if isinstance(coll, ArrV):
            return T.or_(*(equal(x, y) for y in coll.elems))
        return T.or_(*(T.and_(T.mk("lt", T.const(k), coll.length), equal(x, y))
                       for k, y in enumerate(coll.elems)))

    def range_set(self, lo: Term, hi: Term, pos: Pos) -> Scalar:
        if lo.is_const and hi.is_const:
            if hi.value < lo.value:
                return Scalar(T.ZERO, "set", None, 0, 0)
            w = hi.value - lo.value + 1
            if w > MAX_SET_WIDTH:
                self.limit(pos, f"the range has {w:,} values, more than the {MAX_SET_WIDTH} "
                           "a set can hold", f"make the range at most {MAX_SET_WIDTH} values "
                           "wide")
            return Scalar(T.const((1 << w) - 1), "set", "int", lo.value, w)
        if None in (lo.lo, hi.hi):
            self.limit(pos, "the ends of this range are not bounded")
        base, top = lo.lo, hi.hi
        if top < base:
            return Scalar(T.ZERO, "set", None, 0, 0)
        mask = T.ZERO
        for k in range(base, top + 1):
            inside = T.and_(T.mk("le", lo, T.const(k)), T.mk("le", T.const(k), hi))
            mask = T.mk("bor", mask, T.ite(inside, T.const(1 << (k - base)), T.ZERO))
        return Scalar(mask, "set", "int", base, top - base + 1)

    def items(self, dom: Value) -> list[tuple[Term, Value]]:
        """What a comprehension or `for` ranges over: (is-an-element, value) in order."""
        if isinstance(dom, Scalar):
            if dom.ekind is None or dom.width == 0:
                return []
            out = []
            for k in range(dom.width):
                inside = T.mk("bit", dom.t, T.const(k))
                if inside is T.FALSE:
                    continue
                if dom.ekind == "bool":
                    val = Scalar(T.const(k), "bool")
                elif dom.ekind == "sym":
                    val = Scalar(T.const(k), "sym")
                else:
                    val = Scalar(T.const(dom.base + k), "int")
                out.append((inside, val))
            return out
        if isinstance(dom, ArrV):
            return [(T.TRUE, x) for x in dom.elems]
        return [(T.mk("lt", T.const(k), dom.length), x) for k, x in enumerate(dom.elems)]

    # ------------------------------------------------------------ operators
    def binop(self, e: S.BinOp, env: Env, path: Term) -> Value:
        a = self.expr(e.left, env, path)
        b = self.expr(e.right, env, path)
        op = e.op
        if op == "..":
            return self.range_set(a.t, b.t, e.pos)
        if isinstance(a, Scalar) and a.kind == "set":
            a, b = set_within(a, b) if op in ("&", "-") else set_align(a, b)
            term = {"|": "bor", "&": "band", "-": "bdiff"}[op]
            return Scalar(T.mk(term, a.t, b.t), "set", a.ekind, a.base, a.width)
        if op in ("//", "%"):
            self.fail(path, T.eq(b.t, T.ZERO), "error", "division by zero", e.pos, lambda: (
                unparse(e), self.reads([(unparse(e.right), b), (unparse(e.left), a)],
                                       [e.left, e.right], env, path)))
        name = {"+": "add", "-": "sub", "*": "mul", "//": "div", "%": "mod"}[op]
        return Scalar(T.mk(name, a.t, b.t), "int")

    def compare(self, e: S.Compare, env: Env, path: Term) -> Value:
        vals = [self.expr(x, env, path) for x in e.operands]
        parts = []
        for a, op, b in zip(vals, e.ops, vals[1:]):
            if op in ("in", "not in"):
                t = self.member(a, b)
                parts.append(t if op == "in" else T.not_(t))
            elif op in ("==", "!="):
                t = equal(a, b)
                parts.append(t if op == "==" else T.not_(t))
            elif isinstance(a, Scalar) and a.kind == "set":
                x, y = set_align(a, b)
                sub = T.eq(T.mk("bdiff", x.t, y.t), T.ZERO)
                sup = T.eq(T.mk("bdiff", y.t, x.t), T.ZERO)
                parts.append({"<=": sub, ">=": sup, "<": T.and_(sub, T.mk("ne", x.t, y.t)),
                              ">": T.and_(sup, T.mk("ne", x.t, y.t))}[op])
            else:
                parts.append({"<": T.mk("lt", a.t, b.t), "<=": T.mk("le", a.t, b.t),
                              ">": T.mk("lt", b.t, a.t), ">=": T.mk("le", b.t, a.t)}[op])
        return Scalar(T.and_(*parts), "bool")

    def call(self, e: S.Call, env: Env, path: Term) -> Value:
        if e.define is not None:
            d = self.model.defines[e.define]
            args = {p: _Lazy(a, env) for p, a in zip(d.params, e.args)}
            return self.expr(d.body, Env(env.state, args, None, None, env.post), path)
        f = e.func
        vals = [self.expr(a, env, path) for a in e.args]
        v0 = vals[0]
        if f == "len":
            if isinstance(v0, Scalar):
                return Scalar(T.mk("popcount", v0.t), "int")
            if isinstance(v0, ArrV):
                return Scalar(T.const(len(v0.elems)), "int")
            return Scalar(v0.length, "int")
        if f == "abs":
            return Scalar(T.mk("abs", v0.t), "int")
        if f in ("min", "max"):
            if len(vals) == 2:
                return Scalar(T.mk(f, v0.t, vals[1].t), "int")
            self.fail(path, T.eq(v0.t, T.ZERO), "error", f"{f} of an empty set", e.pos)
            bit = T.mk("lowbit" if f == "min" else "highbit", v0.t)
            return Scalar(T.mk("add", bit, T.const(v0.base)), "int")
        seq = as_seq(v0)
        empty = T.eq(seq.length, T.ZERO)

        def why():
            return unparse(e), self.reads([(unparse(e.args[0]), v0)], e.args, env, path)
        if f == "head":
            self.fail(path, empty, "error", "head of an empty sequence", e.pos, why)
            return seq.elems[0] if seq.elems else Scalar(T.ZERO, "int")
        if f == "tail":
            self.fail(path, empty, "error", "tail of an empty sequence", e.pos, why)
            if not seq.elems:
                return SeqV(T.ZERO, [])
            n = T.ite(empty, T.ZERO, T.mk("sub", seq.length, T.const(1)))
            return SeqV(n, seq.elems[1:] + [zero_like(seq.elems[-1])])
        # append
        x = vals[1]
        k_eq = [T.eq(seq.length, T.const(k)) for k in range(len(seq.elems) + 1)]
        elems = [merge(k_eq[k], x, y) for k, y in enumerate(seq.elems)]
        elems.append(merge(k_eq[-1], x, zero_like(x)))
        return SeqV(T.mk("add", seq.length, T.const(1)), elems)

    def candidates(self, e: S.Comprehension, env: Env, path: Term, extra=lambda: T.TRUE):
        """The comprehension's candidate elements in order: (selected, env binding the
        clause variables).  A domain or filter is evaluated only where the clauses before
        it selected the element and `extra()` (e.g. "still undecided") holds."""
        def go(i: int, env_i: Env, taken: Term):
            if i == len(e.clauses):
                yield taken, env_i
                return
            c = e.clauses[i]
            dom = self.expr(c.domain, env_i, T.and_(path, extra(), taken))
            for inside, val in self.items(dom):
                env_j = replace(env_i, names={**env_i.names, c.var: val})
                sel = T.and_(taken, inside)
                if c.cond is not None:
                    sel = T.and_(sel, self.expr(c.cond, env_j, T.and_(path, extra(), sel)).t)
                yield from go(i + 1, env_j, sel)

        return go(0, env, T.TRUE)

    def comprehension(self, e: S.Comprehension, env: Env, path: Term) -> Value:
        kind = e.kind
        if kind in ("all", "any"):
            return Scalar(self._quantify(e, env, path), "bool")
        cands = [(sel, self.expr(e.elem, env_j, T.and_(path, sel)))
                 for sel, env_j in self.candidates(e, env, path)]
        if kind == "set":
            acc = Scalar(T.ZERO, "set", None, 0, 0)
            for sel, v in cands:
                one = self.singleton(v, e.elem.pos)
                acc = self.set_union(acc, Scalar(T.ite(sel, one.t, T.ZERO), "set", one.ekind,
                                                 one.base, one.width))
            return acc
        if kind == "seq":
            if all(sel is T.TRUE for sel, _ in cands):
                return SeqV(T.const(len(cands)), [v for _, v in cands])
            counts = [T.ZERO]
            for sel, _ in cands:
                counts.append(T.mk("add", counts[-1], T.ite(sel, T.const(1), T.ZERO)))
            elems = []
            for k in range(len(cands)):
                acc = zero_like(cands[0][1])
                for j in range(len(cands) - 1, k - 1, -1):
                    sel, v = cands[j]
                    acc = merge(T.and_(sel, T.eq(counts[j], T.const(k))), v, acc)
                elems.append(acc)
            return SeqV(counts[-1], elems)
        # min / max over a generator
        seen, cur = T.FALSE, T.ZERO
        for sel, v in cands:
            better = T.mk(kind, cur, v.t)
            cur = T.ite(sel, T.ite(seen, better, v.t), cur)
            seen = T.or_(seen, sel)
        self.fail(path, T.not_(seen), "error", f"{kind} of an empty collection", e.pos)
        return Scalar(cur, "int")

    def _quantify(self, e: S.Comprehension, env: Env, path: Term) -> Term:
        """all/any, evaluating each candidate only while the result is undecided."""
        is_all = e.kind == "all"
        acc = T.TRUE if is_all else T.FALSE

        def undecided() -> Term:
            return acc if is_all else T.not_(acc)

        for sel, env_j in self.candidates(e, env, path, undecided):
            c = self.expr(e.elem, env_j, T.and_(path, undecided(), sel)).t
            acc = T.and_(acc, T.or_(T.not_(sel), c)) if is_all else T.or_(acc, T.and_(sel, c))
        return acc

    # ------------------------------------------------------------ effects
    def block(self, stmts: list[S.Stmt], env: Env, path: Term) -> None:
        for s in stmts:
            self.stmt(s, env, path)

    def stmt(self, s: S.Stmt, env: Env, path: Term) -> None:
        match s:
            case S.Assign():
                self.assign(s, env, path)
            case S.If(branches=bs, orelse=o):
                self.if_chain(bs, o, env, path)
            case S.For(var=v, domain=d, body=b):
                dom = self.expr(d, env, path)
                items = list(self.items(dom))
                outer = self.unrolled
                self.unrolled = outer * max(len(items), 1)
                if self.unrolled > MAX_UNROLLED:
                    raise SpecError([Diagnostic(
                        "DR503", f"the loops nested here unroll to {self.unrolled:,} "
                        f"iterations, more than the {MAX_UNROLLED:,} dnsrace lowers",
                        self.model.path, s.pos, "loops are unrolled before checking: make "
                        "their domains smaller, or nest fewer of them")])
                try:
                    self._for_body(v, items, b, env, path)
                finally:
                    self.unrolled = outer
            case S.Assert(cond=c, message=m):
                ct = self.expr(c, env, path).t
                msg = m if m is not None else "assertion failed: " + \
                    (self.model.source.line(c.pos.line) or "").strip()
                self.fail(path, T.not_(ct), "assertion", msg, s.pos, lambda: (
                    unparse(c), self.reads([], [c], env, path)))
            case S.Pass():
                pass

    def _for_body(self, v: str, items, body, env: Env, path: Term) -> None:
        """A `for` loop, unrolled: the body once per element of the domain, in order."""
        for inside, val in items:
            names = dict(env.names)
            names[v] = val
            if inside is T.TRUE:
                inner = replace(env, names=names)
                self.block(body, inner, path)
                env.state = inner.state
            else:
                self.conditional(inside, body, [], replace(env, names=names), path, env)

    def if_chain(self, branches, orelse, env: Env, path: Term) -> None:
        (c, body), rest = branches[0], branches[1:]
        ct = self.expr(c, env, path).t
        if rest:
            else_body = [S.If(rest[0][0].pos, rest, orelse)]
        else:
            else_body = orelse
        self.conditional(ct, body, else_body, env, path, env)

    def conditional(self, c: Term, then, orelse, env: Env, path: Term, out: Env) -> None:
        """Run `then` where c holds and `orelse` where not, merging into out.state."""
        # the copies and the merge below cost the size of the state: count it, so that an
        # `if` unrolled over a large array (quadratic) meets the budget in seconds
        self.work += len(env.state)
        self.check_budget(self.where)
        s1 = dict(env.state)
        e1 = replace(env, state=s1)
        if c is not T.FALSE:
            self.block(then, e1, T.and_(path, c))
        s2 = dict(env.state)
        e2 = replace(env, state=s2)
        if c is not T.TRUE:
            self.block(orelse, e2, T.and_(path, T.not_(c)))
        merged = dict(env.state)
        for k in set(e1.state) | set(e2.state):
            a, b = e1.state[k], e2.state[k]
            merged[k] = a if a is b else T.ite(c, a, b)
        out.state = merged

    def target_rep(self, ref: Ref, env: Env) -> tuple[Rep, str]:
        if ref.kind == "var":
            return self.vars[ref.name].reps[0], ref.name
        if ref.kind in ("procpc", "proclocal"):
            # `P.pc[i]` / `P.x[i]` in an action: an array by instance, its first index
            # checked like any array index
            fld = self.pcs[ref.process] if ref.kind == "procpc" else \
                self.locals[(ref.process, ref.name)]
            n = len(fld.reps)
            return ArrayRep(ArrayT(IntT(0, n - 1), tuple(range(n)), fld.type), fld.reps), \
                fld.key
        return self.locals[(ref.process, ref.name)].reps[env.instance], ref.name

    def assign(self, s: S.Assign, env: Env, path: Term) -> None:
        rep, name = self.target_rep(s.target.ref, env)
        value = self.expr(s.value, env, path)
        if s.op != "=":
            old = self.expr(_as_read(s), env, path)
            if isinstance(old, Scalar) and old.kind == "set":
                try:
                    a, b = set_within(old, value) if s.op in ("&=", "-=") else \
                        set_align(old, value)
                except SetTooWide as exc:
                    self.too_wide(exc, s.pos)
                op = {"|=": "bor", "&=": "band", "-=": "bdiff", "+=": "bor"}[s.op]
                value = Scalar(T.mk(op, a.t, b.t), "set", a.ekind, a.base, a.width)
            else:
                op = {"+=": "add", "-=": "sub"}[s.op]
                value = Scalar(T.mk(op, old.t, value.t), "int")
        indices = [self.expr(i, env, path) for i in s.indices]
        target = name + "".join(f"[{unparse(i)}]" for i in s.indices)
        shown = [(unparse(x), v) for x, v in zip(s.indices, indices)]

        def why_index():
            return target, self.reads(shown + [(name, self.expr(s.target, env, path))],
                                      s.indices, env, path)

        def why_type():
            old = [] if s.indices else [(name, self.expr(s.target, env, path))]
            return f"{target} {s.op} {unparse(s.value)}", self.reads(
                [("written", value)] + old + shown, s.indices + [s.value], env, path)
        self.write(rep, indices, value, env, path, T.TRUE, name, s, (why_index, why_type))

    def write(self, rep: Rep, indices: list[Value], value: Value, env: Env, path: Term,
              cond: Term, name: str, s: S.Assign, why=(None, None)) -> None:
        """Store value at rep[indices...] where cond holds; `why` explains an index out of
        range and a value outside the type (see `fail`)."""
        if not indices:
            self.check_type(rep, value, path, cond, name, s, why[1])
            self.store(rep, value, env, cond)
            return
        i, rest = indices[0], indices[1:]
        if isinstance(rep, ArrayRep):
            keys = [self.symbols.id(k) for k in rep.type.keys] if isinstance(rep.type.key, SymT) \
                else list(rep.type.keys)
            hits = [T.eq(i.t, T.const(k)) for k in keys]
            self.fail(T.and_(path, cond), T.not_(T.or_(*hits)), "error",
                      "array index out of range", s.pos, why[0])
            for h, r in zip(hits, rep.elems):
                if h is T.FALSE:
                    continue
                self.write(r, rest, value, env, path, T.and_(cond, h), name, s, why)
            return
        length = env.state[rep.len_slot]
        ok = T.and_(T.mk("le", T.ZERO, i.t), T.mk("lt", i.t, length))
        self.fail(T.and_(path, cond), T.not_(ok), "error", "sequence index out of range", s.pos,
                  why[0])
        for k, r in enumerate(rep.elems):
            h = T.eq(i.t, T.const(k))
            if h is not T.FALSE:
                self.write(r, rest, value, env, path, T.and_(cond, h), name, s, why)

    def store(self, rep: Rep, value: Value, env: Env, cond: Term) -> None:
        st = env.state
        if isinstance(rep, ScalarRep):
            t = value.t
            if isinstance(rep.type, SetT):
                kind, base, width = set_universe(rep.type.elem, self.symbols)
                if value.ekind is None or value.width == 0:
                    t = value.t
                else:
                    t = set_rebase(value, base, width).t
            st[rep.slot] = T.ite(cond, t, st[rep.slot])
            return
        if isinstance(rep, ArrayRep):
            elems = value.elems if isinstance(value, (ArrV, SeqV)) else []
            for r, v in zip(rep.elems, elems):
                self.store(r, v, env, cond)
            return
        seq = as_seq(value)
        n = len(rep.elems)
        st[rep.len_slot] = T.ite(cond, seq.length, st[rep.len_slot])
        elems = seq.elems[:n]
        for k, r in enumerate(rep.elems):
            if k < len(elems):
                self.store(r, elems[k], env, cond)
            else:
                for sl in _slots(r):
                    st[sl] = T.ite(cond, T.ZERO, st[sl])

    def check_type(self, rep: Rep, value: Value, path: Term, cond: Term, name: str, s,
                   why=None) -> None:
        bad = self.out_of_type(rep, value)
        if bad is not T.FALSE:
            what = _type_text(rep)
            pcs = {f.key: p for p, f in self.pcs.items()}
            if name in pcs:   # `P.pc[i] = ...` in an action
                self.fail(T.and_(path, cond), bad, "type", f"the value written to '{name}' is "
                          f"not a step of {pcs[name]} or done ({what})", s.pos)
                return
            if what == "int":
                what = "int (held within +-2^62 by the explicit engine)"
            self.fail(T.and_(path, cond), bad, "type",
                      f"the value written to '{name}' is outside its type {what}", s.pos, why)

    def out_of_type(self, rep: Rep, value: Value) -> Term:
        if isinstance(rep, ScalarRep):
            ty = rep.type
            t = value.t
            if isinstance(ty, IntT):
                if ty.finite:
                    return T.not_(T.in_range(t, ty.lo, ty.hi))
                return T.not_(T.in_range(t, -UNBOUNDED_LIMIT, UNBOUNDED_LIMIT))
            if isinstance(ty, SymT):
                ids = [self.symbols.id(v) for v in ty.values]
                if ids == list(range(min(ids), max(ids) + 1)):
                    return T.not_(T.in_range(t, min(ids), max(ids)))
                return T.not_(T.or_(*(T.eq(t, T.const(k)) for k in ids)))
            if isinstance(ty, SetT):
                if value.ekind is None or value.width == 0:
                    return T.FALSE
                kind, base, width = set_universe(ty.elem, self.symbols)
                allowed = 0
                if kind == "sym":
                    for v in ty.elem.values:
                        allowed |= 1 << self.symbols.id(v)
                    return T.mk("ne", T.mk("bdiff", t, T.const(allowed)), T.ZERO)
                # bits of value's universe that fall outside the declared one
                outside = 0
                for k in range(value.width):
                    if not base <= value.base + k < base + width:
                        outside |= 1 << k
                return T.mk("ne", T.mk("band", t, T.const(outside)), T.ZERO) if outside \
                    else T.FALSE
            return T.FALSE
        if isinstance(rep, ArrayRep):
            parts = []
            if isinstance(value, SeqV):
                parts.append(T.mk("ne", value.length, T.const(len(rep.elems))))
                elems = pad(value.elems, len(rep.elems), value.elems)
            else:
                elems = value.elems
            parts += [self.out_of_type(r, v) for r, v in zip(rep.elems, elems)]
            return T.or_(*parts)
        seq = as_seq(value)
        parts = [T.not_(T.mk("le", seq.length, T.const(rep.type.max)))]
        for k, (r, v) in enumerate(zip(rep.elems, seq.elems)):
            parts.append(T.and_(T.mk("lt", T.const(k), seq.length), self.out_of_type(r, v)))
        return T.or_(*parts)


def _literal(text: str) -> bool:
    return text.lstrip("-").isdigit() or text in ("true", "false")


def _reads_of(label: str, v: Value) -> list[Read]:
    """A value as Reads: a scalar, or an array or sequence of scalars (and its length)."""
    if isinstance(v, Scalar):
        return [Read(label, v.kind, v.t)] if v.kind in ("int", "bool", "sym") else []
    if not all(isinstance(x, Scalar) and x.kind in ("int", "bool", "sym") for x in v.elems):
        return []
    elems = [(x.kind, x.t) for x in v.elems]
    if isinstance(v, ArrV):
        return [Read(label, "array", elems), Read(label, "length", T.const(len(elems)))]
    return [Read(label, "array", elems), Read(label, "length", v.length)]


def _slots(rep: Rep) -> list[int]:
    from .layout import rep_slots
    return rep_slots(rep)


def _as_read(s: S.Assign) -> S.Expr:
    e: S.Expr = s.target
    if s.attr is not None:
        e = S.Attr(s.pos, s.target, s.attr)
        e.ref = s.target.ref
    for i in s.indices:
        e = S.Index(s.pos, e, i)
    return e


def _type_text(rep: Rep) -> str:
    return str(rep.type)


# ---------------------------------------------------------------- the whole model


def _bindings(params) -> list[dict]:
    if not params:
        return [{}]
    return [dict(zip((p.name for p in params), combo))
            for combo in itertools.product(*(p.values for p in params))]


def _label(values: dict) -> str:
    if not values:
        return ""
    return "(" + ", ".join(f"{k}={json.dumps(_jsonable(v))}" for k, v in values.items()) + ")"


def _jsonable(v):
    if isinstance(v, Sym):
        return str(v)
    if isinstance(v, frozenset):
        from ..frontend.consteval import order_key
        return [_jsonable(x) for x in sorted(v, key=order_key)]
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    return v


def lower(model: Model, lw: Lowerer | None = None,
          deadline: Deadline = NO_DEADLINE) -> TransitionSystem:
    """The transition IR of a typed model (`lw`: the lowerer to use; `ir.parametric` passes
    its own).  Raises CompileTimeout when `deadline` passes."""
    lw = lw or Lowerer(model, deadline)
    check_transition_count(model)
    check_initial_count(model)
    transitions: list[Transition] = []

    def add(name, pc, params, guard_expr, effect, next_spec, process, instance, origin):
        lw.deadline.check()
        env = Env(lw.current(), {}, process, instance)
        for k, v in params.items():
            env.names[k] = lw.const_value(v)
        lw.failures = []
        guard = lw.expr(guard_expr, env, T.TRUE).t if guard_expr is not None else T.TRUE
        guard_failures = lw.failures
        lw.failures = []
        body = Env(dict(env.state), dict(env.names), process, instance)
        lw.block(effect, body, T.TRUE)
        if next_spec is not None:
            pc_slot = pc[0]
            if next_spec.target is not None:
                body.state[pc_slot] = lw.sym(next_spec.target)
            else:
                nv = lw.expr(next_spec.expr, body, T.TRUE).t
                ok = T.or_(*(T.eq(nv, lw.sym(v)) for v in process.pc_values))
                lw.fail(T.TRUE, T.not_(ok), "error",
                        f"`next` is not a step of {process.name}", next_spec.pos)
                body.state[pc_slot] = nv
        updates = {k: t for k, t in body.state.items() if t is not env.state[k]}
        transitions.append(Transition(len(transitions), name, pc, guard, guard_failures,
                                      lw.failures, updates, origin, params))
        lw.failures = []

    for p in model.processes:
        for i in range(p.count):
            pc_slot = lw.pcs[p.name].reps[i].slot
            for step in p.steps:
                for alt in step.alternatives:
                    for b in _bindings(alt.params):
                        name = f"{p.name}[{i}].{step.name}"
                        if step.has_either:
                            name += f".{alt.name}"
                        name += _label(b)
                        add(name, (pc_slot, lw.symbols.id(step.name)), b, alt.guard, alt.effect,
                            alt.next, p, i, ("process", p.name, i, step.name, alt.name))
    for a in model.actions:
        for b in _bindings(a.params):
            add(a.name + _label(b), None, b, a.guard, a.effect, None, None, None,
                ("action", a.name))

    state_props, trans_props = [], []
    for prop in model.properties:
        lw.failures = []
        env = Env(lw.current(), {}, None, None, lw.posts() if prop.kind == "transition" else None)
        term = lw.expr(prop.expr, env, T.TRUE).t
        if prop.kind == "transition":
            trans_props.append(TransitionProperty(prop.name, prop.expected, term, lw.failures,
                                                  prop.about))
        else:
            state_props.append(StateProperty(prop.name, prop.kind, prop.expected, term,
                                             lw.failures, prop.about))
    lw.failures = []
    temporal = _lower_temporal(model, lw)
    # a temporal property that can fail to evaluate reports its errors like any state
    # property; this hidden one never fires otherwise (its term is false)
    state_props += [StateProperty(t.name, "temporal", t.expected, T.FALSE, t.failures, t.about)
                    for t in temporal if t.failures]

    terminal = None
    done = lw.symbols.id("done")
    pc_slots = [r.slot for f in lw.pcs.values() for r in f.reps]
    if pc_slots:
        cur = lw.current()
        terminal = T.and_(*(T.eq(cur[s], T.const(done)) for s in pc_slots))

    order = [(p.name, p.kind, p.expected) for p in model.properties]
    order += [("assertion", "assertion", "holds"), ("type", "type", "holds"),
              ("error", "error", "holds")]
    order[len(model.properties):len(model.properties)] = [
        (t.name, "temporal", t.expected) for t in temporal]
    if model.deadlock:
        order.append(("deadlock", "deadlock", "holds"))
    return TransitionSystem(model.name, lw.layout, initial_states(model, lw), transitions,
                            state_props, trans_props, model.deadlock, terminal, order,
                            temporal, fairness_units(model, transitions),
                            scalarsets_of(model, lw.layout))


def _lower_temporal(model: Model, lw: Lowerer) -> list[TemporalProperty]:
    out = []
    for prop in model.temporal:
        lw.failures = []
        env = Env(lw.current(), {}, None, None)
        p = lw.expr(prop.p, env, T.TRUE).t
        q = lw.expr(prop.q, env, T.TRUE).t if prop.q is not None else None
        out.append(TemporalProperty(prop.name, prop.form, prop.expected, p, q, lw.failures,
                                    prop.about))
    lw.failures = []
    return out


def fairness_units(model: Model, transitions: list[Transition]) -> list[FairnessUnit]:
    """The fairness units in transition order: each instance of a fair process, each fair
    action (all its bindings)."""
    units: dict[str, FairnessUnit] = {}
    for t in transitions:
        who = t.origin[1]
        kind = model.fairness.get(who)
        if kind is None:
            continue
        name = f"{who}[{t.origin[2]}]" if t.origin[0] == "process" else who
        units.setdefault(name, FairnessUnit(name, kind, [])).transitions.append(t.index)
    return list(units.values())


def initial_states(model: Model, lw: Lowerer) -> list[tuple[int, ...]]:
    """Every combination of initial values, first variable slowest; duplicates removed."""
    choices: list[tuple[Rep, list]] = []
    for v in model.variables:
        choices.append((lw.vars[v.name].reps[0], v.inits))
    pc_fixed: dict[int, int] = {}
    for p in model.processes:
        first = lw.symbols.id(p.steps[0].name)
        for r in lw.pcs[p.name].reps:
            pc_fixed[r.slot] = first
    for p in model.processes:
        for loc in p.locals:
            for r in lw.locals[(p.name, loc.name)].reps:
                choices.append((r, loc.inits))
    n = len(lw.layout.slots)
    out: list[tuple[int, ...]] = []
    seen: set = set()
    for k, combo in enumerate(itertools.product(*(vals for _, vals in choices))):
        if not k & 4095:
            lw.deadline.check()
        slots: dict[int, int] = dict(pc_fixed)
        for (rep, _), v in zip(choices, combo):
            lw.layout.encode(rep, v, slots)
        st = tuple(slots.get(k, 0) for k in range(n))
        if st not in seen:
            seen.add(st)
            out.append(st)
    return out
