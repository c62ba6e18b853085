"""Evaluate constant expressions at load time: bounds, counts, domains, `init`, `assume`.

Only what can be known before any state exists is allowed here: literals, constants,
symbols, enumerations, and the pure operators over them.  This runs once per spec, never
in the search.
"""

from __future__ import annotations

from ..bounds import MAX_CONST_STEPS, MAX_DOMAIN_VALUES, MAX_INT_LITERAL
from . import syntax as S
from .model import Ref
from .types import Sym


class ConstError(Exception):
    def __init__(self, message: str, node: S.Expr, hint: str | None = None,
                 code: str = "DR301"):
        super().__init__(message)
        self.node = node
        self.hint = hint
        self.code = code


def _too_large(message: str, node: S.Expr, hint: str) -> ConstError:
    return ConstError(message, node, hint, "DR311")


def _int(v, node) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConstError("an integer is needed here", node)
    return v


def _iterate(v, node):
    if isinstance(v, frozenset):
        return sorted(v, key=order_key)
    if isinstance(v, tuple):
        return list(v)
    raise ConstError("a set or sequence is needed here", node)


def order_key(v):
    """The contract's order: integers ascending, false before true, symbols as declared."""
    if isinstance(v, bool):
        return (0, int(v))
    if isinstance(v, int):
        return (1, v)
    if isinstance(v, Sym):
        return (2, SYMBOL_RANK.get(v, 1 << 30), str(v))
    return (3, repr(v))


_SET_OPS = {"|": frozenset.__or__, "&": frozenset.__and__, "-": frozenset.__sub__}
_INT_OPS = {"+": int.__add__, "-": int.__sub__, "*": int.__mul__, "//": int.__floordiv__,
            "%": int.__mod__}

# Set by the model builder before evaluating: symbol -> rank in the contract's order.
SYMBOL_RANK: dict[str, int] = {}


def evaluate(e: S.Expr, env: dict[str, object] | None = None):
    """Evaluate a resolved constant expression; `env` binds comprehension variables.
    Bounded: MAX_CONST_STEPS steps, ranges of MAX_DOMAIN_VALUES values, integers below
    2^63 in magnitude (ConstError with code DR311 past a bound)."""
    return _eval(e, env or {}, [MAX_CONST_STEPS])


