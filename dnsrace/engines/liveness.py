"""Temporal properties on the recorded state graph (see `engines.graph`).

Every property reduces to one question, asked with the standard algorithms:

  always eventually P   a fair cycle inside the states where P is false
  eventually always P   a fair cycle through a state where P is false
  P leads_to Q          a fair cycle inside the not-Q states, reachable from a state where
                        P holds and Q does not through not-Q states
  recoverable P         a reachable state from which no path reaches P (a trap): backward
                        reachability from the P states over reversed edges

A fair cycle exists in a set of states exactly when `fair_components` finds a fair
strongly connected component there: SCCs (scipy), then weak fairness per SCC (each weakly
fair unit is taken inside it or disabled at one of its states) and strong fairness by
Emerson-Lei refinement (drop the states where a strongly fair unit is enabled but never
taken inside, and decompose again).  A stuck state (no outgoing edge) is a one-state fair
cycle: it repeats forever and no unit is enabled there.

A state where P or Q fails to evaluate is a run-time error (reported by the search); for
the temporal property it counts as neither: it is never a P state, a not-P state, a trigger
or a trap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, shortest_path

from ..ir.system import TemporalProperty
from .graph import Graph, neighbours, reach, reversed_rows

TRUE, FALSE, ERROR = 1, 0, -1


@dataclass
class Lasso:
    """A counterexample: state numbers along the path with the transition into each (-1 for
    the initial state); the cycle starts at `loop_start` (None: a plain path, for
    recoverable)."""

    states: list[int]
    tids: list[int]
    loop_start: int | None


def components(g: Graph, alive: np.ndarray) -> np.ndarray:
    """The SCC of every alive state (0..k-1), -1 elsewhere: the subgraph they induce."""
    keep = alive[g.src] & alive[g.dst]
    indptr = np.zeros(g.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(g.src[keep], minlength=g.n), out=indptr[1:])
    m = csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), g.dst[keep], indptr),
                   shape=(g.n, g.n))
    _, labels = connected_components(m, directed=True, connection="strong")
    out = np.full(g.n, -1, dtype=np.int64)
    _, out[alive] = np.unique(labels[alive], return_inverse=True)
    return out


def fair_components(g: Graph, candidates: np.ndarray) -> np.ndarray:
    """The fair SCCs inside `candidates`: a label per state (-1: in none).  Deterministic:
    labels number the components in the order their states were found."""
    alive = candidates.copy()
    final = np.full(g.n, -1, dtype=np.int64)
    while alive.any():
        comp = components(g, alive)
        k = int(comp.max()) + 1
        inner = (comp[g.src] >= 0) & (comp[g.src] == comp[g.dst])
        ok = np.zeros(k, dtype=bool)
        ok[comp[g.src[inner]]] = True                 # has a cycle inside
        ok[comp[alive & g.stuck]] = True              # repeats forever
        drop_states = np.zeros(g.n, dtype=bool)
        for u, unit in enumerate(g.units):
            taken = np.zeros(k, dtype=bool)
            taken[comp[g.src[inner & (g.unit == u)]]] = True
            if unit.kind == "weak":
                disabled = np.zeros(k, dtype=bool)
                disabled[comp[alive & ~g.enabled[u]]] = True
                ok &= taken | disabled
            else:
                starved = alive & g.enabled[u] & ~taken[np.maximum(comp, 0)]
                drop_states |= starved
        refine = np.zeros(k, dtype=bool)
        refine[comp[drop_states]] = True
        refine &= ok
        done = alive & ok[np.maximum(comp, 0)] & ~refine[np.maximum(comp, 0)]
        final[done] = comp[done] + (final.max() + 1)
        keep = alive & refine[np.maximum(comp, 0)] & ~drop_states
        alive = keep
    if (final >= 0).any():
        # renumber by each component's first state
        labels = final[final >= 0]
        _, first = np.unique(labels, return_index=True)
        order = np.argsort(np.flatnonzero(final >= 0)[first], kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        final[final >= 0] = rank[np.searchsorted(np.unique(labels), labels)]
    return final


@dataclass
class Verdict:
    violated: bool
    lasso: Lasso | None = None


def decide(g: Graph, prop: TemporalProperty, pv: np.ndarray, qv: np.ndarray | None,
           path_to, depth: np.ndarray) -> Verdict:
    """Whether `prop` is violated, with its counterexample.  `pv`/`qv`: P's and Q's value
    per state (TRUE, FALSE or ERROR); `path_to(s)`: a first shortest path from an initial
    state as [(transition, state)]; `depth`: each state's distance from the initial ones."""
    if prop.form == "recoverable":
        return _recoverable(g, pv, path_to)
    if prop.form == "always_eventually":
        labels = fair_components(g, pv == FALSE)
        bad = labels >= 0
        need = None
    elif prop.form == "eventually_always":
        labels = fair_components(g, np.ones(g.n, dtype=bool))
        hit = np.unique(labels[(pv == FALSE) & (labels >= 0)])
        bad = np.isin(labels, hit) & (labels >= 0)
        need = pv == FALSE
    else:
        not_q = qv == FALSE
        labels = fair_components(g, not_q)
        triggers = (pv == TRUE) & not_q
        bad = (labels >= 0) & reach(g.indptr, g.dst, triggers, not_q)
        need = None
    if not bad.any():
        return Verdict(False)
    if prop.form == "leads_to":
        prefix = _prefix_through(g, triggers, not_q, bad, path_to, depth)
    else:
        prefix = path_to(int(np.flatnonzero(bad)[0]))
    entry = prefix[-1][1]
    cycle = fair_cycle(g, labels == labels[entry], entry, need)
    tids = [t for t, _ in prefix] + [t for t, _ in cycle]
    states = [s for _, s in prefix] + [s for _, s in cycle]
    return Verdict(True, Lasso(states, tids, len(prefix) - 1))


