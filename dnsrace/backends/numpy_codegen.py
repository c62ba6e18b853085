"""Generate numpy array code from the transition IR, for the level-synchronous engine.

Where `python_codegen` runs one state at a time, this back end evaluates a transition over a
whole frontier at once: a frontier is a uint64 array of packed states (slot i holds
value - lo_i in width_i bits at offset_i, like the explicit engine's `Packing`, but each
slot only as wide as its reachable values need: `refine`, `array_packing`), and every term
becomes array code over int64 columns, one per slot read.  Compiled once per spec and array
module: the code calls `np`, bound to numpy or CuPy (`runtime`).  The source is generated
from IR terms only, never from spec text.

Term ops (see `ir.terms.OPS`) map to numpy as follows: comparisons, `and`, `or`, `not` to
bool arrays; `ite` to `np.where`; `select` to one variable shift of the packed states when
its items are an array's slots side by side (`_pselect`), else nested selections or a
gather from a stacked 2-D array (or a constant table), with 0 out of range (and `a[i] = e`
into such an array becomes one shifted difference, `_pstore`); `div`/`mod` to `np.floor_divide` and
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
  temporal_values(F, out)           out.temporal(k, [cond, ...], p, q) per temporal property
      k: its failure conds, P and Q (None without Q) as bool arrays over F, or Python bools
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from ..engines.device import numpy as np
from ..ir.system import TransitionSystem
from ..ir.terms import (
    FALSE,
    LEAVES,
    TRUE,
    Term,
    const,
    mk,
    not_,
    post,
    slot,
    substitute,
    walk,
)
from .cse import terms_to_hoist
from .loader import comment as _comment
from .loader import load
from .python_codegen import Packing, packing

INT64_MAX = (1 << 63) - 1
MAX_INLINE_DEPTH = 12
U64 = (1 << 64) - 1


class ArrayUnsupported(Exception):
    """The spec needs something the array engine does not do (the message says what)."""


# ---------------------------------------------------------------- run-time helpers

def runtime(xp) -> dict:
    """The helpers the generated code calls, over the array module `xp` (numpy or CuPy),
    with `np` bound to `xp`: the generated code names no other module."""

    def _div(a, b):
        z = b == 0
        if not bool(xp.any(z)):
            return xp.floor_divide(a, b)
        return xp.where(z, 0, xp.floor_divide(a, xp.where(z, 1, b)))

    def _mod(a, b):
        z = b == 0
        if not bool(xp.any(z)):
            return xp.remainder(a, b)
        return xp.where(z, 0, xp.remainder(a, xp.where(z, 1, b)))

    if hasattr(xp, "bitwise_count"):
        def _popcount(x):
            return xp.bitwise_count(x).astype(xp.int64)
    else:  # numpy < 2, CuPy: SWAR on |x| (Python's int.bit_count counts |x|'s bits)
        def _popcount(x):
            u = xp.uint64
            v = xp.abs(xp.asarray(x, dtype=xp.int64)).view(u)
            v = v - ((v >> u(1)) & u(0x5555555555555555))
            v = (v & u(0x3333333333333333)) + ((v >> u(2)) & u(0x3333333333333333))
            v = (v + (v >> u(4))) & u(0x0F0F0F0F0F0F0F0F)
            return ((v * u(0x0101010101010101)) >> u(56)).astype(xp.int64)

    def _lowbit(x):
        """Index of the lowest set bit; 0 for 0.  x & -x isolates it; (that - 1) has
        exactly `index` ones (also for the most negative int64, where both wrap)."""
        low = x & -x
        return xp.where(x != 0, _popcount(low - 1), 0)

    def _highbit(x):
        """Index of the highest set bit of |x| (Python's bit_length - 1); 0 for 0."""
        v = xp.abs(x)
        for s in (1, 2, 4, 8, 16, 32):
            v = v | (v >> s)
        return xp.where(x != 0, _popcount(v) - 1, 0)

    def _bit(a, k):
        """(a >> k) & 1, and 0 for k < 0; shifts of 63 or more give a's sign bit, as in
        Python."""
        return xp.where(k < 0, 0, (a >> xp.clip(k, 0, 63)) & 1)

    def _setbit(k):
        return xp.where(k < 0, 0, xp.left_shift(1, xp.maximum(k, 0)))

    def _select(i, items, n: int, checked: bool):
        """items[i] per position (each item an int64 array or an int), 0 where i is
        outside 0..len(items)-1 (unless `checked`: the index's interval says it is always
        inside).  A few items: nested selections; more: a gather from a stacked array."""
        k = len(items)
        if k <= 4:
            out = items[k - 1] if checked else xp.where(i == k - 1, items[k - 1], 0)
            for r in range(k - 2, -1, -1):
                out = xp.where(i == r, items[r], out)
            return xp.broadcast_to(xp.asarray(out, dtype=xp.int64), (n,))
        m = xp.empty((k + 1, n), dtype=xp.int64)
        for r, x in enumerate(items):
            m[r] = x
        m[k] = 0
        j = i if checked else xp.where((i >= 0) & (i < k), i, k)
        return m[j, xp.arange(n)]

    def _pselect(src, i, off: int, w: int, mask: int, lo: int, k: int, checked: bool):
        """items[i] where the items are k slots packed side by side (slot j at bits
        off + j*w of the packed states `src`): one variable shift, no gather."""
        j = i if checked else xp.clip(i, 0, k - 1)
        v = ((src >> (j * w + off).view(xp.uint64)) & xp.uint64(mask)).view(xp.int64)
        if lo:
            v = v + lo
        return v if checked else xp.where((i >= 0) & (i < k), v, 0)

    def _pstore(src, i, e, off: int, w: int, mask: int, lo: int, k: int, checked: bool):
        """The change to packed states `src` of writing e to item i of k slots packed side
        by side (slot j at bits off + j*w); 0 where i is outside 0..k-1."""
        j = i if checked else xp.clip(i, 0, k - 1)
        sh = (j * w + off).view(xp.uint64)
        old = ((src >> sh) & xp.uint64(mask)).view(xp.int64)
        d = ((e - lo) - old).view(xp.uint64) << sh
        return d if checked else xp.where((i >= 0) & (i < k), d, xp.uint64(0))

    def _lookup(i, table, checked: bool):
        """A constant table indexed by i; the table's last entry is the 0 for out of
        range."""
        k = len(table) - 1
        j = i if checked else xp.where((i >= 0) & (i < k), i, k)
        return table[j]

    def _column(cols: dict, F, k: int, off: int, mask: int, lo: int):
        """Slot k of every state in F, unpacked once per call of the generated function."""
        v = cols.get(k)
        if v is None:
            v = ((F >> off) & mask).view(xp.int64) if off else (F & mask).view(xp.int64)
            if lo:
                v = v + lo
            cols[k] = v
        return v

    return {"np": xp, "_column": _column, "_div": _div, "_mod": _mod,
            "_popcount": _popcount, "_lowbit": _lowbit, "_highbit": _highbit, "_bit": _bit,
            "_setbit": _setbit, "_select": _select, "_pselect": _pselect, "_pstore": _pstore,
            "_lookup": _lookup}


RUNTIME = runtime(np)   # numpy's


# ---------------------------------------------------------------- rendering terms

class _Writer:
    """Renders terms as numpy expressions.  Each rendering has a kind: 'c' a Python int
    constant, 'b' a bool array, 'i' an int64 array.  Shared and deep sub-terms are hoisted
    into temporaries (safe: every term is total)."""

    def __init__(self, prefix: str, env: dict[int, str], post_env: dict[int, str] | None,
                 n: str, tables: dict, src: str | None = None, pk: Packing | None = None):
        self.prefix = prefix
        self.src = src                 # the packed states the env's columns come from
        self.pk = pk
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

    def _packed_run(self, items) -> tuple[int, int, int] | None:
        """(offset, width, lo) when the items are slots of the state, packed side by side
        with equal widths and lows (an array's elements): a select reads them with one
        shift of the packed states."""
        if self.src is None or len(items) < 2 or any(x.op != "slot" for x in items):
            return None
        pk = self.pk
        ks = [x.args[0] for x in items]
        w, lo, off = pk.widths[ks[0]], pk.los[ks[0]], pk.offsets[ks[0]]
        for j, k in enumerate(ks):
            if pk.widths[k] != w or pk.los[k] != lo or pk.offsets[k] != off + j * w:
                return None
        if off + len(ks) * w > 64:
            return None
        return off, w, lo

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
            packed = self._packed_run(items)
            if packed is not None:
                off, w, lo = packed
                return (f"_pselect({self.src}, {I(args[0])}, {off}, {w}, {(1 << w) - 1}, {lo}, "
                        f"{len(items)}, {checked})"), "i"
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
    xp: object = np   # the array module the functions run on
    temporal_values: object = None


WIDEN_AFTER = 2   # a bound that moved this often jumps to the declared one


class _Rebuild:
    """Rebuilds terms bottom-up (leaves through `leaf`, the rest through `node`, else
    `mk`), like `terms.rewrite` but with one memo for many terms, so that the sub-terms
    they share are rebuilt once."""

    def __init__(self, leaf, node=None):
        self.leaf, self.node = leaf, node
        self.memo: dict[int, Term] = {}

    def __call__(self, t: Term) -> Term:
        memo = self.memo
        stack = [(t, False)]
        while stack:
            x, ready = stack.pop()
            if id(x) in memo:
                continue
            if x.op in LEAVES:
                memo[id(x)] = self.leaf(x)
            elif ready:
                args = tuple(memo[id(a)] if isinstance(a, Term) else a for a in x.args)
                out = self.node(x, args) if self.node is not None else None
                if out is None:
                    out = x if all(a is b for a, b in zip(args, x.args)) else mk(x.op, *args)
                memo[id(x)] = out
            else:
                stack.append((x, True))
                stack.extend((a, False) for a in x.args
                             if isinstance(a, Term) and id(a) not in memo)
        return memo[id(t)]


def slot_ranges(ts: TransitionSystem) -> list[tuple[int | None, int | None]]:
    """Per slot, an interval that holds its value in every reachable state: the least
    fixpoint of (its initial values, and the intervals of the terms transitions write to
    it, evaluated over the intervals found so far), within its declared range; a bound
    that keeps moving is widened to the declared one.  Guards and failures are ignored,
    which only widens the result: sound for every state the search can meet."""
    n = len(ts.slots)
    declared = [(s.lo, s.hi) for s in ts.slots]
    if not ts.initial:
        return declared
    lo = [min(v[i] for v in ts.initial) for i in range(n)]
    hi = [max(v[i] for v in ts.initial) for i in range(n)]
    moved = [[0, 0] for _ in range(n)]
    writers: dict[int, list[Term]] = {}
    for t in ts.transitions:
        for k, term in t.updates.items():
            writers.setdefault(k, []).append(term)
    dirty = set(writers)
    while dirty:
        leaves = {i: slot(i, lo[i], hi[i]) for i in range(n)
                  if declared[i][0] is not None and declared[i][1] is not None}
        sub = _Rebuild(lambda x, leaves=leaves: leaves.get(x.args[0], x)
                       if x.op == "slot" else x)
        changed = set()
        for k in sorted(dirty):
            dlo, dhi = declared[k]
            new_lo, new_hi = lo[k], hi[k]
            for term in writers[k]:
                u = sub(term)
                ulo = dlo if u.lo is None or dlo is None else max(u.lo, dlo)
                uhi = dhi if u.hi is None or dhi is None else min(u.hi, dhi)
                new_lo = None if ulo is None or new_lo is None else min(new_lo, ulo)
                new_hi = None if uhi is None or new_hi is None else max(new_hi, uhi)
            if new_lo != lo[k]:
                moved[k][0] += 1
                lo[k] = dlo if new_lo is None or moved[k][0] > WIDEN_AFTER else new_lo
                changed.add(k)
            if new_hi != hi[k]:
                moved[k][1] += 1
                hi[k] = dhi if new_hi is None or moved[k][1] > WIDEN_AFTER else new_hi
                changed.add(k)
        if any(lo[k] is None or hi[k] is None for k in changed):
            return declared
        dirty = {k for k, terms in writers.items() if _slots_read(terms) & changed}
    return list(zip(lo, hi))


def refine(ts: TransitionSystem) -> TransitionSystem:
    """`ts` over its reachable slot ranges (`slot_ranges`): the slots narrowed, and every
    term rebuilt over the narrowed slots, so that comparisons those ranges decide fold to
    constants and failures that cannot happen in a reachable state drop out.  Failure
    lists keep their length and order (the global failure numbers stay valid)."""
    ranges = slot_ranges(ts)
    layout = copy.copy(ts.layout)
    layout.slots = [replace(s, lo=r[0], hi=r[1]) for s, r in zip(ts.slots, ranges)]
    leaves = {("slot", s.index): slot(s.index, s.lo, s.hi) for s in layout.slots}
    leaves.update({("post", s.index): post(s.index, s.lo, s.hi) for s in layout.slots})

    def leaf(x: Term) -> Term:
        return leaves.get((x.op, x.args[0]), x) if x.op in ("slot", "post") else x

    def node(x: Term, args: tuple):
        if x.op != "or":
            return None
        t = mk("or", *args)
        return TRUE if t.op == "or" and _covers(t) else t

    sub = _Rebuild(leaf, node)

    def fails(fs):
        return [replace(f, cond=sub(f.cond)) for f in fs]

    transitions = [replace(t, guard=sub(t.guard), guard_failures=fails(t.guard_failures),
                           effect_failures=fails(t.effect_failures),
                           updates={k: sub(v) for k, v in t.updates.items()})
                   for t in ts.transitions]
    return replace(ts, layout=layout, transitions=transitions,
                   state_properties=[replace(p, term=sub(p.term), failures=fails(p.failures))
                                     for p in ts.state_properties],
                   transition_properties=[replace(p, term=sub(p.term),
                                                  failures=fails(p.failures))
                                          for p in ts.transition_properties],
                   terminal=None if ts.terminal is None else sub(ts.terminal),
                   temporal=[replace(p, p=sub(p.p), q=None if p.q is None else sub(p.q),
                                     failures=fails(p.failures)) for p in ts.temporal])


def _covers(t: Term) -> bool:
    """Is `t`, an or, x == c1 or x == c2 ... over every value x's interval allows (a type
    check of a value that cannot be out of range)?"""
    x, seen = None, set()
    for a in t.args:
        if a.op != "eq":
            return False
        u, v = a.args
        if u.is_const:
            u, v = v, u
        if not v.is_const or u.is_const or (x is not None and u is not x):
            return False
        x = u
        seen.add(v.value)
    return x is not None and x.lo is not None and x.hi is not None and \
        x.hi - x.lo < 64 and all(c in seen for c in range(x.lo, x.hi + 1))


def array_packing(ts: TransitionSystem) -> Packing:
    """The array engine's packing of a refined system (`refine`): each slot in as few bits
    as its reachable range needs.  A program counter of four steps takes 2 bits, not its
    declared range's 3; a slot no transition changes takes none.  Narrower keys let more
    levels sort (key, code) pairs as one 64-bit number (`engines.array_level`)."""
    base = packing(ts)   # unbounded slots: the explicit engine's limits
    offsets, widths, los = [], [], []
    off = 0
    for s, blo, bw in zip(ts.slots, base.los, base.widths):
        if s.lo is None or s.hi is None:
            lo, w = blo, bw
        else:
            lo, w = s.lo, (s.hi - s.lo).bit_length()
            if 0 < lo and s.hi.bit_length() == w:   # as narrow from 0: unpack without a +lo
                lo = 0
        offsets.append(off)
        widths.append(w)
        los.append(lo)
        off += w
    return Packing(offsets, widths, los)


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
    for p in ts.temporal:
        roots += [p.p, *([p.q] if p.q is not None else []), *(f.cond for f in p.failures)]
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
    """The array module's source for `ts`, and its packing; raises ArrayUnsupported."""
    ts = refine(ts)
    pk = array_packing(ts)
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
    pc_slots = sorted({pc[0] for pc in groups if pc is not None and pk.widths[pc[0]]})
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
        w = _Writer(f"s{k}_", {j: f"v{j}" for j in reads}, None, "n", tables, "F", pk)
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
        w = _Writer("z", {k: f"v{k}" for k in reads}, None, "n", tables, "F", pk)
        body += w.section([ts.terminal], "    ")
        e = w.render_bool(ts.terminal)
        body.append(f"    return np.broadcast_to(np.asarray({e}, dtype=np.bool_), (n,))")
    body.append("")

    body += _temporal_values_code(ts, pk, tables)

    name = _comment(ts.name)
    head = [f"# Generated by dnsrace (array back end) from spec {name}. Do not edit.",
            "# F: packed states (uint64); slot i is ((F >> OFFSET_i) & MASK_i) + LO_i.", ""]
    for s in ts.slots:
        head.append(f"# slot {s.index:>3}: {_comment(s.name)}  bits {pk.offsets[s.index]}.."
                    f"{pk.offsets[s.index] + pk.widths[s.index] - 1}")
    head.append("")
    for key, name in tables.items():
        head.append(f"{name} = np.array({list(key)!r}, dtype=np.int64)")
    head.append("")
    return "\n".join(head + body) + "\n", pk


def _temporal_values_code(ts: TransitionSystem, pk: Packing, tables: dict) -> list[str]:
    """`temporal_values`: every temporal property's failure conds, P and Q over a level."""
    body = ["def temporal_values(F, out):", "    n = F.shape[0]", "    cols = {}"]
    for k, p in enumerate(ts.temporal):
        conds = [f.cond for f in p.failures]
        terms = [p.p, *([p.q] if p.q is not None else []), *conds]
        reads = sorted(_slots_read(terms))
        for j in reads:
            body.append(f"    v{j} = _column(cols, F, {j}, {pk.offsets[j]}, "
                        f"{(1 << pk.widths[j]) - 1}, {pk.los[j]})")
        w = _Writer(f"l{k}_", {j: f"v{j}" for j in reads}, None, "n", tables, "F", pk)
        body += w.section(terms, "    ")
        cs = ", ".join(w.render_bool(c) for c in conds)
        q = "None" if p.q is None else w.render_bool(p.q)
        body.append(f"    out.temporal({k}, [{cs}], {w.render_bool(p.p)}, {q})")
    body.append("    return None")
    body.append("")
    return body


def _group_code(ts, pk, g, pc, members, gnum, enum, tables) -> list[str]:
    """The transitions that share one pc test (or have none)."""
    L: list[str] = []
    ind = "    "
    every = pc is None or pk.widths[pc[0]] == 0   # no test, or a program counter that
    if pc is None:                                # never changes: the whole frontier
        L.append(f"{ind}# transitions without a program counter")
        src_known: dict[int, Term] = {}
    else:
        k, val = pc
        L.append(f"{ind}# at {_comment(ts.slots[k].name)} == {val}")
        src_known = {k: const(val)}
        if every and val != pk.los[k]:
            L.append(f"{ind}# (never: {_comment(ts.slots[k].name)} is always {pk.los[k]})")
            return L
    if every:
        L.append(f"{ind}ix = np.arange(n)")
        L.append(f"{ind}if n:")
    else:
        L.append(f"{ind}ix = np.flatnonzero(p{k} == {val - pk.los[k]})")
        L.append(f"{ind}if ix.size:")
    ind += "    "
    L.append(f"{ind}S = F" if every else f"{ind}S = F[ix]")
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
    w = _Writer(f"g{T}_", genv, None, "m", tables, "S", pk)
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
    # a[i] = e into an array packed side by side: one shifted difference, not one per item
    # (only without transition properties, which read the items' new values by name)
    stores = [] if ts.transition_properties else _packed_stores(news, olds, pk)
    stored = {k for ks, _, _, _ in stores for k in ks}
    stage_terms = [*(c for _, c in efails), *(v for k, v in news.items() if k not in stored),
                   *(v for k, v in olds.items() if k not in stored),
                   *(x for _, i, _, e in stores for x in (i, e))]
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
    w = _Writer(f"e{T}_", env, None, "me", tables, "SE", pk)
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
    L += w.section([*(news[k] for k in named_post if k not in stored),
                    *(olds[k] for k in news if k not in stored),
                    *(x for _, i, _, e in stores for x in (i, e))], ind2)
    constant = 0
    parts = ["SE"]
    for ks, i, c0, e in stores:
        ir = w.render_int(i) if not c0 else f"({w.render_int(i)} - {c0})"
        checked = i.lo is not None and i.hi is not None and c0 <= i.lo and i.hi < c0 + len(ks)
        parts.append(f"_pstore(SE, {ir}, {w.render_int(e)}, {pk.offsets[ks[0]]}, "
                     f"{pk.widths[ks[0]]}, {(1 << pk.widths[ks[0]]) - 1}, {pk.los[ks[0]]}, "
                     f"{len(ks)}, {checked})")
    for k, term in news.items():
        if k in stored:
            continue
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


def _packed_stores(news: dict, olds: dict, pk: Packing) -> list:
    """Groups of updates that write one element of a packed array: slot s_j (j = 0..k-1,
    packed side by side, equal widths and lows) gets ite(i == c0 + j, e, s_j), with the
    same i and e.  Returns (slots, i, c0, e) per group of at least two."""
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    terms: dict[tuple[int, int], tuple[Term, Term]] = {}
    for k, u in news.items():
        if u.op != "ite" or olds[k].op != "slot" or u.args[2] is not olds[k]:
            continue
        cond, e = u.args[0], u.args[1]
        if cond.op != "eq":
            continue
        a, b = cond.args
        i, c = (a, b) if b.is_const else (b, a) if a.is_const else (None, None)
        if i is None or i.is_const:
            continue
        key = (id(i), id(e))
        groups.setdefault(key, []).append((c.value, k))
        terms[key] = (i, e)
    out = []
    for key, members in groups.items():
        members.sort()
        cs = [c for c, _ in members]
        ks = [k for _, k in members]
        if len(ks) < 2 or cs != list(range(cs[0], cs[0] + len(cs))):
            continue
        w, lo, off = pk.widths[ks[0]], pk.los[ks[0]], pk.offsets[ks[0]]
        if w == 0 or any(pk.widths[k] != w or pk.los[k] != lo or pk.offsets[k] != off + j * w
                         for j, k in enumerate(ks)):
            continue
        i, e = terms[key]
        out.append((ks, i, cs[0], e))
    return out


def compile_array_system(ts: TransitionSystem, xp=None) -> ArraySystem:
    """Generate and compile the array functions over the array module `xp` (numpy by
    default, or CuPy); raises ArrayUnsupported."""
    xp = np if xp is None else xp
    source, pk = generate(ts)
    namespace = load(source, f"dnsrace-array:{ts.name}", {"True": True, "False": False,
                                                           "None": None},
                     RUNTIME if xp is np else runtime(xp))
    # The source is produced by `generate` from IR terms only; no spec text reaches it.
    return ArraySystem(source, pk, len(ts.transitions), namespace["expand_level"],
                       namespace["state_props"], namespace["terminal"], xp,
                       namespace["temporal_values"])
