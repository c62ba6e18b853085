"""Inductive invariants (Z3 formulas over the encoding's slots) in the spec's expression
syntax: `invariant_text` for a concrete encoding (`encode.Encoding`), `param_invariant_text`
for the parametric one (`parametric.ParamEncoding`).

The invariant is read as a conjunction of clauses, each a disjunction of literals, and
printed so that it reads like the lemmas a person would write, and parses as an expression
of the spec:

  * a linear comparison reads `a >= b`, `a > b`, `a == b + 2`: the terms with a positive
    coefficient on the left, the others and the constant on the right (`(a - b) > -1` is
    `a >= b`); a comparison of one slot with a number reads as the values it allows
    (`pc in {pick, check}`, `not empty[0]`, `ep != 2`);
  * a clause `not A or B`, where A tests a program counter (or another symbol slot, or a
    sequence's length) or is an equality, reads `A => B`;
  * each literal and each clause once, in one order (a natural sort: `x[2]` before `x[10]`);
  * what the Int encoding makes numbers reads as the spec's values: a set slot's bit test
    `(S // 4) % 2 == 1` is `v in S`, a set's value a set literal, a bool in arithmetic
    `(1 if b else 0)`; a clause that reads element k of a sequence (0 in the encoding past
    its length, an error in the spec) is printed under the premise `len(s) > k`, merged with
    the clause's own tests of that length;
  * a clause that holds for every instance of a process (the same clause up to the
    instance's number) is printed once, quantified: `all(... for i in 0..N-1)`, or
    `all(... for i in S)` when the instances are the identities of a scalarset S.  For a
    scalarset every clause that names instances is quantified: its identities are
    interchangeable, so a clause true of some identities is true of all (the conjunction
    of every renaming of an inductive invariant is one too), and an identity cannot be
    written as a number in the spec anyway.  Two instances of one process in a clause are
    two variables, `for i in D for j in D if i != j`.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, NamedTuple

import z3

from ..frontend.types import ArrayT, BoolT, IntT, ScalarsetT, SetT, SymT
from ..ir.layout import ScalarRep, SeqRep, rep_slots, set_universe
from ..ir.system import TransitionSystem
from ..ir.terms import Term
from .chc import constants
from .encode import Encoding

if TYPE_CHECKING:
    from .parametric import ParamEncoding

# An instance's number inside a slot's name: \x01KIND\x02NUMBER\x03, KIND being "S:<name>"
# (an identity of scalarset <name>) or "P:<process>" (an instance of a `count: N` process).
_MARK = re.compile("\x01([^\x02]*)\x02([0-9]+)\x03")
_VARS = ("i", "j", "k", "l", "m", "n")
_MAX_PER_KIND = 4     # at most this many instances of one kind in a clause are quantified
_FEW = 3              # a set slot's values, as at most this many (in)equalities

_CMP = {z3.Z3_OP_EQ: "==", z3.Z3_OP_LE: "<=", z3.Z3_OP_GE: ">=", z3.Z3_OP_LT: "<",
        z3.Z3_OP_GT: ">", z3.Z3_OP_SLEQ: "<=", z3.Z3_OP_SGEQ: ">=",
        z3.Z3_OP_SLT: "<", z3.Z3_OP_SGT: ">", z3.Z3_OP_DISTINCT: "!="}
_NEGATED = {"==": "!=", "!=": "==", "<=": ">", ">": "<=", ">=": "<", "<": ">="}
_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


class Literal(NamedTuple):
    """One disjunct of a clause (its text with instance marks), and how it may read as
    the premise of an implication: `negation` is the text of `not literal` when it is a
    test of a symbol slot or an equality."""

    text: str
    kind: str = "other"            # "test" (a slot's values) | "neq" (x != y) | "other"
    negation: str | None = None
    slot: int | None = None        # a test's slot, and the values it allows
    allows: tuple = ()
    reads: tuple = ()              # (length slot, position) of each sequence element read


def _natural(text: str) -> list:
    """A sort key that orders `x[2]` before `x[10]`."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def _mark(kind: str, i: int) -> str:
    return f"\x01{kind}\x02{i}\x03"


def _unmarked(text: str) -> str:
    return _MARK.sub(lambda m: m.group(2), text)


def _order_key(text: str) -> tuple:
    """Literals in an order that does not depend on which instance they name."""
    return _natural(_MARK.sub(lambda m: "#", text)), _natural(_unmarked(text))


