"""The driver of a partitioned level-synchronous search: the single-process array engine's
bookkeeping (`array_bfs._Search`: events, verdicts, cuts, counts) over owners that hold the
visited set and the frontier (`owner.Owner`), by hash of the state.

Results are the single-process engine's, exactly.  The level's candidate successors carry
their code (global parent index * n_transitions + transition); every owner keeps, per key,
the smallest code, so a state is first discovered by the same (parent, transition) pair as
in one process; the driver merges the owners' new codes into one ascending order, which is
the single-process numbering of the level, and tells each owner the global indices of its
new states; the owner keeps each one's code as its parent link (code // n_transitions: the
parent's global index; code % n_transitions: the transition).  Events are reported at
global positions and recorded in the same order, so `--stop-on-first` and `--max-states`
cut the level where one process cuts it, and traces are rebuilt from the same links (each
asked of the owner holding it) and replayed through the explicit semantics.
"""

from __future__ import annotations

import time

from ... import interrupts
from ...backends.numpy_codegen import ArraySystem
from ...backends.python_codegen import CompiledSystem
from ...ir.system import TransitionSystem
from ..array_bfs import ArrayExploration, _estimate_bytes, _Event, _max_states_cut, _Search
from ..array_graph import GraphRecorder
from ..bfs import Limits, Progress
from ..device import numpy as np
from .local import OwnerLost
from .partition import owner_of_key

_now = time.monotonic
GROW_AT = 200_000   # --workers auto: a frontier this wide moves the search to worker processes


class OwnedVisited:
    """The visited set as traces need it: membership, asked of the key's owner."""

    def __init__(self, group, owners: int):
        self.group, self.owners = group, owners

    def contains(self, key: int) -> bool:
        """Whether the key's owner stored it; True when that owner was lost (the trace
        was still replayed through the explicit semantics, step by step)."""
        try:
            return bool(self.group.call_one(owner_of_key(key, self.owners), "contains", key))
        except OwnerLost:
            return True

    def number_of(self, key: int) -> int | None:
        return self.group.call_one(owner_of_key(key, self.owners), "number_of", key)

    def release_spare(self) -> None:
        pass


class OwnedLinks:
    """The parent links of a level as traces read them (`links[j]`: state j's parent
    index, or its transition), asked of the owner that holds state j's link."""

    def __init__(self, ask, level: int, size: int, nt: int, part: str):
        self.ask, self.level, self.nt, self.part = ask, level, nt, part
        self.shape = (size,)

    def __getitem__(self, j) -> int:
        code = self.ask(self.level, int(j))
        return code // self.nt if self.part == "parent" else code % self.nt


class PartitionedExploration(ArrayExploration):
    """An `ArrayExploration` whose links and visited set stay with the owners."""

    def __init__(self, *args, group=None, **kw):
        super().__init__(*args, **kw)
        self.group = group
        self._codes: dict = {}

    def code(self, level: int, j: int) -> int:
        key = (level, j)
        if key not in self._codes:
            found = [c for c in self.group.call("link", [(level, j)] * self.group.size)
                     if c is not None]
            if len(found) != 1:
                raise AssertionError(f"partitioned search: state {j} of level {level} has "
                                     f"{len(found)} links")
            self._codes[key] = found[0]
        return self._codes[key]

    def new_counts(self) -> list[int]:
        nt = len(self.ts.transitions)
        out = [0] * nt
        for counts in self.group.call("transition_counts", [()] * self.group.size):
            for t in range(nt):
                out[t] += counts[t]
        return out


class DriverState:
    """What the driver keeps between levels (and writes to a checkpoint)."""

    def __init__(self):
        self.initial: list[int] = []
        self.sizes: list[int] = []   # per level kept: its states (links stay with owners)
        self.total = 0
        self.level_start = 0
        self.expanded = 0
        self.transitions = 0
        self.depth = 0
        self.frontier = 0          # states in the frontier (all owners)
        self.growth = 1.0
        self.per_state = 1.0
        self.levels: list = []
        self.seconds = 0.0         # searched before a resume


