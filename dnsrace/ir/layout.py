"""The fixed state layout: every variable, local and program counter as small-integer slots.

Encoding of values in slots:
  int      the integer (bounded by the declared range; `int` is unbounded)
  bool     0 or 1
  symbol   its index in `model.symbols` (the contract's order)
  set      a bitmask over the element type's values: bit (v - lo) for a range LO..HI,
           bit v for bool, bit (symbol index) for symbols
  seq      one length slot, then `max` element slots; unused elements are all 0
  array    one element after another, in index order
"""

from __future__ import annotations

from dataclasses import dataclass

from ..frontend.consteval import order_key
from ..frontend.types import ArrayT, BoolT, IntT, SeqT, SetT, Sym, SymT, Type


@dataclass(frozen=True)
class Slot:
    index: int
    name: str  # e.g. "grants[1]", "Worker.pc[0]"
    lo: int | None
    hi: int | None


@dataclass
class ScalarRep:
    slot: int
    type: Type


@dataclass
class ArrayRep:
    type: ArrayT
    elems: list["Rep"]


@dataclass
class SeqRep:
    type: SeqT
    len_slot: int
    elems: list["Rep"]


Rep = ScalarRep | ArrayRep | SeqRep


@dataclass
class Field:
    """A named part of the state as the contract's JSON shows it: a global variable, or a
    process's pc or local (one rep per instance)."""

    key: str  # "lease", "Worker.pc", "Worker.seen"
    type: Type
    reps: list[Rep]  # one for a global, one per instance for a process field
    per_instance: bool


class SymbolTable:
    def __init__(self, symbols: list[str]):
        self.names = list(symbols)
        self.index = {s: i for i, s in enumerate(symbols)}

    def id(self, s: str) -> int:
        return self.index[s]

    def __len__(self) -> int:
        return len(self.names)


def set_universe(elem: Type, symbols: SymbolTable) -> tuple[str, int, int]:
    """(element kind, base, width) of the bitmask holding a set of `elem`."""
    if isinstance(elem, BoolT):
        return "bool", 0, 2
    if isinstance(elem, IntT):
        return "int", elem.lo, elem.hi - elem.lo + 1
    if isinstance(elem, SymT):
        return "sym", 0, len(symbols)
    raise AssertionError(f"set of {elem} has no finite universe")


def scalar_bounds(t: Type, symbols: SymbolTable) -> tuple[int | None, int | None]:
    if isinstance(t, BoolT):
        return 0, 1
    if isinstance(t, IntT):
        return t.lo, t.hi
    if isinstance(t, SymT):
        if t.values is None:
            return 0, len(symbols) - 1
        ids = [symbols.id(v) for v in t.values]
        return min(ids), max(ids)
    if isinstance(t, SetT):
        _, _, width = set_universe(t.elem, symbols)
        return 0, (1 << width) - 1
    raise AssertionError(t)


class Layout:
    """Allocates slots and converts between Python values and slot values."""

    def __init__(self, symbols: SymbolTable):
        self.symbols = symbols
        self.slots: list[Slot] = []
        self.fields: list[Field] = []

    def _new_slot(self, name: str, lo, hi) -> int:
        # Every slot can hold 0: unused sequence positions are zero-filled.
        lo = None if lo is None else min(lo, 0)
        hi = None if hi is None else max(hi, 0)
        self.slots.append(Slot(len(self.slots), name, lo, hi))
        return len(self.slots) - 1

    def allocate(self, name: str, t: Type) -> Rep:
        if isinstance(t, ArrayT):
            return ArrayRep(t, [self.allocate(f"{name}[{_key(k)}]", t.elem) for k in t.keys])
        if isinstance(t, SeqT):
            ln = self._new_slot(f"len({name})", 0, t.max)
            return SeqRep(t, ln, [self.allocate(f"{name}[{i}]", t.elem) for i in range(t.max)])
        lo, hi = scalar_bounds(t, self.symbols)
        return ScalarRep(self._new_slot(name, lo, hi), t)

    def add_field(self, key: str, t: Type, instances: int | None) -> Field:
        if instances is None:
            f = Field(key, t, [self.allocate(key, t)], False)
        else:
            base = key.split(".")
            f = Field(key, t, [self.allocate(f"{base[0]}[{i}].{base[1]}", t)
                               for i in range(instances)], True)
        self.fields.append(f)
        return f

    # ---------------------------------------------------------------- values <-> slots
    def encode_scalar(self, t: Type, v) -> int:
        if isinstance(t, BoolT):
            return int(bool(v))
        if isinstance(t, IntT):
            return int(v)
        if isinstance(t, SymT):
            return self.symbols.id(str(v))
        if isinstance(t, SetT):
            kind, base, _ = set_universe(t.elem, self.symbols)
            mask = 0
            for x in v:
                mask |= 1 << (self.symbols.id(str(x)) if kind == "sym" else int(x) - base)
            return mask
        raise AssertionError(t)

    def encode(self, rep: Rep, v, out: dict[int, int]) -> None:
        """Write value v into `out` (slot -> value) following rep."""
        if isinstance(rep, ScalarRep):
            out[rep.slot] = self.encode_scalar(rep.type, v)
        elif isinstance(rep, ArrayRep):
            for r, x in zip(rep.elems, v):
                self.encode(r, x, out)
        else:
            out[rep.len_slot] = len(v)
            for i, r in enumerate(rep.elems):
                if i < len(v):
                    self.encode(r, v[i], out)
                else:
                    self.zero(r, out)

    def zero(self, rep: Rep, out: dict[int, int]) -> None:
        for s in rep_slots(rep):
            out[s] = 0

    def decode_scalar(self, t: Type, x: int):
        if isinstance(t, BoolT):
            return bool(x)
        if isinstance(t, IntT):
            return x
        if isinstance(t, SymT):
            return Sym(self.symbols.names[x]) if 0 <= x < len(self.symbols) else x
        if isinstance(t, SetT):
            kind, base, width = set_universe(t.elem, self.symbols)
            out = []
            for b in range(width):
                if x >> b & 1:
                    out.append(Sym(self.symbols.names[b]) if kind == "sym" else
                               bool(b) if kind == "bool" else base + b)
            return frozenset(out)
        raise AssertionError(t)

    def decode(self, rep: Rep, state) -> object:
        """The Python value of rep in a state (a sequence of slot values)."""
        if isinstance(rep, ScalarRep):
            return self.decode_scalar(rep.type, state[rep.slot])
        if isinstance(rep, ArrayRep):
            return tuple(self.decode(r, state) for r in rep.elems)
        n = state[rep.len_slot]
        return tuple(self.decode(r, state) for r in rep.elems[:n])