def _recoverable(g: Graph, pv: np.ndarray, path_to) -> Verdict:
    indptr, pred = reversed_rows(g)
    can = reach(indptr, pred, pv == TRUE, np.ones(g.n, dtype=bool))
    traps = np.flatnonzero(~can & (pv != ERROR))
    if not traps.size:
        return Verdict(False)
    path = path_to(int(traps[0]))
    return Verdict(True, Lasso([s for _, s in path], [t for t, _ in path], None))


def _prefix_through(g: Graph, triggers, allowed, bad, path_to, depth) -> list:
    """A shortest path that reaches a trigger, then a `bad` state through `allowed` states:
    a breadth-first search whose sources are the triggers, each entering at its depth."""
    seeds = np.flatnonzero(triggers)
    seed_depth = depth[seeds]
    dist = np.full(g.n, -1, dtype=np.int64)
    parent = np.full(g.n, -1, dtype=np.int64)
    via = np.full(g.n, -1, dtype=np.int64)
    level = int(seed_depth.min())
    frontier = np.zeros(0, dtype=np.int64)
    while True:
        fresh = seeds[(seed_depth == level) & (dist[seeds] < 0)]
        frontier = np.union1d(frontier, fresh)
        dist[frontier] = level
        hits = frontier[bad[frontier]]
        if hits.size:
            end = int(hits.min())
            break
        edges, far = neighbours(g.indptr, g.dst, frontier)
        ok = allowed[far] & (dist[far] < 0)
        edges, far = edges[ok], far[ok]
        far, first = np.unique(far, return_index=True)
        parent[far] = g.src[edges[first]]
        via[far] = g.tid[edges[first]]
        frontier = far
        level += 1
    tail = []
    s = end
    while parent[s] >= 0 and not (triggers[s] and dist[s] == depth[s]):
        tail.append((int(via[s]), s))
        s = int(parent[s])
    return path_to(s) + tail[::-1]


