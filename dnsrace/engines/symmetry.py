"""Exact canonical states under scalarset symmetry (issue #13).

A state's *orbit* is the set of its images under the product G = Sym(S1) x Sym(S2) x ...
of the spec's scalarsets' permutation groups, acting as `Scalarset.apply` (one after the
other, in the order given; the actions of different scalarsets commute).  `canonical(s)`
picks one state of the orbit of s, the same one for every state of the orbit, so a search
that stores canonical states stores one state per orbit.

How (the research note of issue #13, section 4.2):

1. For each scalarset S and identity i, a *signature* sig_i(s): the contents of i's block
   with identity-valued entries replaced by what a permutation cannot change (is the value
   i itself, is the sequence position in use; a mask's size and whether it holds i), then
   the fixed slots that hold i, and counts of references to i (per column of the blocks
   they sit in).  Slots that also belong to another scalarset's block (a `[S][T]` array)
   contribute nothing.  Never a raw identity value.  The signature is *equivariant*:
   sig_{pi(i)}(pi s) = sig_i(s) for every pi in G, and for the other scalarsets' parts of
   pi it does not change at all.
2. The candidate set C(s): the joint permutations (one per scalarset) that list each
   scalarset's identities in non-decreasing signature order: one order if there are no
   ties, every order within each run of equal signatures otherwise.
3. canonical(s) = the lexicographically least pi s over pi in C(s).

Why it is exact.  pi is in C(s) when the identities pi^-1(0), pi^-1(1), ... have
non-decreasing signatures in s.  For sigma in G, sig_j(sigma s) = sig_{sigma^-1(j)}(s), so
pi' is in C(sigma s) exactly when pi' sigma is in C(s): C(sigma s) = C(s) sigma^-1, and
{pi' (sigma s) : pi' in C(sigma s)} = {pi sigma^-1 sigma s : pi in C(s)} = {pi s : pi in
C(s)}.  The two states have the same set of candidate images, hence the same least one;
and that image lies in the orbit of s.  So canonical(s) == canonical(t) exactly when t is
in the orbit of s.  The candidate sets of the scalarsets are multiplied and the least
image taken over the product: canonicalising one scalarset after the other is not exact
once both have ties and refer to each other.  Breaking ties by index (a "normal form") is
not exact either: tests/test_symmetry.py shows a counterexample.

The result is *a* canonical form, not always the least image over the whole orbit (that is
`canonical_by_all_permutations`, the slow reference): both partition the states into the
same orbits, which is all the counts depend on.

Shallow scalarsets.  When a scalarset's blocks hold only plain slots and every slot that
names its identities lies outside every block, two identities with equal signatures have
equal blocks and the same place in every such slot: swapping them leaves the state as it
is, so every order within a run of ties gives the same image, and one order is tried.

Fast path.  A scalarset with no `values` and `masks` whose block slots are neither in
another scalarset's block nor hold identities (an *index-only* scalarset: `[S]T` arrays and
`count: S` processes) is canonical with its blocks sorted: equal blocks are interchangeable
without changing the state, so ties need no search.  `canonical_rows` does this for a whole
frontier of unpacked states with one `np.lexsort`, and falls back to `canonical` per state
for the other scalarsets.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

from dnsrace.ir.symmetry import Scalarset

__all__ = ["CanonicalSet", "apply_all", "canonical", "canonical_by_all_permutations",
           "canonical_keys", "canonical_rows", "packing_fits", "reduced_scalarsets"]

Perms = tuple[tuple[int, ...], ...]


def apply_all(scalarsets, perms: Perms, state: tuple[int, ...]) -> tuple[int, ...]:
    """The state with each scalarset's identities renamed by its permutation."""
    for scalarset, p in zip(scalarsets, perms):
        state = scalarset.apply(p, state)
    return state


def canonical_by_all_permutations(state, scalarsets) -> tuple[tuple[int, ...], Perms]:
    """The reference: the least image over every permutation of every scalarset."""
    best = None
    groups = [itertools.permutations(range(s.size)) for s in scalarsets]
    for perms in itertools.product(*groups):
        image = apply_all(scalarsets, perms, tuple(state))
        if best is None or image < best[0]:
            best = (image, perms)
    return best


@dataclass(frozen=True)
class _Layout:
    """What each scalarset's signature reads, worked out once per list of scalarsets."""
    fast: tuple[bool, ...]
    shallow: tuple[bool, ...]   # equal signatures: identities the state cannot tell apart
    # per scalarset, per k: ("plain"|"value"|"mask"|"shared", guard) of block slot k
    columns: tuple[tuple[tuple[str, object], ...], ...]
    # per scalarset: fixed (outside every block) value slots (slot, length_slot, position)
    fixed_values: tuple[tuple[tuple[int, int | None, int], ...], ...]
    fixed_masks: tuple[tuple[int, ...], ...]
    # per scalarset: ((class, ((slot, length_slot, position), ...)), ...) of slots in blocks
    moved_values: tuple[tuple[tuple[int, ...], ...], ...]
    moved_masks: tuple[tuple[tuple[int, ...], ...], ...]
    guards: dict


