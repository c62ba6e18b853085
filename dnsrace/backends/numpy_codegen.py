"""Generate numpy array code from the transition IR, for the level-synchronous engine.

Where `python_codegen` runs one state at a time, this back end evaluates a transition over a
whole frontier at once: a frontier is a uint64 array of packed states (the same `Packing`
as the explicit engine: slot i holds value - lo_i in width_i bits at offset_i), and every
term becomes numpy code over int64 columns, one per slot read.  Compiled once per spec; the
source is generated from IR terms only, never from spec text.

Term ops (see `ir.terms.OPS`) map to numpy as follows: comparisons, `and`, `or`, `not` to
bool arrays; `ite` to `np.where`; `select` to a gather from a stacked 2-D array (or a
constant table) with an out-of-range mask giving 0; `div`/`mod` to `np.floor_divide` and
`np.remainder` (Python's signs) with 0 for a zero divisor; bit operations on int64 with
shift counts clamped so that numpy never shifts by 64 or more; `popcount` to
`np.bitwise_count`; `lowbit`/`highbit` by bit tricks, 0 for an empty mask.

The array engine needs two things the IR does not promise: the packed state fits in one
uint64, and every term's value fits in int64.  `compile_array_system` checks both (from the
slot widths and each term's interval) and raises `ArrayUnsupported` with the reason when a
spec needs more; the caller then uses the per-state engine.

Generated functions (see `ArraySystem`):
  expand_level(F, tp_active, out)   every transition over the frontier F, in any order;
      per transition t it calls, with `ix` positions into F in ascending order:
        out.guard_failures(t, ix, [cond, ...], [number, ...]) -> None, or the bool mask of
            the positions where no guard failure holds (numbers: global guard-failure
            numbers, as `python_codegen.Generated.guard_failures` numbers them)
        out.enabled(t, ix)                      where the transition is enabled
        out.effect_failures(t, ix, [cond, ...], [number, ...]) -> None, or the mask of
            the positions with no effect failure
        out.transition_property(t, k, ix, keys, [cond, ...], fires)   (property k active)
        out.successors(t, ix, keys)             the successors' packed keys (uint64)
      a `cond`/`fires` is a bool array over `ix`, or a Python bool for all of them
  state_props(F, active, out)       out.state_property(k, [cond, ...], fires) per active k
  terminal(F)                       bool array: every process instance is done
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir.system import TransitionSystem
from ..ir.terms import FALSE, TRUE, Term, const, not_, substitute, walk
from .cse import terms_to_hoist
from .loader import comment as _comment, load
from .python_codegen import Packing, packing

INT64_MAX = (1 << 63) - 1
MAX_INLINE_DEPTH = 12
U64 = (1 << 64) - 1


class ArrayUnsupported(Exception):
    """The spec needs something the array engine does not do (the message says what)."""


# ---------------------------------------------------------------- run-time helpers

def _div(a, b):
    z = b == 0
    if not np.any(z):
        return np.floor_divide(a, b)
    return np.where(z, 0, np.floor_divide(a, np.where(z, 1, b)))


def _mod(a, b):
    z = b == 0
    if not np.any(z):
        return np.remainder(a, b)
    return np.where(z, 0, np.remainder(a, np.where(z, 1, b)))


if hasattr(np, "bitwise_count"):
    def _popcount(x):
        return np.bitwise_count(x).astype(np.int64)
else:  # numpy < 2: SWAR on the absolute value (Python's int.bit_count counts |x|'s bits)
    def _popcount(x):
        u = np.uint64
        v = np.abs(np.asarray(x, dtype=np.int64)).view(u)
        v = v - ((v >> u(1)) & u(0x5555555555555555))
        v = (v & u(0x3333333333333333)) + ((v >> u(2)) & u(0x3333333333333333))
        v = (v + (v >> u(4))) & u(0x0F0F0F0F0F0F0F0F)
        return ((v * u(0x0101010101010101)) >> u(56)).astype(np.int64)


def _lowbit(x):
    """Index of the lowest set bit; 0 for 0.  x & -x isolates it; (that - 1) has exactly
    `index` ones (also for the most negative int64, where both wrap)."""
    low = x & -x
    return np.where(x != 0, _popcount(low - 1), 0)


def _highbit(x):
    """Index of the highest set bit of |x| (Python's bit_length - 1); 0 for 0."""
    v = np.abs(x)
    for s in (1, 2, 4, 8, 16, 32):
        v = v | (v >> s)
    return np.where(x != 0, _popcount(v) - 1, 0)


def _bit(a, k):
    """(a >> k) & 1, and 0 for k < 0; shifts of 63 or more give a's sign bit, as in Python."""
    return np.where(k < 0, 0, (a >> np.clip(k, 0, 63)) & 1)


def _setbit(k):
    return np.where(k < 0, 0, np.left_shift(1, np.maximum(k, 0)))


def _select(i, items, n: int, checked: bool):
    """items[i] per position (each item an int64 array or an int), 0 where i is outside
    0..len(items)-1 (unless `checked`: the index's interval says it is always inside)."""
    k = len(items)
    m = np.empty((k + 1, n), dtype=np.int64)
    for r, x in enumerate(items):
        m[r] = x
    m[k] = 0
    j = i if checked else np.where((i >= 0) & (i < k), i, k)
    return m[j, np.arange(n)]


def _lookup(i, table, checked: bool):
    """A constant table indexed by i; the table's last entry is the 0 for out of range."""
    k = len(table) - 1
    j = i if checked else np.where((i >= 0) & (i < k), i, k)
    return table[j]


def _column(cols: dict, F, k: int, off: int, mask: int, lo: int):
    """Slot k of every state in F, unpacked once per call of the generated function."""
    v = cols.get(k)
    if v is None:
        v = ((F >> off) & mask).view(np.int64) if off else (F & mask).view(np.int64)
        if lo:
            v = v + lo
        cols[k] = v
    return v


RUNTIME = {"np": np, "_column": _column, "_div": _div, "_mod": _mod, "_popcount": _popcount,
           "_lowbit": _lowbit, "_highbit": _highbit, "_bit": _bit, "_setbit": _setbit,
           "_select": _select, "_lookup": _lookup}


# ---------------------------------------------------------------- rendering terms

class _Writer:
    """Renders terms as numpy expressions.  Each rendering has a kind: 'c' a Python int
    constant, 'b' a bool array, 'i' an int64 array.  Shared and deep sub-terms are hoisted
    into temporaries (safe: every term is total)."""

    def __init__(self, prefix: str, env: dict[int, str], post_env: dict[int, str] | None,
                 n: str, tables: dict):
        self.prefix = prefix
        self.env = env                 # slot -> variable (an int64 array)
        self.post_env = post_env or {}  # post slot -> variable
        self.n = n                     # the expression for the current length
        self.tables = tables           # shared constant tables: tuple -> global name
        self.names: dict[int, tuple[str, str]] = {}
        self.count = 0

    def section(self, roots: list[Term], indent: str) -> list[str]:
        """Lines defining temporaries that `roots` share; call before rendering them."""
        lines = []
        for t in terms_to_hoist(roots, set(self.names), MAX_INLINE_DEPTH):
            expr, kind = self.render(t)
            if kind != "c":                      # constants stay inline
                name = f"{self.prefix}{self.count}"
                self.count += 1
                lines.append(f"{indent}{name} = {expr}")
                self.names[id(t)] = (name, kind)
        return lines

    # -- coercions
    @staticmethod
    def as_int(r: tuple[str, str]) -> str:
        e, k = r
        return f"{e}.astype(np.int64)" if k == "b" else e

    @staticmethod
    def as_bool(r: tuple[str, str]) -> str:
        e, k = r
        if k == "b":
            return e
        if k == "c":
            return repr(bool(int(e)))
        return f"({e} != 0)"

    def render_bool(self, t: Term) -> str:
        return self.as_bool(self.render(t))

    def render_int(self, t: Term) -> str:
        return self.as_int(self.render(t))

    def render(self, t: Term) -> tuple[str, str]:
        got = self.names.get(id(t))
        if got is not None:
            return got
        op, a = t.op, t.args
        if op == "const":
            return repr(a[0]), "c"
        if op == "slot":
            return self.env[a[0]], "i"
        if op == "post":
            return self.post_env[a[0]], "i"
        args = [self.render(x) for x in a if isinstance(x, Term)]
        if args and all(k == "c" for _, k in args):
            return repr(_fold(op, [int(e) for e, _ in args])), "c"
        I = self.as_int
        B = self.as_bool
        if op in ("add", "sub", "mul", "bor", "band"):
            sym = {"add": "+", "sub": "-", "mul": "*", "bor": "|", "band": "&"}[op]
            return f"({I(args[0])} {sym} {I(args[1])})", "i"
        if op == "bdiff":
            return f"({I(args[0])} & ~{I(args[1])})", "i"
        if op == "neg":
            return f"(-{I(args[0])})", "i"
        if op == "abs":
            return f"np.abs({I(args[0])})", "i"
        if op in ("min", "max"):
            return f"np.{op}imum({I(args[0])}, {I(args[1])})", "i"
        if op in ("div", "mod"):
            b = a[1]
            if b.is_const:
                if b.value == 0:
                    return "0", "c"
                fn = "np.floor_divide" if op == "div" else "np.remainder"
                return f"{fn}({I(args[0])}, {b.value})", "i"
            return f"_{op}({I(args[0])}, {I(args[1])})", "i"
        if op in ("eq", "ne", "lt", "le"):
            sym = {"eq": "==", "ne": "!=", "lt": "<", "le": "<="}[op]
            x, y = args
            if op in ("eq", "ne") and x[1] == y[1] == "b":
                return f"({x[0]} {sym} {y[0]})", "b"
            return f"({I(x)} {sym} {I(y)})", "b"
        if op == "not":
            return f"(~{B(args[0])})", "b"
        if op in ("and", "or"):
            sym = " & " if op == "and" else " | "
            return "(" + sym.join(B(x) for x in args) + ")", "b"
        if op == "ite":
            c, x, y = args
            if x[1] == "b" and y[1] == "b":
                return f"np.where({B(c)}, {x[0]}, {y[0]})", "b"
            return f"np.where({B(c)}, {I(x)}, {I(y)})", "i"
        if op == "select":
            idx, items = a[0], a[1:]
            checked = idx.lo is not None and idx.hi is not None and 0 <= idx.lo \
                and idx.hi < len(items)
            if all(x.is_const for x in items):
                key = tuple(x.value for x in items) + (0,)
                name = self.tables.get(key)
                if name is None:
                    name = f"_table{len(self.tables)}"
                    self.tables[key] = name
                return f"_lookup({I(args[0])}, {name}, {checked})", "i"
            its = ", ".join(I(x) for x in args[1:])
            return f"_select({I(args[0])}, ({its},), {self.n}, {checked})", "i"
        if op == "bit":
            k = a[1]
            if k.is_const:
                if k.value < 0:
                    return "0", "c"
                return f"(({I(args[0])} >> {min(k.value, 63)}) & 1)", "i"
            if k.lo is not None and k.lo >= 0:
                sh = I(args[1]) if k.hi is not None and k.hi <= 63 else \
                    f"np.minimum({I(args[1])}, 63)"
                return f"(({I(args[0])} >> {sh}) & 1)", "i"
            return f"_bit({I(args[0])}, {I(args[1])})", "i"
        if op == "setbit":
            k = a[0]
            if k.lo is not None and k.lo >= 0:
                return f"np.left_shift(1, {I(args[0])})", "i"
            return f"_setbit({I(args[0])})", "i"
        if op == "shl":
            k = a[1].value
            if k >= 0:
                return f"({I(args[0])} << {k})", "i"
            return f"({I(args[0])} >> {min(-k, 63)})", "i"
        if op == "popcount":
            return f"_popcount({I(args[0])})", "i"
        if op == "lowbit":
            return f"_lowbit({I(args[0])})", "i"
        if op == "highbit":
            return f"_highbit({I(args[0])})", "i"
        raise AssertionError(op)


def _fold(op: str, v: list[int]) -> int:
    """A term over constants, as the IR defines it (for the rare unfolded one)."""
    from ..ir.terms import _FOLD
    if op in _FOLD:
        return _FOLD[op](*v)
    if op == "neg":
        return -v[0]
    if op == "abs":
        return abs(v[0])
    if op == "not":
        return int(not v[0])
    if op == "and":
        return int(all(v))
    if op == "or":
        return int(any(v))
    if op == "ite":
        return v[1] if v[0] else v[2]
    if op == "select":
        return v[1 + v[0]] if 0 <= v[0] < len(v) - 1 else 0
    if op == "setbit":
        return 1 << v[0] if v[0] >= 0 else 0
    if op == "popcount":
        return v[0].bit_count()
    if op == "lowbit":
        return (v[0] & -v[0]).bit_length() - 1 if v[0] else 0
    if op == "highbit":
        return v[0].bit_length() - 1 if v[0] else 0
    raise AssertionError(op)


# ---------------------------------------------------------------- the generated module

def _slots_read(terms, op: str = "slot") -> set[int]:
    return {x.args[0] for t in terms for x in walk(t) if x.op == op}


def _unpack(pk: Packing, k: int, src: str) -> str:
    mask = (1 << pk.widths[k]) - 1
    shifted = f"({src} >> {pk.offsets[k]})" if pk.offsets[k] else src
    expr = f"({shifted} & {mask}).view(np.int64)"
    lo = pk.los[k]
    if lo > 0:
        expr = f"({expr} + {lo})"
    elif lo < 0:
        expr = f"({expr} - {-lo})"
    return expr


@dataclass
class ArraySystem:
    """The generated array functions of one spec, compiled once."""

    source: str
    packing: Packing
    n_transitions: int
    expand_level: object
    state_props: object
    terminal: object


def check_supported(ts: TransitionSystem, pk: Packing) -> None:
    """Raise ArrayUnsupported when a state does not pack into 64 bits or some term's value
    may not fit in int64."""
    total = sum(pk.widths)
    if total > 64:
        raise ArrayUnsupported(f"a state needs {total} bits, more than the 64 of one key")
    roots: list[Term] = []
    for t in ts.transitions:
        roots += [t.guard, *(f.cond for f in t.guard_failures),
                  *(f.cond for f in t.effect_failures), *t.updates.values()]
    for p in ts.state_properties:
        roots += [p.term, *(f.cond for f in p.failures)]
    for p in ts.transition_properties:
        roots += [p.term, *(f.cond for f in p.failures)]
    if ts.terminal is not None:
        roots.append(ts.terminal)
    seen: set[int] = set()
    for r in roots:
        for x in walk(r):
            if id(x) in seen:
                continue
            seen.add(id(x))
            if x.lo is None or x.hi is None or x.lo < -INT64_MAX or x.hi > INT64_MAX:
                raise ArrayUnsupported("some value may not fit in 64 bits (an unbounded int, "
                                       "or a very large set)")


def generate(ts: TransitionSystem) -> tuple[str, Packing]:
    pk = packing(ts)
    check_supported(ts, pk)
    tables: dict = {}
    body: list[str] = []

    # global failure numbers, as python_codegen numbers them
    gnum: dict[int, int] = {}
    enum: dict[int, int] = {}
    for t in ts.transitions:
        for f in t.guard_failures:
            gnum[id(f)] = len(gnum)
        for f in t.effect_failures:
            enum[id(f)] = len(enum)

    # ---- expand_level: transitions grouped by their pc test
    groups: dict[tuple | None, list] = {}
    for t in ts.transitions:
        groups.setdefault(t.pc, []).append(t)
    body.append("def expand_level(F, tp_active, out):")
    body.append("    n = F.shape[0]")
    pc_slots = sorted({pc[0] for pc in groups if pc is not None})
    for k in pc_slots:
        mask = (1 << pk.widths[k]) - 1
        src = f"(F >> {pk.offsets[k]})" if pk.offsets[k] else "F"
        body.append(f"    p{k} = {src} & {mask}")
    for g, (pc, members) in enumerate(groups.items()):
        body += _group_code(ts, pk, g, pc, members, gnum, enum, tables)
    body.append("    return None")
    body.append("")

    # ---- state properties
    body.append("def state_props(F, active, out):")
    body.append("    n = F.shape[0]")
    body.append("    cols = {}")
    for k, p in enumerate(ts.state_properties):
        fires = not_(p.term) if p.kind == "invariant" else p.term
        conds = [f.cond for f in p.failures]
        reads = sorted(_slots_read([fires, *conds]))
        body.append(f"    if active & {1 << k}:")
        for j in reads:   # only the slots of the properties still evaluated
            body.append(f"        v{j} = _column(cols, F, {j}, {pk.offsets[j]}, "
                        f"{(1 << pk.widths[j]) - 1}, {pk.los[j]})")
        w = _Writer(f"s{k}_", {j: f"v{j}" for j in reads}, None, "n", tables)
        body += w.section([fires, *conds], "        ")
        cs = ", ".join(w.render_bool(c) for c in conds)
        body.append(f"        out.state_property({k}, [{cs}], {w.render_bool(fires)})")
    body.append("    return None")
    body.append("")

    # ---- terminal
    body.append("def terminal(F):")
    body.append("    n = F.shape[0]")
    if ts.terminal is None:
        body.append("    return np.zeros(n, dtype=np.bool_)")
    else:
        reads = sorted(_slots_read([ts.terminal]))
        for k in reads:
            body.append(f"    v{k} = {_unpack(pk, k, 'F')}")
        w = _Writer("z", {k: f"v{k}" for k in reads}, None, "n", tables)
        body += w.section([ts.terminal], "    ")
        e = w.render_bool(ts.terminal)
        body.append(f"    return np.broadcast_to(np.asarray({e}, dtype=np.bool_), (n,))")
    body.append("")

    name = _comment(ts.name)
    head = [f"# Generated by dnsrace (array back end) from spec '{name}'. Do not edit.",
            "# F: packed states (uint64); slot i is ((F >> OFFSET_i) & MASK_i) + LO_i.", ""]
    for s in ts.slots:
        head.append(f"# slot {s.index:>3}: {_comment(s.name)}  bits {pk.offsets[s.index]}.."
                    f"{pk.offsets[s.index] + pk.widths[s.index] - 1}")
    head.append("")
    for key, name in tables.items():
        head.append(f"{name} = np.array({list(key)!r}, dtype=np.int64)")
    head.append("")
    return "\n".join(head + body) + "\n", pk


def _group_code(ts, pk, g, pc, members, gnum, enum, tables) -> list[str]:
    """The transitions that share one pc test (or have none)."""
    L: list[str] = []
    ind = "    "
    if pc is None:
        L.append(f"{ind}# transitions without a program counter")
        L.append(f"{ind}ix = np.arange(n)")
        L.append(f"{ind}if True:")
        src_known: dict[int, Term] = {}
    else:
        k, val = pc
        L.append(f"{ind}# at {_comment(ts.slots[k].name)} == {val}")
        L.append(f"{ind}ix = np.flatnonzero(p{k} == {val - pk.los[k]})")
        L.append(f"{ind}if ix.size:")
        src_known = {k: const(val)}
    ind += "    "
    L.append(f"{ind}S = F[ix]")
    L.append(f"{ind}m = ix.shape[0]")

    def sub(x: Term) -> Term:
        return substitute(x, src_known) if src_known else x

    guard_terms = []
    for t in members:
        guard_terms += [sub(t.guard), *(sub(f.cond) for f in t.guard_failures)]
    greads = sorted(_slots_read(guard_terms))
    for k in greads:
        L.append(f"{ind}v{k} = {_unpack(pk, k, 'S')}")
    for t in members:
        L += _transition_code(ts, pk, t, src_known, set(greads), gnum, enum, tables, ind)
    return L


def _transition_code(ts, pk, t, known, greads: set, gnum, enum, tables, ind) -> list[str]:
    L = [f"{ind}# transition {t.index}: {_comment(t.name)}"]
    T = t.index

    def sub(x: Term) -> Term:
        return substitute(x, known) if known else x

    genv = {k: f"v{k}" for k in greads}
    w = _Writer(f"g{T}_", genv, None, "m", tables)
    guard = sub(t.guard)
    gfails = [(gnum[id(f)], sub(f.cond)) for f in t.guard_failures]
    gfails = [(num, c) for num, c in gfails if c is not FALSE]
    L += w.section([guard, *(c for _, c in gfails)], ind)
    compact = False
    if gfails:
        conds = ", ".join(w.render_bool(c) for _, c in gfails)
        nums = ", ".join(str(num) for num, _ in gfails)
        L.append(f"{ind}okg = out.guard_failures({T}, ix, [{conds}], [{nums}])")
        if guard is TRUE:
            L.append(f"{ind}en = okg")
        else:
            L.append(f"{ind}en = {w.render_bool(guard)}")
            L.append(f"{ind}if okg is not None:")
            L.append(f"{ind}    en = en & okg")
        L.append(f"{ind}e = None if en is None else np.flatnonzero(en)")
        compact = True
    elif guard is FALSE:
        L.append(f"{ind}pass  # never enabled")
        return L
    elif guard is not TRUE:
        L.append(f"{ind}e = np.flatnonzero({w.render_bool(guard)})")
        compact = True
    maybe_all = bool(gfails)   # e is None: no guard failure, and a guard that is true
    if compact and maybe_all:
        L.append(f"{ind}if e is None:")
        L.append(f"{ind}    E, SE, me = ix, S, m")
        L.append(f"{ind}else:")
        L.append(f"{ind}    E, SE, me = ix[e], S[e], e.shape[0]")
    elif compact:
        L.append(f"{ind}E, SE, me = ix[e], S[e], e.shape[0]")
    else:
        L.append(f"{ind}E, SE, me = ix, S, m")
    L.append(f"{ind}out.enabled({T}, E)")
    L.append(f"{ind}if me:")
    ind2 = ind + "    "

    # effect stage: failures, then updates, then transition properties
    efails = [(enum[id(f)], sub(f.cond)) for f in t.effect_failures]
    efails = [(num, c) for num, c in efails if c is not FALSE]
    news = {k: sub(v) for k, v in sorted(t.updates.items())}
    olds = {k: (known.get(k) or ts.slot_term(k)) for k in news}
    const_post = {k: v for k, v in news.items() if v.is_const}
    named_post = {k for k, v in news.items() if not v.is_const}
    tprops = []
    for k, p in enumerate(ts.transition_properties):
        post_terms = {s: const_post.get(s) or known.get(s) or ts.slot_term(s)
                      for s in range(len(ts.slots)) if s not in named_post}
        fires = substitute(not_(p.term), known, post_terms)
        conds = [substitute(f.cond, known, post_terms) for f in p.failures]
        tprops.append((k, fires, conds))
    stage_terms = [*(c for _, c in efails), *news.values(), *olds.values()]
    for _, fires, conds in tprops:
        stage_terms += [fires, *conds]
    reads = sorted(_slots_read(stage_terms))
    for k in reads:
        if k in greads:
            L.append(f"{ind2}x{k} = v{k} if e is None else v{k}[e]" if compact and maybe_all
                     else f"{ind2}x{k} = v{k}[e]" if compact else f"{ind2}x{k} = v{k}")
        else:
            L.append(f"{ind2}x{k} = {_unpack(pk, k, 'SE')}")
    env = {k: f"x{k}" for k in reads}
    w = _Writer(f"e{T}_", env, None, "me", tables)
    if efails:
        L += w.section([c for _, c in efails], ind2)
        conds = ", ".join(w.render_bool(c) for _, c in efails)
        nums = ", ".join(str(num) for num, _ in efails)
        L.append(f"{ind2}oke = out.effect_failures({T}, E, [{conds}], [{nums}])")
        L.append(f"{ind2}if oke is not None:")
        L.append(f"{ind2}    o = np.flatnonzero(oke)")
        L.append(f"{ind2}    E, SE, me = E[o], SE[o], o.shape[0]")
        for k in reads:
            L.append(f"{ind2}    x{k} = x{k}[o]")
        w.names.clear()   # temporaries were over the uncompacted positions
        L.append(f"{ind2}if me:")
        ind2 += "    "
    w.post_env = {k: f"u{k}" for k in named_post}
    L += w.section([*(news[k] for k in named_post), *(olds[k] for k in news)], ind2)
    constant = 0
    parts = ["SE"]
    for k, term in news.items():
        old = olds[k]
        off = pk.offsets[k]
        if term.is_const:
            if old.is_const:
                constant += (term.value - old.value) << off
                continue
            diff = f"({term.value} - {w.render_int(old)})"
        else:
            L.append(f"{ind2}u{k} = {w.render_int(term)}")
            if old.is_const:
                diff = f"(u{k} - {old.value})" if old.value else f"u{k}"
            else:
                diff = f"(u{k} - {w.render_int(old)})"
        d = f"{diff}.view(np.uint64)"
        parts.append(f"({d} << {off})" if off else d)
    constant %= 1 << 64
    if constant:
        parts.append(f"np.uint64({constant})")
    L.append(f"{ind2}K = " + " + ".join(parts))
    if len(parts) == 1:
        L.append(f"{ind2}K = K.copy()")
    for k, fires, conds in tprops:
        if fires is FALSE and all(c is FALSE for c in conds):
            continue
        L.append(f"{ind2}if tp_active & {1 << k}:")
        L += w.section([fires, *conds], ind2 + "    ")
        cs = ", ".join(w.render_bool(c) for c in conds)
        L.append(f"{ind2}    out.transition_property({T}, {k}, E, K, [{cs}], "
                 f"{w.render_bool(fires)})")
    L.append(f"{ind2}out.successors({T}, E, K)")
    return L


def compile_array_system(ts: TransitionSystem) -> ArraySystem:
    """Generate and compile the array functions; raises ArrayUnsupported."""
    source, pk = generate(ts)
    namespace = load(source, f"dnsrace-array:{ts.name}", {"True": True, "False": False,
                                                           "None": None}, RUNTIME)
    # The source is produced by `generate` from IR terms only; no spec text reaches it.
    return ArraySystem(source, pk, len(ts.transitions), namespace["expand_level"],
                       namespace["state_props"], namespace["terminal"])
