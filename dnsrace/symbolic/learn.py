"""Invariants learned from a small instance: candidates kept where every reachable state
agrees, for Houdini and PDR.

DistAI and DuoAI (OSDI 2021, 2022) prove distributed protocols with no hand-written
invariant in three steps: enumerate simple candidate invariants, keep those true on every
reachable state of small instances (which the explicit engine enumerates in seconds), and
check the survivors for inductiveness with an SMT solver.  dnsrace does the same over the
IR's slots:

  guard   true, or `p == v` for a program counter p and a step v it can be at
  atom    s == c, s != c, s <= c, s >= c      s a slot with a small domain, c a value
          a == b, a <= b, a < b              a, b integer slots (either order)

A candidate `guard => atom` survives when no reachable state of the instance has the
guard without the atom.  Survivors that another survivor already implies are left out
(an atom true everywhere needs no guard; `s == c` makes the other facts about s under the
same guard redundant).  The sample is only a filter: what survives is checked for
inductiveness under the symbolic constants' `assume` (`houdini.lemmas`), so a sample that
misses states (a search cut short, a larger value of a symbolic constant) makes a proof
harder, never wrong.

The explicit search runs without symmetry reduction: one state per orbit would keep
candidates that hold only for the orbit's representative.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import z3

from ..backends.python_codegen import CompiledSystem
from ..engines.limits import Limits
from ..frontend.types import BoolT, IntT, SymT
from ..ir.layout import ScalarRep
from ..ir.system import TransitionSystem

MAX_STATES = 60_000     # states sampled from the small instance (a BFS prefix beyond)
MAX_DOMAIN = 16         # a slot with at most this many values gets `s == c` atoms
MAX_PAIRS = 400         # integer slot pairs (the first, in slot order)
CHUNK = 512             # atoms evaluated at once


@dataclass(frozen=True)
class Candidate:
    """`guard => a op rhs`: guard is (pc slot, step) or None; rhs a slot (b) or a value."""

    guard: tuple[tuple[int, int], ...]   # (slot, value) pairs, all true; () for none
    op: str               # == != <= >= <
    a: int
    b: int | None
    c: int = 0

    def formula(self, X: list):
        lhs = X[self.a]
        rhs = X[self.b] if self.b is not None else z3.IntVal(self.c)
        atom = {"==": lambda: lhs == rhs, "!=": lambda: lhs != rhs,
                "<=": lambda: lhs <= rhs, ">=": lambda: lhs >= rhs,
                "<": lambda: lhs < rhs}[self.op]()
        if not self.guard:
            return atom
        tests = [X[j] == v for j, v in self.guard]
        return z3.Implies(tests[0] if len(tests) == 1 else z3.And(*tests), atom)


@dataclass
class Sample:
    """Reachable states of a small instance, one row per state, one column per slot."""

    states: np.ndarray
    complete: bool        # every reachable state of the instance is a row
    seconds: float


def sample(ts: TransitionSystem, cs: CompiledSystem, deadline: float | None,
           max_states: int = MAX_STATES) -> Sample | None:
    """The small instance's reachable states (the spec at its constants' values), by the
    explicit engine; None when the search finds nothing to learn from in time."""
    from ..engines.bfs import explore

    t0 = time.monotonic()
    left = None if deadline is None else deadline - t0
    if left is not None and left <= 0:
        return None
    found = explore(ts, cs, Limits(max_states=max_states, time_limit=left, symmetry=False))
    if not found.states:
        return None
    unpack = cs.packing.unpack
    rows = np.array([unpack(s) for s in found.states], dtype=np.int64)
    return Sample(rows.reshape(len(found.states), len(ts.slots)), found.complete,
                  time.monotonic() - t0)


def _slot_types(ts: TransitionSystem) -> dict[int, object]:
    types: dict[int, object] = {}

    def visit(rep) -> None:
        if isinstance(rep, ScalarRep):
            types[rep.slot] = rep.type
        for r in getattr(rep, "elems", ()):
            visit(r)
    for f in ts.layout.fields:
        for rep in f.reps:
            visit(rep)
    return types


def pcs_of(ts: TransitionSystem) -> dict[int, list[int]]:
    """Each program counter slot with the steps a transition starts from."""
    out: dict[int, list[int]] = {}
    for t in ts.transitions:
        if t.pc is not None and t.pc[1] not in out.setdefault(t.pc[0], []):
            out[t.pc[0]].append(t.pc[1])
    return out


def candidates(ts: TransitionSystem, smp: Sample, usable: list[int],
               symbolic: set[int] = frozenset()) -> list[Candidate]:
    """The candidates that hold on every sampled state, without those another implies.
    `usable`: the slots a candidate may read (scalars of the encoding); `symbolic`: those
    whose range depends on a symbolic constant (no values of theirs are learned)."""
    M = smp.states
    types = _slot_types(ts)
    pcs = pcs_of(ts)
    small, ints = [], []
    for j in usable:
        ty = types.get(j)
        lo, hi = int(M[:, j].min()), int(M[:, j].max())
        if j not in symbolic and (j in pcs or isinstance(ty, (BoolT, SymT))
                                  or (ty is not None and hi - lo < MAX_DOMAIN
                                      and ts.slots[j].hi is not None
                                      and ts.slots[j].lo is not None
                                      and ts.slots[j].hi - ts.slots[j].lo < MAX_DOMAIN)):
            small.append(j)
        if isinstance(ty, IntT) and j not in pcs:
            ints.append(j)
    atoms: list[tuple[str, int, int | None, int]] = []
    for s in small:
        values = sorted(set(np.unique(M[:, s]).tolist()) | _domain(ts, types.get(s), s)
                        | _range(ts, s))
        ordered = isinstance(types.get(s), IntT)
        for c in values:
            atoms += [("==", s, None, c), ("!=", s, None, c)]
            if ordered and values[0] < c < values[-1]:
                atoms += [("<=", s, None, c), (">=", s, None, c)]
    # pairs of slots of one type (plans with plans, not plans with endpoint numbers)
    pairs = [(a, b) for n, a in enumerate(ints) for b in ints[n + 1:]
             if _same_type(types[a], types[b])][:MAX_PAIRS]
    for a, b in pairs:
        atoms += [("==", a, b, 0), ("<=", a, b, 0), ("<=", b, a, 0), ("<", a, b, 0),
                  ("<", b, a, 0)]
    guards: list[tuple] = [()]
    guard_rows = [np.ones(M.shape[0], dtype=bool)]
    for p, steps in pcs.items():
        if p not in usable:
            continue
        mine = [s for s in small if s != p and _instance(ts, s) == _instance(ts, p) is not None]
        for v in steps:
            rows = M[:, p] == v
            if not rows.any():      # a step never reached: `p != v` says it, unguarded
                continue
            guards.append(((p, v),))
            guard_rows.append(rows)
            for s in mine:          # at a step, with one of the instance's locals fixed
                values = np.unique(M[rows, s])
                if len(values) > 1:
                    for c in values.tolist():
                        guards.append(((p, v), (s, c)))
                        guard_rows.append(rows & (M[:, s] == c))
    holds = np.zeros((len(guards), len(atoms)), dtype=bool)
    for lo in range(0, len(atoms), CHUNK):
        A = np.stack([_atom_values(M, x) for x in atoms[lo:lo + CHUNK]], axis=1)
        for g, rows in enumerate(guard_rows):
            holds[g, lo:lo + A.shape[1]] = A[rows].all(axis=0)
    out: list[Candidate] = []
    first = {guard[0]: g for g, guard in enumerate(guards) if len(guard) == 1}
    for g, guard in enumerate(guards):
        # what holds with a weaker guard needs no stronger one
        weaker = [0] + ([first[guard[0]]] if len(guard) > 1 else [])
        kept = [atoms[i] for i in np.flatnonzero(holds[g])
                if g == 0 or not any(holds[w, i] for w in weaker)]
        fixed = {a for op, a, b, _ in kept if op == "==" and b is None}
        equal = {(a, b) for op, a, b, _ in kept if op == "==" and b is not None}
        for op, a, b, c in kept:
            if b is None and op != "==" and a in fixed:
                continue                      # s == c' says it
            if b is not None and op != "==" and ((a, b) in equal or (b, a) in equal):
                continue                      # a == b says it
            if any(a == j for j, _ in guard):
                continue                      # about a slot the guard fixes
            out.append(Candidate(guard, op, a, b, c))
    return out


def _instance(ts: TransitionSystem, j: int) -> str | None:
    """`Enactor[1]` for the slots of that instance (its pc and locals), else None."""
    name = ts.slots[j].name
    head = name.split(".", 1)[0]
    return head if "." in name and head.endswith("]") else None


def _same_type(a, b) -> bool:
    return (a.lo, a.hi) == (b.lo, b.hi)


def _range(ts: TransitionSystem, j: int) -> set[int]:
    lo, hi = ts.slots[j].lo, ts.slots[j].hi
    return set(range(lo, hi + 1)) if lo is not None and hi is not None and \
        hi - lo < MAX_DOMAIN else set()


def _domain(ts: TransitionSystem, ty, j: int) -> set[int]:
    if isinstance(ty, BoolT):
        return {0, 1}
    if isinstance(ty, SymT) and ty.values is not None:
        return {ts.layout.symbols.id(v) for v in ty.values}
    return set()


def _atom_values(M: np.ndarray, atom) -> np.ndarray:
    op, a, b, c = atom
    lhs = M[:, a]
    rhs = M[:, b] if b is not None else c
    if op == "==":
        return lhs == rhs
    if op == "!=":
        return lhs != rhs
    if op == "<=":
        return lhs <= rhs
    if op == ">=":
        return lhs >= rhs
    return lhs < rhs


@dataclass
class Learned:
    """What learning kept: the inductive candidates (formulas over the encoding's X) and
    how many there were at each stage, for the report."""

    formulas: list
    sampled: int = 0          # states of the small instance
    complete: bool = False    # ... all of its reachable states
    proposed: int = 0         # candidates true on every sampled state
    seconds: float = 0.0

    def describe(self) -> str:
        where = "all" if self.complete else "a prefix of"
        return (f"{len(self.formulas)} of {self.proposed} candidate invariants true on "
                f"{where} the {self.sampled:,} reachable states of the spec at its values "
                f"are inductive")