class _Printer:
    """A Z3 formula over the template slots, in the spec's expression syntax."""

    def __init__(self, ts: TransitionSystem, enc: Encoding):
        self.ts, self.enc = ts, enc
        self.by_name = {x.decl().name(): j for j, x in enumerate(enc.X)}
        self.types: dict[int, object] = {}
        self.len_slots: set[int] = set()
        self.elements: dict[int, tuple[int, int]] = {}   # slot -> (length slot, position)
        for f in ts.layout.fields:
            for rep in f.reps:
                self._types(rep)
        self.symbols = ts.layout.symbols.names
        self.kinds: dict[str, tuple[str, int, bool]] = {}   # kind -> (domain, size, symmetric)
        self.names = self._marked_names()
        self._free: list[str] = []      # names for quantified variables (`_var_names`)

    def _types(self, rep) -> None:
        if isinstance(rep, ScalarRep):
            self.types[rep.slot] = rep.type
        elif hasattr(rep, "elems"):
            for r in rep.elems:
                self._types(r)
            if isinstance(rep, SeqRep):
                self.types.setdefault(rep.len_slot, None)
                self.len_slots.add(rep.len_slot)
                for k, r in enumerate(rep.elems):
                    for s in rep_slots(r):
                        self.elements[s] = (rep.len_slot, k)
        else:
            for s in rep_slots(rep):
                self.types.setdefault(s, None)

    # ------------------------------------------------------------------ slot names
    def _marked_names(self) -> dict[int, str]:
        """Each slot's name in the spec's syntax, an instance's number marked where it
        names a process instance or an identity of a scalarset."""
        names = {j: self._spec_name(s.name, None) for j, s in enumerate(self.ts.slots)}
        for s in self.ts.scalarsets:
            self.kinds["S:" + s.name] = (s.name, s.size, True)
        for f in self.ts.layout.fields:
            if f.per_instance:
                self._instance_names(f, names)
            elif isinstance(f.type, ArrayT) and isinstance(f.type.key, ScalarsetT):
                self._identity_array_names(f, names)
        return names

    def _instance_names(self, f, names: dict) -> None:
        """`P.x[i]`: i an identity where P's instances are a scalarset's (`count: S`)."""
        identity = {slot: (s.name, i) for s in self.ts.scalarsets
                    for i, block in enumerate(s.blocks) for slot in block}
        proc = f.key.split(".")[0]
        for i, rep in enumerate(f.reps):
            slots = rep_slots(rep)
            ident = identity.get(slots[0]) if slots else None
            if ident is not None and ident[1] == i:
                kind = "S:" + ident[0]
            else:
                kind = "P:" + proc
                self.kinds[kind] = (f"0..{len(f.reps) - 1}", len(f.reps), False)
            for j in slots:
                names[j] = self._spec_name(self.ts.slots[j].name, _mark(kind, i))

    def _identity_array_names(self, f, names: dict) -> None:
        """`a[i]` of an array indexed by a scalarset: i an identity."""
        kind = "S:" + f.type.key.name
        for i, rep in enumerate(f.reps[0].elems):
            prefix = f"{f.key}[{i}]"
            for j in rep_slots(rep):
                name = self.ts.slots[j].name
                if name.startswith(prefix):
                    names[j] = f"{f.key}[{_mark(kind, i)}]" + name[len(prefix):]

    @staticmethod
    def _spec_name(name: str, mark: str | None) -> str:
        # "Enactor[1].pc" -> "Enactor.pc[1]" (the spec's way to name a process's field)
        if name.startswith("len(") and name.endswith(")"):
            return f"len({_Printer._spec_name(name[4:-1], mark)})"
        if "." in name and name.split(".", 1)[0].endswith("]"):
            head, tail = name.split(".", 1)
            proc, _, idx = head.partition("[")
            idx = idx[:-1]
            rest = ""
            if "[" in tail:
                tail, _, rest = tail.partition("[")
                rest = "[" + rest
            return f"{proc}.{tail}[{mark or idx}]{rest}"
        return name

    def slot_name(self, j: int) -> str:
        return self.names[j]

    def _slot_of(self, e):
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            return self.by_name.get(e.decl().name())
        return None

    # ------------------------------------------------------------------ terms
    def _value(self, j: int | None, e) -> str:
        """A numeral, as the value of slot j's type when it compares with one."""
        if not (z3.is_int_value(e) or z3.is_bv_value(e)):
            return self.text(e)
        v = e.as_long() if z3.is_int_value(e) else e.as_signed_long()
        return self._show(j, v)

    def text(self, e) -> str:
        """Any subformula or term (with instance marks)."""
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
        bit = self._bit(e)
        if bit is not None:
            return f"(1 if {bit} else 0)" if bit else "0"
        if k == z3.Z3_OP_AND:
            parts = sorted({self.text(c) for c in ch}, key=_order_key)
            if "false" in parts:
                return "false"
            parts = [p for p in parts if p != "true"] or ["true"]
            return " and ".join(f"({p})" if " or " in p or "=>" in p else p for p in parts)
        if k == z3.Z3_OP_OR:
            lits = self._disjuncts(e)
            text = None if lits is None else self._clause_text(lits, bare=False)
            return "true" if text is None else text
        if k == z3.Z3_OP_NOT or (k in _CMP and len(ch) == 2):
            return self.literal(e).text
        if k == z3.Z3_OP_IMPLIES:
            return f"({self.text(ch[0])} => {self.text(ch[1])})"
        if k == z3.Z3_OP_ITE:
            return f"({self.text(ch[1])} if {self.text(ch[0])} else {self.text(ch[2])})"
        arith = {z3.Z3_OP_ADD: " + ", z3.Z3_OP_SUB: " - ", z3.Z3_OP_MUL: " * ",
                 z3.Z3_OP_BADD: " + ", z3.Z3_OP_BSUB: " - ", z3.Z3_OP_BMUL: " * ",
                 z3.Z3_OP_IDIV: " // ", z3.Z3_OP_MOD: " % "}
        if k in arith:
            terms = [self._term(c) for c in ch]
            if k in (z3.Z3_OP_ADD, z3.Z3_OP_BADD):    # summands in one order, whatever Z3's
                terms = sorted(terms, key=lambda t: (t.startswith("-"), _order_key(t)))
            return "(" + arith[k].join(terms).replace("+ -", "- ") + ")"
        if k == z3.Z3_OP_UMINUS:
            return f"-{self._term(ch[0])}"
        return str(e).replace("\n", " ")

    def _term(self, e) -> str:
        """e as an operand of arithmetic: a bool slot as 1 or 0."""
        j = self._slot_of(e)
        if j is not None and isinstance(self.types.get(j), BoolT):
            return f"(1 if {self.slot_name(j)} else 0)"
        # a product with -1 reads better as a negation
        if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_MUL and len(e.children()) == 2 \
                and z3.is_int_value(e.children()[0]) and e.children()[0].as_long() == -1:
            return f"-{self._term(e.children()[1])}"
        return self.text(e)

    # ------------------------------------------------------------------ literals
    def literal(self, e) -> Literal:
        """One literal of a clause: a comparison, a negation, or any other formula."""
        k = e.decl().kind() if z3.is_app(e) else None
        ch = e.children() if z3.is_app(e) else []
        if k == z3.Z3_OP_NOT:
            c = ch[0]
            ck = c.decl().kind() if z3.is_app(c) else None
            if ck in _CMP and len(c.children()) == 2 and ck != z3.Z3_OP_DISTINCT:
                a, b = c.children()
                if z3.is_bool(a) and ck == z3.Z3_OP_EQ:
                    return Literal(f"({self.text(a)}) != ({self.text(b)})")
                return self._compare(a, _NEGATED[_CMP[ck]], b)
            if z3.is_app(c) and ck == z3.Z3_OP_NOT:
                return self.literal(c.children()[0])
            inner = self.literal(c)
            return Literal(f"not {inner.text}" if self._slot_of(c) is not None
                           else f"not ({inner.text})")
        if k in _CMP and len(ch) == 2:
            if z3.is_bool(ch[0]) and k == z3.Z3_OP_EQ:
                return Literal(f"({self.text(ch[0])}) == ({self.text(ch[1])})")
            return self._compare(ch[0], _CMP[k], ch[1])
        return Literal(self.text(e))

    def _bit(self, e) -> str | None:
        """`v in S` when e is the encoding's test of set slot S's bit for v:
        `(S // 2^b) % 2`, or `S % 2`."""
        if not (z3.is_app(e) and e.decl().kind() == z3.Z3_OP_MOD):
            return None
        x, m = e.children()
        if not (z3.is_int_value(m) and m.as_long() == 2):
            return None
        b = 0
        if z3.is_app(x) and x.decl().kind() == z3.Z3_OP_IDIV:
            x, d = x.children()
            if not z3.is_int_value(d) or d.as_long() <= 0 or d.as_long() & (d.as_long() - 1):
                return None
            b = d.as_long().bit_length() - 1
        j = self._slot_of(x)
        ty = self.types.get(j) if j is not None else None
        if not isinstance(ty, SetT):
            return None
        kind, base, width = set_universe(ty.elem, self.ts.layout.symbols)
        if b >= width:
            return ""       # a bit past the set's universe: 0 in every well-typed state
        v = b + (base if kind == "int" else 0)
        return f"{self._shown(ty.elem, v)} in {self.slot_name(j)}"

    def _compare(self, a, op: str, b) -> Literal:
        if self._bit(b) is not None and z3.is_int_value(a):
            a, b, op = b, a, _MIRROR[op]
        bit = self._bit(a)
        if bit is not None and z3.is_int_value(b):
            v = b.as_long()
            ok = [x for x in ((0, 1) if bit else (0,))
                  if {"==": x == v, "!=": x != v, "<": x < v, "<=": x <= v,
                      ">": x > v, ">=": x >= v}[op]]
            if not bit or len(ok) != 1:
                return Literal("true" if ok and (not bit or len(ok) == 2) else "false")
            return Literal(bit if ok == [1] else bit.replace(" in ", " not in ", 1))
        cases = self._by_symbol(a, op, b)
        if cases is not None:
            return cases
        if a.sort() == z3.IntSort():
            got = self._linear_compare(a, op, b)
            if got is not None:
                return got
        ja, jb = self._slot_of(a), self._slot_of(b)
        if ja is None and jb is not None:
            a, b, ja, jb = b, a, jb, ja
            op = _MIRROR[op]
        if ja is not None and z3.is_int_value(b):
            got = self._test(ja, op, b.as_long())
            if got is not None:
                return got
        lhs = self.text(a) if ja is None else self.slot_name(ja)
        return self._plain(lhs, op, self._value(ja, b))

    def _by_symbol(self, a, op: str, b) -> Literal | None:
        """A comparison that does arithmetic on a symbol slot (Spacer may say
        `Worker.pc[1] > Worker.tmp[1]`, which the spec cannot write): its cases, one per
        symbol, `(pc == read and tmp < 1) or ...`; None when it does no such thing.  The
        same for an identity of a scalarset compared with a number (`Node.inbox[i][0] >=
        len(Node.inbox[i])`): its cases, one per identity."""
        if (self._slot_of(a) is not None and z3.is_int_value(b)) or \
                (self._slot_of(b) is not None and z3.is_int_value(a)):
            return None                      # a test of one slot: `_test` words it
        ja, jb = self._slot_of(a), self._slot_of(b)
        if op in ("==", "!=") and ja is not None and jb is not None and \
                isinstance(self.types.get(ja), (SymT, ScalarsetT)) and \
                type(self.types.get(ja)) is type(self.types.get(jb)):
            return None                      # two symbols (or identities) compared: spec syntax
        j = next((j for j in self._slots_in(a, b)
                  if isinstance(self.types.get(j), (SymT, ScalarsetT))
                  and self._domain(j) is not None), None)
        if j is None:
            return None
        x = self.enc.X[j]
        parts = []
        for v in self._domain(j):
            at = [(x, z3.IntVal(v) if z3.is_int(x) else z3.BitVecVal(v, x.size()))]
            cmp = self._compare(z3.simplify(z3.substitute(a, *at)), op,
                                z3.simplify(z3.substitute(b, *at))).text
            if cmp == "false":
                continue
            test = self._test(j, "==", v)
            test = test.text if test is not None else f"{self.slot_name(j)} == {v}"
            if " or " in cmp or " => " in cmp:
                cmp = f"({cmp})"
            parts.append(test if cmp == "true" else f"{test} and {cmp}")
        if not parts:
            return Literal("false")
        return Literal(parts[0] if len(parts) == 1 else
                       "(" + " or ".join(f"({x})" if " and " in x else x for x in parts) + ")")

    def _slots_in(self, *es) -> list[int]:
        out, seen, stack = [], set(), list(es)
        while stack:
            e = stack.pop()
            if e.get_id() in seen:
                continue
            seen.add(e.get_id())
            j = self._slot_of(e)
            if j is not None:
                out.append(j)
            stack.extend(e.children() if z3.is_app(e) else [])
        return sorted(out)

    @staticmethod
    def _plain(lhs: str, op: str, rhs: str) -> Literal:
        if op == "!=":
            return Literal(f"{lhs} != {rhs}", "neq", f"{lhs} == {rhs}")
        return Literal(f"{lhs} {op} {rhs}")

    # -- linear arithmetic
    def _linear(self, e, scale: int, acc: dict) -> int:
        """Adds scale * e to acc (atom text -> [coefficient, expression]); returns the
        constant part."""
        if z3.is_int_value(e):
            return scale * e.as_long()
        k = e.decl().kind() if z3.is_app(e) else None
        ch = e.children() if z3.is_app(e) else []
        if k == z3.Z3_OP_ADD:
            return sum(self._linear(c, scale, acc) for c in ch)
        if k == z3.Z3_OP_SUB:
            return self._linear(ch[0], scale, acc) + \
                sum(self._linear(c, -scale, acc) for c in ch[1:])
        if k == z3.Z3_OP_UMINUS:
            return self._linear(ch[0], -scale, acc)
        if k == z3.Z3_OP_MUL:
            nums = [c for c in ch if z3.is_int_value(c)]
            rest = [c for c in ch if not z3.is_int_value(c)]
            factor = 1
            for c in nums:
                factor *= c.as_long()
            if not rest:
                return scale * factor
            if len(rest) == 1:
                return self._linear(rest[0], scale * factor, acc)
        key = self._term(e)
        acc.setdefault(key, [0, e])[0] += scale
        return 0

    def _atom_key(self, item) -> tuple:
        """Slots first, a global before a process's field, then by name."""
        text, (_, e) = item
        j = self._slot_of(e)
        return (j is None, j is not None and _MARK.search(text) is not None, _order_key(text))

    def _linear_compare(self, a, op: str, b) -> Literal | None:
        """a op b as `left op right + constant`: the first term (in `_atom_key`'s order)
        and those with its sign on the left, the others and the constant on the right."""
        acc: dict = {}
        const = self._linear(a, 1, acc) + self._linear(b, -1, acc)
        atoms = sorted(((t, ce) for t, ce in acc.items() if ce[0] != 0), key=self._atom_key)
        bound = -const           # sum(c * atom) op bound
        if not atoms:
            holds = {"==": 0 == bound, "!=": 0 != bound, "<=": 0 <= bound,
                     ">=": 0 >= bound, "<": 0 < bound, ">": 0 > bound}[op]
            return Literal("true" if holds else "false")
        if op == "<":
            op, bound = "<=", bound - 1
        elif op == ">":
            op, bound = ">=", bound + 1
        if atoms[0][1][0] < 0:
            atoms = [(t, [-c, e]) for t, (c, e) in atoms]
            bound, op = -bound, _MIRROR[op]
        if len(atoms) == 1 and atoms[0][1][0] == 1:
            j = self._slot_of(atoms[0][1][1])
            got = None if j is None else self._test(j, op, bound)
            if got is not None:
                return got
        bools = [self.slot_name(j) for _, (_, e) in atoms
                 if (j := self._slot_of(e)) is not None and isinstance(self.types.get(j), BoolT)]
        if op in ("==", "!=") and len(bools) == 2 == len(atoms) and bound == 0 \
                and atoms[0][1][0] == -atoms[1][1][0]:
            return self._plain(bools[0], op, bools[1])     # `a == b` of two bools
        left = [(t, c) for t, (c, _) in atoms if c > 0]
        right = [(t, -c) for t, (c, _) in atoms if c < 0]
        return self._sum_literal(left, op, right, bound)

    def _sum_literal(self, left, op, right, bound) -> Literal:
        if right and op == ">=" and bound == 1:
            op, bound = ">", 0
        elif right and op == "<=" and bound == -1:
            op, bound = "<", 0
        lhs = _sum(left) if left else "0"
        rhs = _sum(right)
        if not right:
            rhs = str(bound)
        elif bound > 0:
            rhs = f"{rhs} + {bound}"
        elif bound < 0:
            rhs = f"{rhs} - {-bound}"
        return self._plain(lhs, op, rhs)

    # -- one slot against a value
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

    def _test(self, j: int, op: str, v: int) -> Literal | None:
        """slot j `op` v, as the values it allows: true, false, a bool slot or its
        negation, an equality, or membership in a few symbols."""
        dom = self._domain(j)
        if dom is None:
            return None
        test = {"==": lambda x: x == v, "!=": lambda x: x != v, "<": lambda x: x < v,
                "<=": lambda x: x <= v, ">": lambda x: x > v, ">=": lambda x: x >= v}[op]
        ok = [x for x in dom if test(x)]
        text = self._allows(j, ok, dom)
        if text is None:
            return None
        ty = self.types.get(j)
        if isinstance(ty, SymT) or j in self.len_slots:
            neg = self._allows(j, [x for x in dom if x not in ok], dom)
            if neg is not None:
                return Literal(text, "test", neg, j, tuple(ok))
        if not isinstance(ty, BoolT) and len(ok) == len(dom) - 1:    # `x != v`
            return Literal(text, "neq", self._allows(j, [x for x in dom if x not in ok], dom))
        return Literal(text)

    def _show(self, j: int | None, x: int) -> str:
        """Value x of slot j's type: a symbol, a bool, an identity (marked: it is a
        quantified variable or nothing), a set literal, or the integer."""
        return self._shown(self.types.get(j) if j is not None else None, x)

    def _shown(self, ty, x: int) -> str:
        if isinstance(ty, SymT) and 0 <= x < len(self.symbols):
            return self.symbols[x]
        if isinstance(ty, BoolT) and x in (0, 1):
            return "true" if x else "false"
        if isinstance(ty, ScalarsetT) and 0 <= x < ty.size:
            return _mark("S:" + ty.name, x)
        if isinstance(ty, SetT) and x >= 0:
            kind, base, width = set_universe(ty.elem, self.ts.layout.symbols)
            elems = [b + (base if kind == "int" else 0) for b in range(width) if x >> b & 1]
            return "{" + ", ".join(self._shown(ty.elem, v) for v in elems) + "}"
        return str(x)

    def _allows(self, j: int, ok: list[int], dom: list[int]) -> str | None:
        """`slot j is one of ok`, out of the values dom, in the fewest words."""
        name = self.slot_name(j)
        if len(ok) == len(dom):
            return "true"
        if not ok:
            return "false"
        ty = self.types.get(j)
        if isinstance(ty, BoolT):
            return name if ok == [1] else f"not {name}"
        show = (lambda x: self._show(j, x))
        if len(ok) == 1:
            return f"{name} == {show(ok[0])}"
        if len(ok) == len(dom) - 1:
            return f"{name} != {show(next(x for x in dom if x not in ok))}"
        if isinstance(ty, (SymT, ScalarsetT)):
            return f"{name} in {{{', '.join(show(x) for x in ok)}}}"
        if isinstance(ty, SetT):       # no order: a few equalities
            if len(ok) <= _FEW:
                return " or ".join(f"{name} == {show(x)}" for x in ok)
            if len(dom) - len(ok) <= _FEW:
                return " and ".join(f"{name} != {show(x)}" for x in dom if x not in ok)
            return None
        if ok == list(range(ok[0], ok[-1] + 1)):
            if ok[0] == dom[0]:
                return f"{name} <= {ok[-1]}"
            if ok[-1] == dom[-1]:
                return f"{name} >= {ok[0]}"
        return None

    # ------------------------------------------------------------------ clauses
    def _disjuncts(self, e) -> list[Literal] | None:
        """The clause's literals, each once; None when one of them is `true`."""
        ch = e.children() if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_OR else [e]
        seen: dict[str, Literal] = {}
        for c in ch:
            lit = self.literal(c)
            if lit.text == "true":
                return None
            if lit.text != "false":
                reads = {self.elements[j] for x in constants(c)
                         if (j := self._slot_of(x)) in self.elements}
                seen.setdefault(lit.text, lit._replace(reads=tuple(sorted(reads))))
        return list(seen.values())

    def _guards(self, lits: list[Literal]):
        """The clause read only where the sequence elements it reads exist (`s[2]` is an
        error when `len(s) <= 2`; the encoding reads 0 there): a premise on each length,
        merged with the clause's own tests of it.  Returns (premises, the other literals),
        or None when no state with those elements is left (the clause says nothing)."""
        need: dict[int, int] = {}
        for lit in lits:
            for length, k in lit.reads:
                need[length] = max(need.get(length, 0), k + 1)
        premises = []
        for length, n in sorted(need.items()):
            dom = self._domain(length) or list(range(n, self.enc.bounds[length][1] + 1))
            allowed = {v for v in dom if v >= n}
            for lit in lits:
                if lit.kind == "test" and lit.slot == length:
                    allowed -= set(lit.allows)
            if not allowed:
                return None
            text = self._allows(length, sorted(allowed), dom)
            if text is None:
                text = f"{self.slot_name(length)} >= {n}"
            premises.append(text)
            lits = [x for x in lits if not (x.kind == "test" and x.slot == length)]
        return premises, lits

    def _clause_text(self, lits: list[Literal], bare: bool = True) -> str | None:
        """A clause: `A => B` when some literals read as premises, else `a or b`;
        parenthesised unless bare; None when it says nothing (`_guards`)."""
        if not lits:
            return "false"
        guarded = self._guards(lits)
        if guarded is None:
            return None
        guards, lits = guarded
        lits = sorted(lits, key=lambda x: _order_key(x.text))
        if guards:
            body = self._clause_text([x._replace(reads=()) for x in lits]) if lits \
                else "false"
            text = " and ".join(guards) + (" and " if " => " in body else " => ") + body
            return text if bare else f"({text})"
        tests = [x for x in lits if x.kind == "test"]
        neqs = [x for x in lits if x.kind == "neq"]
        others = [x for x in lits if x.kind == "other"]
        premises, conclusion = (tests + neqs, others) if others else (tests, neqs)
        if not conclusion and len(tests) > 1:
            premises, conclusion = tests[:-1], tests[-1:]     # `pc[i] == cs => pc[j] != cs`
        if premises and conclusion:
            premises = sorted(premises, key=lambda x: (x.kind != "test",
                                                       _order_key(x.negation)))
            text = " and ".join(x.negation for x in premises) + " => " + \
                " or ".join(_or_part(x.text) for x in conclusion)
        elif len(lits) == 1:
            return lits[0].text
        else:
            text = " or ".join(_or_part(x.text) for x in lits)
        return text if bare else f"({text})"

    # ------------------------------------------------------------------ the invariant
    def clauses(self, inv) -> list[tuple[str, object]] | None:
        """The clauses of the invariant (text with marks, and the clause); None when one
        of them is `false`."""
        conj = inv.children() if z3.is_app(inv) and inv.decl().kind() == z3.Z3_OP_AND \
            else [inv]
        out = []
        for c in conj:
            lits = self._disjuncts(c)
            if lits is None:
                continue
            if not lits:
                return None
            out.append((lits, c))
        return out

    def wrap(self, text: str, clause) -> str:
        """Hook: a clause's text, quantified as the encoding needs (the parametric cell)."""
        return text

    def render(self, inv) -> str:
        clauses = self.clauses(inv)
        if clauses is None:
            return "false"
        out = self._quantified(clauses)
        if not out:
            return "true"
        if len(out) == 1:
            return out[0]
        return " and\n".join(f"({t})" if _loose(t) else t for t in out)

    # -- symmetric clauses, once for every instance
    def _quantified(self, clauses: list) -> list[str]:
        groups: dict[tuple, set] = {}
        members: dict[tuple, set] = {}
        out: set[str] = set()
        for lits, c in clauses:
            text = self._clause_text(lits)
            if text is None:
                continue
            text = self.wrap(text, c)
            got = self._template(lits, c)
            if got is None:
                out.add(_unmarked(text))
                continue
            key, tuples = got
            groups.setdefault(key, set()).update(tuples)
            members.setdefault(key, set()).add(_unmarked(text))
        for key, tuples in groups.items():
            template, var_kinds = key
            if self._complete(var_kinds, tuples):
                out.add(self._all(template, var_kinds))
            else:
                out |= members[key]
        return sorted(out, key=_natural)

    def _template(self, lits: list[Literal], clause):
        """(template, the kind of each variable) and the instance tuples the clause is,
        the variables named in one canonical way; None when it names no instance."""
        marks = []
        for m in _MARK.finditer(self._clause_text(lits)):
            if (m.group(1), int(m.group(2))) not in marks:
                marks.append((m.group(1), int(m.group(2))))
        if not marks:
            return None
        by_kind: dict[str, list[int]] = {}
        for kind, i in marks:
            by_kind.setdefault(kind, []).append(i)
        if any(len(v) > _MAX_PER_KIND for v in by_kind.values()):
            return None
        kinds = sorted(by_kind)
        var_kinds = tuple(kind for kind in kinds for _ in by_kind[kind])
        names = self._var_names(len(var_kinds))
        best, tuples = None, set()
        for perm in itertools.product(*(itertools.permutations(by_kind[k]) for k in kinds)):
            values = [i for p in perm for i in p]
            assign = {(kind, i): names[n] for n, (kind, i) in enumerate(zip(var_kinds, values))}
            got = self._clause_text([self._retext(x, assign) for x in lits])
            got = self.wrap(self._retext(Literal(got), assign).text, clause)
            if best is None or got < best:
                best, tuples = got, {tuple(values)}
            elif got == best:
                tuples.add(tuple(values))
        return (best, var_kinds), tuples

    @staticmethod
    def _retext(lit: Literal, assign: dict) -> Literal:
        """The literal with instance numbers replaced by variables."""
        def sub(text):
            return None if text is None else \
                _MARK.sub(lambda m: assign[(m.group(1), int(m.group(2)))], text)
        return lit._replace(text=sub(lit.text), negation=sub(lit.negation))

    def _var_names(self, n: int) -> list[str]:
        """n names for quantified variables, none a name of the spec's."""
        if n <= len(self._free):
            return self._free[:n]
        taken = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*",
                               " ".join(s.name for s in self.ts.slots)))
        taken |= set(self.symbols) | {d for d, _, _ in self.kinds.values()} | {"g"}
        out = []
        for base in itertools.chain(_VARS, (f"i{k}" for k in itertools.count(1))):
            if base not in taken:
                out.append(base)
                if len(out) == n:
                    self._free = out
                    return out
        raise AssertionError("unreachable")

    def _complete(self, var_kinds: tuple, tuples: set) -> bool:
        if all(self.kinds[k][2] for k in var_kinds):
            return True
        need = 1
        for kind in set(var_kinds):
            n, size = var_kinds.count(kind), self.kinds[kind][1]
            for r in range(n):
                need *= max(size - r, 0)
        return len(tuples) >= need

    def _all(self, template: str, var_kinds: tuple) -> str:
        names = self._var_names(len(var_kinds))
        fors = []
        for n, kind in enumerate(var_kinds):
            clause = f"for {names[n]} in {self.kinds[kind][0]}"
            same = [names[m] for m in range(n) if var_kinds[m] == kind]
            if same:
                clause += " if " + " and ".join(f"{v} != {names[n]}" for v in same)
            fors.append(clause)
        return f"all({template} {' '.join(fors)})"