def _first_per(entries, key_of):
    """Of events found by several owners, the first (smallest position) per key_of."""
    best: dict = {}
    for e in entries:
        k = key_of(e)
        if k not in best or e[0] < best[k][0]:
            best[k] = e
    return list(best.values())


class PartitionedSearch:
    def __init__(self, ts: TransitionSystem, cs: CompiledSystem, arr: ArraySystem,
                 limits: Limits, group, progress=None, checkpoint=None,
                 memory_budget: int | None = None, grow=None):
        self.ts, self.cs, self.arr, self.limits = ts, cs, arr, limits
        self.group, self.P = group, group.size
        self.progress, self.checkpoint = progress, checkpoint
        self.budget = memory_budget
        self.grow = grow   # --workers auto: makes the worker processes to move to, once
        self.S = _Search(ts, arr, limits)
        self.nt = self.S.nt
        self.D = DriverState()
        self.warnings: list[str] = []
        self.lost: str | None = None
        self.graph = GraphRecorder(ts, arr) if ts.temporal else None

    # ---- level 0
    def start(self) -> None:
        from .partition import owner_of
        S, D, ts = self.S, self.D, self.ts
        pk = self.arr.packing
        keys, seen = [], set()
        for init in ts.initial:
            s = pk.pack(init)
            if s not in seen:
                seen.add(s)
                keys.append(s)
                D.initial.append(self.cs.packing.pack(init))
        frontier = np.array(keys, dtype=np.uint64)
        dest = owner_of(frontier, self.P)
        gidx = np.arange(frontier.shape[0], dtype=np.int64)
        self.group.call("add_initial", [(frontier[dest == o], gidx[dest == o])
                                        for o in range(self.P)])
        D.total = D.frontier = frontier.shape[0]
        if self.graph is not None:
            self.graph.add_values(frontier)
        sp_active, _ = S.active_masks(0)
        if sp_active and frontier.shape[0]:
            from ..array_level import StateOut
            so = StateOut(frontier.shape[0], np)
            self.arr.state_props(frontier, sp_active, so)
            for ev in sorted(S.state_events(so, 0, lambda j, ph: (j, 0, ph)),
                             key=lambda e: e.pos):
                S.record(ev)

    # ---- the levels
    def run(self, t0: float) -> str | None:
        """Expand levels until the search ends; why it stopped (None: complete)."""
        S, D, limits = self.S, self.D, self.limits
        next_report = _now() + 0.5
        stopped = None
        try:
            while D.frontier:
                n = D.frontier
                if limits.max_depth is not None and D.depth >= limits.max_depth:
                    return "max-depth"
                if limits.max_states is not None and D.total >= limits.max_states:
                    return "max-states"
                if self.budget is not None:
                    need = _estimate_bytes(n, D.growth, D.per_state, D.total, D.total)
                    if need > self.budget:
                        self.warnings.append(
                            f"partitioned search: stopped before depth {D.depth + 1}: "
                            f"expanding {n:,} states would need about {need / 2**30:.1f} "
                            f"GiB, over the memory budget of {self.budget / 2**30:.1f} GiB")
                        return "memory-limit"
                t_level = time.perf_counter()
                S.begin_level()
                new, counted, stop, i_ret = self.level(n)
                with interrupts.deferred():
                    D.transitions += counted
                    S.commit_enabled()
                    D.levels.append((D.depth, n, new, time.perf_counter() - t_level))
                    D.total += new
                    D.expanded = D.level_start + i_ret
                if stop is not None:
                    return stop
                D.growth = max(new / n, 0.5)
                D.per_state = max(counted / n, 1.0)
                D.level_start += n
                D.frontier = new
                D.depth += 1
                if self.grow is not None and D.frontier >= GROW_AT:
                    self._move_to_workers()
                now = _now()
                if self.checkpoint is not None and D.frontier:
                    self.checkpoint.maybe_save(self, now - t0)
                if now >= next_report:
                    next_report = now + 0.5
                    if self.progress is not None:
                        self.progress(Progress(D.total, D.transitions, D.depth,
                                               D.total - D.expanded, D.seconds + now - t0))
                    if limits.time_limit is not None and now - t0 > limits.time_limit \
                            and D.frontier:
                        return "time-limit"
        except KeyboardInterrupt:
            stopped = "interrupted"
            S.forget_uncommitted()
        except OwnerLost as exc:
            S.forget_uncommitted()
            self.lost = str(exc)
            stopped = "worker-lost"
        return stopped

    def _move_to_workers(self) -> None:
        """Hand the owners' parts (one owner in this process) to worker processes, through
        owner files in shared memory: each new owner keeps the keys it owns."""
        import os
        import shutil
        import tempfile

        from .local import _shm_root
        grow, self.grow = self.grow, None
        folder = tempfile.mkdtemp(prefix="dnsrace-move-", dir=_shm_root())
        try:
            paths = [os.path.join(folder, f"owner-{o}.npz") for o in range(self.P)]
            self.group.call("save", [(p,) for p in paths])
            bigger = grow()
            try:
                bigger.call("restore", [(paths,)] * bigger.size)
            except BaseException:
                bigger.close()
                raise
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.group.close()
        self.group, self.P = bigger, bigger.size

    def level(self, n: int):
        """Expand one level of n states (all owners); returns (new states kept,
        transitions counted, why the level was cut or None, first state not expanded)."""
        S, limits, nt, P = self.S, self.limits, self.nt, self.P
        d, total = self.D.depth, self.D.total
        sp_active, tp_active = S.active_masks(d)
        code_bits = max(int(n * nt - 1).bit_length(), 1)
        out = self.group.call("expand", [(tp_active, code_bits)] * P)
        reports = [r for r, _ in out]
        incoming = [[b[p] for _, b in out] for p in range(P)]
        del out
        received = self.group.call("receive", [(incoming[p], sp_active, code_bits)
                                               for p in range(P)])
        del incoming
        codes = [r[0] for r in received]
        level_codes, ranks = _merge(codes)
        found_total = level_codes.shape[0]

        events = self._expansion_events(reports, d)
        if sp_active and found_total:
            def pos_of(j, phase):
                c = int(level_codes[j])
                return (c // nt, c % nt, phase)
            for ev in self._state_events(received, ranks, d + 1, pos_of):
                events.append(ev)
        events.sort(key=lambda e: e.pos)

        cut = None
        if limits.max_states is not None and found_total + total >= limits.max_states:
            cut = _max_states_cut(level_codes // nt, n, total, limits.max_states)
        cap = None
        found = _search(level_codes, cut * nt) if cut is not None else found_total
        if limits.max_states is not None and total + found > limits.max_states:
            cap = limits.max_states - total
        where = self._step_positions(events, ranks) if cap is not None else {}
        stop_pos = None
        for ev in events:
            if cut is not None and ev.pos >= (cut, -1, 0):
                break
            if cap is not None and (
                    (ev.end[0] == "state" and ev.end[1] == (d + 1, ev.end[1][1])
                     and ev.end[1][1] >= cap)
                    or (ev.end[0] == "step" and cap <= where.get(ev.end[3], -1) < found)):
                continue
            S.record(ev)
            if limits.stop_on_first and S.unexpected:
                stop_pos = ev.pos
                break

        enabled_all = _sum_enabled(r["enabled"] for r in reports)
        if stop_pos is not None:
            i, t, phase = stop_pos
            keep = _search(level_codes, i * nt + t + (
                1 if phase >= S.discover_phase and t < nt else 0))
            S.level_enabled = self._enabled_before(i, (t, phase))
            stop, i_ret = "stop-on-first", (i + 1 if t == nt else i)
        elif cut is not None:
            keep = _search(level_codes, cut * nt)
            S.level_enabled = self._enabled_before(cut, None)
            stop, i_ret = "max-states", cut
            keep = keep if cap is None else cap
        else:
            keep = found_total if cap is None else cap
            S.level_enabled = enabled_all
            stop, i_ret = None, n
        counted = sum(k for _, k in S.level_enabled)
        limit = None if keep == found_total else keep
        self.group.call("commit", [(limit, r, total, keep) for r in ranks])
        if self.graph is not None and stop is None and limit is None:
            # (a level cut short leaves the search incomplete: its graph is never used)
            self._record_graph(n, ranks, found_total)
        if keep:
            self.D.sizes.append(keep)
        return keep, counted, stop, i_ret

    def _record_graph(self, n: int, ranks: list, found: int) -> None:
        """The level's edges in the single-process engine's order (by source, then
        transition) with their successors' numbers, and P and Q over its new states."""
        P, graph = self.P, self.graph
        asks = self.group.call("edge_requests", [()] * P)
        answers = self.group.call("edge_numbers", [([asks[o][p] for o in range(P)],)
                                                   for p in range(P)])
        parts = self.group.call("edge_finish", [([answers[p][o] for p in range(P)],)
                                                for o in range(P)])
        degree = np.zeros(n, dtype=np.int64)
        for g, deg, _, _ in parts:
            degree[g] = deg
        starts = np.cumsum(degree) - degree
        m = int(degree.sum())
        dst = np.empty(m, dtype=np.int32)
        tid = np.empty(m, dtype=np.int32)
        for g, deg, d_o, t_o in parts:
            if not d_o.shape[0]:
                continue
            local = np.cumsum(deg) - deg
            rows = np.repeat(np.arange(deg.shape[0]), deg)
            at = starts[g][rows] + (np.arange(d_o.shape[0]) - local[rows])
            dst[at] = d_o
            tid[at] = t_o
        graph.degree.append(degree.astype(np.int32))
        graph.dst.append(dst)
        graph.tid.append(tid)
        graph.edges += m
        if not found:
            return
        values = self.group.call("temporal_values", [()] * P)
        for k in sorted({k for v in values for k in v}):
            for side, into in ((0, graph.p), (1, graph.q)):
                if next(v[k] for v in values if k in v)[side] is None:
                    continue
                out = np.empty(found, dtype=np.int8)
                for v, r in zip(values, ranks):
                    if k in v:
                        out[r] = v[k][side]
                into[k].append(out)

    def _expansion_events(self, reports: list, d: int) -> list[_Event]:
        S, ts = self.S, self.ts
        out = []
        guard = _first_per([e for r in reports for e in r["guard"]], lambda e: e[1])
        for i, t, num in guard:
            tid, fail = S.guard_table[num]
            out.append(_Event((i, t, 0), "error", d, ("state", (d, i), ("guard", num)),
                              f"{fail.message} (in the guard of {ts.transitions[tid].name})"))
        kinds = {kind for r in reports for kind in r["effect"]}
        for kind in kinds:
            firsts = _first_per([e for r in reports for e in r["effect"].get(kind, [])],
                                lambda e: e[1])
            for i, t, num in firsts:
                fail = S.effect_table[num][1]
                out.append(_Event((i, t, 1), kind, d + 1,
                                  ("fail", (d, i), t, fail.message, num), fail.message))
        for k in {k for r in reports for k in r["tp_fire"]}:
            for i, t, key in _first_per([e for r in reports for e in r["tp_fire"].get(k, [])],
                                        lambda e: e[1]):
                out.append(_Event((i, t, 2 + k), S.tp_names[k], d + 1,
                                  ("step", (d, i), t, key, ("tp", k, 0))))
        for k in {k for r in reports for k in r["tp_fail"]}:
            for i, t, key, code in _first_per(
                    [e for r in reports for e in r["tp_fail"].get(k, [])], lambda e: e[1]):
                fail = ts.transition_properties[k].failures[-1 - code]
                out.append(_Event((i, t, 2 + k), "error", d + 1,
                                  ("step", (d, i), t, key, ("tp", k, code)),
                                  f"{fail.message} (evaluating property {S.tp_names[k]})"))
        dead = [r["deadlock"] for r in reports if r["deadlock"] is not None]
        if dead:
            i = min(dead)
            out.append(_Event((i, self.nt, 0), "deadlock", d, ("state", (d, i), ("deadlock",))))
        return out

    def _state_events(self, received: list, ranks: list, level: int, pos_of) -> list[_Event]:
        """The first fire and failure of each state property over the level's new states
        (global positions), as `array_bfs._Search.state_events` makes them."""
        from ..array_level import StateOut
        fire: dict = {}
        fail: dict = {}
        for (_, f, x), r in zip(received, ranks):
            for k, j in f.items():
                g = int(r[j])
                if k not in fire or g < fire[k]:
                    fire[k] = g
            for k, (j, code) in x.items():
                g = int(r[j])
                if k not in fail or g < fail[k][0]:
                    fail[k] = (g, code)
        so = StateOut(0, np)
        so.fire, so.fail = fire, fail
        return self.S.state_events(so, level, pos_of)

    def _step_positions(self, events: list, ranks: list) -> dict:
        """The global index in the new level of each step event's successor key (absent:
        a state visited before)."""
        from .partition import owner_of_key
        keys = sorted({ev.end[3] for ev in events if ev.end[0] == "step"})
        by_owner: dict = {}
        for key in keys:
            by_owner.setdefault(owner_of_key(key, self.P), []).append(key)
        out = {}
        for o, ks in by_owner.items():
            for key, j in zip(ks, self.group.call_one(o, "locate", ks)):
                if j >= 0:
                    out[key] = int(ranks[o][j])
        return out

    def _enabled_before(self, i: int, at) -> list[tuple[int, int]]:
        return _sum_enabled(self.group.call("enabled_before", [(i, at)] * self.P))

    # ---- the result
    def exploration(self, stopped: str | None, t0: float) -> ArrayExploration:
        from ...results import Stats
        D, S = self.D, self.S
        stats = Stats(D.total, D.transitions, len(D.sizes), D.seconds + _now() - t0,
                      D.total - D.expanded, None)
        warnings = list(self.warnings)
        if self.lost is not None:
            warnings.append(f"the partitioned search lost an owner: {self.lost}; what it "
                            "had not decided is unknown")
        nt = self.nt
        found = PartitionedExploration(self.ts, self.cs, stats, S.best, stopped, D.initial,
                                       [], [], OwnedVisited(self.group, self.P), warnings,
                                       D.levels, self.arr, self.graph, group=self.group)
        for level, size in enumerate(D.sizes, start=1):
            found.parents.append(OwnedLinks(found.code, level, size, nt, "parent"))
            found.tids.append(OwnedLinks(found.code, level, size, nt, "transition"))
        found.enabled = S.enabled
        found.reduced = ()
        return found


def _merge(codes: list) -> tuple[np.ndarray, list]:
    """The owners' new codes (each ascending, all distinct) in one ascending order, and
    each owner's global indices (ranks) in it: 8 bytes per new state, and each owner's
    part while its ranks are found."""
    allc = np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)
    allc.sort(kind="stable")   # runs already sorted: a merge
    return allc, [np.searchsorted(allc, c).astype(np.int64) for c in codes]


def _sum_enabled(parts) -> list[tuple[int, int]]:
    total: dict[int, int] = {}
    order: list[int] = []
    for part in parts:
        for t, k in part:
            if t not in total:
                order.append(t)
                total[t] = 0
            total[t] += k
    return [(t, total[t]) for t in sorted(order)]


def _search(a: np.ndarray, value: int) -> int:
    return int(np.searchsorted(a, np.asarray([value], dtype=a.dtype))[0])


def explore_partitioned(search: PartitionedSearch, resume=None) -> ArrayExploration:
    """Run the partitioned search (a fresh start, or from a checkpoint's `resume` state);
    its owners are `search.group` (another group after a move to worker processes)."""
    t0 = _now()
    try:
        if resume is not None:
            resume(search)
        else:
            search.start()
    except OwnerLost as exc:
        search.lost = str(exc)
        return search.exploration("worker-lost", t0)
    stopped = search.run(t0)
    return search.exploration(stopped, t0)
