"""Lemmas found before PDR runs: Houdini over program-counter-guarded candidates.

Spacer is slow to find the mutual exclusion that a lease or a lock gives (with three
Enactors, `Enactor.pc[i] != pick => holder == i` for each i); given those lemmas it proves the
lease design in about a second.  So before Spacer runs, dnsrace guesses simple candidates
from the IR and keeps the largest subset that is inductive (Houdini: Flanagan and Leino,
FME 2001):

  for every program counter p, each step v it can be at, and each other slot s:
      p == v  =>  s == c,  s != c,  s <= c,  s >= c     (c in s's range, if small)
      p == v  =>  a == b,  a <= b                        (pairs of integer slots)

A candidate false in an initial state is dropped; then, while some step from a state where
every remaining candidate holds breaks one, the candidates that step breaks are dropped.
What remains holds in every reachable state (sets over symbolic ranges are read as unknown
values, which only allows more steps).  PDR then assumes it in every clause's body, and the
invariant dnsrace prints and re-checks is Spacer's conjoined with these lemmas, checked
against the clauses without them.
"""

from __future__ import annotations

import time

import z3

MAX_DOMAIN = 16          # a slot's values are enumerated only when this few
MAX_CANDIDATES = 6000


def candidates(enc) -> list:
    """The candidate lemmas over enc.X (see the module's text)."""
    ts, X = enc.ts, enc.X
    pcs: dict[int, list[int]] = {}
    for t in ts.transitions:
        if t.pc is not None and t.pc[1] not in pcs.setdefault(t.pc[0], []):
            pcs[t.pc[0]].append(t.pc[1])
    small, ints = [], []
    for j in enc.scalar:
        lo, hi = enc.bounds[j]
        if j in enc.ps.bounds:
            ints.append(j)
        elif hi - lo < MAX_DOMAIN:
            small.append(j)
            if hi - lo > 1 and j not in pcs:
                ints.append(j)
        else:
            ints.append(j)
    out = []
    for p, values in pcs.items():
        for v in values:
            at = X[p] == v
            for s in small:
                if s == p:
                    continue
                lo, hi = enc.bounds[s]
                for c in range(lo, hi + 1):
                    out += [z3.Implies(at, X[s] == c), z3.Implies(at, X[s] != c)]
                    if lo < c < hi:
                        out += [z3.Implies(at, X[s] <= c), z3.Implies(at, X[s] >= c)]
            for n, a in enumerate(ints):
                for b in ints[n + 1:]:
                    out += [z3.Implies(at, X[a] == X[b]), z3.Implies(at, X[a] <= X[b]),
                            z3.Implies(at, X[b] <= X[a])]
    return out[:MAX_CANDIDATES]


def lemmas(enc, init, steps: list, deadline: float | None,
           cands: list | None = None) -> list | None:
    """The largest subset of the candidates (default: `candidates(enc)`) that holds
    initially and is preserved by every step in `steps` (formulas over X, Y and free
    reads); None when time runs out first."""
    if cands is None:
        cands = candidates(enc)
    if not cands:
        return []
    prime = [(x, y) for x, y in zip(enc.X, enc.Y)]
    left = lambda: None if deadline is None else max(1, int((deadline - time.monotonic()) * 1000))
    s = z3.Solver()
    s.add(init)
    alive = _filter(s, cands, cands, left)
    if alive is None:
        return None
    s = z3.Solver()
    rel = z3.Or(*steps) if steps else z3.BoolVal(False)
    s.add(rel)
    while alive:
        if deadline is not None and time.monotonic() >= deadline:
            return None
        primed = [z3.substitute(c, *prime) for c in alive]
        s.push()
        s.add(*alive)
        kept = _filter(s, alive, primed, left)
        s.pop()
        if kept is None:
            return None
        if len(kept) == len(alive):
            return prune(alive)
        alive = kept
    return alive


def prune(lemmas: list) -> list:
    """Drop what another kept lemma implies: under one guard, `s == c` makes every other
    bound or disequality on s redundant."""
    fixed = set()
    for lem in lemmas:
        if not z3.is_implies(lem):
            continue
        at, atom = lem.arg(0), lem.arg(1)
        if z3.is_eq(atom) and z3.is_int_value(atom.arg(1)):
            fixed.add((at.get_id(), atom.arg(0).get_id()))
    out, seen = [], set()
    for lem in lemmas:
        if lem.get_id() in seen:
            continue
        seen.add(lem.get_id())
        if not z3.is_implies(lem):
            out.append(lem)
            continue
        at, atom = lem.arg(0), lem.arg(1)
        lhs = atom.arg(0).arg(0) if z3.is_not(atom) else atom.arg(0)
        single = z3.is_eq(atom) and z3.is_int_value(atom.arg(1))
        if not single and (at.get_id(), lhs.get_id()) in fixed and \
                z3.is_int_value(atom.arg(1) if not z3.is_not(atom) else atom.arg(0).arg(1)):
            continue
        out.append(lem)
    return out


def _filter(s, cands: list, forms: list, left):
    """The candidates whose form holds in every model of s (dropping, one model at a time,
    those a model falsifies); None on a solver time-out."""
    keep = list(range(len(cands)))
    while keep:
        s.push()
        s.add(z3.Or(*[z3.Not(forms[i]) for i in keep]))
        ms = left()
        if ms is not None:
            s.set("timeout", ms)
        r = s.check()
        if r == z3.unsat:
            s.pop()
            break
        if r != z3.sat:
            s.pop()
            return None
        m = s.model()
        s.pop()
        keep = [i for i in keep if z3.is_true(m.eval(forms[i], model_completion=True))]
    return [cands[i] for i in keep]
