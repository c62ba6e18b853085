"""The transition IR in Z3: one constant per slot per step, every term op as `terms.OPS`
defines it, and the formulas the symbolic engines need (transition relation, error events,
property violations).

Two encodings of integers (`mode`):

  "bv"   every term is a bit-vector exactly as wide as the interval of values it can take
         (computed here from the slots' bounds; an unbounded `int` slot is within +-2^62 in
         every reachable state, because a write beyond that is a type error).  Operands are
         sign-extended to a common width before an operation and the result truncated back,
         which is exact because every value, operand or result, fits the width it is held
         in.  This is the default: bit-blasted, it suits the SAT-based incremental solvers.
  "int"  every term is a Z3 Int, each state slot constrained to its bounds; the bitmask ops
         go through int2bv/bv2int at the width the interval needs.

Both are exact with respect to the op table (total semantics: division by zero is 0, a
select out of range is 0, and so on); `tests/test_symbolic.py` checks them against the
explicit engine term by term.

Formulas are built once over template constants (the current state `x`, the next state `y`,
the transition taken `act`) and instantiated per step with `z3.substitute`.
"""

from __future__ import annotations

import z3

from ..frontend.types import IntT, SetT, SymT
from ..ir.layout import ArrayRep, ScalarRep, rep_slots, set_universe
from ..ir.lower import UNBOUNDED_LIMIT
from ..ir.system import TransitionSystem
from ..ir.terms import Term, walk

MODES = ("bv", "int")
BOOL_OPS = frozenset({"eq", "ne", "lt", "le", "not", "and", "or", "bit"})
SMALL_RANGE = 64  # an index ranging over at most this many values is expanded into cases
KINDS = ("assertion", "type", "error")  # effect-failure kinds, as the built-in properties
# How the step relation says which transition is taken:
#   onehot       one Bool per transition, exactly one true: the transition taken
#   selector     one bit-vector (or Int) numbering the transitions
#   disjunctive  none: a disjunction, per transition, of "succeeds and every slot is its
#                update or unchanged"
RELATIONS = ("onehot", "selector", "disjunctive")


def signed_width(lo: int, hi: int) -> int:
    """Bits of the smallest two's-complement bit-vector holding every value in lo..hi."""
    def need(v: int) -> int:
        return (v.bit_length() if v >= 0 else (-v - 1).bit_length()) + 1
    return max(need(lo), need(hi), 1)


class Intervals:
    """A sound interval for every term: the values it can take when each slot is within its
    bounds (unbounded slots within +-2^62, the explicit engine's limit)."""

    def __init__(self, ts: TransitionSystem):
        self.slots = ts.slots
        self.memo: dict[int, tuple[int, int]] = {}

    def slot_bounds(self, i: int) -> tuple[int, int]:
        s = self.slots[i]
        return (-UNBOUNDED_LIMIT if s.lo is None else s.lo,
                UNBOUNDED_LIMIT if s.hi is None else s.hi)

    def of(self, root: Term) -> tuple[int, int]:
        got = self.memo.get(id(root))
        if got is not None:
            return got
        for t in walk(root):
            if id(t) not in self.memo:
                self.memo[id(t)] = self._node(t)
        return self.memo[id(root)]

    def _node(self, t: Term) -> tuple[int, int]:
        op, args = t.op, t.args
        if op == "const":
            return args[0], args[0]
        if op in ("slot", "post"):
            return self.slot_bounds(args[0])
        iv = [self.memo[id(a)] for a in args]
        if op in BOOL_OPS:
            return 0, 1
        if op in ("add", "sub", "mul"):
            (alo, ahi), (blo, bhi) = iv
            if op == "add":
                return alo + blo, ahi + bhi
            if op == "sub":
                return alo - bhi, ahi - blo
            c = [alo * blo, alo * bhi, ahi * blo, ahi * bhi]
            return min(c), max(c)
        if op == "neg":
            return -iv[0][1], -iv[0][0]
        if op == "abs":
            lo, hi = iv[0]
            if lo >= 0:
                return lo, hi
            if hi <= 0:
                return -hi, -lo
            return 0, max(-lo, hi)
        if op == "div":
            m = max(abs(iv[0][0]), abs(iv[0][1]))
            return -m, m
        if op == "mod":
            m = max(abs(iv[1][0]), abs(iv[1][1]))
            return -m, m
        if op in ("min", "max", "ite", "select"):
            vals = iv[1:] if op in ("ite", "select") else iv
            if op == "select":
                vals = vals + [(0, 0)]
            return min(v[0] for v in vals), max(v[1] for v in vals)
        if op in ("bor", "band", "bdiff"):
            n = max(signed_width(*iv[0]), signed_width(*iv[1]))
            if iv[0][0] >= 0 and iv[1][0] >= 0:
                return 0, (1 << n) - 1
            return -(1 << n), (1 << n) - 1
        if op == "setbit":
            hi = iv[0][1]
            return (0, 1 << hi) if hi >= 0 else (0, 0)
        if op == "shl":
            k = args[1].args[0]
            f = (lambda x: x << k) if k >= 0 else (lambda x: x >> -k)
            return f(iv[0][0]), f(iv[0][1])
        if op in ("popcount", "lowbit", "highbit"):
            return 0, signed_width(*iv[0]) + 1
        raise AssertionError(f"unknown term op {op}")


