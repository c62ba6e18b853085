"""Types of the spec language: declared types (with bounds) and static expression types.

A declared type carries what a back end needs to store a value (ranges, an enumeration's
symbols, a sequence's `max`, an array's index keys).  Static checking compares *kinds* only:
int, bool, symbol, set, seq and array, as the contract says; bounds are checked at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Sym(str):
    """A symbol value (enumeration value, step name or `done`), distinct from a string."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Sym({str.__repr__(self)})"


@dataclass(frozen=True)
class BoolT:
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class IntT:
    lo: int | None = None
    hi: int | None = None
    # The bounds as written, where they name a symbolic constant (for the parametric IR);
    # not part of the type's identity.
    lo_expr: object = field(default=None, compare=False, repr=False)
    hi_expr: object = field(default=None, compare=False, repr=False)

    @property
    def finite(self) -> bool:
        return self.lo is not None and self.hi is not None

    def __str__(self) -> str:
        return f"{self.lo}..{self.hi}" if self.finite else "int"


@dataclass(frozen=True)
class ScalarsetT(IntT):
    """A scalarset's identities: at run time the integers 0..size-1 (a range, for every
    back end); statically a kind of its own, with no order and no arithmetic."""

    name: str = ""

    @property
    def size(self) -> int:
        return self.hi + 1

    def __str__(self) -> str:
        return self.name


def scalarset(name: str, size: int) -> ScalarsetT:
    return ScalarsetT(0, size - 1, name=name)


def scalarset_in(t) -> ScalarsetT | None:
    """The scalarset a type holds as a value (itself, or its elements'), if any."""
    if isinstance(t, ScalarsetT):
        return t
    if isinstance(t, (SetT, SeqT, ArrayT)):
        return scalarset_in(t.elem)
    return None


@dataclass(frozen=True)
class SymT:
    """Symbols; `values` is the enumeration (None: any symbol, e.g. an expression's type)."""

    values: tuple[str, ...] | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.name:
            return self.name
        if self.values is not None:
            return "{" + ", ".join(self.values) + "}"
        return "symbol"


@dataclass(frozen=True)
class SetT:
    elem: "Type"

    def __str__(self) -> str:
        return f"set of {self.elem}"


@dataclass(frozen=True)
class SeqT:
    elem: "Type"
    max: int | None = None

    def __str__(self) -> str:
        return f"seq of {self.elem}" + (f" max {self.max}" if self.max is not None else "")


@dataclass(frozen=True)
class ArrayT:
    """An array; `keys` are its indices in order (ints, or symbols for an enum index)."""

    key: "Type"  # IntT(lo, hi) or SymT(values)
    keys: tuple
    elem: "Type"

    def __str__(self) -> str:
        return f"[{self.key}]{self.elem}"


@dataclass(frozen=True)
class AnyT:
    """Unknown (after an error, or an unchecked define argument): compatible with all."""

    def __str__(self) -> str:
        return "?"


Type = BoolT | IntT | ScalarsetT | SymT | SetT | SeqT | ArrayT | AnyT

INT = IntT()
BOOL = BoolT()
SYM = SymT()
ANY = AnyT()


def kind(t: Type) -> str:
    if isinstance(t, ScalarsetT):
        return t.name
    return {BoolT: "bool", IntT: "int", SymT: "symbol", SetT: "set", SeqT: "seq",
            ArrayT: "array", AnyT: "any"}[type(t)]


def describe(t: Type) -> str:
    """The static type a user sees in an error: kinds only."""
    if isinstance(t, (SetT, SeqT, ArrayT)):
        name = {SetT: "set", SeqT: "seq", ArrayT: "array"}[type(t)]
        # elements of unknown type: an empty literal ({} or []), or after an error
        return name if isinstance(t.elem, AnyT) else f"{name} of {describe(t.elem)}"
    return kind(t)


def compatible(a: Type, b: Type) -> bool:
    """Static compatibility: same kind all the way down (a list fits an array)."""
    if isinstance(a, AnyT) or isinstance(b, AnyT):
        return True
    if isinstance(a, SeqT) and isinstance(b, ArrayT) or isinstance(a, ArrayT) and isinstance(b, SeqT):
        return compatible(a.elem, b.elem)
    if type(a) is not type(b):
        return False
    if isinstance(a, ScalarsetT):
        return a.name == b.name
    if isinstance(a, (SetT, SeqT)):
        return compatible(a.elem, b.elem)
    if isinstance(a, ArrayT):
        return (len(a.keys) == len(b.keys) and compatible(a.elem, b.elem)
                and isinstance(a.key, ScalarsetT) == isinstance(b.key, ScalarsetT))
    return True


