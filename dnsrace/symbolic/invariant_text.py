"""Inductive invariants (Z3 formulas over the encoding's slots) in the spec's expression
syntax: `invariant_text` for a concrete encoding (`encode.Encoding`), `param_invariant_text`
for the parametric one (`parametric.ParamEncoding`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import z3

from ..frontend.types import BoolT, IntT, SymT
from ..ir.layout import ScalarRep, rep_slots
from ..ir.system import TransitionSystem
from ..ir.terms import Term
from .encode import Encoding

if TYPE_CHECKING:
    from .parametric import ParamEncoding


class _Printer:
    """A Z3 formula over the template slots, in the spec's expression syntax."""

    def __init__(self, ts: TransitionSystem, enc: Encoding):
        self.ts, self.enc = ts, enc
        self.by_name = {x.decl().name(): j for j, x in enumerate(enc.X)}
        self.types: dict[int, object] = {}
        for f in ts.layout.fields:
            for rep in f.reps:
                self._types(rep)
        self.symbols = ts.layout.symbols.names

    def _types(self, rep) -> None:
        if isinstance(rep, ScalarRep):
            self.types[rep.slot] = rep.type
        elif hasattr(rep, "elems"):
            for r in rep.elems:
                self._types(r)
            if hasattr(rep, "len_slot"):
                self.types.setdefault(rep.len_slot, None)
        else:
            for s in rep_slots(rep):
                self.types.setdefault(s, None)

    def slot_name(self, j: int) -> str:
        name = self.ts.slots[j].name
        # "Enactor[1].pc" -> "Enactor.pc[1]" (the spec's way to name a process's field)
        if "." in name and name.split(".", 1)[0].endswith("]"):
            head, tail = name.split(".", 1)
            proc, _, idx = head.partition("[")
            rest = ""
            if "[" in tail:
                tail, _, rest = tail.partition("[")
                rest = "[" + rest
            return f"{proc}.{tail}[{idx}{rest}"
        return name

    def _slot_of(self, e):
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            return self.by_name.get(e.decl().name())
        return None

    def _value(self, j: int | None, e) -> str:
        """A numeral, as the value of slot j's type when it compares with one."""
        if not (z3.is_int_value(e) or z3.is_bv_value(e)):
            return self.text(e)
        v = e.as_long() if z3.is_int_value(e) else e.as_signed_long()
        ty = self.types.get(j) if j is not None else None
        if isinstance(ty, SymT) and 0 <= v < len(self.symbols):
            return self.symbols[v]
        if isinstance(ty, BoolT) and v in (0, 1):
            return "true" if v else "false"
        return str(v)

    def text(self, e, top: bool = False) -> str:
        k = e.decl().kind() if z3.is_app(e) else None
        ch = e.children() if z3.is_app(e) else []
        if z3.is_true(e):
            return "true"
        if z3.is_false(e):
            return "false"
        j = self._slot_of(e)
        if j is not None:
            return self.slot_name(j)
        if z3.is_int_value(e):
            return str(e.as_long())
        if z3.is_bv_value(e):
            return str(e.as_signed_long())
        if k == z3.Z3_OP_AND:
            parts = _canonical(self.text(c) for c in ch)
            if "false" in parts:
                return "false"
            parts = [p for p in parts if p != "true"] or ["true"]
            return (" and\n" if top else " and ").join(
                p if top else f"({p})" if " or " in p else p for p in parts)
        if k == z3.Z3_OP_OR:
            parts = _canonical(self.text(c) for c in ch)
            if "true" in parts:
                return "true"
            parts = [p for p in parts if p != "false"] or ["false"]
            return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"
        if k == z3.Z3_OP_NOT:
            c = ch[0]
            if z3.is_app(c) and c.decl().kind() == z3.Z3_OP_EQ:
                return self._cmp(c.children()[0], "!=", c.children()[1])
            if z3.is_app(c) and c.decl().kind() in (z3.Z3_OP_LE, z3.Z3_OP_SLEQ):
                return self._cmp(c.children()[0], ">", c.children()[1])
            if z3.is_app(c) and c.decl().kind() in (z3.Z3_OP_GE, z3.Z3_OP_SGEQ):
                return self._cmp(c.children()[0], "<", c.children()[1])
            return f"not ({self.text(c)})"
        if k == z3.Z3_OP_IMPLIES:
            return f"({self.text(ch[0])} => {self.text(ch[1])})"
        ops = {z3.Z3_OP_EQ: "==", z3.Z3_OP_LE: "<=", z3.Z3_OP_GE: ">=", z3.Z3_OP_LT: "<",
               z3.Z3_OP_GT: ">", z3.Z3_OP_SLEQ: "<=", z3.Z3_OP_SGEQ: ">=",
               z3.Z3_OP_SLT: "<", z3.Z3_OP_SGT: ">", z3.Z3_OP_DISTINCT: "!="}
        if k in ops and len(ch) == 2:
            if z3.is_bool(ch[0]) and k == z3.Z3_OP_EQ:
                return f"({self.text(ch[0])}) == ({self.text(ch[1])})"
            return self._cmp(ch[0], ops[k], ch[1])
        if k == z3.Z3_OP_ITE:
            return f"({self.text(ch[1])} if {self.text(ch[0])} else {self.text(ch[2])})"
        arith = {z3.Z3_OP_ADD: " + ", z3.Z3_OP_SUB: " - ", z3.Z3_OP_MUL: " * ",
                 z3.Z3_OP_BADD: " + ", z3.Z3_OP_BSUB: " - ", z3.Z3_OP_BMUL: " * ",
                 z3.Z3_OP_IDIV: " // ", z3.Z3_OP_MOD: " % "}
        if k in arith:
            terms = [self._term(c) for c in ch]
            if k in (z3.Z3_OP_ADD, z3.Z3_OP_BADD):    # summands in one order, whatever Z3's
                terms = sorted(terms, key=lambda t: (t.startswith("-"), _natural(t)))
            return "(" + arith[k].join(terms).replace("+ -", "- ") + ")"
        if k == z3.Z3_OP_UMINUS:
            return f"-{self._term(ch[0])}"
        return str(e).replace("\n", " ")

    def _term(self, e) -> str:
        # a product with -1 reads better as a negation
        if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_MUL and len(e.children()) == 2 \
                and z3.is_int_value(e.children()[0]) and e.children()[0].as_long() == -1:
            return f"-{self._term(e.children()[1])}"
        return self.text(e)

    def _domain(self, j: int) -> list[int] | None:
        """The values slot j can hold in a well-typed state, when few."""
        ty = self.types.get(j)
        lo, hi = self.enc.bounds[j]
        if isinstance(ty, BoolT):
            return [0, 1]
        if isinstance(ty, SymT) and ty.values is not None:
            return sorted(self.ts.layout.symbols.id(v) for v in ty.values)
        if isinstance(ty, IntT) and ty.finite:
            lo, hi = max(lo, ty.lo), min(hi, ty.hi)
        return list(range(lo, hi + 1)) if hi - lo < 64 else None

    def _cmp(self, a, op: str, b) -> str:
        ja, jb = self._slot_of(a), self._slot_of(b)
        if ja is None and jb is not None:
            a, b, ja, jb = b, a, jb, ja
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        if ja is not None and z3.is_int_value(b):
            got = self._against_value(ja, op, b.as_long())
            if got is not None:
                return got
        lhs = self.text(a) if ja is None else self.slot_name(ja)
        return f"{lhs} {op} {self._value(ja, b)}"

    def _against_value(self, j: int, op: str, v: int) -> str | None:
        """slot j `op` v, as the values it allows: true, false, a bool slot or its
        negation, an equality, or membership in a few symbols."""
        dom = self._domain(j)
        if dom is None:
            return None
        test = {"==": lambda x: x == v, "!=": lambda x: x != v, "<": lambda x: x < v,
                "<=": lambda x: x <= v, ">": lambda x: x > v, ">=": lambda x: x >= v}[op]
        ok = [x for x in dom if test(x)]
        name = self.slot_name(j)
        if len(ok) == len(dom):
            return "true"
        if not ok:
            return "false"
        ty = self.types.get(j)
        if isinstance(ty, BoolT):
            return name if ok == [1] else f"not {name}"
        show = (lambda x: self.symbols[x]) if isinstance(ty, SymT) else str
        if len(ok) == 1:
            return f"{name} == {show(ok[0])}"
        if len(ok) == len(dom) - 1:
            return f"{name} != {show(next(x for x in dom if x not in ok))}"
        if isinstance(ty, SymT):
            return f"{name} in {{{', '.join(show(x) for x in ok)}}}"
        if ok == list(range(ok[0], ok[-1] + 1)):
            if ok[0] == dom[0]:
                return f"{name} <= {ok[-1]}"
            if ok[-1] == dom[-1]:
                return f"{name} >= {ok[0]}"
        return None


