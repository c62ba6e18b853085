"""Exact canonical states under scalarset symmetry (dnsrace/engines/symmetry.py).

The layouts are generated: one or two scalarsets whose blocks hold plain slots, identity
values (of either scalarset), sets of identities (masks), sequences of identities (values
guarded by a length) and `[S][T]` arrays shared by two scalarsets' blocks; fixed slots
outside every block hold the same kinds; slot numbers are shuffled.  The claims: the
canonical state lies in the orbit, every state of an orbit has the same canonical state,
the orbits are the brute-force reference's, the frontier version agrees state by state,
and breaking ties by index (a normal form) is caught by these checks.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsrace.engines.symmetry import (
    apply_all,
    canonical,
    canonical_by_all_permutations,
    canonical_rows,
)
from dnsrace.ir.symmetry import Scalarset

KINDS = ("plain", "value", "mask", "seq")


class _Builder:
    """Slots, their domains, and the scalarsets' descriptions, built piece by piece."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.domains = []                       # per slot: ("int", hi) | ("id", s) | ("mask", s) | ("pos", s, len_slot, pos)
        self.blocks = [[[] for _ in range(n)] for n in sizes]
        self.values = [[] for _ in sizes]
        self.masks = [[] for _ in sizes]

    def slot(self, domain):
        self.domains.append(domain)
        return len(self.domains) - 1

    def piece(self, kind, owner, into=None):
        """A variable of `kind` naming identities of `owner`; its slots, appended to
        `into` (a block) when given."""
        if kind == "plain":
            slots = [self.slot(("int", 2))]
        elif kind == "value":
            slots = [self.slot(("id", owner))]
            self.values[owner].append((slots[0], None, 0))
        elif kind == "mask":
            slots = [self.slot(("mask", owner))]
            self.masks[owner].append(slots[0])
        else:
            length = self.slot(("int", 2))
            slots = [length]
            for pos in range(2):
                s = self.slot(("pos", owner, length, pos))
                self.values[owner].append((s, length, pos))
                slots.append(s)
        if into is not None:
            into.extend(slots)

    def scalarsets(self, shuffle):
        def m(slot):
            return shuffle[slot]
        return tuple(
            Scalarset(f"S{si}", n,
                      tuple(tuple(m(x) for x in b) for b in self.blocks[si]),
                      tuple((m(x), None if ls is None else m(ls), pos)
                            for x, ls, pos in self.values[si]),
                      tuple(m(x) for x in self.masks[si]))
            for si, n in enumerate(self.sizes))


def build_layout(draw_int, draw_kind):
    """(scalarsets, domains by slot) from two drawing functions."""
    sizes = [draw_int(1, 4)] if draw_int(0, 1) == 0 else [draw_int(1, 3), draw_int(1, 3)]
    b = _Builder(sizes)
    for si, n in enumerate(sizes):
        columns = [(draw_kind(), draw_int(0, len(sizes) - 1)) for _ in range(draw_int(0, 3))]
        for i in range(n):
            for kind, owner in columns:
                b.piece(kind, owner, into=b.blocks[si][i])
    if len(sizes) == 2 and draw_int(0, 1):
        for i in range(sizes[0]):
            for j in range(sizes[1]):
                s = b.slot(("int", 2))
                b.blocks[0][i].append(s)
                b.blocks[1][j].append(s)
    for _ in range(draw_int(0, 3)):
        b.piece(draw_kind(), draw_int(0, len(sizes) - 1))
    order = list(range(len(b.domains)))
    random.Random(draw_int(0, 1000)).shuffle(order)
    domains = [None] * len(order)
    for old, new in enumerate(order):
        d = b.domains[old]
        domains[new] = d if d[0] != "pos" else ("pos", d[1], order[d[2]], d[3])
    return b.scalarsets(order), sizes, domains