def _fit(e, w: int):
    """Bit-vector e sign-extended or truncated to w bits."""
    n = e.size()
    if n < w:
        return z3.SignExt(w - n, e)
    if n > w:
        return z3.Extract(w - 1, 0, e)
    return e


class Translator:
    """Terms over template constants: `as_bool(t)` is t != 0, `as_int(t)` its value (a
    bit-vector of the term's width, or an Int)."""

    def __init__(self, mode: str, iv: Intervals, cur: list, post: list):
        assert mode in MODES
        self.mode = mode
        self.iv = iv
        self.cur = cur
        self.post = post
        self.nat: dict[int, object] = {}     # id(term) -> natural form (Bool or int sort)
        self.isbool: dict[int, bool] = {}
        self.ints: dict[int, object] = {}
        self.bools: dict[int, object] = {}

    # ----------------------------------------------------------------- public
    def as_bool(self, t: Term):
        self._build(t)
        return self._bool(t)

    def as_int(self, t: Term):
        self._build(t)
        return self._int(t)

    def width(self, t: Term) -> int:
        return signed_width(*self.iv.of(t))

    # ----------------------------------------------------------------- plumbing
    def _build(self, root: Term) -> None:
        if id(root) in self.nat:
            return
        for t in walk(root):
            if id(t) not in self.nat:
                self.iv.of(t)
                b, e = self._node(t)
                self.isbool[id(t)] = b
                self.nat[id(t)] = e

    def _bool(self, t: Term):
        got = self.bools.get(id(t))
        if got is None:
            e = self.nat[id(t)]
            if self.isbool[id(t)]:
                got = e
            elif self.mode == "bv":
                got = e != z3.BitVecVal(0, e.size())
            else:
                got = e != 0
            self.bools[id(t)] = got
        return got

    def _int(self, t: Term):
        got = self.ints.get(id(t))
        if got is None:
            e = self.nat[id(t)]
            if self.isbool[id(t)]:
                got = z3.If(e, self._num(1, t), self._num(0, t))
            else:
                got = e
            self.ints[id(t)] = got
        return got

    def _num(self, v: int, t: Term | None = None, w: int | None = None):
        if self.mode == "int":
            return z3.IntVal(v)
        return z3.BitVecVal(v, w if w is not None else self.width(t))

    def _wide(self, t: Term, w: int):
        """The value of t as a w-bit vector (w at least its width)."""
        return _fit(self._int(t), w)

    # ----------------------------------------------------------------- one node
    def _node(self, t: Term):
        op, a = t.op, t.args
        bv = self.mode == "bv"
        if op == "const":
            return False, self._num(a[0], t)
        if op == "slot":
            return False, self.cur[a[0]]
        if op == "post":
            if self.post is None:
                raise AssertionError("a post term outside a transition property")
            return False, self.post[a[0]]
        if op == "not":
            return True, z3.Not(self._bool(a[0]))
        if op in ("and", "or"):
            parts = [self._bool(x) for x in a]
            return True, (z3.And(*parts) if op == "and" else z3.Or(*parts))
        if op in ("eq", "ne", "lt", "le"):
            x, y = self._pair(a[0], a[1])
            return True, {"eq": lambda: x == y, "ne": lambda: x != y,
                          "lt": lambda: x < y, "le": lambda: x <= y}[op]()
        if op == "ite":
            c = self._bool(a[0])
            lo, hi = self.iv.of(t)
            if 0 <= lo and hi <= 1:
                return True, z3.If(c, self._bool(a[1]), self._bool(a[2]))
            if bv:
                w = self.width(t)
                return False, z3.If(c, self._wide(a[1], w), self._wide(a[2], w))
            return False, z3.If(c, self._int(a[1]), self._int(a[2]))
        if op == "select":
            return False, self._select(t)
        if op == "bit":
            return True, self._bit(a[0], a[1])
        if bv:
            return False, self._bv_arith(t)
        return False, self._int_arith(t)

    def _pair(self, x: Term, y: Term):
        if self.mode == "bv":
            w = max(self.width(x), self.width(y))
            return self._wide(x, w), self._wide(y, w)
        return self._int(x), self._int(y)

    def _select(self, t: Term):
        idx, items = t.args[0], t.args[1:]
        lo, hi = self.iv.of(idx)
        w = self.width(t)
        out = self._num(0, w=w)
        i = self._int(idx)
        ks = [k for k in range(len(items)) if lo <= k <= hi]
        for k in reversed(ks):
            item = self._wide(items[k], w) if self.mode == "bv" else self._int(items[k])
            if k == ks[-1] and lo >= 0 and hi < len(items):
                out = item          # the index is always in range: the last needs no test
            else:
                out = z3.If(i == self._num(k, idx), item, out)
        return out

    def _bit(self, m: Term, k: Term):
        """bit k of m ((m >> k) & 1 for k >= 0, else 0) as a Bool."""
        klo, khi = self.iv.of(k)
        if khi < 0:
            return z3.BoolVal(False)
        lo = max(klo, 0)
        if khi - lo < SMALL_RANGE:
            kk = self._int(k)
            cases = []
            for j in range(lo, khi + 1):
                bj = self._bit_const(m, j)
                cases.append(bj if klo == khi else z3.And(kk == self._num(j, k), bj))
            return z3.Or(*cases) if len(cases) > 1 else cases[0]
        w = max(self.width(m), self.width(k))
        mm, kk = self._as_bv(m, w), self._as_bv(k, w)
        shifted = mm >> kk  # arithmetic: bits beyond the width are the sign, as in Python
        got = z3.Extract(0, 0, shifted) == z3.BitVecVal(1, 1)
        if klo < 0:
            got = z3.And(kk >= z3.BitVecVal(0, w), got)
        return got

    def _bit_const(self, m: Term, j: int):
        if self.mode == "bv":
            mm = self._int(m)
            j = min(j, mm.size() - 1)   # beyond the width: the sign bit
            return z3.Extract(j, j, mm) == z3.BitVecVal(1, 1)
        return (self._int(m) / (1 << j)) % 2 == 1   # floor division: exact for negatives too

    def _as_bv(self, t: Term, w: int):
        """t as a w-bit vector in either mode (w at least its width)."""
        if self.mode == "bv":
            return self._wide(t, w)
        return z3.Int2BV(self._int(t), w)

    def _from_bv(self, e, t: Term):
        """A bit-vector result as the node's value in the current mode."""
        if self.mode == "bv":
            return _fit(e, self.width(t))
        return z3.BV2Int(e, is_signed=True)

    # ----------------------------------------------------------------- arithmetic
    def _bv_arith(self, t: Term):
        op, a = t.op, t.args
        wt = self.width(t)
        if op in ("add", "sub", "mul", "min", "max", "div", "mod"):
            w = max(wt, self.width(a[0]), self.width(a[1]))
            x, y = self._wide(a[0], w), self._wide(a[1], w)
            zero = z3.BitVecVal(0, w)
            if op == "add":
                r = x + y
            elif op == "sub":
                r = x - y
            elif op == "mul":
                r = x * y
            elif op == "min":
                r = z3.If(x <= y, x, y)
            elif op == "max":
                r = z3.If(x >= y, x, y)
            elif op == "div":
                q0, r0 = x / y, z3.SRem(x, y)   # truncating (bvsdiv, bvsrem)
                adjust = z3.And(r0 != zero, (r0 < zero) != (y < zero))
                r = z3.If(y == zero, zero, z3.If(adjust, q0 - z3.BitVecVal(1, w), q0))
            else:
                r = z3.If(y == zero, zero, x % y)   # bvsmod: the divisor's sign, as Python
            return _fit(r, wt)
        return _fit(self._bv_common(t), wt)

    def _int_arith(self, t: Term):
        op, a = t.op, t.args
        if op in ("add", "sub", "mul", "min", "max", "div", "mod", "neg", "abs"):
            x = self._int(a[0])
            if op == "neg":
                return -x
            if op == "abs":
                return z3.If(x < 0, -x, x)
            y = self._int(a[1])
            if op == "add":
                return x + y
            if op == "sub":
                return x - y
            if op == "mul":
                return x * y
            if op == "min":
                return z3.If(x <= y, x, y)
            if op == "max":
                return z3.If(x >= y, x, y)
            # SMT-LIB div/mod are Euclidean (remainder >= 0); Python's follow the divisor.
            if a[1].is_const:
                b = a[1].value
                if b == 0:
                    return z3.IntVal(0)
                if b > 0:
                    return x / b if op == "div" else x % b
            qe, re = x / y, x % y
            if op == "div":
                r = z3.If(z3.And(y < 0, re != 0), qe - 1, qe)
            else:
                r = z3.If(z3.And(y < 0, re != 0), re + y, re)
            return z3.If(y == 0, z3.IntVal(0), r)
        if op == "shl":
            k = a[1].value
            x = self._int(a[0])
            return x * (1 << k) if k >= 0 else x / (1 << -k)
        if op == "setbit":
            klo, khi = self.iv.of(a[0])
            if khi < 0:
                return z3.IntVal(0)
            lo = max(klo, 0)
            if khi - lo < SMALL_RANGE:
                kk = self._int(a[0])
                out = z3.IntVal(0)
                for j in range(khi, lo - 1, -1):
                    out = z3.If(kk == j, z3.IntVal(1 << j), out)
                return out
        if op in ("bor", "band", "bdiff", "popcount", "lowbit", "highbit") \
                and all(self.iv.of(x)[0] >= 0 for x in a):
            return self._int_bits(t)
        return self._from_bv(self._bv_common(t), t)

    def _int_bits(self, t: Term):
        """Bitmask ops on non-negative Ints by their bits ((x div 2^j) mod 2), with no
        bit-vector conversion (which the finite-domain solver does not accept)."""
        op, a = t.op, t.args
        n = max(signed_width(*self.iv.of(x)) for x in a)
        bits = [[(self._int(x) / (1 << j)) % 2 == 1 for j in range(n)] for x in a]
        if op in ("bor", "band", "bdiff"):
            x, y = bits
            f = {"bor": z3.Or, "band": z3.And,
                 "bdiff": lambda p, q: z3.And(p, z3.Not(q))}[op]
            return z3.Sum([z3.If(f(x[j], y[j]), z3.IntVal(1 << j), z3.IntVal(0))
                           for j in range(n)])
        (x,) = bits
        if op == "popcount":
            return z3.Sum([z3.If(b, z3.IntVal(1), z3.IntVal(0)) for b in x])
        out = z3.IntVal(0)
        for j in (range(n - 1, -1, -1) if op == "lowbit" else range(n)):
            out = z3.If(x[j], z3.IntVal(j), out)
        return out

    def _bv_common(self, t: Term):
        """Ops computed on bit-vectors in both modes; the result is a bit-vector at least as
        wide as the node's width."""
        op, a = t.op, t.args
        wt = self.width(t)
        if op == "neg":
            w = max(wt, self.width(a[0]))
            return -self._as_bv(a[0], w)
        if op == "abs":
            w = max(wt, self.width(a[0]))
            x = self._as_bv(a[0], w)
            return z3.If(x < z3.BitVecVal(0, w), -x, x)
        if op in ("bor", "band", "bdiff"):
            w = max(wt, self.width(a[0]), self.width(a[1]))
            x, y = self._as_bv(a[0], w), self._as_bv(a[1], w)
            return x | y if op == "bor" else x & y if op == "band" else x & ~y
        if op == "shl":
            k = a[1].value
            w = max(wt, self.width(a[0]))
            x = self._as_bv(a[0], w)
            return x << k if k >= 0 else x >> -k   # >> is arithmetic, as Python's
        if op == "setbit":
            klo, khi = self.iv.of(a[0])
            w = max(wt, self.width(a[0]))
            if khi < 0:
                return z3.BitVecVal(0, w)
            lo = max(klo, 0)
            k = self._as_bv(a[0], w)
            if khi - lo < SMALL_RANGE:
                out = z3.BitVecVal(0, w)
                for j in range(khi, lo - 1, -1):
                    out = z3.If(k == z3.BitVecVal(j, w), z3.BitVecVal(1 << j, w), out)
                return out
            return z3.If(k < z3.BitVecVal(0, w), z3.BitVecVal(0, w), z3.BitVecVal(1, w) << k)
        if op in ("popcount", "lowbit", "highbit"):
            lo, _ = self.iv.of(a[0])
            wa = self.width(a[0])
            w = max(wt, wa + 1)
            x = self._as_bv(a[0], w)
            if op != "lowbit" and lo < 0:   # Python counts the bits of the magnitude
                x = z3.If(x < z3.BitVecVal(0, w), -x, x)
            n = w if op != "lowbit" else wa
            bits = [z3.Extract(j, j, x) == z3.BitVecVal(1, 1) for j in range(n)]
            if op == "popcount":
                return z3.Sum([z3.If(b, z3.BitVecVal(1, w), z3.BitVecVal(0, w)) for b in bits])
            out = z3.BitVecVal(0, w)
            order = range(n - 1, -1, -1) if op == "lowbit" else range(n)
            for j in order:
                out = z3.If(bits[j], z3.BitVecVal(j, w), out)
            return out
        raise AssertionError(f"unknown term op {op}")


