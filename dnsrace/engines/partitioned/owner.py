"""One owner of a partitioned search: its part of the visited set and of the frontier.

An owner keeps the states whose key hashes to it (`partition.owner_of`): their keys in a
sorted `Visited` set, and the frontier's states it owns with their *global* indices (each
state's place in the level, numbered as the single-process array engine numbers it).  Per
level the driver asks every owner to

1. `expand` its frontier part with the generated array code: the level's events (first
   guard failure, effect failure, transition-property event per transition, first
   deadlock) at their global positions, and the candidate successors, each with its code
   `global parent index * n_transitions + transition`, deduplicated locally (the smallest
   code per key; on a cluster only) and split by owner: the buckets to route;
2. `receive` the buckets routed to it: the smallest code per key again, the keys it has
   visited dropped, the rest (its new states) ordered by code, and the first event of each
   state property over them; it returns their codes, and the driver merges every owner's
   codes into the level's global order (the single-process order: codes ascend in it);
3. `commit` the new states the driver keeps (all, or those before a cut) with their
   global indices: they join the visited set and become its frontier part.

Owners never see each other; the driver only moves codes, events and buckets between them.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

from ...backends.loader import load
from ...backends.numpy_codegen import RUNTIME, ArraySystem
from ...backends.python_codegen import Packing
from ..array_graph import TemporalOut, level_edges, numbers
from ..array_level import (
    LevelOut,
    StateOut,
    Visited,
    by_code,
    enabled_per_state,
    first_code_per_key,
)
from ..device import numpy as np
from .partition import owner_of, split


@dataclass
class OwnerSetup:
    """What an owner needs to know of the spec (picklable: it travels to other processes
    and machines): the generated array source, not the compiled functions."""

    source: str
    name: str
    packing: Packing
    n_transitions: int
    effect_kinds: list
    deadlock: bool
    key_bits: int
    owners: int
    graph: bool = False   # temporal properties: number states, keep each level's edges
    # deduplicate candidates before routing them: less to send between machines, one sort
    # more per owner (on one machine, routing them as they are is faster)
    dedup_before_routing: bool = True


def setup_of(arr: ArraySystem, ts, effect_kinds: list, key_bits: int,
             owners: int) -> OwnerSetup:
    return OwnerSetup(arr.source, ts.name, arr.packing, arr.n_transitions, effect_kinds,
                      bool(ts.deadlock), key_bits, owners, bool(ts.temporal))


def load_array(setup: OwnerSetup) -> ArraySystem:
    """The array functions from their generated source (as `compile_array_system` loads
    them; the source holds no spec text: see `backends.loader`)."""
    ns = load(setup.source, f"dnsrace-array:{setup.name}",
              {"True": True, "False": False, "None": None}, RUNTIME)
    return ArraySystem(setup.source, setup.packing, setup.n_transitions, ns["expand_level"],
                       ns["state_props"], ns["terminal"], np, ns["temporal_values"])


_EMPTY_U = np.empty(0, dtype=np.uint64)
_EMPTY_I = np.empty(0, dtype=np.int64)


class Owner:
    """One owner's part of the search (see the module's docstring)."""

    def __init__(self, index: int, setup: OwnerSetup, arr: ArraySystem | None = None):
        self.index, self.setup = index, setup
        self.arr = arr if arr is not None else load_array(setup)
        self.nt = max(setup.n_transitions, 1)
        self.visited = Visited(np, numbered=setup.graph)
        self.frontier, self.gidx = _EMPTY_U, _EMPTY_I
        self.enabled_g: list = []   # per transition: global positions enabled, this level
        self.pending = None         # the new states received, until the driver commits
        self.edges = None           # with a graph: the level's (gidx, degree, keys, tids)
        self.asked = None           # with a graph: the distinct edge keys asked, per owner
        self.links: list = []       # per level: (global indices, codes) of the states kept

    # -- the search
    def add_initial(self, keys: np.ndarray, gidx: np.ndarray) -> None:
        """Its initial states (distinct), with their global indices (ascending)."""
        order = np.argsort(keys)
        sk = keys[order]
        pos, _ = self.visited.lookup(sk)
        ids = gidx[order].astype(np.int32) if self.setup.graph else None
        self.visited.merge(sk, pos, ids)
        self.frontier, self.gidx = keys.astype(np.uint64), gidx.astype(np.int64)

    def expand(self, tp_active: int, code_bits: int) -> tuple[dict, list]:
        """Expand its frontier part: (the report, the buckets (keys, codes) per owner)."""
        F, g, nt = self.frontier, self.gidx, self.nt
        n = F.shape[0]
        report = {"guard": [], "effect": {}, "tp_fire": {}, "tp_fail": {}, "enabled": [],
                  "deadlock": None, "states": n}
        self.enabled_g = []
        self.edges = (g, np.zeros(0, dtype=np.int64), _EMPTY_U, np.empty(0, dtype=np.int32))
        if not n:
            return report, [(_EMPTY_U, _EMPTY_U)] * self.setup.owners
        lo = LevelOut(self.setup.effect_kinds, np)
        self.arr.expand_level(F, tp_active, lo)
        report["guard"] = [(int(g[i]), t, num) for i, t, num in lo.guard_first]
        report["effect"] = {kind: [(int(g[i]), t, num) for i, t, num in firsts]
                            for kind, firsts in lo.effect_first.items()}
        report["tp_fire"] = {k: [(int(g[i]), t, key) for i, t, key in firsts]
                             for k, firsts in lo.tp_fire.items()}
        report["tp_fail"] = {k: [(int(g[i]), t, key, c) for i, t, key, c in firsts]
                             for k, firsts in lo.tp_fail.items()}
        report["enabled"] = [(t, int(ix.shape[0])) for t, ix in lo.enabled_by_t]
        if self.setup.graph:
            self.edges = (g,) + tuple(level_edges(lo.succ, n, np))
        self.enabled_g = [(t, g[ix]) for t, ix in lo.enabled_by_t]
        if self.setup.deadlock:
            dl = (enabled_per_state(lo, n) == 0) & ~self.arr.terminal(F)
            if bool(dl.any()):
                report["deadlock"] = int(g[int(dl.argmax())])
        succ, lo.succ = lo.succ, []
        if not succ:
            return report, [(_EMPTY_U, _EMPTY_U)] * self.setup.owners
        keys = np.concatenate([k for _, _, k in succ])
        codes = np.concatenate([g[ix].astype(np.uint64) * np.uint64(nt) + np.uint64(t)
                                for t, ix, _ in succ])
        del succ
        if self.setup.dedup_before_routing:
            keys, codes = first_code_per_key(keys, codes, self.setup.key_bits, code_bits, np)
        return report, split(keys, codes, self.setup.owners)

    def receive(self, buckets: list, sp_active: int, code_bits: int) -> tuple:
        """Its candidates from every owner: (the codes of its new states, ascending; the
        first fire and the first failure of each active state property over them, by
        position in that order)."""
        keys = [k for k, _ in buckets if k.shape[0]]
        if keys:
            uk, mc = first_code_per_key(np.concatenate(keys),
                                        np.concatenate([c for k, c in buckets if k.shape[0]]),
                                        self.setup.key_bits, code_bits, np)
        else:
            uk, mc = _EMPTY_U, _EMPTY_U
        pos, present = self.visited.lookup(uk)
        fresh = ~present
        nk, nc, npos = uk[fresh], mc[fresh], pos[fresh]
        level_keys, level_codes = by_code(nk, nc, code_bits, np)
        level_codes = level_codes.view(np.int64)
        self.pending = (nk, nc.view(np.int64), npos, level_keys, level_codes)
        fire, fail = {}, {}
        if sp_active and level_keys.shape[0]:
            so = StateOut(level_keys.shape[0], np)
            self.arr.state_props(level_keys, sp_active, so)
            fire, fail = so.fire, so.fail
        return level_codes, fire, fail

    def locate(self, keys: list[int]) -> list[int]:
        """For each key: its position among its new states (code order), or -1."""
        nk, nc, _, _, level_codes = self.pending
        out = []
        for key in keys:
            p = int(np.searchsorted(nk, np.uint64(key)))
            if p < nk.shape[0] and int(nk[p]) == key:
                out.append(int(np.searchsorted(level_codes, nc[p])))
            else:
                out.append(-1)
        return out

    def enabled_before(self, i: int, at: tuple | None) -> list[tuple[int, int]]:
        """Per transition: its enabled states before global position i, plus state i itself
        where `at` = (transition, phase) says the level stopped inside i's expansion after
        that transition (as `array_bfs._Search.count_enabled`)."""
        out = []
        for t, gpos in self.enabled_g:
            k = gpos.shape[0]
            p = int(np.searchsorted(gpos, i))
            inside = at is not None and (t < at[0] or (t == at[0] and at[1] >= 1))
            out.append((t, p + int(inside and p < k and int(gpos[p]) == i)))
        return out

    def commit(self, keep: int | None, ranks: np.ndarray, base: int = 0,
               kept: int = 0) -> None:
        """Keep its new states whose global index is below `keep` (None: all), numbered
        `ranks` (global indices in the level, in code order); with a graph, state number
        `base` + rank.  `kept`: the states the level keeps, all owners together (when
        there are any, the level's links are kept: each state's code, by global index)."""
        nk, nc, npos, level_keys, level_codes = self.pending
        self.pending = None
        ids = None
        if self.setup.graph:
            ids = (base + ranks[np.searchsorted(level_codes, nc)]).astype(np.int32)
        if keep is None:
            self.visited.merge(nk, npos, ids)
            self.frontier, self.gidx = level_keys, ranks.astype(np.int64)
        else:
            k = int(np.searchsorted(ranks, keep))
            limit = int(level_codes[k - 1]) + 1 if k else 0
            m = nc < limit
            self.visited.merge(nk[m], npos[m], None if ids is None else ids[m])
            self.frontier, self.gidx = level_keys[:k], ranks[:k].astype(np.int64)
            level_codes = level_codes[:k]
        if kept:
            self.links.append((_narrow(self.gidx), _narrow(level_codes)))
        self.enabled_g = []

    # -- the parent links of its states, for traces and coverage
    def link(self, level: int, j: int) -> int | None:
        """The code (parent index * n_transitions + transition) of state j of `level`
        (>= 1), when it is one of its states."""
        ranks, codes = self.links[level - 1]
        p = int(np.searchsorted(ranks, j))
        return int(codes[p]) if p < ranks.shape[0] and int(ranks[p]) == j else None

    def transition_counts(self) -> list[int]:
        """Per transition: how many of its states it discovered first."""
        nt = self.nt
        out = np.zeros(nt, dtype=np.int64)
        for _, codes in self.links:
            out += np.bincount(codes % nt, minlength=nt)[:nt]
        return out.tolist()

    # -- the state graph (temporal properties): each edge's successor by its number
    def edge_requests(self) -> list:
        """The distinct successor keys of the level's edges, per owner."""
        uk = np.unique(self.edges[2])
        self.asked = split(uk, uk, self.setup.owners)
        return [k for k, _ in self.asked]

    def edge_numbers(self, requests: list) -> list:
        """The numbers of the keys each owner asked for (all stored here)."""
        return [numbers(self.visited.keys, self.visited.ids, keys, False, np)
                for keys in requests]

    def edge_finish(self, answers: list) -> tuple:
        """The level's edges: (global index of each expanded state, its out-degree, each
        edge's successor number, its transition), in compressed-sparse-row order."""
        g, degree, keys, tids = self.edges
        self.edges = None
        asked = np.concatenate([k for k, _ in self.asked]) if self.asked else _EMPTY_U
        nums = np.concatenate(answers) if answers else np.empty(0, dtype=np.int32)
        order = np.argsort(asked)
        dst = nums[order][np.searchsorted(asked[order], keys)] if keys.shape[0] else \
            np.empty(0, dtype=np.int32)
        self.asked = None
        return g, degree, dst.astype(np.int32), tids

    def temporal_values(self) -> dict:
        """P and Q of every temporal property over its part of the new level."""
        out = TemporalOut(self.frontier.shape[0], np)
        if self.frontier.shape[0]:
            self.arr.temporal_values(self.frontier, out)
        return out.values

    def number_of(self, key: int):
        return self.visited.number_of(key)

    def forget(self) -> None:
        """Drop what an uncommitted level found."""
        self.pending = None
        self.enabled_g = []

    # -- traces, memory, checkpoints
    def contains(self, key: int) -> bool:
        return self.visited.contains(key)

    def memory(self) -> dict:
        return {"owner": self.index, "pid": os.getpid(), "states": int(self.visited.n),
                "frontier": int(self.frontier.shape[0]),
                "array_bytes": int(self.visited.nbytes + self.frontier.nbytes
                                   + self.gidx.nbytes
                                   + sum(r.nbytes + c.nbytes for r, c in self.links)),
                "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}

    def save(self, path: str) -> str | None:
        """Its visited keys and frontier part, written atomically to `path` (.npz); why it
        could not be written (a full disk), or None."""
        from .checkpoint import write_arrays
        ids = self.visited.ids if self.setup.graph else np.empty(0, dtype=np.int32)
        try:
            write_arrays(path, visited=self.visited.keys, frontier=self.frontier,
                         gidx=self.gidx, ids=ids,
                         lsizes=np.array([r.shape[0] for r, _ in self.links], dtype=np.int64),
                         lranks=_cat([r for r, _ in self.links], np.int64),
                         lcodes=_cat([c for _, c in self.links], np.int64))
        except OSError as exc:
            return f"{path}: {exc.strerror or exc}"
        return None

    def restore(self, paths: list[str]) -> None:
        """Its part of a checkpoint written by any number of owners: the keys it owns."""
        from .checkpoint import read_arrays
        vis, fr, gi, ids = [], [], [], []
        links: list = []
        P = self.setup.owners
        for path in paths:
            a = read_arrays(path)
            start = 0
            for level, size in enumerate(a["lsizes"].tolist()):
                r = a["lranks"][start:start + size]
                c = a["lcodes"][start:start + size]
                start += size
                mine = r % P == self.index   # links go to owners by global index
                if level == len(links):
                    links.append(([], []))
                links[level][0].append(r[mine])
                links[level][1].append(c[mine])
            own = owner_of(a["visited"], self.setup.owners) == self.index
            vis.append(a["visited"][own])
            if self.setup.graph:
                ids.append(a["ids"][own])
            mine = owner_of(a["frontier"], self.setup.owners) == self.index
            fr.append(a["frontier"][mine])
            gi.append(a["gidx"][mine])
        keys = np.concatenate(vis) if vis else _EMPTY_U
        order = np.argsort(keys)
        self.visited = Visited(np, numbered=self.setup.graph)
        self.visited.merge(keys[order], np.zeros(keys.shape[0], dtype=np.int64),
                           np.concatenate(ids)[order].astype(np.int32) if ids else None)
        gidx = np.concatenate(gi) if gi else _EMPTY_I
        order = np.argsort(gidx)
        self.frontier = (np.concatenate(fr) if fr else _EMPTY_U)[order]
        self.gidx = gidx[order]
        self.links = []
        for rs, cs in links:
            r, c = np.concatenate(rs), np.concatenate(cs)
            order = np.argsort(r)
            self.links.append((_narrow(r[order]), _narrow(c[order])))


def _cat(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype=dtype)


def _narrow(a: np.ndarray) -> np.ndarray:
    """A copy of non-negative integers as uint32 when they fit (links: 8 bytes per state
    instead of 16)."""
    if not a.shape[0] or int(a.max()) < 2**32:
        return a.astype(np.uint32)
    return a.astype(np.int64)
