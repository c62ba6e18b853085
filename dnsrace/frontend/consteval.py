"""Evaluate constant expressions at load time: bounds, counts, domains, `init`, `assume`.

Only what can be known before any state exists is allowed here: literals, constants,
symbols, enumerations, and the pure operators over them.  This runs once per spec, never
in the search.
"""

from __future__ import annotations

from . import syntax as S
from .model import Ref
from .types import Sym


class ConstError(Exception):
    def __init__(self, message: str, node: S.Expr, hint: str | None = None):
        super().__init__(message)
        self.node = node
        self.hint = hint


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
    """Evaluate a resolved constant expression; `env` binds comprehension variables."""
    env = env or {}
    ev = lambda x: evaluate(x, env)  # noqa: E731
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
                return frozenset(range(_int(a, l), _int(b, r) + 1))
            if isinstance(a, frozenset) and isinstance(b, frozenset):
                return _SET_OPS[op](a, b)
            a, b = _int(a, l), _int(b, r)
            if op in ("//", "%") and b == 0:
                raise ConstError("division by zero", e)
            return _INT_OPS[op](a, b)
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
            results = list(_comprehend(el, cs, 0, dict(env)))
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


def _comprehend(el, clauses, i, env):
    if i == len(clauses):
        yield evaluate(el, env)
        return
    c = clauses[i]
    for v in _iterate(evaluate(c.domain, env), c.domain):
        env[c.var] = v
        if c.cond is None or evaluate(c.cond, env):
            yield from _comprehend(el, clauses, i + 1, env)