class StateVars:
    """The Z3 constants of one step: one per slot, and the transition taken from it."""

    def __init__(self, slots: list, act: list):
        self.slots = slots
        self.act = act  # the constants that say which transition is taken (see RELATIONS)


class Encoding:
    """The transition system's formulas over template constants, instantiated per step."""

    def __init__(self, ts: TransitionSystem, mode: str = "bv", relation: str = "onehot"):
        if mode not in MODES:
            raise ValueError(f"unknown encoding {mode!r}; choose one of {', '.join(MODES)}")
        if relation not in RELATIONS:
            raise ValueError(f"unknown relation {relation!r}; choose one of "
                             f"{', '.join(RELATIONS)}")
        self.ts = ts
        self.mode = mode
        self.style = relation
        self.iv = Intervals(ts)
        self.bounds = [self.iv.slot_bounds(s.index) for s in ts.slots]
        self.n_trans = len(ts.transitions)
        self.act_width = max(1, (max(self.n_trans, 1) - 1).bit_length())
        self.X = self._vars("x")
        self.Y = self._vars("y")
        self.A = self._act("act")
        self.tr = Translator(mode, self.iv, self.X, self.Y)
        self._build()

    # ----------------------------------------------------------------- constants
    def _slot_const(self, name: str, j: int):
        if self.mode == "int":
            return z3.Int(name)
        return z3.BitVec(name, signed_width(*self.bounds[j]))

    def _vars(self, prefix: str) -> list:
        return [self._slot_const(f"{prefix}{j}", j) for j in range(len(self.bounds))]

    def _act(self, name: str) -> list:
        if self.style == "onehot":
            return [z3.Bool(f"{name}{k}") for k in range(self.n_trans)]
        if self.style == "disjunctive":
            return []
        return [z3.Int(name) if self.mode == "int" else z3.BitVec(name, self.act_width)]

    def act_is(self, act: list, k: int):
        """The transition taken is k (selector and one-hot styles)."""
        if self.style == "onehot":
            return act[k]
        a = act[0]
        return a == (z3.IntVal(k) if self.mode == "int" else z3.BitVecVal(k, self.act_width))

    def state(self, name: str) -> StateVars:
        """Fresh constants for one step, named `{name}_{slot}` and `{name}_act`."""
        return StateVars([self._slot_const(f"{name}_{j}", j) for j in range(len(self.bounds))],
                         self._act(f"{name}_act"))

    # ----------------------------------------------------------------- templates
    def _build(self) -> None:
        ts, tr = self.ts, self.tr
        X = self.X
        self.range_x = z3.And(*self._ranges(X)) if X else z3.BoolVal(True)

        self.at_pc, self.enabled, self.ok = [], [], []
        guard_errors = []
        effect_fail = {k: [] for k in KINDS}
        for t in ts.transitions:
            at_pc = z3.BoolVal(True)
            if t.pc is not None:
                at_pc = self._slot_is(X, t.pc[0], t.pc[1])
            gfail = z3.Or(*[tr.as_bool(f.cond) for f in t.guard_failures]) \
                if t.guard_failures else z3.BoolVal(False)
            en = z3.And(at_pc, z3.Not(gfail), tr.as_bool(t.guard))
            efs = [tr.as_bool(f.cond) for f in t.effect_failures]
            ok = z3.And(en, *[z3.Not(c) for c in efs])
            if t.guard_failures:
                guard_errors.append(z3.And(at_pc, gfail))
            for j, f in enumerate(t.effect_failures):
                kind = f.kind if f.kind in ("assertion", "type") else "error"
                first = z3.And(efs[j], *[z3.Not(c) for c in efs[:j]])
                effect_fail[kind].append(z3.And(en, first))
            self.at_pc.append(at_pc)
            self.enabled.append(en)
            self.ok.append(ok)
        self.guard_error = z3.Or(*guard_errors) if guard_errors else z3.BoolVal(False)
        self.effect_fail = {k: (z3.Or(*v) if v else z3.BoolVal(False))
                            for k, v in effect_fail.items()}

        self.relation = self._relation()

        # Properties.
        self.sp_fail, self.sp_bad, self.sp_good = [], [], []
        for p in ts.state_properties:
            fail = z3.Or(*[tr.as_bool(f.cond) for f in p.failures]) if p.failures \
                else z3.BoolVal(False)
            term = tr.as_bool(p.term)
            # bad: the invariant false / the reachable property true (no evaluation error)
            hit = z3.Not(term) if p.kind == "invariant" else term
            self.sp_fail.append(fail)
            self.sp_bad.append(z3.And(z3.Not(fail), hit))
            # good: what an induction proof of the property establishes in every state
            self.sp_good.append(z3.And(z3.Not(fail), z3.Not(hit)))
        self.sp_error = z3.Or(*self.sp_fail) if self.sp_fail else z3.BoolVal(False)
        self.tp_fail, self.tp_bad = [], []
        for p in ts.transition_properties:
            fail = z3.Or(*[tr.as_bool(f.cond) for f in p.failures]) if p.failures \
                else z3.BoolVal(False)
            self.tp_fail.append(fail)
            self.tp_bad.append(z3.And(z3.Not(fail), z3.Not(tr.as_bool(p.term))))
        self.tp_error = z3.Or(*self.tp_fail) if self.tp_fail else z3.BoolVal(False)
        self.typed = z3.And(*self._typed(X)) if X else z3.BoolVal(True)
        terminal = tr.as_bool(ts.terminal) if ts.terminal is not None else z3.BoolVal(False)
        self.deadlock = z3.And(z3.Not(terminal), *[z3.Not(e) for e in self.enabled])

    def _relation(self):
        """The transition relation over x, y and act (see RELATIONS)."""
        ts, tr, X, Y = self.ts, self.tr, self.X, self.Y
        if not self.n_trans:
            return z3.BoolVal(False)

        def assign(j: int, u: Term | None):
            if u is None:
                return Y[j] == X[j]
            if self.mode == "bv":
                w = max(X[j].size(), tr.width(u))
                return _fit(Y[j], w) == _fit(tr.as_int(u), w)
            return Y[j] == tr.as_int(u)

        if self.style == "disjunctive":
            return z3.Or(*[z3.And(self.ok[t.index],
                                  *[assign(j, t.updates.get(j)) for j in range(len(X))])
                           for t in ts.transitions])
        parts = []
        if self.style == "selector":
            a = self.A[0]
            if self.mode == "int":
                parts += [a >= 0, a < self.n_trans]
            elif self.n_trans < (1 << self.act_width):
                parts.append(z3.ULE(a, z3.BitVecVal(self.n_trans - 1, self.act_width)))
            parts.append(z3.Or(*[z3.And(self.act_is(self.A, k), ok)
                                 for k, ok in enumerate(self.ok)]))
        else:
            # one-hot: exactly one chosen, and it succeeds
            parts.append(z3.Or(*self.A))
            if len(self.A) > 1:
                parts.append(z3.AtMost(*self.A, 1))
            parts += [z3.Implies(a, ok) for a, ok in zip(self.A, self.ok)]
        for j in range(len(X)):
            updaters = [(t.index, t.updates[j]) for t in ts.transitions if j in t.updates]
            if self.mode == "bv":
                w = max([X[j].size()] + [tr.width(u) for _, u in updaters])
                new = _fit(X[j], w)
                for k, u in reversed(updaters):
                    new = z3.If(self.act_is(self.A, k), _fit(tr.as_int(u), w), new)
                parts.append(_fit(Y[j], w) == new)
            else:
                new = X[j]
                for k, u in reversed(updaters):
                    new = z3.If(self.act_is(self.A, k), tr.as_int(u), new)
                parts.append(Y[j] == new)
        return z3.And(*parts)

    def _typed(self, S: list) -> list:
        """S is well typed: every value within its declared type (not just its slot's
        bounds, which also admit 0), symbols of the right enumeration, set bits of the
        element type only, and the unused positions of a sequence all 0."""
        layout = self.ts.layout
        out: list = []

        def scalar(rep: ScalarRep):
            x, ty = S[rep.slot], rep.type
            num = (lambda v: z3.IntVal(v)) if self.mode == "int" else \
                (lambda v: z3.BitVecVal(v, x.size()))
            if isinstance(ty, IntT) and ty.finite:
                return [x >= num(ty.lo), x <= num(ty.hi)]
            if isinstance(ty, SymT) and ty.values is not None:
                ids = sorted(layout.symbols.id(v) for v in ty.values)
                if ids == list(range(ids[0], ids[-1] + 1)):
                    return [x >= num(ids[0]), x <= num(ids[-1])]
                return [z3.Or(*[x == num(k) for k in ids])]
            if isinstance(ty, SetT) and isinstance(ty.elem, SymT) \
                    and ty.elem.values is not None:
                allowed = sum(1 << layout.symbols.id(v) for v in ty.elem.values)
                _, _, width = set_universe(ty.elem, layout.symbols)
                bad = ((1 << width) - 1) & ~allowed
                if bad:
                    if self.mode == "bv":
                        return [x & num(bad) == num(0)]
                    return [z3.And(*[(x / (1 << b)) % 2 == 0
                                     for b in range(width) if bad >> b & 1])]
            return []   # bool, unbounded int, other sets: the slot's bounds say it all

        def typed(rep) -> list:
            if isinstance(rep, ScalarRep):
                return scalar(rep)
            if isinstance(rep, ArrayRep):
                return [c for r in rep.elems for c in typed(r)]
            n = S[rep.len_slot]
            num = (lambda v: z3.IntVal(v)) if self.mode == "int" else \
                (lambda v: z3.BitVecVal(v, n.size()))
            cs = []
            for k, r in enumerate(rep.elems):
                inside = typed(r)
                zero = [S[j] == (z3.IntVal(0) if self.mode == "int"
                                 else z3.BitVecVal(0, S[j].size())) for j in rep_slots(r)]
                cs.append(z3.If(num(k) < n, z3.And(*inside) if inside else z3.BoolVal(True),
                                z3.And(*zero)))
            return cs

        for f in layout.fields:
            for rep in f.reps:
                out += typed(rep)
        return out

    def _slot_is(self, S: list, j: int, v: int):
        return S[j] == (z3.IntVal(v) if self.mode == "int" else z3.BitVecVal(v, S[j].size()))

    def _ranges(self, S: list) -> list:
        out = []
        for j, (lo, hi) in enumerate(self.bounds):
            x = S[j]
            if self.mode == "int":
                out += [x >= lo, x <= hi]
            else:
                w = x.size()
                if lo > -(1 << (w - 1)):
                    out.append(x >= z3.BitVecVal(lo, w))
                if hi < (1 << (w - 1)) - 1:
                    out.append(x <= z3.BitVecVal(hi, w))
        return out

    # ----------------------------------------------------------------- instances
    def at(self, template, cur: StateVars, nxt: StateVars | None = None):
        """The template formula on concrete step constants (x := cur, y := nxt,
        act := cur.act)."""
        pairs = list(zip(self.X, cur.slots))
        if nxt is not None:
            pairs += list(zip(self.Y, nxt.slots))
        pairs += list(zip(self.A, cur.act))
        return z3.substitute(template, *pairs)

    def ranges(self, S: StateVars):
        """S's slots within their bounds (every state the relation relates is)."""
        return z3.And(*self._ranges(S.slots)) if S.slots else z3.BoolVal(True)

    def step(self, cur: StateVars, nxt: StateVars):
        """A successful transition from cur to nxt (the one taken is cur.act)."""
        return self.at(self.relation, cur, nxt)

    def initial(self, S: StateVars):
        """S is one of the initial states."""
        init = self.ts.initial
        if not init:
            return z3.BoolVal(False)
        n = len(self.bounds)
        fixed = [j for j in range(n) if all(s[j] == init[0][j] for s in init)]
        varying = sorted(set(range(n)) - set(fixed))
        parts = [self._slot_is(S.slots, j, init[0][j]) for j in fixed]
        if varying:
            parts.append(z3.Or(*[z3.And(*[self._slot_is(S.slots, j, s[j]) for j in varying])
                                 for s in init]))
        return z3.And(*parts) if parts else z3.BoolVal(True)

    def distinct(self, a: StateVars, b: StateVars):
        return z3.Or(*[x != y for x, y in zip(a.slots, b.slots)]) if a.slots \
            else z3.BoolVal(False)

    def values(self, model, S: StateVars) -> tuple[int, ...]:
        """The slot values of S in a model, as Python ints."""
        out = []
        for x in S.slots:
            v = model.eval(x, model_completion=True)
            out.append(v.as_long() if self.mode == "int" else v.as_signed_long())
        return tuple(out)

    def eval_term(self, t: Term, cur: tuple[int, ...], post: tuple[int, ...] | None = None
                  ) -> int:
        """The value of one IR term on concrete slot values, computed by Z3 (for tests)."""
        e = self.tr.as_int(t)
        pairs = [(x, self._val(x, v)) for x, v in zip(self.X, cur)]
        if post is not None:
            pairs += [(y, self._val(y, v)) for y, v in zip(self.Y, post)]
        r = z3.simplify(z3.substitute(e, *pairs))
        return r.as_long() if self.mode == "int" else r.as_signed_long()

    def _val(self, x, v: int):
        return z3.IntVal(v) if self.mode == "int" else z3.BitVecVal(v, x.size())
