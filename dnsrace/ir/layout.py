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

UNBOUNDED_INT = 1 << 62  # an unbounded `int` slot holds values within +-2^62 (ir/lower.py)


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
        if isinstance(t.elem, SymT):   # in the enumeration's order, as the contract says
            rank = {s: i for i, s in enumerate(t.elem.values)}
            return [str(x) for x in sorted(v, key=lambda x: (rank.get(str(x), len(rank)),
                                                            str(x)))]
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


class StateValueError(ValueError):
    """A JSON value that is not a value of its variable's type.  `name` is the variable's
    part in the spec's words (`record[0]`, `Enactor.plan[2]`); `where` the JSON path to the
    value inside the state object."""

    def __init__(self, name: str, where: tuple, detail: str):
        super().__init__(f"{name}: {detail}")
        self.name, self.where, self.detail = name, where, detail


class StateFieldsError(ValueError):
    """A state object whose fields are not the spec's variables."""


def int_bounds(t: IntT) -> tuple[int, int]:
    """The values an int slot may hold: its range, or +-2^62 for an unbounded end (the
    explicit engine's limit)."""
    return (-UNBOUNDED_INT if t.lo is None else t.lo, UNBOUNDED_INT if t.hi is None else t.hi)


def from_json(t: Type, v, symbols: SymbolTable, name: str, where: tuple = ()):
    """The Python value of JSON `v` as declared type t (the inverse of `to_json`), checked
    exactly against t (range, enumeration, set elements, sequence length, array keys), so
    that it packs into its slots without spilling; StateValueError if it is not of type t."""
    if isinstance(t, BoolT):
        if isinstance(v, bool):
            return v
    elif isinstance(t, IntT):
        lo, hi = int_bounds(t)
        if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
            return v
    elif isinstance(t, SymT):
        known = t.values if t.values is not None else symbols.index
        if isinstance(v, str) and v in known:
            return Sym(v)
    elif isinstance(t, SetT) and isinstance(v, list):
        return _set_from_json(t, v, symbols, name, where)
    elif isinstance(t, SeqT) and isinstance(v, list):
        if t.max is not None and len(v) > t.max:
            raise StateValueError(name, where, f"a sequence of {len(v)} values is longer "
                                  f"than its type {t} allows")
        return tuple(from_json(t.elem, x, symbols, f"{name}[{i}]", where + (i,))
                     for i, x in enumerate(v))
    elif isinstance(t, ArrayT):
        if isinstance(t.key, SymT) and isinstance(v, dict):
            return _enum_array_from_json(t, v, symbols, name, where)
        if not isinstance(t.key, SymT) and isinstance(v, list):
            if len(v) != len(t.keys):
                raise StateValueError(name, where, f"an array of {len(v)} values, but its "
                                      f"type {t} has {len(t.keys)}")
            return tuple(from_json(t.elem, x, symbols, f"{name}[{_key(k)}]", where + (i,))
                         for i, (k, x) in enumerate(zip(t.keys, v)))
    raise StateValueError(name, where, f"{json_brief(v)} is not a value of its type "
                          f"{_type_text(t)}")


def _set_from_json(t: SetT, v: list, symbols, name: str, where: tuple) -> frozenset:
    out = set()
    for i, x in enumerate(v):
        e = from_json(t.elem, x, symbols, f"{name} (element {i})", where + (i,))
        if e in out:
            raise StateValueError(name, where + (i,), f"{json_brief(x)} appears twice in "
                                  "the set")
        out.add(e)
    return frozenset(out)


def _enum_array_from_json(t: ArrayT, v: dict, symbols, name: str, where: tuple) -> tuple:
    keys = [str(k) for k in t.keys]
    missing = [k for k in keys if k not in v]
    unknown = [k for k in v if k not in set(keys)]
    if missing or unknown:
        raise StateValueError(name, where, "its keys are not the index's values ("
                              + _differ(missing, unknown) + f"); its type is {t}")
    return tuple(from_json(t.elem, v[k], symbols, f"{name}[{k}]", where + (k,))
                 for k in keys)


def _differ(missing: list[str], unknown: list[str]) -> str:
    """`missing a, b; unknown c` with at most a few names of each, quoted."""
    def names(xs):
        shown = ", ".join(json_brief(x, 40) for x in xs[:5])
        return shown + (f" and {len(xs) - 5} more" if len(xs) > 5 else "")
    parts = ([f"missing {names(missing)}"] if missing else []) \
        + ([f"unknown {names(unknown)}"] if unknown else [])
    return "; ".join(parts)


def _type_text(t: Type) -> str:
    text = str(t)
    if isinstance(t, SymT) and t.name and t.values is not None and len(t.values) <= 12:
        text += " (" + ", ".join(t.values) + ")"
    if isinstance(t, IntT) and not t.finite:
        text += " (held within +-2^62)"
    return text


def state_from_json(layout: Layout, obj) -> tuple[int, ...]:
    """Slot values of a state given as the contract's JSON object.  Every value is checked
    against its variable's type before anything is packed: StateFieldsError when the fields
    are not the spec's, StateValueError when a value is not of its type."""
    if not isinstance(obj, dict):
        raise StateFieldsError("a state must be a JSON object")
    keys = {f.key for f in layout.fields}
    missing = [f.key for f in layout.fields if f.key not in obj]
    unknown = [k for k in obj if k not in keys]
    if missing or unknown:
        raise StateFieldsError("the state's variables differ from the spec's: "
                               + _differ(missing, unknown))
    values = [_field_from_json(layout, f, obj[f.key]) for f in layout.fields]
    out: dict[int, int] = {}
    for f, vs in zip(layout.fields, values):
        for r, x in zip(f.reps, vs):
            layout.encode(r, x, out)
    return tuple(out.get(k, 0) for k in range(len(layout.slots)))


def _field_from_json(layout: Layout, f: Field, v) -> list:
    """The Python values of one field: one, or one per instance of its process."""
    if not f.per_instance:
        return [from_json(f.type, v, layout.symbols, f.key, (f.key,))]
    process = f.key.split(".")[0]
    if not isinstance(v, list) or len(v) != len(f.reps):
        got = f"{len(v)} values" if isinstance(v, list) else json_brief(v)
        raise StateValueError(f.key, (f.key,), f"{got}, but {process} has {len(f.reps)} "
                              f"instance{'s' if len(f.reps) != 1 else ''}: one value each")
    return [from_json(f.type, x, layout.symbols, f"{f.key}[{i}]", (f.key, i))
            for i, x in enumerate(v)]


def json_brief(v, limit: int = 60) -> str:
    """A JSON value as a short text for a message: nesting, long lists, long strings and
    huge integers are cut (a trace is untrusted and may be large)."""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10 ** 30:
        return f"an integer of {len(str(abs(v)))} digits"
    text = _brief(v, 3)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _brief(v, depth: int) -> str:
    import json
    if isinstance(v, list):
        if depth == 0:
            return "[…]" if v else "[]"
        items = [_brief(x, depth - 1) for x in v[:8]]
        return "[" + ", ".join(items + (["…"] if len(v) > 8 else [])) + "]"
    if isinstance(v, dict):
        if depth == 0:
            return "{…}" if v else "{}"
        items = [f"{json.dumps(k[:40])}: {_brief(x, depth - 1)}" for k, x in list(v.items())[:8]]
        return "{" + ", ".join(items + (["…"] if len(v) > 8 else [])) + "}"
    if isinstance(v, str) and len(v) > 80:
        return json.dumps(v[:80])[:-1] + "…\""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10 ** 30:
        return "…"
    return json.dumps(v)