def fair_cycle(g: Graph, comp: np.ndarray, entry: int, need: np.ndarray | None) -> list:
    """A short cycle from `entry` back to it inside the fair component `comp` (a mask) that
    respects the fairness given: it takes a step of every strongly fair unit enabled in the
    component, and of every weakly fair one enabled at `entry`, or visits a state where that
    one is disabled; with `need`, it visits a state of `need`.  [(transition, state)] after
    `entry`; empty for a stuck state (it repeats itself)."""
    if g.stuck[entry]:
        return []
    inner = comp[g.src] & comp[g.dst]
    edges = np.flatnonzero(inner)
    indptr = np.zeros(g.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(g.src[edges], minlength=g.n), out=indptr[1:])
    sub = csr_matrix((np.ones(len(edges), dtype=np.int8), g.dst[edges], indptr),
                     shape=(g.n, g.n))
    goals = []   # (kind, unit or mask): "edge" of a unit, or "state" in a mask
    for u, unit in enumerate(g.units):
        if unit.kind == "strong" and (g.enabled[u] & comp).any():
            goals.append(("edge", u))
        elif unit.kind == "weak" and g.enabled[u][entry]:
            taken = (g.unit[edges] == u).any()
            goals.append(("edge", u) if taken else ("state", comp & ~g.enabled[u]))
    if need is not None and not need[entry]:
        goals.append(("state", comp & need))
    path: list = []
    here = entry
    while goals:
        order, pred = breadth_first_order(sub, here, directed=True, return_predecessors=True)
        rank = np.full(g.n, g.n, dtype=np.int64)
        rank[order] = np.arange(len(order))
        best = None
        for goal in goals:
            target, edge = _nearest(g, goal, edges, rank)
            if best is None or rank[target] < best[0]:
                best = (rank[target], target, edge)
        _, target, edge = best
        path += _walk(g, pred, here, target, comp)
        if edge is not None:
            path.append((int(g.tid[edge]), int(g.dst[edge])))
        here = path[-1][1] if path else entry
        goals = [x for x in goals if not _met(g, x, entry, path)]
    if not path:
        # the shortest cycle through entry: the edge out of it closest to coming back
        back = shortest_path(sub.T.tocsr(), unweighted=True, indices=entry)
        out = edges[g.src[edges] == entry]
        e = int(out[np.argmin(back[g.dst[out]])])
        path.append((int(g.tid[e]), int(g.dst[e])))
        here = int(g.dst[e])
    if here != entry:
        order, pred = breadth_first_order(sub, here, directed=True, return_predecessors=True)
        path += _walk(g, pred, here, entry, comp)
    return path


def _nearest(g: Graph, goal, edges: np.ndarray, rank: np.ndarray):
    """The goal's nearest target state (by BFS rank) and the edge to take from it."""
    kind, what = goal
    if kind == "state":
        cands = np.flatnonzero(what)
        target = int(cands[np.argmin(rank[cands])])
        return target, None
    mine = edges[g.unit[edges] == what]
    e = int(mine[np.argmin(rank[g.src[mine]])])
    return int(g.src[e]), e


def _walk(g: Graph, pred: np.ndarray, start: int, target: int, comp: np.ndarray) -> list:
    """The BFS-tree path start -> target as [(transition, state)], each step by the first
    edge (in transition order) between the two states."""
    chain = []
    s = target
    while s != start:
        p = int(pred[s])
        chain.append((p, s))
        s = p
    out = []
    for p, s in reversed(chain):
        e = next(e for e in g.out_edges(p) if g.dst[e] == s)
        out.append((int(g.tid[e]), s))
    return out


def _met(g: Graph, goal, entry: int, path: list) -> bool:
    kind, what = goal
    if kind == "state":
        return bool(what[entry]) or any(what[s] for _, s in path)
    return any(0 <= t < len(g.unit_of_tid) and g.unit_of_tid[t] == what for t, _ in path)