def _natural(text: str) -> list:
    """A sort key that orders `x[2]` before `x[10]`."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def _canonical(parts) -> list[str]:
    """Conjuncts or disjuncts once each, in one order: the text of an invariant does not
    depend on the order Z3 happened to build it in."""
    return sorted(set(parts), key=_natural)


def invariant_text(ts: TransitionSystem, enc: Encoding, inv) -> str:
    """The invariant in the spec's expression syntax over slot names (best effort: sets are
    shown as their bitmasks, symbols by name where they are compared with a slot)."""
    inv = z3.simplify(inv, som=False)
    return _Printer(ts, enc).text(inv, top=True)


def param_invariant_text(enc: ParamEncoding, inv) -> str:
    """The invariant in the spec's syntax; a cell's index reads as `g`, quantified over the
    set's declared range."""
    ps = enc.ps
    names = {}
    for k, arr in ps.arrays.items():
        names[enc.cx[k][0].decl().name()] = ("index", k)
        names[enc.cx[k][1].decl().name()] = ("value", k)

    class Printer(_Printer):
        def text(self, e, top=False):
            if z3.is_const(e) and e.decl().name() in names:
                what, k = names[e.decl().name()]
                var = _var(k)
                return var if what == "index" else f"{var} in {self.slot_name(k)}"
            return super().text(e, top)

    def _var(k):
        return "g" if len(ps.arrays) == 1 else f"g{k}"

    pr = Printer(ps.ts, enc)
    text = pr.text(z3.simplify(inv, som=False), top=True)
    used = [k for k in ps.arrays if any(z3.is_const(x) and x.decl().name() in
                                         (enc.cx[k][0].decl().name(), enc.cx[k][1].decl().name())
                                         for x in _consts(inv))]
    for k in used:
        arr = ps.arrays[k]
        lo, hi = _show(arr.lo), _show(arr.hi)
        text = f"all({text} for {_var(k)} in {lo}..{hi})"
    return text


def _consts(e):
    seen, out, stack = set(), [], [e]
    while stack:
        x = stack.pop()
        if x.get_id() in seen:
            continue
        seen.add(x.get_id())
        if z3.is_const(x):
            out.append(x)
        stack.extend(x.children() if z3.is_app(x) else [])
    return out


def _show(t: Term) -> str:
    if t.is_const:
        return str(t.value)
    if t.op == "param":
        return t.args[0]
    if t.op in ("add", "sub"):
        return f"{_show(t.args[0])} {'+' if t.op == 'add' else '-'} {_show(t.args[1])}"
    return repr(t)
