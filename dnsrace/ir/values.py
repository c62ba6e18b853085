"""Symbolic values used while lowering: a spec value as terms laid out like the state.

  Scalar  one term: an int, a bool (0/1), a symbol (its index) or a set (a bitmask whose
          bit k stands for element base+k; `ekind` says what the elements are)
  ArrV    an array: its index keys and one value per key
  SeqV    a sequence: a length term and one value per position up to its capacity; the
          positions at and past the length hold all-zero values (canonical padding)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..bounds import MAX_SET_SPAN
from . import terms as T
from .terms import Term


class SetTooWide(ValueError):
    """Two sets whose universes, brought together, would span more than MAX_SET_SPAN values
    (the lowering reports it with the expression's position)."""

    def __init__(self, lo: int, hi: int):
        super().__init__(f"{lo}..{hi}")
        self.lo, self.hi = lo, hi


@dataclass
class Scalar:
    t: Term
    kind: str  # int | bool | sym | set
    ekind: str | None = None  # for sets: int | bool | sym | None (empty literal)
    base: int = 0
    width: int = 0


@dataclass
class ArrV:
    keys: tuple
    keykind: str  # int | sym (for sym, keys are symbol indices)
    elems: list


@dataclass
class SeqV:
    length: Term
    elems: list


Value = Scalar | ArrV | SeqV


def zero_like(v: Value) -> Value:
    if isinstance(v, Scalar):
        return Scalar(T.ZERO, v.kind, v.ekind, v.base, v.width)
    if isinstance(v, ArrV):
        return ArrV(v.keys, v.keykind, [zero_like(x) for x in v.elems])
    return SeqV(T.ZERO, [zero_like(x) for x in v.elems])


def set_align(a: Scalar, b: Scalar) -> tuple[Scalar, Scalar]:
    """Bring two sets to one universe (the union of theirs)."""
    if a.ekind is None or a.width == 0:
        return Scalar(a.t, "set", b.ekind, b.base, b.width), b
    if b.ekind is None or b.width == 0:
        return a, Scalar(b.t, "set", a.ekind, a.base, a.width)
    if (a.base, a.width) == (b.base, b.width):
        return a, b
    base = min(a.base, b.base)
    top = max(a.base + a.width, b.base + b.width)
    if top - base > MAX_SET_SPAN:
        raise SetTooWide(base, top - 1)
    return set_rebase(a, base, top - base), set_rebase(b, base, top - base)


def set_within(a: Scalar, b: Scalar) -> tuple[Scalar, Scalar]:
    """a, and b over a's universe (b's elements outside it dropped): enough for `a - b`,
    `a & b` and `a -= b`, whose results hold only elements of a, however far b's are."""
    if a.ekind is None or a.width == 0 or b.ekind is None or b.width == 0:
        return set_align(a, b)
    return a, set_rebase(b, a.base, a.width)


def set_rebase(a: Scalar, base: int, width: int) -> Scalar:
    """The same set over the universe base..base+width-1 (elements outside are dropped)."""
    if a.base >= base + width or a.base + a.width <= base:
        return Scalar(T.ZERO, "set", a.ekind, base, width)   # no element inside
    t = T.mk("shl", a.t, T.const(a.base - base))
    if a.base < base or a.base + a.width > base + width:
        t = T.mk("band", t, T.const((1 << width) - 1))
    return Scalar(t, "set", a.ekind, base, width)


def merge(c: Term, a: Value, b: Value) -> Value:
    """`a if c else b`, structurally."""
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        if a.kind == "set":
            a, b = set_align(a, b)
        return Scalar(T.ite(c, a.t, b.t), a.kind if a.kind != "set" or a.ekind else b.kind,
                      a.ekind or b.ekind, a.base, a.width)
    if isinstance(a, ArrV) and isinstance(b, ArrV):
        return ArrV(a.keys, a.keykind, [merge(c, x, y) for x, y in zip(a.elems, b.elems)])
    a, b = as_seq(a), as_seq(b)
    n = max(len(a.elems), len(b.elems))
    ea = pad(a.elems, n, b.elems)
    eb = pad(b.elems, n, a.elems)
    return SeqV(T.ite(c, a.length, b.length), [merge(c, x, y) for x, y in zip(ea, eb)])


def as_seq(v: Value) -> SeqV:
    if isinstance(v, SeqV):
        return v
    if isinstance(v, ArrV):
        return SeqV(T.const(len(v.elems)), list(v.elems))
    raise AssertionError(v)


def pad(elems: list, n: int, like: list) -> list:
    """Extend a list of element values to n with zero values shaped like `like`'s."""
    out = list(elems)
    while len(out) < n:
        proto = like[len(out)] if len(out) < len(like) else (out[0] if out else None)
        out.append(zero_like(proto))
    return out


def equal(a: Value, b: Value) -> Term:
    """a == b as a term (structural; sequences compare lengths and the used positions)."""
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        if a.kind == "set":
            a, b = set_align(a, b)
        return T.eq(a.t, b.t)
    if isinstance(a, ArrV) and isinstance(b, ArrV):
        return T.and_(*(equal(x, y) for x, y in zip(a.elems, b.elems)))
    a, b = as_seq(a), as_seq(b)
    n = max(len(a.elems), len(b.elems))
    ea, eb = pad(a.elems, n, b.elems), pad(b.elems, n, a.elems)
    parts = [T.eq(a.length, b.length)]
    for k, (x, y) in enumerate(zip(ea, eb)):
        parts.append(T.or_(T.mk("le", a.length, T.const(k)), equal(x, y)))
    return T.and_(*parts)
