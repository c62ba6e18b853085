"""The parametric transition IR: symbolic constants kept unknown, for the proof engines.

`lower_parametric(model)` lowers the same typed model as `ir.lower`, with the same slot
layout and transitions, but every constant declared `symbolic: true` stays a `param` term,
constrained only by its `assume`.  What the constant's value would otherwise fix becomes
symbolic too:

  * a range type `LO..HI` whose bounds name a symbolic constant: the slot's bounds are
    terms over the params (`ParametricSystem.bounds`);
  * a `set of LO..HI` over such a range: an *array slot*.  Its value is not a bitmask but
    a pointwise membership term over the slot's index variable (`ArraySlot.cell`): the
    state holds `elem(slot, cell)`, `s | {x}` is `ite(cell == x, 1, s(cell))`, and reading
    `x in s` substitutes x for the index;
  * a `for` loop, `any`/`all` or a set comprehension over a symbolic range (or over a set in
    an array slot): the body is lowered once, for an unknown index g, and lifted:
      - an array slot the body changes at index g only becomes, pointwise,
        `new(c) = h(c)` where h(g) is the body's value at g;
      - a scalar the body may set to one value v (a flag) becomes
        `ite(exists g: cond(g), v, old)`;
      - a failure inside the body happens when `exists g: cond(g)`.
    The lifting is exact when iterations do not depend on each other: the body reads what
    the loop writes only at index g, and reads no scalar the loop writes.  `exists` is
    eliminated where a conjunct fixes g (`record[e] == g`: the one-point rule) or only
    bounds it (Fourier-Motzkin); what remains is left to the encoder.

Anything else that would need the value (an array size, a sequence bound, a process count,
a parameter domain, `init: any` over a symbolic range, the size of a symbolic set) is a
spec error here, with its position: the explicit engines still use the `value`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from ..diagnostics import Diagnostic, Pos, SpecError
from ..frontend import syntax as S
from ..frontend.model import Model
from ..frontend.types import IntT, SetT
from . import terms as T
from .layout import ArrayRep, ScalarRep
from .lower import Env, Lowerer, initial_states, lower
from .system import TransitionSystem
from .terms import Term
from .values import Scalar, merge

CODE = "DR502"
HINT = ("the proof engines keep symbolic constants unknown; drop `symbolic: true` to prove "
        "the spec at the constant's value")


@dataclass
class FunSet:
    """A set over an unbounded or symbolic universe: membership of `cell` is `fn`."""

    fn: Term
    cell: Term

    def at(self, x: Term) -> Term:
        return self.fn if x is self.cell else T.substitute_leaves(self.fn, {id(self.cell): x})


@dataclass
class ArraySlot:
    slot: int
    cell: Term   # the index variable of the slot's pointwise value
    lo: Term     # the elements' range
    hi: Term


@dataclass
class ParametricSystem:
    ts: TransitionSystem            # its terms may hold param, bound, elem and exists
    params: dict[str, Term]         # symbolic constant -> its term
    assume: Term                    # every assume, over the params
    bounds: dict[int, tuple]        # scalar slot -> (lo, hi), terms over the params
    arrays: dict[int, ArraySlot]    # array slots
    initial: list[dict[int, Term]]  # the initial states (array slots: a term over the cell)
    values: dict[str, int] = field(default_factory=dict)  # the params' `value`s
    assume_texts: list[str] = field(default_factory=list)  # each assume as written

    def describe(self) -> str:
        """'PLANS >= 2, KEEP >= 1' style: the assumptions a proof holds under."""
        return ", ".join(self.assume_texts) if self.assume_texts else \
            ", ".join(f"{n} (any value)" for n in self.params)


class _Refused(Exception):
    def __init__(self, message: str, pos: Pos | None):
        super().__init__(message)
        self.pos = pos


def _has_param(t: Term) -> bool:
    return any(x.op == "param" for x in T.walk(t))


class ParametricLowerer(Lowerer):
    def __init__(self, model: Model):
        super().__init__(model)
        self.params = {c.name: T.param(c.name) for c in model.symbolic}
        self._uid = itertools.count()
        self.bounds: dict[int, tuple] = {}
        self.arrays: dict[int, ArraySlot] = {}
        empty = Env({}, {})
        where = {v.name: v.pos for v in model.variables}
        where.update({f"{p.name}.{v.name}": v.pos for p in model.processes for v in p.locals})
        for f in self.layout.fields:
            for top in f.reps:
                for rep in _scalar_reps([top]):
                    ty = rep.type
                    if _symbolic_int(ty):
                        if not isinstance(top, (ScalarRep, ArrayRep)):
                            # a sequence pads with 0, outside a symbolic range
                            raise _Refused(f"'{f.key}' is a sequence of a symbolic range",
                                           where.get(f.key))
                        self.bounds[rep.slot] = (self._bound(ty.lo_expr, ty.lo, empty),
                                                 self._bound(ty.hi_expr, ty.hi, empty))
                    elif isinstance(ty, SetT) and _symbolic_int(ty.elem):
                        if top is not rep:
                            raise _Refused(f"'{f.key}' holds sets over a symbolic range inside "
                                           "an array or a sequence: only a variable or a "
                                           "local can be such a set", where.get(f.key))
                        e = ty.elem
                        self.arrays[rep.slot] = ArraySlot(
                            rep.slot, T.bound(("cell", rep.slot)),
                            self._bound(e.lo_expr, e.lo, empty),
                            self._bound(e.hi_expr, e.hi, empty))

    def _bound(self, e, v, env) -> Term:
        return T.const(v) if e is None else self.expr(e, env, T.TRUE).t

    # ------------------------------------------------------------ state
    def _slot(self, i: int, post: bool) -> Term:
        s = self.layout.slots[i]
        if i in self.arrays:
            return T.elem(i, self.arrays[i].cell)
        lo, hi = s.lo, s.hi
        if i in self.bounds:
            blo, bhi = self.bounds[i]
            lo = blo.value if blo.is_const else None
            hi = bhi.value if bhi.is_const else None
        return (T.post if post else T.slot)(i, lo, hi)

    def current(self) -> dict[int, Term]:
        return {s.index: self._slot(s.index, False) for s in self.layout.slots}

    def posts(self) -> dict[int, Term]:
        """The state after a step, for transition properties: a symbolic set is refused
        only where the property reads it after the step."""
        return _Posts({s.index: self._slot(s.index, True) for s in self.layout.slots
                       if s.index not in self.arrays})

    def read(self, rep, state):
        if isinstance(rep, ScalarRep) and rep.slot in self.arrays:
            return FunSet(state[rep.slot], self.arrays[rep.slot].cell)
        return super().read(rep, state)

    def fresh(self, what: str, lo=None, hi=None) -> Term:
        return T.bound((what, next(self._uid)), lo, hi)

    # ------------------------------------------------------------ expressions
    def expr(self, e: S.Expr, env: Env, path: Term):
        try:
            return self._expr(e, env, path)
        except Exception as exc:
            _mark(exc, e.pos)
            raise

    def _expr(self, e: S.Expr, env: Env, path: Term):
        match e:
            case S.Name(ref=ref) if ref.kind == "const" and ref.name in self.params:
                return Scalar(self.params[ref.name], "int")
            case S.SetLit(elems=es) if es:
                vals = [self.expr(x, env, path) for x in es]
                if any(_unbounded(v) for v in vals):
                    c = self.fresh("set")
                    return FunSet(T.or_(*(T.eq(c, v.t) for v in vals)), c)
            case S.IfExp(cond=c, then=a, orelse=b):
                ct = self.expr(c, env, path).t
                x = self.expr(a, env, T.and_(path, ct))
                y = self.expr(b, env, T.and_(path, T.not_(ct)))
                if isinstance(x, FunSet) or isinstance(y, FunSet):
                    x, y = self.as_funset(x), self.as_funset(y)
                    return FunSet(T.ite(ct, x.fn, y.at(x.cell)), x.cell)
                return merge(ct, x, y)
        return super().expr(e, env, path)

    def as_funset(self, v) -> FunSet:
        """A set value as a membership term."""
        if isinstance(v, FunSet):
            return v
        if not (isinstance(v, Scalar) and v.kind == "set"):
            raise _Refused("a set is needed here", None)
        c = self.fresh("set")
        if v.ekind is None or v.width == 0:
            return FunSet(T.FALSE, c)
        if v.t.is_const:
            return FunSet(T.or_(*(T.eq(c, T.const(v.base + k)) for k in range(v.width)
                                  if v.t.value >> k & 1)), c)
        return FunSet(T.or_(*(T.and_(T.eq(c, T.const(v.base + k)),
                                     T.mk("bit", v.t, T.const(k)))
                              for k in range(v.width))), c)

    def range_set(self, lo: Term, hi: Term, pos: Pos):
        if _has_param(lo) or _has_param(hi) or lo.lo is None or hi.hi is None:
            c = self.fresh("range")
            return FunSet(T.and_(T.mk("le", lo, c), T.mk("le", c, hi)), c)
        return super().range_set(lo, hi, pos)

    def binop(self, e: S.BinOp, env: Env, path: Term):
        if e.op in ("|", "&", "-"):
            a = self.expr(e.left, env, path)
            b = self.expr(e.right, env, path)
            if isinstance(a, FunSet) or isinstance(b, FunSet):
                return self.set_op(e.op, a, b)
        return super().binop(e, env, path)

    def set_op(self, op: str, a, b) -> FunSet:
        a, b = self.as_funset(a), self.as_funset(b)
        y = b.at(a.cell)
        fn = {"|": lambda: T.or_(a.fn, y), "&": lambda: T.and_(a.fn, y),
              "-": lambda: T.and_(a.fn, T.not_(y))}[op]()
        return FunSet(fn, a.cell)

    def member(self, x, coll) -> Term:
        if isinstance(coll, FunSet):
            return coll.at(x.t)
        return super().member(x, coll)

    def compare(self, e: S.Compare, env: Env, path: Term):
        vals = [self.expr(x, env, path) for x in e.operands]
        if not any(isinstance(v, FunSet) for v in vals):
            return super().compare(e, env, path)
        parts = []
        for a, op, b in zip(vals, e.ops, vals[1:]):
            if op in ("in", "not in"):
                t = self.member(a, b)
                parts.append(t if op == "in" else T.not_(t))
                continue
            x, y = self.as_funset(a), self.as_funset(b)
            c = self.fresh("cmp")   # bound here only: never a cell (no capture)
            xc, yc = x.at(c), y.at(c)
            only_x = T.exists(c, T.and_(xc, T.not_(yc)))
            only_y = T.exists(c, T.and_(yc, T.not_(xc)))
            parts.append({"==": lambda: T.not_(T.or_(only_x, only_y)),
                          "!=": lambda: T.or_(only_x, only_y),
                          "<=": lambda: T.not_(only_x), ">=": lambda: T.not_(only_y),
                          "<": lambda: T.and_(T.not_(only_x), only_y),
                          ">": lambda: T.and_(T.not_(only_y), only_x)}[op]())
        return Scalar(T.and_(*parts), "bool")

    def call(self, e: S.Call, env: Env, path: Term):
        if e.define is None and e.func in ("len", "min", "max") and len(e.args) == 1:
            v = self.expr(e.args[0], env, path)
            if isinstance(v, FunSet):
                raise _Refused(f"{e.func}() of a set over a symbolic range", e.pos)
        return super().call(e, env, path)

    def comprehension(self, e: S.Comprehension, env: Env, path: Term):
        c0 = e.clauses[0]
        mark = len(self.failures)
        dom = self.expr(c0.domain, env, path)
        if not isinstance(dom, FunSet):
            del self.failures[mark:]   # evaluated again by the concrete lowering
            return super().comprehension(e, env, path)
        g = self.fresh("q")
        inside = dom.at(g)
        names = {**env.names, c0.var: Scalar(g, "int")}
        inner = replace(env, names=names)
        sel = inside
        saved, self.failures = self.failures, []
        if c0.cond is not None:
            sel = T.and_(sel, self.expr(c0.cond, inner, T.and_(path, sel)).t)
        rest = S.Comprehension(e.pos, e.kind, e.elem, e.clauses[1:]) if e.clauses[1:] else None
        if e.kind in ("any", "all"):
            body = (self.expr(rest, inner, T.and_(path, sel)) if rest is not None
                    else self.expr(e.elem, inner, T.and_(path, sel))).t
            out = T.exists(g, T.and_(sel, body)) if e.kind == "any" else \
                T.not_(T.exists(g, T.and_(sel, T.not_(body))))
            result = Scalar(out, "bool")
        elif e.kind == "set" and rest is None:
            v = self.expr(e.elem, inner, T.and_(path, sel))
            c = self.fresh("set")
            result = FunSet(T.exists(g, T.and_(sel, T.eq(v.t, c))), c)
        else:
            raise _Refused(f"a {e.kind} comprehension over a symbolic range", e.pos)
        inner_failures, self.failures = self.failures, saved
        if inner_failures:
            # `all`/`any` stop at the first deciding element: which elements are evaluated
            # depends on the order, which one unknown index cannot say
            raise _Refused(f"an expression inside {e.kind}(...) over a symbolic range can fail "
                           f"({inner_failures[0].message})", e.pos)
        return result

    # ------------------------------------------------------------ effects
    def stmt(self, s: S.Stmt, env: Env, path: Term) -> None:
        try:
            if isinstance(s, S.For):
                dom = self.expr(s.domain, env, path)
                if isinstance(dom, FunSet):
                    self.lifted_loop(s, dom, env, path)
                    return
            super().stmt(s, env, path)
        except Exception as exc:
            _mark(exc, s.pos)
            raise

    def assign(self, s: S.Assign, env: Env, path: Term) -> None:
        rep, name = self.target_rep(s.target.ref, env)
        if not (isinstance(rep, ScalarRep) and rep.slot in self.arrays):
            return super().assign(s, env, path)
        arr = self.arrays[rep.slot]
        value = self.expr(s.value, env, path)
        added = self.as_funset(value) if s.op in ("=", "|=", "+=") else None
        if s.op != "=":
            old = self.read(rep, env.state)
            value = self.set_op({"|=": "|", "+=": "|", "-=": "-", "&=": "&"}[s.op], old, value)
        value = self.as_funset(value)
        new = value.at(arr.cell)
        # an element added outside the declared ones: a type error (the set's own elements
        # are within them already)
        d = self.fresh("elem")
        outside = T.FALSE if added is None else T.exists(d, T.and_(
            added.at(d), T.not_(T.and_(T.mk("le", arr.lo, d), T.mk("le", d, arr.hi)))))
        self.fail(path, outside, "type",
                  f"the value written to '{name}' is outside its type {rep.type}", s.pos)
        env.state[rep.slot] = new

    def out_of_type(self, rep, value) -> Term:
        if isinstance(rep, ScalarRep) and rep.slot in self.bounds:
            lo, hi = self.bounds[rep.slot]
            return T.not_(T.and_(T.mk("le", lo, value.t), T.mk("le", value.t, hi)))
        return super().out_of_type(rep, value)

    def lifted_loop(self, s: S.For, dom: FunSet, env: Env, path: Term) -> None:
        """`for v in dom: body` over a symbolic domain, as one pointwise update."""
        g = self.fresh("for")
        pre = dict(env.state)
        opaque: dict[int, Term] = {}
        fake: dict[int, int] = {}   # array slot -> its stand-in's slot number
        for k, t in pre.items():
            if k in self.arrays:
                fake[k] = -1 - next(self._uid)
                opaque[k] = T.elem(fake[k], self.arrays[k].cell)
            else:
                opaque[k] = T.bound(("pre", next(self._uid), k), t.lo, t.hi)
        saved, self.failures = self.failures, []
        inner = replace(env, state=dict(opaque), names={**env.names, s.var: Scalar(g, "int")})
        self.conditional(dom.at(g), s.body, [], inner, path, inner)
        body_failures, self.failures = self.failures, saved
        post = inner.state

        opq_scalar = {id(opaque[k]): k for k in opaque if k not in self.arrays}
        opq_array = {fake[k]: k for k in fake}

        def back(t: Term) -> Term:
            """A term over the stand-ins, over the state before the loop."""
            def node(x, args):
                if x.op == "elem" and x.args[0] in opq_array:
                    k = opq_array[x.args[0]]
                    return T.substitute_leaves(pre[k], {id(self.arrays[k].cell): args[1]})
                return None
            return T.rewrite(t, lambda x: pre[opq_scalar[id(x)]] if id(x) in opq_scalar
                             else x, node)

        written = {k for k in pre if post[k] is not opaque[k]}

        def check(t: Term, what: str) -> None:
            """t may read what the loop writes only at index g (arrays), never (scalars)."""
            for x in T.walk(t):
                if x.op == "bound" and id(x) in opq_scalar and opq_scalar[id(x)] in written:
                    raise _Refused(f"{what} reads '{self.slot_name(opq_scalar[id(x)])}', "
                                   "which the loop writes: the iterations depend on each "
                                   "other", s.pos)
                if x.op == "elem" and x.args[0] in opq_array \
                        and opq_array[x.args[0]] in written and x.args[1] is not g:
                    k = opq_array[x.args[0]]
                    raise _Refused(f"{what} reads '{self.slot_name(k)}' at an index other "
                                   f"than the loop variable '{s.var}'", s.pos)

        for k in sorted(written):
            if k in self.arrays:
                cell = self.arrays[k].cell
                off = T.rewrite(post[k], lambda x: x, lambda x, a: T.FALSE if x.op == "eq" and (
                    (a[0] is cell and a[1] is g) or (a[0] is g and a[1] is cell)) else None)
                if off is not opaque[k]:
                    raise _Refused(f"the loop changes '{self.slot_name(k)}' at an index other "
                                   f"than the loop variable '{s.var}'", s.pos)
                at_g = T.substitute_leaves(post[k], {id(cell): g})
                check(at_g, f"the new value of '{self.slot_name(k)}'")
                env.state[k] = back(T.substitute_leaves(at_g, {id(g): cell}))
            else:
                writes = _writes(post[k], opaque[k])
                values = {id(v): v for _, v in writes}
                if len(values) != 1 or any(T.occurs(g, v) for v in values.values()):
                    raise _Refused(f"the loop may write different values to "
                                   f"'{self.slot_name(k)}': only a flag (one value, set "
                                   "in any iteration) can be lifted over a symbolic "
                                   "range", s.pos)
                conds = [c for c, _ in writes]
                value = next(iter(values.values()))
                cond = T.or_(*conds)
                check(cond, f"the condition for writing '{self.slot_name(k)}'")
                check(value, f"the value written to '{self.slot_name(k)}'")
                env.state[k] = T.ite(back(T.exists(g, cond)), back(value), pre[k])
        if len({_kind(f) for f in body_failures}) > 1:
            # which fails first depends on the order of the iterations
            raise _Refused("the loop's body can fail in different ways (" + ", ".join(
                sorted({_kind(f) for f in body_failures})) + "): which comes first depends on "
                "the order of the iterations", s.pos)
        for f in body_failures:
            check(f.cond, "a check in the loop")
            self.failures.append(replace(f, cond=back(T.exists(g, f.cond))))

    def slot_name(self, k: int) -> str:
        return self.layout.slots[k].name


def _writes(t: Term, old: Term) -> list[tuple[Term, Term]]:
    """t as (condition, value) pairs, for the paths of its `ite`s that do not keep `old`."""
    if t is old:
        return []
    if t.op == "ite":
        c, a, b = t.args
        return [(T.and_(c, x), v) for x, v in _writes(a, old)] + \
            [(T.and_(T.not_(c), x), v) for x, v in _writes(b, old)]
    return [(T.TRUE, t)]


def _scalar_reps(reps):
    for r in reps:
        if isinstance(r, ScalarRep):
            yield r
        elif isinstance(r, ArrayRep):
            yield from _scalar_reps(r.elems)
        else:
            yield from _scalar_reps(r.elems)


class _Posts(dict):
    """Post-state slots; reading a symbolic set's (left out) is refused."""

    def __missing__(self, slot: int):
        raise _Refused("a transition property cannot read a symbolic set after the step "
                       "(its value with the prime)", None)