def _sum(terms: list[tuple[str, int]]) -> str:
    return " + ".join(t if c == 1 else f"{c} * {t}" for t, c in terms)


def _or_part(text: str) -> str:
    return f"({text})" if " => " in text or " if " in text and not text.startswith("(") \
        else text


def _loose(text: str) -> bool:
    """Does the clause bind looser than `and` (a disjunction or an implication)?"""
    depth = 0
    for k, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and (text.startswith(" or ", k) or text.startswith(" => ", k)):
            return True
    return False


def invariant_text(ts: TransitionSystem, enc: Encoding, inv) -> str:
    """The invariant in the spec's expression syntax over slot names (best effort: sets are
    shown as their bitmasks, symbols by name where they are compared with a slot)."""
    inv = z3.simplify(inv, som=False)
    return _Printer(ts, enc).render(inv)


def param_invariant_text(enc: ParamEncoding, inv) -> str:
    """The invariant in the spec's syntax; a cell's index reads as `g`, quantified over the
    set's declared range in each clause that reads the cell."""
    ps = enc.ps
    cells = {}
    for k in ps.arrays:
        cells[enc.cx[k][0].decl().name()] = ("index", k)
        cells[enc.cx[k][1].decl().name()] = ("value", k)

    def var(k):
        return "g" if len(ps.arrays) == 1 else f"g{k}"

    class Printer(_Printer):
        def text(self, e):
            if z3.is_const(e) and e.decl().name() in cells:
                what, k = cells[e.decl().name()]
                return var(k) if what == "index" else f"{var(k)} in {self.slot_name(k)}"
            if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_NOT \
                    and z3.is_const(e.children()[0]) \
                    and e.children()[0].decl().name() in cells:
                _, k = cells[e.children()[0].decl().name()]
                return f"{var(k)} not in {self.slot_name(k)}"
            return super().text(e)

        def literal(self, e):
            if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_NOT \
                    and z3.is_const(e.children()[0]) \
                    and e.children()[0].decl().name() in cells:
                return Literal(self.text(e))
            return super().literal(e)

        def wrap(self, text, clause):
            names = {x.decl().name() for x in constants(clause)}
            for k in ps.arrays:
                if {enc.cx[k][0].decl().name(), enc.cx[k][1].decl().name()} & names:
                    arr = ps.arrays[k]
                    text = f"all({text} for {var(k)} in {_show(arr.lo)}..{_show(arr.hi)})"
            return text

    return Printer(ps.ts, enc).render(z3.simplify(inv, som=False))




def _show(t: Term) -> str:
    if t.is_const:
        return str(t.value)
    if t.op == "param":
        return t.args[0]
    if t.op in ("add", "sub"):
        return f"{_show(t.args[0])} {'+' if t.op == 'add' else '-'} {_show(t.args[1])}"
    return repr(t)