def draw_state(draw_int, sizes, domains):
    state = []
    for d in domains:
        if d[0] == "int":
            state.append(draw_int(0, d[1]))
        elif d[0] == "mask":
            state.append(draw_int(0, (1 << sizes[d[1]]) - 1))
        else:
            state.append(draw_int(0, sizes[d[1]] - 1))
    for slot, d in enumerate(domains):
        if d[0] == "pos" and d[3] >= state[d[2]]:
            state[slot] = 0                      # unused sequence positions hold 0
    return tuple(state)


@st.composite
def cases(draw, states=2):
    def draw_int(lo, hi):
        return draw(st.integers(lo, hi))

    def draw_kind():
        return draw(st.sampled_from(KINDS))
    scalarsets, sizes, domains = build_layout(draw_int, draw_kind)
    return scalarsets, [draw_state(draw_int, sizes, domains) for _ in range(states)]


def group(scalarsets):
    return itertools.product(*(itertools.permutations(range(s.size)) for s in scalarsets))


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(cases())
def test_the_canonical_state_is_in_the_orbit_and_the_same_for_all_of_it(case):
    scalarsets, (state, _) = case
    canon, perms = canonical(state, scalarsets)
    assert apply_all(scalarsets, perms, state) == canon
    for perms in group(scalarsets):
        assert canonical(apply_all(scalarsets, perms, state), scalarsets)[0] == canon


@SETTINGS
@given(cases())
def test_two_states_share_a_canonical_state_exactly_when_brute_force_says_one_orbit(case):
    scalarsets, (s, t) = case
    perms = next(itertools.islice(group(scalarsets), hash(t) % 7, None), None) or \
        next(group(scalarsets))
    for other in (t, apply_all(scalarsets, perms, s)):
        same = canonical_by_all_permutations(s, scalarsets)[0] == \
            canonical_by_all_permutations(other, scalarsets)[0]
        assert (canonical(s, scalarsets)[0] == canonical(other, scalarsets)[0]) == same


@SETTINGS
@given(cases())
def test_the_canonical_state_of_the_brute_force_representative_is_the_same(case):
    scalarsets, (state, _) = case
    least, perms = canonical_by_all_permutations(state, scalarsets)
    assert apply_all(scalarsets, perms, state) == least
    assert canonical(least, scalarsets)[0] == canonical(state, scalarsets)[0]


@SETTINGS
@given(cases(states=6))
def test_a_frontier_is_canonical_row_by_row(case):
    scalarsets, states = case
    rows = canonical_rows(np.array(states, dtype=np.int64), scalarsets)
    assert [tuple(int(x) for x in r) for r in rows] == \
        [canonical(s, scalarsets)[0] for s in states]


def test_index_only_scalarsets_sort_their_blocks():
    s = Scalarset("P", 3, ((0, 3), (1, 4), (2, 5)))
    state = (2, 0, 2, 1, 9, 0)                   # rows (2,1) (0,9) (2,0)
    assert canonical(state, [s])[0] == (0, 2, 2, 9, 0, 1)
    assert canonical_rows(np.array([state]), [s]).tolist() == [[0, 2, 2, 9, 0, 1]]
    assert canonical_by_all_permutations(state, [s])[0] == (0, 2, 2, 9, 0, 1)


def naive(state, scalarsets):
    """A normal form, not a canonical one: sort by signature, break ties by index."""
    from dnsrace.engines import symmetry as sym
    layout = sym._layout(tuple(scalarsets))
    perms = []
    for si, s in enumerate(scalarsets):
        sigs = [sym._signature(state, layout, si, s, i) for i in range(s.size)]
        perms.append(sym._inverse(sorted(range(s.size), key=sigs.__getitem__)))
    return apply_all(scalarsets, tuple(perms), state)


def test_breaking_ties_by_index_is_caught_by_the_orbit_check():
    rng = random.Random(13)
    for _ in range(2000):
        scalarsets, sizes, domains = build_layout(rng.randint, lambda: rng.choice(KINDS))
        state = draw_state(rng.randint, sizes, domains)
        images = {naive(apply_all(scalarsets, p, state), scalarsets) for p in group(scalarsets)}
        if len(images) > 1:
            return                               # the negative control fails, as it must
    raise AssertionError("no generated case tells a normal form from a canonical form")