def _mark(exc: Exception, pos: Pos) -> None:
    """Remember the innermost spec position an exception passed through."""
    if getattr(exc, "spec_pos", None) is None:
        try:
            exc.spec_pos = pos
        except AttributeError:   # pragma: no cover - exceptions without a __dict__
            pass


def _kind(f) -> str:
    return f.kind if f.kind in ("assertion", "type") else "error"


def _symbolic_int(ty) -> bool:
    return isinstance(ty, IntT) and (ty.lo_expr is not None or ty.hi_expr is not None)


def _unbounded(v) -> bool:
    return isinstance(v, Scalar) and v.kind == "int" and (v.t.lo is None or v.t.hi is None)


def _refuse(model: Model, message: str, pos: Pos | None) -> SpecError:
    return SpecError([Diagnostic(CODE, message, model.path, pos, HINT)])


def lower_parametric(model: Model) -> ParametricSystem:
    """The parametric IR of a model with symbolic constants (see the module's text)."""
    if model.symbolic_uses:
        diags = [Diagnostic(CODE, f"the symbolic constant{'s' if len(names) > 1 else ''} "
                            f"{', '.join(names)} cannot fix a structure: an array's size, a "
                            "sequence's bound, a process count, a parameter's domain or an "
                            "initial value", model.path, pos, HINT)
                 for pos, names in model.symbolic_uses]
        raise SpecError(diags)
    try:
        lw = ParametricLowerer(model)
        ts = lower(model, lw)
    except _Refused as exc:
        raise _refuse(model, "cannot keep the symbolic constants unknown here: " + str(exc),
                      exc.pos or getattr(exc, "spec_pos", None)) from None
    except (AttributeError, TypeError, KeyError, AssertionError) as exc:
        # a symbolic set where the concrete lowering needs a bitmask (e.g. inside a sequence)
        raise _refuse(model, "cannot keep the symbolic constants unknown in this expression "
                      "or statement", getattr(exc, "spec_pos", None)) from None
    empty = Env({}, {})
    assume = T.TRUE
    texts = []
    for c in model.symbolic:
        if c.assume is not None:
            assume = T.and_(assume, lw.expr(c.assume, empty, T.TRUE).t)
            texts.append(c.assume_text)
    initial = []
    for st in initial_states(model, lw):
        d: dict[int, Term] = {}
        for k, v in enumerate(st):
            if k in lw.arrays:
                arr = lw.arrays[k]
                rep = _rep_of(lw, k)
                base = rep.type.elem.lo
                d[k] = T.or_(*(T.eq(arr.cell, T.const(base + b))
                               for b in range(v.bit_length()) if v >> b & 1))
            else:
                d[k] = T.const(v)
        initial.append(d)
    return ParametricSystem(ts, dict(lw.params), assume, lw.bounds, lw.arrays, initial,
                            {c.name: c.value for c in model.symbolic}, texts)


def _rep_of(lw: Lowerer, slot: int) -> ScalarRep:
    for f in lw.layout.fields:
        for r in _scalar_reps(f.reps):
            if r.slot == slot:
                return r
    raise KeyError(slot)

