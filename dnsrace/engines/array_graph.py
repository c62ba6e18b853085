"""The state graph of an array search, recorded for temporal properties only.

The array engine numbers states as the per-state engine discovers them (a level's new
states in the order of their first (parent, transition) code, after all the states of the
levels before), so it records the very graph `engines.bfs` records, array for array:

- per level expanded, every successful transition of every frontier state as an edge, in
  compressed-sparse-row order (by source, then transition: `level_edges` places each
  candidate successor with a counting pass, no sort); edges to states already visited
  included;
- the visited set carries each key's state number (`Visited(numbered=True)`, 4 bytes per
  state in each of its two buffers); the level's distinct successors (sorted, as the
  deduplication leaves them) take theirs from it or, when new, from their place in the
  discovery order, and each edge's successor key becomes its state number by
  `searchsorted` on those distinct keys (smaller than the visited set, so faster);
- per level, P and Q of every temporal property over the new states, vectorised
  (`numpy_codegen`'s generated `temporal_values`).

Kept per transition: its successor's number and its transition, int32 each (8 bytes, no
Python object per edge, on the host); per state: its out-degree (4 bytes) and one int8 per
P or Q.  A level's edges also need 12 bytes per candidate successor on the device while it
is expanded.  The decision (`engines.temporal`, `engines.liveness`) is the per-state
engine's, on the same arrays, so verdicts and traces are identical.
"""

from __future__ import annotations

from .array_level import LevelOut, mix
from .device import numpy as np
from .device import to_numpy
from .graph import graph_of
from .liveness import ERROR, FALSE, TRUE
from .temporal import SearchGraph

GRAPH_BYTES_PER_EDGE = 8          # kept on the host: successor number, transition
LEVEL_BYTES_PER_CANDIDATE = 28    # while a level is expanded: key, transition, slot, number


class TemporalOut:
    """What the generated `temporal_values` reports for one level: per temporal property,
    P's and Q's values (int8: TRUE, FALSE, or ERROR where a failure condition holds)."""

    def __init__(self, n: int, xp=np):
        self.n, self.xp = n, xp
        self.values: dict[int, tuple] = {}

    def _as_values(self, v, err):
        xp = self.xp
        # a bool array, or a Python bool for every state: True -> 1 == TRUE, 0 == FALSE
        out = xp.broadcast_to(xp.asarray(v, dtype=bool), (self.n,)).astype(np.int8)
        assert TRUE == 1 and FALSE == 0
        if err is not None:
            out[err] = ERROR
        return out

    def temporal(self, k: int, conds, p, q) -> None:
        err = LevelOut._any(self.xp, self.n, conds)
        self.values[k] = (self._as_values(p, err),
                          None if q is None else self._as_values(q, err))


class GraphRecorder:
    """The graph and P/Q values of a search, level by level (host arrays)."""

    def __init__(self, ts, arr):
        self.ts, self.arr, self.xp = ts, arr, arr.xp
        self.degree: list[np.ndarray] = []   # per level expanded: out-degree per state
        self.dst: list[np.ndarray] = []      # per level expanded: successor numbers
        self.tid: list[np.ndarray] = []      # per level expanded: transitions
        self.p: list[list] = [[] for _ in ts.temporal]
        self.q: list[list] = [[] for _ in ts.temporal]
        self.edges = 0

    def add_values(self, keys) -> None:
        """P and Q over a level's new states (array keys, in discovery order)."""
        if not self.ts.temporal or not keys.shape[0]:
            return
        out = TemporalOut(keys.shape[0], self.xp)
        self.arr.temporal_values(keys, out)
        for k, (pv, qv) in sorted(out.values.items()):
            self.p[k].append(to_numpy(pv))
            if qv is not None:
                self.q[k].append(to_numpy(qv))

    def add_edges(self, level: tuple, numbering: tuple, mixed: bool) -> None:
        """A level's edges (`level_edges`), once its successors are numbered: `numbering`
        is (their distinct keys, sorted, mixed in the mixed order; each one's number)."""
        degree, keys, tids = level
        self.degree.append(to_numpy(degree).astype(np.int32))
        self.dst.append(to_numpy(numbers(numbering[0], numbering[1], keys, mixed, self.xp)))
        self.tid.append(to_numpy(tids))
        self.edges += int(keys.shape[0])

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for part in (self.degree, self.dst, self.tid) for a in part) + \
            sum(a.nbytes for part in self.p + self.q for a in part)

    def search_graph(self, found) -> SearchGraph:
        """The `SearchGraph` of a complete search (`found`: an `ArrayExploration`)."""
        degree = _concat(self.degree, np.int32)
        indptr = np.zeros(degree.shape[0] + 1, dtype=np.int64)
        np.cumsum(degree, out=indptr[1:])
        del degree
        dst = _concat(self.dst, np.int32)
        self.dst = []
        tid = _concat(self.tid, np.int32)
        self.tid = []
        g = graph_of(indptr, dst, tid, self.ts)
        values = [(_concat(p, np.int8), _concat(q, np.int8) if prop.q is not None else None)
                  for prop, p, q in zip(self.ts.temporal, self.p, self.q)]
        return SearchGraph(g, values, found.numbered_path, found.depths, found.replay)


def numbers(sorted_keys, ids, keys, mixed: bool, xp=np):
    """The numbers of `keys` (each one of `sorted_keys`, whose numbers are `ids`)."""
    if not keys.shape[0]:
        return xp.empty(0, dtype=np.int32)
    if mixed:
        keys = mix(keys, xp)
    at = xp.searchsorted(sorted_keys, keys)
    if not bool((sorted_keys[xp.minimum(at, sorted_keys.shape[0] - 1)] == keys).all()):
        raise AssertionError("array engine: an edge to a successor never numbered")
    return ids[at]


def _concat(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def level_edges(succ: list, n: int, xp=np) -> tuple:
    """The edges out of a frontier of n states, from the successors the generated
    `expand_level` reported ((transition, positions, keys) per transition, positions
    ascending): (out-degree per state, successor keys, transitions), the edges ordered by
    source, then transition, as the per-state engine appends them."""
    degree = xp.zeros(n, dtype=np.int64)
    for _, ix, _ in succ:
        degree[ix] += 1
    m = sum(int(ix.shape[0]) for _, ix, _ in succ)
    slot = xp.cumsum(degree) - degree       # the next free slot of each source's row
    keys = xp.empty(m, dtype=np.uint64)
    tids = xp.empty(m, dtype=np.int32)
    for t, ix, k in sorted(succ, key=lambda x: x[0]):
        at = slot[ix]
        keys[at] = k
        tids[at] = t
        slot[ix] += 1
    return degree, keys, tids