def rep_slots(rep: Rep) -> list[int]:
    if isinstance(rep, ScalarRep):
        return [rep.slot]
    if isinstance(rep, ArrayRep):
        return [s for r in rep.elems for s in rep_slots(r)]
    return [rep.len_slot] + [s for r in rep.elems for s in rep_slots(r)]


def to_json(t: Type, v):
    """A Python value of type t as the contract's JSON shows it."""
    if isinstance(t, SetT):
        return [to_json(t.elem, x) for x in sorted(v, key=order_key)]
    if isinstance(t, SeqT):
        return [to_json(t.elem, x) for x in v]
    if isinstance(t, ArrayT):
        if isinstance(t.key, SymT):
            return {str(k): to_json(t.elem, x) for k, x in zip(t.keys, v)}
        return [to_json(t.elem, x) for x in v]
    if isinstance(v, Sym):
        return str(v)
    return v


def _key(k) -> str:
    return str(k)


def state_json(layout: Layout, values) -> dict:
    """A state (slot values in order) as the contract's JSON object."""
    out = {}
    for f in layout.fields:
        if f.per_instance:
            out[f.key] = [to_json(f.type, layout.decode(r, values)) for r in f.reps]
        else:
            out[f.key] = to_json(f.type, layout.decode(f.reps[0], values))
    return out


def from_json(t: Type, v, where: str):
    """The Python value of JSON `v` as type t (the inverse of `to_json`); ValueError if it
    does not fit."""
    if isinstance(t, BoolT):
        if isinstance(v, bool):
            return v
    elif isinstance(t, IntT):
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    elif isinstance(t, SymT):
        if isinstance(v, str) and (t.values is None or v in t.values):
            return Sym(v)
    elif isinstance(t, SetT):
        if isinstance(v, list):
            return frozenset(from_json(t.elem, x, where) for x in v)
    elif isinstance(t, SeqT):
        if isinstance(v, list) and (t.max is None or len(v) <= t.max):
            return tuple(from_json(t.elem, x, where) for x in v)
    elif isinstance(t, ArrayT):
        if isinstance(t.key, SymT) and isinstance(v, dict) and set(v) == set(t.keys):
            return tuple(from_json(t.elem, v[str(k)], where) for k in t.keys)
        if isinstance(v, list) and len(v) == len(t.keys):
            return tuple(from_json(t.elem, x, where) for x in v)
    raise ValueError(f"{where}: {json_text(v)} is not a value of type {t}")


def state_from_json(layout: Layout, obj) -> tuple[int, ...]:
    """Slot values of a state given as the contract's JSON object; ValueError if malformed."""
    if not isinstance(obj, dict):
        raise ValueError("a state must be a JSON object")
    missing = [f.key for f in layout.fields if f.key not in obj]
    extra = [k for k in obj if k not in {f.key for f in layout.fields}]
    if missing or extra:
        raise ValueError("the state's fields differ from the spec's: "
                         + (f"missing {', '.join(missing)}" if missing else "")
                         + ("; " if missing and extra else "")
                         + (f"unknown {', '.join(extra)}" if extra else ""))
    out: dict[int, int] = {}
    for f in layout.fields:
        v = obj[f.key]
        if f.per_instance:
            if not isinstance(v, list) or len(v) != len(f.reps):
                raise ValueError(f"{f.key}: expected one value per instance ({len(f.reps)})")
            for i, (r, x) in enumerate(zip(f.reps, v)):
                layout.encode(r, from_json(f.type, x, f"{f.key}[{i}]"), out)
        else:
            layout.encode(f.reps[0], from_json(f.type, v, f.key), out)
    return tuple(out.get(k, 0) for k in range(len(layout.slots)))


def json_text(v) -> str:
    import json
    return json.dumps(v)
