"""The reachable state graph, kept for temporal properties only.

While the search explores, every successful transition appends its successor's number to
`dst` and its transition to `tid` (int32 each), and every expanded state appends the number
of edges so far to `row_end`: compressed sparse rows, states numbered in discovery order,
8 bytes per transition and 8 per state, no Python object per edge.  `Graph` views those
buffers as numpy arrays (no copy) and adds what the liveness checks need: each edge's
source, its fairness unit, and per unit the states where it is enabled.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np

from ..ir.system import TransitionSystem


class StateGraph:
    """The buffers the generated `run_graph` appends to."""

    __slots__ = ("dst", "tid", "row_end")

    def __init__(self) -> None:
        self.dst = array("i")
        self.tid = array("i")
        self.row_end = array("q")


@dataclass
class Graph:
    """The state graph as arrays.  A state with no outgoing edge (a deadlock, a terminated
    state, or one whose enabled transitions all fail) repeats forever: `stuck`."""

    n: int
    indptr: np.ndarray   # int64, n + 1
    dst: np.ndarray      # int32, per edge
    tid: np.ndarray      # int32, per edge
    src: np.ndarray      # int32, per edge
    unit: np.ndarray     # int32, per edge: its fairness unit, or -1
    unit_of_tid: np.ndarray  # int32, per transition: its fairness unit, or -1
    units: list          # FairnessUnit, by unit number
    enabled: np.ndarray  # bool, units x n: the unit has an edge out of the state
    stuck: np.ndarray    # bool, per state

    @property
    def edges(self) -> int:
        return len(self.dst)

    def out_edges(self, s: int) -> range:
        return range(int(self.indptr[s]), int(self.indptr[s + 1]))


def as_graph(sg: StateGraph, n: int, ts: TransitionSystem) -> Graph:
    """View the recorded buffers of a complete search of `n` states as a `Graph`."""
    assert len(sg.row_end) == n, "the graph of an incomplete search"
    indptr = np.zeros(n + 1, dtype=np.int64)
    if n:
        indptr[1:] = np.frombuffer(sg.row_end, dtype=np.int64)
    dst = np.frombuffer(sg.dst, dtype=np.int32) if len(sg.dst) else np.zeros(0, np.int32)
    tid = np.frombuffer(sg.tid, dtype=np.int32) if len(sg.tid) else np.zeros(0, np.int32)
    return graph_of(indptr, dst, tid, ts)


def graph_of(indptr: np.ndarray, dst: np.ndarray, tid: np.ndarray,
             ts: TransitionSystem) -> Graph:
    """The `Graph` of compressed sparse rows (`indptr` int64, `dst` and `tid` int32)."""
    n = len(indptr) - 1
    degree = np.diff(indptr)
    src = np.repeat(np.arange(n, dtype=np.int32), degree)
    unit_of = np.full(max(len(ts.transitions), 1), -1, dtype=np.int32)
    for u, fu in enumerate(ts.fairness):
        unit_of[fu.transitions] = u
    unit = unit_of[tid] if len(tid) else np.zeros(0, np.int32)
    enabled = np.zeros((len(ts.fairness), n), dtype=bool)
    for u in range(len(ts.fairness)):
        enabled[u, src[unit == u]] = True
    return Graph(n, indptr, dst, tid, src, unit, unit_of, list(ts.fairness), enabled,
                 degree == 0)


def neighbours(indptr: np.ndarray, nbr: np.ndarray, frontier: np.ndarray):
    """The edges out of `frontier`: (edge numbers, their far ends)."""
    starts = indptr[frontier]
    counts = indptr[frontier + 1] - starts
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.int64), np.zeros(0, nbr.dtype)
    first = np.cumsum(counts) - counts
    idx = np.repeat(starts - first, counts) + np.arange(total)
    return idx, nbr[idx]


def reach(indptr: np.ndarray, nbr: np.ndarray, sources: np.ndarray,
          allowed: np.ndarray) -> np.ndarray:
    """The states reachable from `sources` (a mask) along edges into `allowed` states."""
    seen = sources.copy()
    frontier = np.flatnonzero(seen)
    while frontier.size:
        _, far = neighbours(indptr, nbr, frontier)
        far = far[allowed[far] & ~seen[far]]
        frontier = np.unique(far)
        seen[frontier] = True
    return seen


def reversed_rows(g: Graph) -> tuple[np.ndarray, np.ndarray]:
    """The reversed graph in CSR form: (indptr, predecessor per edge)."""
    order = np.argsort(g.dst, kind="stable")
    indptr = np.zeros(g.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(g.dst, minlength=g.n), out=indptr[1:])
    return indptr, g.src[order]
