"""Pure, total terms over the state's integer slots: the language of the transition IR.

Every term denotes an integer (booleans are 0/1) computed from the current state's slots
(`slot`), and in transition properties from the next state's (`post`).  Terms are total:
operations that are errors in the spec language still have a value here (0), and the error
itself is a separate `Failure` condition in the IR, checked before the value is used.  That
keeps back ends simple: generated Python, Z3 and array code can evaluate any term eagerly.

Terms are hash-consed (`mk` returns the same object for the same term) and simplified as
they are built (constant folding, trivial identities), and each carries the interval of its
possible values, which lowering uses to size sets and to skip range checks that cannot fail.
"""

from __future__ import annotations

from dataclasses import dataclass

# op -> arity (None: any).  Documented here once; every back end implements exactly these.
OPS: dict[str, int | None] = {
    "const": 0,     # args: (value,)            the integer value
    "slot": 0,      # args: (index,)            the current state's slot
    "post": 0,      # args: (index,)            the next state's slot (transition properties)
    "add": 2, "sub": 2, "mul": 2, "neg": 1, "abs": 1,
    "div": 2,       # floor division; 0 when the divisor is 0
    "mod": 2,       # a - b*floor(a/b); 0 when the divisor is 0
    "min": 2, "max": 2,
    "eq": 2, "ne": 2, "lt": 2, "le": 2,
    "not": 1, "and": None, "or": None,   # on 0/1 values
    "ite": 3,       # if args[0] != 0 then args[1] else args[2]
    "select": None, # args[0] is an index i; value args[1 + i], or 0 outside 0..n-1
    "bor": 2, "band": 2, "bdiff": 2,     # bitmask union, intersection, a & ~b
    "bit": 2,       # bit args[1] of mask args[0] (0 when args[1] < 0)
    "setbit": 1,    # 1 << args[0] (0 when args[0] < 0)
    "shl": 2,       # args[0] << args[1] for a constant args[1] >= 0 ; >> for negative
    "popcount": 1,
    "lowbit": 1,    # index of the lowest set bit (0 for an empty mask)
    "highbit": 1,   # index of the highest set bit (0 for an empty mask)
    # Only in the parametric IR (`ir.parametric`), which keeps symbolic constants unknown:
    "param": 0,     # args: (name,)             a symbolic constant
    "bound": 0,     # args: (key,)              a bound variable: a loop's or a set's index
    "elem": 1,      # args: (slot, index)       element `index` of array slot `slot` (0/1)
    "exists": 2,    # args: (bound, body)       some integer value of `bound` makes body true
}


@dataclass(frozen=True, eq=False, slots=True)
class Term:
    op: str
    args: tuple
    lo: int | None
    hi: int | None

    def __repr__(self) -> str:
        if self.op in ("const", "slot", "post", "param", "bound"):
            return f"{self.op}({self.args[0]})"
        if self.op == "elem":
            return f"elem({self.args[0]}, {self.args[1]!r})"
        return f"{self.op}({', '.join(map(repr, self.args))})"

    @property
    def is_const(self) -> bool:
        return self.op == "const"

    @property
    def value(self) -> int:
        assert self.op == "const"
        return self.args[0]


_TABLE: dict[tuple, Term] = {}


def _intern(op: str, args: tuple, lo, hi) -> Term:
    key = (op, tuple(a if isinstance(a, (int, str)) else id(a) for a in args))
    t = _TABLE.get(key)
    if t is None:
        t = Term(op, args, lo, hi)
        _TABLE[key] = t
    return t


def const(v: int) -> Term:
    v = int(v)
    return _intern("const", (v,), v, v)


TRUE = const(1)
FALSE = const(0)
ZERO = FALSE


def slot(i: int, lo: int | None, hi: int | None) -> Term:
    return _leaf("slot", i, lo, hi)


def post(i: int, lo: int | None, hi: int | None) -> Term:
    return _leaf("post", i, lo, hi)


def _leaf(op: str, i: int, lo, hi) -> Term:
    # The bounds are part of a slot's identity: two specs may share slot numbers.
    key = (op, (i, lo, hi))
    t = _TABLE.get(key)
    if t is None:
        t = Term(op, (i,), lo, hi)
        _TABLE[key] = t
    return t