def _eval(e: S.Expr, env: dict[str, object], budget: list[int]):
    budget[0] -= 1
    if budget[0] < 0:
        raise _too_large(f"computing this takes more than {MAX_CONST_STEPS:,} steps", e,
                         "make the domains of its comprehensions smaller")
    ev = lambda x: _eval(x, env, budget)  # noqa: E731
    match e:
        case S.Num(value=v):
            return v
        case S.BoolLit(value=v):
            return v
        case S.Name(ref=Ref(kind="const", value=v)):
            return v
        case S.Name(ref=Ref(kind="sym", name=n)):
            return Sym(n)
        case S.Name(ref=Ref(kind="bool", value=v)):
            return v
        case S.Name(ref=Ref(kind="enumset", value=vals)):
            return frozenset(Sym(x) for x in vals)
        case S.Name(ref=Ref(kind="scalarset", value=n)):
            return frozenset(range(n))
        case S.Name(ref=Ref(kind="bound" | "param", name=n)) if n in env:
            return env[n]
        case S.Unary(op="-", operand=o):
            return -_int(ev(o), o)
        case S.Unary(op="not", operand=o):
            return not ev(o)
        case S.BoolOp(op="and", left=l, right=r):
            return bool(ev(l)) and bool(ev(r))
        case S.BoolOp(op="or", left=l, right=r):
            return bool(ev(l)) or bool(ev(r))
        case S.BoolOp(op="=>", left=l, right=r):
            return (not ev(l)) or bool(ev(r))
        case S.IfExp(cond=c, then=t, orelse=o):
            return ev(t) if ev(c) else ev(o)
        case S.BinOp(op=op, left=l, right=r):
            a, b = ev(l), ev(r)
            if op == "..":
                return _range(_int(a, l), _int(b, r), e)
            if isinstance(a, frozenset) and isinstance(b, frozenset):
                return _SET_OPS[op](a, b)
            a, b = _int(a, l), _int(b, r)
            if op in ("//", "%") and b == 0:
                raise ConstError("division by zero", e)
            return _bounded(_INT_OPS[op](a, b), e)
        case S.Compare(operands=ops, ops=cmps):
            vals = [ev(x) for x in ops]
            for a, op, b in zip(vals, cmps, vals[1:]):
                if op == "in":
                    ok = a in b
                elif op == "not in":
                    ok = a not in b
                else:
                    ok = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                          ">": a > b, ">=": a >= b}[op]
                if not ok:
                    return False
            return True
        case S.SetLit(elems=es):
            return frozenset(ev(x) for x in es)
        case S.SeqLit(elems=es):
            return tuple(ev(x) for x in es)
        case S.Comprehension(kind=kind, elem=el, clauses=cs):
            results = list(_comprehend(el, cs, 0, dict(env), budget))
            if kind == "set":
                return frozenset(results)
            if kind == "seq":
                return tuple(results)
            if kind == "all":
                return all(results)
            if kind == "any":
                return any(results)
            if not results:
                raise ConstError(f"{kind} of an empty collection", e)
            return min(results, key=order_key) if kind == "min" else max(results, key=order_key)
        case S.Index(obj=o, index=i):
            seq, k = ev(o), ev(i)
            if not isinstance(seq, tuple) or not isinstance(k, int) or not 0 <= k < len(seq):
                raise ConstError("index out of range", i)
            return seq[k]
        case S.Call(func=f, args=args) if f in ("len", "abs", "min", "max", "head", "tail", "append"):
            vals = [ev(a) for a in args]
            if f == "len":
                return len(vals[0])
            if f == "abs":
                return abs(_int(vals[0], args[0]))
            if f in ("min", "max"):
                pool = list(vals[0]) if len(vals) == 1 else vals
                if not pool:
                    raise ConstError(f"{f} of an empty set", e)
                return (min if f == "min" else max)(pool, key=order_key)
            if f == "head":
                if not vals[0]:
                    raise ConstError("head of an empty sequence", e)
                return vals[0][0]
            if f == "tail":
                if not vals[0]:
                    raise ConstError("tail of an empty sequence", e)
                return vals[0][1:]
            return vals[0] + (vals[1],)
    raise ConstError("this must be known before checking starts (a constant expression)", e,
                     "use only constants, literals and enumeration values here")


def _comprehend(el, clauses, i, env, budget):
    if i == len(clauses):
        yield _eval(el, env, budget)
        return
    c = clauses[i]
    for v in _iterate(_eval(c.domain, env, budget), c.domain):
        env[c.var] = v
        if c.cond is None or _eval(c.cond, env, budget):
            yield from _comprehend(el, clauses, i + 1, env, budget)


def _range(lo: int, hi: int, e: S.Expr) -> frozenset:
    """lo..hi as a set, refused before it is made when it holds over MAX_DOMAIN_VALUES."""
    if hi - lo + 1 > MAX_DOMAIN_VALUES:
        raise _too_large(f"the range {lo}..{hi} has {hi - lo + 1:,} values, more than the "
                         f"{MAX_DOMAIN_VALUES:,} a set or domain may hold", e,
                         "narrow the range: every value of a domain is a separate transition "
                         "or a separate check")
    return frozenset(range(lo, hi + 1))


def _bounded(v: int, e: S.Expr) -> int:
    if abs(v) >= MAX_INT_LITERAL:
        raise _too_large("this constant expression's value is 2^63 or more in magnitude", e,
                         "integers in a spec are below 2^63 in magnitude")
    return v