@lru_cache(maxsize=64)
def _layout(scalarsets: tuple[Scalarset, ...]) -> _Layout:
    in_blocks: dict[int, list[tuple[int, int]]] = {}
    for si, s in enumerate(scalarsets):
        for block in s.blocks:
            for k, slot in enumerate(block):
                in_blocks.setdefault(slot, []).append((si, k))
    value_of = {slot: (si, ls, pos) for si, s in enumerate(scalarsets)
                for slot, ls, pos in s.values}
    mask_of = {slot: si for si, s in enumerate(scalarsets) for slot in s.masks}
    guards = {slot: (ls, pos) for slot, (_si, ls, pos) in value_of.items()}
    fast, shallow, columns = [], [], []
    fixed_values, fixed_masks, moved_values, moved_masks = [], [], [], []
    for si, s in enumerate(scalarsets):
        first = s.blocks[0] if s.blocks else ()
        cols = []
        for slot in first:
            if len(in_blocks[slot]) > 1:
                cols.append(("shared", None))
            elif slot in value_of:
                cols.append(("value", value_of[slot][0]))
            elif slot in mask_of:
                cols.append(("mask", mask_of[slot]))
            else:
                cols.append(("plain", None))
        columns.append(tuple(cols))
        plain = all(c == ("plain", None) for c in cols)
        fast.append(plain and not s.values and not s.masks)
        shallow.append(plain and all(v[0] not in in_blocks for v in s.values)
                       and all(m not in in_blocks for m in s.masks))
        fixed_values.append(tuple(v for v in s.values if v[0] not in in_blocks))
        fixed_masks.append(tuple(m for m in s.masks if m not in in_blocks))
        moved_values.append(_by_class((v[0] for v in s.values), in_blocks))
        moved_masks.append(_by_class(s.masks, in_blocks))
    return _Layout(tuple(fast), tuple(shallow), tuple(columns), tuple(fixed_values), tuple(fixed_masks),
                   tuple(moved_values), tuple(moved_masks), guards)


def _by_class(slots, in_blocks) -> tuple[tuple[int, ...], ...]:
    """Slots inside blocks, grouped by the (scalarset, column) places they occupy: each
    scalarset's permutation moves a slot only to another of its class."""
    classes: dict[tuple, list[int]] = {}
    for slot in slots:
        if slot in in_blocks:
            classes.setdefault(tuple(sorted(in_blocks[slot])), []).append(slot)
    return tuple(tuple(classes[c]) for c in sorted(classes))


def _active(state, guards, slot) -> bool:
    length_slot, position = guards[slot]
    return length_slot is None or position < state[length_slot]


def _signature(state, layout: _Layout, si: int, scalarset: Scalarset, i: int) -> tuple:
    guards = layout.guards
    sig = []
    for (kind, owner), slot in zip(layout.columns[si], scalarset.blocks[i]):
        v = state[slot]
        if kind == "plain":
            sig.append(v)
        elif kind == "value":
            on = _active(state, guards, slot)
            sig.append(2 * on + (on and owner == si and v == i))
        elif kind == "mask":
            sig.append(2 * v.bit_count() + (owner == si and v >> i & 1))
        else:
            sig.append(0)
    for slot, _ls, _pos in layout.fixed_values[si]:
        sig.append(_active(state, guards, slot) and state[slot] == i)
    for slot in layout.fixed_masks[si]:
        sig.append(state[slot] >> i & 1)
    for cls in layout.moved_values[si]:
        sig.append(sum(1 for slot in cls if state[slot] == i and _active(state, guards, slot)))
    for cls in layout.moved_masks[si]:
        sig.append(sum(state[slot] >> i & 1 for slot in cls))
    return tuple(sig)


def _candidate_orders(state, layout, si, scalarset) -> list[tuple[int, ...]]:
    """The orders (old identity at each new position) that sort the signatures."""
    if layout.fast[si]:
        key = [tuple(state[slot] for slot in block) for block in scalarset.blocks]
        return [tuple(sorted(range(scalarset.size), key=key.__getitem__))]
    sigs = [_signature(state, layout, si, scalarset, i) for i in range(scalarset.size)]
    order = sorted(range(scalarset.size), key=sigs.__getitem__)
    runs = [list(g) for _, g in itertools.groupby(order, key=sigs.__getitem__)]
    if layout.shallow[si] or all(len(run) == 1 for run in runs):
        return [tuple(order)]
    return [tuple(i for run in choice for i in run)
            for choice in itertools.product(*(itertools.permutations(r) for r in runs))]