def param(name: str, lo: int | None = None, hi: int | None = None) -> Term:
    """A symbolic constant (parametric IR only); lo/hi: what its `assume` guarantees."""
    return _leaf("param", name, lo, hi)


def bound(key, lo: int | None = None, hi: int | None = None) -> Term:
    """A bound variable (parametric IR only): a loop's variable, or the index of an array
    slot's pointwise value; `key` makes it unique."""
    return _leaf("bound", key, lo, hi)


def elem(slot_index: int, index: Term) -> Term:
    """Membership of `index` in the set held by array slot `slot_index` (parametric IR)."""
    return _intern("elem", (slot_index, index), 0, 1)


LEAVES = ("const", "slot", "post", "param", "bound")


def exists(var: Term, body: Term) -> Term:
    """Some integer value of the bound variable `var` makes `body` true (parametric IR).

    Simplified as it is built: distributed over `or`, dropped where `var` does not occur,
    and eliminated by the one-point rule where a conjunct fixes `var` (`var == t`, t free
    of var): then `body[var := t]`, which is quantifier-free."""
    assert var.op == "bound"
    if not occurs(var, body):
        return body
    if body.op == "or":
        return or_(*(exists(var, b) for b in body.args))
    conj = body.args if body.op == "and" else (body,)
    for c in conj:
        # (a or b) and rest: (a and rest) or (b and rest), one quantifier each
        if c.op == "or" and occurs(var, c) and len(c.args) <= 8:
            rest = [x for x in conj if x is not c]
            return or_(*(exists(var, and_(d, *rest)) for d in c.args))
    for c in conj:
        if c.op == "eq":
            a, b = c.args
            for x, t in ((a, b), (b, a)):
                if x is var and not occurs(var, t):
                    return substitute_leaves(body, {id(var): t})
    # Only bounds on var (lo <= var, var <= hi, strict or not): some integer lies between
    # every lower and every upper bound (Fourier-Motzkin, exact for unit coefficients).
    los, his, rest = [], [], []
    for c in conj:
        if not occurs(var, c):
            rest.append(c)
            continue
        if c.op in ("le", "lt"):
            a, b = c.args
            k = 1 if c.op == "lt" else 0
            if b is var and not occurs(var, a):
                los.append(mk("add", a, const(k)))
                continue
            if a is var and not occurs(var, b):
                his.append(mk("sub", b, const(k)))
                continue
        return _intern("exists", (var, body), 0, 1)
    return and_(*rest, *(mk("le", lo, hi) for lo in los for hi in his))


def occurs(leaf: Term, t: Term) -> bool:
    """Does the leaf term occur in t?"""
    return t is leaf or (t.op not in LEAVES and any(x is leaf for x in walk(t)))


def _span(*ts: Term):
    los = [t.lo for t in ts]
    his = [t.hi for t in ts]
    lo = None if any(x is None for x in los) else min(los)
    hi = None if any(x is None for x in his) else max(his)
    return lo, hi


def _arith_bounds(op, a: Term, b: Term):
    if None in (a.lo, a.hi, b.lo, b.hi):
        return None, None
    if op == "add":
        return a.lo + b.lo, a.hi + b.hi
    if op == "sub":
        return a.lo - b.hi, a.hi - b.lo
    if op == "mul":
        c = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        return min(c), max(c)
    if op == "div":
        m = max(abs(a.lo), abs(a.hi))
        return -m, m
    if op == "mod":
        m = max(abs(b.lo), abs(b.hi))
        return -m, m
    return None, None


def _fdiv(a: int, b: int) -> int:
    return a // b if b else 0


def _fmod(a: int, b: int) -> int:
    return a % b if b else 0


_FOLD = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": _fdiv, "mod": _fmod, "min": min, "max": max,
    "eq": lambda a, b: int(a == b), "ne": lambda a, b: int(a != b),
    "lt": lambda a, b: int(a < b), "le": lambda a, b: int(a <= b),
    "bor": lambda a, b: a | b, "band": lambda a, b: a & b, "bdiff": lambda a, b: a & ~b,
    "bit": lambda m, k: (m >> k) & 1 if k >= 0 else 0,
    "shl": lambda a, k: a << k if k >= 0 else a >> -k,
}