def finite_values(t: Type) -> list | None:
    """Every value of a finite scalar type in the contract's order, or None."""
    if isinstance(t, BoolT):
        return [False, True]
    if isinstance(t, IntT) and t.finite:
        return list(range(t.lo, t.hi + 1))
    if isinstance(t, SymT) and t.values is not None:
        return [Sym(v) for v in t.values]
    return None


def all_values(t: Type) -> list | None:
    """Every value of a declared type (for `init: any`), or None when infinite."""
    import itertools

    scalars = finite_values(t)
    if scalars is not None:
        return scalars
    if isinstance(t, SetT):
        elems = finite_values(t.elem)
        if elems is None:
            return None
        out = []
        for mask in range(1 << len(elems)):
            out.append(frozenset(e for i, e in enumerate(elems) if mask >> i & 1))
        return out
    if isinstance(t, SeqT):
        elems = all_values(t.elem)
        if elems is None or t.max is None:
            return None
        out = []
        for n in range(t.max + 1):
            out.extend(tuple(p) for p in itertools.product(elems, repeat=n))
        return out
    if isinstance(t, ArrayT):
        elems = all_values(t.elem)
        if elems is None:
            return None
        return [tuple(p) for p in itertools.product(elems, repeat=len(t.keys))]
    return None


def contains(t: Type, v) -> bool:
    """Whether value `v` (a Python value as the evaluators use) belongs to declared type `t`."""
    if isinstance(t, AnyT):
        return True
    if isinstance(t, BoolT):
        return isinstance(v, bool)
    if isinstance(t, IntT):
        return (isinstance(v, int) and not isinstance(v, bool)
                and (t.lo is None or v >= t.lo) and (t.hi is None or v <= t.hi))
    if isinstance(t, SymT):
        return isinstance(v, Sym) and (t.values is None or v in t.values)
    if isinstance(t, SetT):
        return isinstance(v, frozenset) and all(contains(t.elem, x) for x in v)
    if isinstance(t, SeqT):
        return (isinstance(v, tuple) and (t.max is None or len(v) <= t.max)
                and all(contains(t.elem, x) for x in v))
    if isinstance(t, ArrayT):
        return isinstance(v, tuple) and len(v) == len(t.keys) and all(contains(t.elem, x) for x in v)
    return False


def value_count(t: Type, cap: int) -> int | None:
    """How many values declared type t has (what `all_values` would list), or None when
    infinite; any count over `cap` is given as cap + 1, so nothing huge is computed."""
    over = cap + 1
    if isinstance(t, BoolT):
        return 2
    if isinstance(t, IntT):
        return min(t.hi - t.lo + 1, over) if t.finite else None
    if isinstance(t, SymT):
        return len(t.values) if t.values is not None else None
    if isinstance(t, SetT):
        n = value_count(t.elem, cap)
        return None if n is None else (1 << n if n < over.bit_length() else over)
    if isinstance(t, (SeqT, ArrayT)):
        n = value_count(t.elem, cap)
        if n is None or isinstance(t, SeqT) and t.max is None:
            return None
        lengths = range(t.max + 1) if isinstance(t, SeqT) else (len(t.keys),)
        total = 0
        for length in lengths:
            total = min(total + capped_power(n, length, over), over)
            if total == over or n == 0:
                break
        return total
    return None


def capped_power(n: int, k: int, over: int) -> int:
    """min(n ** k, over), without computing a huge n ** k."""
    if n <= 1:
        return n ** k
    out = 1
    for _ in range(k):   # at most log2(over) rounds before it saturates
        out *= n
        if out >= over:
            return over
    return out


def slot_count(t: Type, cap: int) -> int:
    """How many integers store a value of declared type t (a set is one bitmask, a sequence
    its length and `max` elements); over `cap` it is given as cap + 1."""
    over = cap + 1
    if isinstance(t, ArrayT):
        return min(len(t.keys) * slot_count(t.elem, cap), over)
    if isinstance(t, SeqT) and t.max is not None:
        return min(1 + t.max * slot_count(t.elem, cap), over)
    return 1