def _inverse(order) -> tuple[int, ...]:
    p = [0] * len(order)
    for q, i in enumerate(order):
        p[i] = q
    return tuple(p)


def canonical(state, scalarsets) -> tuple[tuple[int, ...], Perms]:
    """The canonical state of the orbit of `state`, and the permutations (one per scalarset,
    p[i] the new name of identity i) that map `state` to it."""
    scalarsets = tuple(scalarsets)
    state = tuple(state)
    layout = _layout(scalarsets)
    options = [_candidate_orders(state, layout, si, s) for si, s in enumerate(scalarsets)]
    best = None
    for orders in itertools.product(*options):
        perms = tuple(_inverse(o) for o in orders)
        image = apply_all(scalarsets, perms, state)
        if best is None or image < best[0]:
            best = (image, perms)
    return best


def canonical_rows(rows, scalarsets):
    """`canonical` of every row of a frontier of unpacked states (shape F x slots): the
    index-only scalarsets by one sort of the frontier, the others state by state."""
    import numpy as np

    scalarsets = tuple(scalarsets)
    rows = np.array(rows, copy=True)
    if not scalarsets or len(rows) == 0:
        return rows
    layout = _layout(scalarsets)
    if not all(layout.fast):
        return np.array([canonical(tuple(int(x) for x in r), scalarsets)[0] for r in rows],
                        dtype=rows.dtype).reshape(rows.shape)
    for s in scalarsets:
        if s.size < 2 or not s.blocks or not s.blocks[0]:
            continue
        index = np.array(s.blocks)                          # (N, K)
        blocks = rows[:, index]                             # (F, N, K)
        keys = [blocks[:, :, k] for k in range(index.shape[1] - 1, -1, -1)]
        order = np.lexsort(keys, axis=-1)                   # (F, N)
        rows[:, index] = np.take_along_axis(blocks, order[:, :, None], axis=1)
    return rows


def reduced_scalarsets(ts, enabled: bool = True) -> tuple[Scalarset, ...]:
    """The scalarsets a search of `ts` reduces: those of size >= 2, unless reduction is off
    or the spec has temporal properties (their lassos are followed edge by edge, and
    fairness names instances, which a permutation moves: such a spec is explored whole)."""
    if not enabled or ts.temporal:
        return ()
    return tuple(s for s in getattr(ts, "scalarsets", ()) or () if s.size >= 2)


class CanonicalSet(set):
    """The visited set of a reduced search over packed states: it holds each orbit's
    canonical state, and a state is "in" it when its canonical state is.  The search
    stores (and expands) the first state it meets of each orbit, a real successor of a
    stored state, so the stored parents still make real paths and traces need no
    rebuilding; only the membership test is by orbit."""

    def __init__(self, scalarsets, packing):
        super().__init__()
        self._scalarsets = tuple(scalarsets)
        self._packing = packing
        self._last = (None, None)

    def canonical(self, n: int) -> int:
        if self._last[0] == n:
            return self._last[1]
        pk = self._packing
        c = pk.pack(canonical(pk.unpack(n), self._scalarsets)[0])
        self._last = (n, c)
        return c

    def __contains__(self, n) -> bool:
        return set.__contains__(self, self.canonical(n))

    def add(self, n) -> None:
        set.add(self, self.canonical(n))

    def discard(self, n) -> None:
        set.discard(self, self.canonical(n))


def packing_fits(scalarsets, packing) -> bool:
    """Whether every canonical state packs as the state it stands for: each block column
    as wide (from the same low end) for every identity, each mask wide enough for every
    identity's bit, each identity value's slot able to hold every identity."""
    for s in scalarsets:
        for column in zip(*s.blocks):
            if len({(packing.widths[x], packing.los[x]) for x in column}) > 1:
                return False
        for slot in s.masks:
            if packing.los[slot] > 0 or packing.widths[slot] < s.size:
                return False
        for slot, _ls, _pos in s.values:
            lo = packing.los[slot]
            if lo > 0 or lo + (1 << packing.widths[slot]) - 1 < s.size - 1:
                return False
    return True


def canonical_keys(keys, scalarsets, packing):
    """`canonical` of a numpy array of states packed (uint64) by `packing`."""
    import numpy as np

    keys = np.asarray(keys, dtype=np.uint64)
    rows = np.empty((keys.shape[0], len(packing.offsets)), dtype=np.int64)
    for k, (off, w, lo) in enumerate(zip(packing.offsets, packing.widths, packing.los)):
        rows[:, k] = ((keys >> np.uint64(off)) & np.uint64((1 << w) - 1)).astype(np.int64) + lo
    rows = canonical_rows(rows, scalarsets)
    out = np.zeros(keys.shape[0], dtype=np.uint64)
    for k, (off, lo) in enumerate(zip(packing.offsets, packing.los)):
        out |= (rows[:, k] - lo).astype(np.uint64) << np.uint64(off)
    return out