def mk(op: str, *args: Term) -> Term:
    """Build a term, folding constants and simplifying where that is obviously right."""
    if op in _FOLD and all(a.is_const for a in args):
        return const(_FOLD[op](*(a.value for a in args)))
    match op:
        case "add":
            a, b = args
            if a.is_const and a.value == 0:
                return b
            if b.is_const and b.value == 0:
                return a
            return _intern(op, args, *_arith_bounds(op, a, b))
        case "sub":
            a, b = args
            if b.is_const and b.value == 0:
                return a
            if a is b:
                return ZERO
            return _intern(op, args, *_arith_bounds(op, a, b))
        case "mul" | "div" | "mod":
            return _intern(op, args, *_arith_bounds(op, *args))
        case "neg":
            (a,) = args
            if a.is_const:
                return const(-a.value)
            return _intern(op, args, None if a.hi is None else -a.hi,
                           None if a.lo is None else -a.lo)
        case "abs":
            (a,) = args
            if a.is_const:
                return const(abs(a.value))
            hi = None if a.lo is None or a.hi is None else max(abs(a.lo), abs(a.hi))
            return _intern(op, args, 0, hi)
        case "min" | "max":
            a, b = args
            if a is b:
                return a
            return _intern(op, args, *_span(a, b))
        case "eq" | "ne" | "lt" | "le":
            a, b = args
            if a is b:
                return TRUE if op in ("eq", "le") else FALSE
            if None not in (a.lo, a.hi, b.lo, b.hi):
                if op == "eq" and (a.hi < b.lo or b.hi < a.lo):
                    return FALSE
                if op == "ne" and (a.hi < b.lo or b.hi < a.lo):
                    return TRUE
                if op == "lt" and a.hi < b.lo or op == "le" and a.hi <= b.lo:
                    return TRUE
                if op == "lt" and a.lo >= b.hi or op == "le" and a.lo > b.hi:
                    return FALSE
            return _intern(op, args, 0, 1)
        case "not":
            (a,) = args
            if a.is_const:
                return const(int(not a.value))
            if a.op == "not":
                return a.args[0]
            return _intern(op, args, 0, 1)
        case "and" | "or":
            unit, zero = (1, 0) if op == "and" else (0, 1)
            flat: list[Term] = []
            for a in args:
                if a.is_const:
                    if bool(a.value) == bool(zero):
                        return const(zero)
                    continue
                parts = a.args if a.op == op else (a,)
                for p in parts:
                    if p not in flat:
                        flat.append(p)
            if not flat:
                return const(unit)
            if len(flat) == 1:
                return flat[0]
            for p in flat:
                # a and not a: false;  a or not a: true (also for a conjunction/disjunction
                # whose every part is already among the operands)
                if p.op == "not":
                    q = p.args[0]
                    if q in flat or (q.op == op and all(x in flat for x in q.args)):
                        return const(zero)
            return _intern(op, tuple(flat), 0, 1)
        case "ite":
            c, a, b = args
            if c.is_const:
                return a if c.value else b
            if a is b:
                return a
            if a.is_const and b.is_const and a.value == 1 and b.value == 0 and c.lo == 0 \
                    and c.hi == 1:
                return c
            return _intern(op, args, *_span(a, b))
        case "select":
            i, *items = args
            if not items:
                return ZERO
            if i.is_const:
                k = i.value
                return items[k] if 0 <= k < len(items) else ZERO
            if all(x is items[0] for x in items) and i.lo is not None and i.hi is not None \
                    and 0 <= i.lo and i.hi < len(items):
                return items[0]
            return _intern(op, args, *_span(*items, ZERO))
        case "bor" | "band" | "bdiff":
            a, b = args
            if op == "bor" and (b.is_const and b.value == 0):
                return a
            if op == "bor" and (a.is_const and a.value == 0):
                return b
            if op == "band" and (a.is_const and a.value == 0 or b.is_const and b.value == 0):
                return ZERO
            if op == "bdiff" and (b.is_const and b.value == 0):
                return a
            if op in ("bor", "band") and a is b:
                return a
            if None in (a.lo, b.lo) or a.lo < 0 or b.lo < 0:
                return _intern(op, args, None, None)  # bit ops on negatives: no bound
            hi = None
            if a.hi is not None and b.hi is not None:
                hi = (1 << max(a.hi.bit_length(), b.hi.bit_length())) - 1
            if op == "bdiff":
                hi = a.hi
            return _intern(op, args, 0, hi)
        case "bit":
            return _intern(op, args, 0, 1)
        case "setbit":
            (k,) = args
            if k.is_const:
                return const(1 << k.value if k.value >= 0 else 0)
            hi = (1 << k.hi) if k.hi is not None and k.hi >= 0 else None
            return _intern(op, args, 0, hi)
        case "shl":
            a, k = args
            assert k.is_const
            if k.value == 0:
                return a
            f = (lambda x: x << k.value) if k.value > 0 else (lambda x: x >> -k.value)
            lo = None if a.lo is None else f(a.lo)
            hi = None if a.hi is None else f(a.hi)
            return _intern(op, args, lo, hi)
        case "popcount" | "lowbit" | "highbit":
            (a,) = args
            if a.is_const:
                m = a.value
                return const({"popcount": bin(m).count("1"),
                              "lowbit": (m & -m).bit_length() - 1 if m else 0,
                              "highbit": m.bit_length() - 1 if m else 0}[op])
            hi = a.hi.bit_length() if a.hi is not None else None
            return _intern(op, args, 0, hi)
        case "elem":
            return elem(*args)
        case "exists":
            return exists(*args)
    raise AssertionError(f"unknown term op {op}")


def ite(c: Term, a: Term, b: Term) -> Term:
    return mk("ite", c, a, b)


def and_(*ts: Term) -> Term:
    return mk("and", *ts)


def or_(*ts: Term) -> Term:
    return mk("or", *ts)


def not_(t: Term) -> Term:
    return mk("not", t)


def eq(a: Term, b: Term) -> Term:
    return mk("eq", a, b)


def in_range(t: Term, lo: int | None, hi: int | None) -> Term:
    """lo <= t <= hi (folded to true when the term's interval already fits)."""
    conds = []
    if lo is not None and (t.lo is None or t.lo < lo):
        conds.append(mk("le", const(lo), t))
    if hi is not None and (t.hi is None or t.hi > hi):
        conds.append(mk("le", t, const(hi)))
    return and_(*conds) if conds else TRUE


def walk(t: Term):
    """Every distinct sub-term of t, children before parents."""
    seen: set[int] = set()
    out: list[Term] = []
    stack = [(t, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in seen:
            continue
        if done or node.op in LEAVES:
            seen.add(id(node))
            out.append(node)
            continue
        stack.append((node, True))
        for a in reversed(node.args):
            if isinstance(a, Term) and id(a) not in seen:
                stack.append((a, False))
    return out


def substitute(t: Term, mapping: dict[int, Term],
               post_mapping: dict[int, Term] | None = None) -> Term:
    """t with `slot(i)` replaced by mapping[i] (and `post(i)` by post_mapping[i]),
    re-simplified."""
    post_mapping = post_mapping or {}

    def leaf(x: Term) -> Term:
        if x.op == "slot":
            return mapping.get(x.args[0], x)
        if x.op == "post":
            return post_mapping.get(x.args[0], x)
        return x

    return rewrite(t, leaf)


def substitute_leaves(t: Term, mapping: dict[int, Term]) -> Term:
    """t with each leaf whose id is in mapping replaced by mapping[id], re-simplified."""
    return rewrite(t, lambda x: mapping.get(id(x), x))


def rewrite(t: Term, leaf, node=None) -> Term:
    """Rebuild t bottom-up: leaves through `leaf(x)`, and every other node through
    `node(x, new_args)` when given (returning None keeps the default rebuild)."""
    memo: dict[int, Term] = {}
    for x in walk(t):
        if x.op in LEAVES:
            out = leaf(x)
        else:
            args = tuple(memo[id(a)] if isinstance(a, Term) else a for a in x.args)
            out = node(x, args) if node is not None else None
            if out is None:
                out = x if all(a is b for a, b in zip(args, x.args)) else mk(x.op, *args)
        memo[id(x)] = out
    return memo[id(t)]
