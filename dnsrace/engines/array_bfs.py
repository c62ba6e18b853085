"""The array engine: a level-synchronous breadth-first search over whole frontiers.

Each level is a uint64 array of packed states (the explicit engine's `Packing`), kept in the
order the per-state engine (`engines.bfs`) would discover them: every transition is
evaluated over the whole frontier by numpy code (`backends.numpy_codegen`), the candidate
successors are sorted and deduplicated (for each distinct key, the first (parent,
transition) pair in the per-state engine's order wins), looked up in the sorted array of
visited keys with `searchsorted`, and the new ones merged in.  Per level only an int32
parent index and a small transition number are kept: 8 bytes of visited key plus 5-6 of
links per state.

Results are the per-state engine's, exactly: the same counts, verdicts and traces (each
property's first shortest trace in the contract's order), because every event of a level
(violation, error, witness, deadlock) is placed at its position in that order, (parent,
transition, phase), and the events are then recorded one by one in that order, as
`engines.bfs` would meet them.  The same order decides where `--stop-on-first` and
`--max-states` cut a level, so that even a cut-short search counts what the per-state
engine counts.  Every trace is rebuilt from the parent links and replayed through the
explicit semantics (`python_codegen`'s `expand`, `state_props`, `trans_props`) before it
is returned: a trace that does not replay is an internal error, never a wrong answer.

Under symmetry (`Limits.symmetry`, a scalarset of size >= 2) the candidate successors are
deduplicated by their orbit's canonical key (`engines.symmetry.canonical_keys`, one sort of
per-identity columns for the whole level when every scalarset is index-only), and the
visited set holds canonical keys; the state stored is still the first successor of its
orbit in the per-state engine's order, so counts, levels and traces stay that engine's.

For a spec with temporal properties the search also records the state graph and P and Q
of every state (`engines.array_graph`): the per-state engine's graph, array for array, since
states are numbered in its discovery order; the properties are then decided by its code
(`engines.temporal`), so their verdicts and lassos are its own.  Without temporal
properties nothing is recorded.

`--time-limit` and the progress callback act between levels; Ctrl-C keeps the levels
already finished.  Before each level the memory it needs is estimated from the level
sizes so far; a search that would outgrow `memory_budget` stops with `memory-limit`
(incomplete, so undecided properties are `unknown`) and says so in a warning.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from .. import interrupts
from ..backends.numpy_codegen import ArraySystem, ArrayUnsupported, compile_array_system
from ..backends.python_codegen import CompiledSystem, compile_system
from ..ir.system import TransitionSystem
from ..results import CheckResult, Stats
from .array_graph import LEVEL_BYTES_PER_CANDIDATE, GraphRecorder, level_edges
from .array_level import (
    LevelOut,
    StateOut,
    Visited,
    by_code,
    enabled_per_state,
    first_code_per_key,
    first_code_per_mixed,
    unmix,
)
from .bfs import UNEXPECTED_WHEN_FOUND, Limits, Progress, _Best, build_properties
from .coverage import coverage
from .device import memory_budget as device_memory_budget
from .device import numpy as np
from .device import to_numpy
from .symmetry import canonical, canonical_keys, packing_fits, reduced_scalarsets

CHUNK = 1024  # the per-state engine's chunk: where it checks --max-states
KEY_CODE_BITS = 64  # past this many bits of (key, code), levels sort in the mixed order
_now = time.monotonic  # the clock for --time-limit and progress (tests replace it)


class ArrayEngineError(RuntimeError):
    """An internal inconsistency (a trace that does not replay): a bug, never a verdict."""


def default_memory_budget(xp=np) -> int:
    """Half of the machine's physical memory (on a GPU: most of its free memory)."""
    return device_memory_budget(xp)


@dataclass
class _Event:
    pos: tuple        # (parent, transition, phase): the per-state engine's order
    name: str         # the property it decides
    length: int
    end: tuple        # how the trace ends (see ArrayExploration.trace_path)
    message: str | None = None


# ---------------------------------------------------------------- the exploration


class ArrayExploration:
    """What a search found, shaped like `engines.bfs.Exploration` for `build_properties`:
    stats, per property the best trace's end, and how the search stopped.  Traces are
    rebuilt from the per-level links and replayed through the explicit semantics."""

    def __init__(self, ts: TransitionSystem, cs: CompiledSystem, stats: Stats, best: dict,
                 stopped: str | None, initial: list[int], parents: list, tids: list,
                 visited: Visited, warnings: list[str], levels: list, arr: ArraySystem,
                 graph: GraphRecorder | None = None):
        self.ts, self.cs = ts, cs
        self.stats, self.best, self.stopped = stats, best, stopped
        self.initial = initial      # packed initial states (level 0, in order)
        self.arr = arr              # its keys pack states tighter: see key_of, state_of
        self.parents = parents      # per level >= 1: parent index in the level before
        self.tids = tids            # per level >= 1: the transition that found the state
        self.visited = visited
        self.warnings = warnings
        self.levels = levels        # per level expanded: (depth, states, new states, seconds)
        self.graph = graph          # recorded for temporal properties only

    enabled: list[int] | None = None   # per transition, set by `explore`
    reduced: tuple = ()                # the scalarsets reduced, set by `explore`

    def stored_key(self, state: int) -> int:
        """The visited set's key of a state packed as the explicit engine packs it: its
        array key, or under symmetry its orbit's canonical key."""
        key = self.key_of(state)
        if self.reduced:
            key = int(canonical_keys([key], self.reduced, self.arr.packing)[0])
        return key

    @property
    def complete(self) -> bool:
        return self.stopped is None

    def new_counts(self) -> list[int]:
        """Per transition: the states it discovered first (a bincount of the levels'
        transitions, as `engines.bfs.Exploration.new_counts` reads its links)."""
        out = np.zeros(len(self.ts.transitions), dtype=np.int64)
        for level in self.tids:
            out += np.bincount(to_numpy(level), minlength=out.shape[0])[:out.shape[0]]
        return out.tolist()

    def key_of(self, state: int) -> int:
        """The array engine's key of a state packed as the explicit engine packs it."""
        return self.arr.packing.pack(self.cs.packing.unpack(state))

    def state_of(self, key: int) -> int:
        return self.cs.packing.pack(self.arr.packing.unpack(key))

    def level_sizes(self) -> list[int]:
        return [len(self.initial)] + [p.shape[0] for p in self.parents]

    # -- for temporal properties: states numbered as the per-state engine numbers them
    def search_graph(self, ts: TransitionSystem, cs: CompiledSystem):
        """The graph and P/Q values the temporal decision needs (a complete search)."""
        return self.graph.search_graph(self)

    def _level_starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.level_sizes())]).astype(np.int64)

    def depths(self) -> np.ndarray:
        """Each state's distance from the initial states (its level), by number."""
        sizes = self.level_sizes()
        return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)

    def numbered_path(self, s: int) -> list[tuple[int, int]]:
        """(transition, state number) from an initial state to state number s; the first
        has -1: `engines.bfs.Exploration.path_to`."""
        starts = self._level_starts()
        level = int(np.searchsorted(starts, s, side="right")) - 1
        j = s - int(starts[level])
        out = []
        while level > 0:
            out.append((int(self.tids[level - 1][j]), int(starts[level]) + j))
            j = int(self.parents[level - 1][j])
            level -= 1
        out.append((-1, j))
        out.reverse()
        return out

    def replay(self, states: list[int], tids: list[int]) -> list[int]:
        """The packed states (as the explicit engine packs them) of a path of state
        numbers with the transition into each, replayed through the explicit `expand`
        from its initial state; each must be the numbered state."""
        if not 0 <= states[0] < len(self.initial):
            raise ArrayEngineError(f"array engine: state {states[0]} is not initial")
        cur = self.initial[states[0]]
        out = [cur]
        for s, t in zip(states[1:], tids[1:]):
            n = dict(self.cs.expand(cur, [])).get(t)
            if n is None or n < 0 or self.visited.number_of(self.stored_key(n)) != s:
                raise ArrayEngineError(f"array engine: the path to state {s} does not "
                                       "replay")
            out.append(n)
            cur = n
        return out

    def path_to(self, sid: tuple[int, int]) -> list[tuple[int, int]]:
        """(transition, packed state) from an initial state to state `sid` = (level,
        index), replayed through the explicit `expand`."""
        level, j = sid
        tids = []
        while level > 0:
            tids.append(int(self.tids[level - 1][j]))
            j = int(self.parents[level - 1][j])
            level -= 1
        tids.reverse()
        cur = self.initial[j]
        path = [(-1, cur)]
        for t in tids:
            n = dict(self.cs.expand(cur, [])).get(t)
            if n is None or n < 0:
                raise ArrayEngineError(f"array engine: the trace to state {sid} does not "
                                       f"replay: {self.ts.transitions[t].name} gives no "
                                       "successor there")
            path.append((t, n))
            cur = n
        if not self.visited.contains(self.stored_key(cur)):
            raise ArrayEngineError(f"array engine: state {sid} replays to a state the search "
                                   "never stored")
        return path

    def trace_path(self, end: tuple) -> list[tuple[int, int | None]]:
        """The trace ending at `end`, checked: the event that ends it must happen there
        under the explicit semantics."""
        kind = end[0]
        path = self.path_to(end[1])
        s = path[-1][1]
        cs = self.cs
        if kind == "state":
            check = end[2]
            ok = True
            if check[0] == "sp":
                ok = (check[1], check[2]) in cs.state_props(s, 1 << check[1])
            elif check[0] == "guard":
                gerr: list[int] = []
                cs.expand(s, gerr)
                ok = check[1] in gerr
            elif check[0] == "deadlock":
                ok = not cs.expand(s, []) and not cs.terminal(s)
            if not ok:
                raise ArrayEngineError(f"array engine: the trace's last state does not show "
                                       f"the event {check}")
        elif kind == "fail":
            _, _, tid, _, num = end
            if dict(cs.expand(s, [])).get(tid) != -1 - num:
                raise ArrayEngineError("array engine: the trace's last step does not fail "
                                       "as recorded")
            path.append((tid, None))
        else:  # step
            _, _, tid, key, check = end
            n = self.state_of(key)
            if dict(cs.expand(s, [])).get(tid) != n or \
                    (check[1], check[2]) not in cs.trans_props(s, n, 1 << check[1]):
                raise ArrayEngineError("array engine: the trace's last step does not show "
                                       "the transition property's event")
            path.append((tid, n))
        return path


def reducible(ts: TransitionSystem, limits: Limits, arr: ArraySystem) -> tuple:
    """The scalarsets this search reduces; ArrayUnsupported when a canonical state would not
    pack as the array engine packs the state it stands for."""
    reduced = reduced_scalarsets(ts, limits.symmetry)
    if reduced and not packing_fits(reduced, arr.packing):
        raise ArrayUnsupported("a permutation of a scalarset's identities moves a value "
                               "into a slot packed narrower")
    return reduced


class _Search:
    """The state of one search: the bookkeeping `engines.bfs.explore` keeps, per level."""

    def __init__(self, ts: TransitionSystem, arr: ArraySystem, limits: Limits):
        self.ts, self.arr, self.limits = ts, arr, limits
        self.nt = max(len(ts.transitions), 1)
        self.expected = {name: exp for name, _, exp in ts.property_order}
        self.sp_names = [p.name for p in ts.state_properties]
        self.tp_names = [p.name for p in ts.transition_properties]
        self.sp_fallible = [bool(p.failures) for p in ts.state_properties]
        self.tp_fallible = [bool(p.failures) for p in ts.transition_properties]
        self.guard_table = [(t.index, f) for t in ts.transitions for f in t.guard_failures]
        self.effect_table = [(t.index, f) for t in ts.transitions for f in t.effect_failures]
        self.effect_kinds = [f.kind if f.kind in ("assertion", "type") else "error"
                             for _, f in self.effect_table]
        self.best: dict[str, _Best] = {}
        self.unexpected = False
        self.ntp = len(ts.transition_properties)
        self.discover_phase = 2 + self.ntp
        self.key_bits = max(sum(arr.packing.widths), 1)
        self.enabled = [0] * len(ts.transitions)   # per transition, as `engines.bfs` counts
        self.level_enabled: list[tuple[int, int]] = []   # the level's, until it is committed
        self.saved = None   # what was decided before the level being expanded (begin_level)
        self.reduced = reducible(ts, limits, arr)

    def canonical(self, keys):
        """Each key's orbit's canonical key (the keys themselves without reduction)."""
        if not self.reduced:
            return keys
        xp = self.arr.xp
        return xp.asarray(canonical_keys(to_numpy(keys), self.reduced, self.arr.packing))

    def count_enabled(self, lo: LevelOut, before: int | None = None, at=None) -> None:
        """Each transition's enabled states of the level: all of them, or those before
        state `before`, plus state `before` itself for transitions where at(t) holds (a
        level cut inside that state's expansion)."""
        self.level_enabled = []
        for t, ix in lo.enabled_by_t:
            k = ix.shape[0]
            if before is not None:
                p = _search(self.arr.xp, ix, before)
                k = p + int(at is not None and at(t) and p < k and int(ix[p]) == before)
            self.level_enabled.append((t, k))

    def commit_enabled(self) -> None:
        for t, k in self.level_enabled:
            self.enabled[t] += k
        self.level_enabled = []
        self.saved = None

    def begin_level(self) -> None:
        """Remember what is decided before a level's expansion, to forget what the level
        found if a signal cuts it before it is committed (its states are not kept)."""
        self.saved = (dict(self.best), self.unexpected)

    def forget_uncommitted(self) -> None:
        if self.saved is not None:
            self.best, self.unexpected = self.saved
            self.saved = None

    # -- the per-state engine's record and active masks
    def record(self, ev: _Event) -> None:
        b = self.best.get(ev.name)
        if b is None or ev.length < b.length:
            self.best[ev.name] = _Best(ev.length, ev.end, ev.message)
            if b is None and UNEXPECTED_WHEN_FOUND[self.expected[ev.name]]:
                self.unexpected = True

    def active_masks(self, level: int) -> tuple[int, int]:
        err = self.best.get("error")
        settled = err is not None and err.length <= level
        sp = 0
        for k, n in enumerate(self.sp_names):
            if n not in self.best or (self.sp_fallible[k] and not settled):
                sp |= 1 << k
        tp = 0
        for k, n in enumerate(self.tp_names):
            if n not in self.best or (self.tp_fallible[k] and not settled):
                tp |= 1 << k
        return sp, tp

    # -- events of a level, at their positions
    def state_events(self, so: StateOut, level: int, pos_of) -> list[_Event]:
        """Events of state properties on the states of `level` (just discovered);
        `pos_of(j)` is state j's discovery position."""
        out = []
        base = self.discover_phase + 1
        for k, j in so.fire.items():
            out.append(_Event(pos_of(j, base + k), self.sp_names[k], level,
                              ("state", (level, j), ("sp", k, 0))))
        for k, (j, code) in so.fail.items():
            fail = self.ts.state_properties[k].failures[-1 - code]
            out.append(_Event(pos_of(j, base + k), "error", level,
                              ("state", (level, j), ("sp", k, code)),
                              f"{fail.message} (evaluating property {self.sp_names[k]})"))
        return out

    def expansion_events(self, lo: LevelOut, d: int, deadlocked: int | None) -> list[_Event]:
        ts = self.ts
        out = []
        for i, t, num in lo.guard_first:
            tid, fail = self.guard_table[num]
            out.append(_Event((i, t, 0), "error", d, ("state", (d, i), ("guard", num)),
                              f"{fail.message} (in the guard of {ts.transitions[tid].name})"))
        for kind, firsts in lo.effect_first.items():
            for i, t, num in firsts:
                fail = self.effect_table[num][1]
                out.append(_Event((i, t, 1), kind, d + 1,
                                  ("fail", (d, i), t, fail.message, num), fail.message))
        for k, firsts in lo.tp_fire.items():
            for i, t, key in firsts:
                out.append(_Event((i, t, 2 + k), self.tp_names[k], d + 1,
                                  ("step", (d, i), t, key, ("tp", k, 0))))
        for k, firsts in lo.tp_fail.items():
            for i, t, key, code in firsts:
                fail = ts.transition_properties[k].failures[-1 - code]
                out.append(_Event((i, t, 2 + k), "error", d + 1,
                                  ("step", (d, i), t, key, ("tp", k, code)),
                                  f"{fail.message} (evaluating property {self.tp_names[k]})"))
        if deadlocked is not None:
            out.append(_Event((deadlocked, self.nt, 0), "deadlock", d,
                              ("state", (d, deadlocked), ("deadlock",))))
        return out


def _estimate_bytes(n: int, growth: float, per_state_cands: float, visited: int,
                    stored: int, graph: GraphRecorder | None = None) -> int:
    """Peak memory of expanding a frontier of n states: the candidates (key, code, sort
    permutation, sorted copies: ~56 bytes each), the frontier's columns, the new level,
    the visited set merged into its second buffer, and the links kept so far; with a
    graph, the level's edges, the numbers of the visited states and the graph so far."""
    cands = n * per_state_cands
    new = n * growth
    out = 56 * cands + 96 * n + 40 * new + 8 * 2 * (visited + new) + 6 * (stored + new)
    if graph is not None:
        out += LEVEL_BYTES_PER_CANDIDATE * cands + 4 * 2 * (visited + new) + graph.nbytes
    return int(out)


def explore(ts: TransitionSystem, limits: Limits | None = None,
            progress: Callable[[Progress], None] | None = None, *,
            cs: CompiledSystem | None = None, arr: ArraySystem | None = None,
            memory_budget: int | None = None, xp=None) -> ArrayExploration:
    """Run the level-synchronous search (raises ArrayUnsupported when the spec does not
    fit the array engine; see `check_model_array` for the fallback).  `xp`: the array
    module (numpy, the default, or CuPy; `arr`'s when given)."""
    limits = limits or Limits()
    cs = cs or compile_system(ts)
    arr = arr or compile_array_system(ts, xp)
    xp = arr.xp
    budget = memory_budget if memory_budget is not None else default_memory_budget(xp)
    S = _Search(ts, arr, limits)
    nt = S.nt
    tid_dtype = np.uint8 if nt <= 256 else np.uint16 if nt <= 65536 else np.int32
    pk = arr.packing
    t0 = _now()
    warnings: list[str] = []

    # ---- level 0: the initial states, deduplicated in order
    initial: list[int] = []     # as the explicit engine packs them, for traces
    keys: list[int] = []
    seen: set[int] = set()
    for init in ts.initial:
        s = pk.pack(init)
        c = pk.pack(canonical(init, S.reduced)[0]) if S.reduced else s
        if c not in seen:
            seen.add(c)
            keys.append(s)
            initial.append(cs.packing.pack(init))
    frontier = xp.asarray(np.array(keys, dtype=np.uint64))
    graph = GraphRecorder(ts, arr) if ts.temporal else None
    visited = Visited(xp, numbered=graph is not None)
    stored = S.canonical(frontier)
    order = xp.argsort(stored)
    visited.merge(stored[order], xp.zeros(frontier.shape[0], dtype=np.int64),
                  order.astype(np.int32))
    if graph is not None:
        graph.add_values(frontier)
    sp_active, _ = S.active_masks(0)
    if sp_active and frontier.shape[0]:
        so = StateOut(frontier.shape[0], xp)
        arr.state_props(frontier, sp_active, so)
        for ev in sorted(S.state_events(so, 0, lambda j, ph: (j, 0, ph)), key=lambda e: e.pos):
            S.record(ev)

    parents: list[np.ndarray] = []
    tids: list[np.ndarray] = []
    total = frontier.shape[0]        # states discovered
    level_start = 0                  # number of the current level's first state
    expanded = 0                     # number of the first state not fully expanded
    transitions = 0
    d = 0
    stopped: str | None = None
    growth = 1.0
    per_state = float(nt)
    next_report = t0 + 0.5
    levels: list[tuple[int, int, int, float]] = []
    try:
        while frontier.shape[0]:
            n = frontier.shape[0]
            if limits.max_depth is not None and d >= limits.max_depth:
                stopped = "max-depth"
                break
            if limits.max_states is not None and total >= limits.max_states:
                stopped = "max-states"
                break
            need = _estimate_bytes(n, growth, per_state, visited.n, total, graph)
            if need > budget:
                stopped = "memory-limit"
                warnings.append(
                    f"array engine: stopped before depth {d + 1}: expanding {n:,} states "
                    f"would need about {need / 2**30:.1f} GiB, over the memory budget of "
                    f"{budget / 2**30:.1f} GiB; raise the budget or use the per-state engine")
                break
            sp_active, tp_active = S.active_masks(d)
            t_level = time.perf_counter()
            S.begin_level()
            new_keys, new_parents, new_tids, counted, stop, i_ret = _expand(
                S, frontier, d, total, sp_active, tp_active, visited, tid_dtype, graph)
            with interrupts.deferred():   # commit the level (or its part before a cut)
                transitions += counted
                S.commit_enabled()
                levels.append((d, n, new_keys.shape[0], time.perf_counter() - t_level))
                if new_keys.shape[0]:
                    parents.append(new_parents)
                    tids.append(new_tids)
                total += new_keys.shape[0]
                expanded = level_start + i_ret
            if stop is not None:
                stopped = stop
                break
            growth = max(new_keys.shape[0] / n, 0.5)
            per_state = max(counted / n, 1.0)
            level_start += n
            frontier = new_keys
            d += 1
            now = _now()
            if now >= next_report:
                next_report = now + 0.5
                if progress is not None:
                    progress(Progress(total, transitions, d, total - expanded, now - t0))
                if limits.time_limit is not None and now - t0 > limits.time_limit \
                        and frontier.shape[0]:
                    stopped = "time-limit"
                    break
    except KeyboardInterrupt:
        stopped = "interrupted"
        S.forget_uncommitted()
    if stopped is None and frontier.shape[0] and limits.time_limit is not None and \
            _now() - t0 > limits.time_limit:
        stopped = "time-limit"
    stats = Stats(total, transitions, len(parents), _now() - t0, total - expanded,
                  [s.name for s in S.reduced] or None)
    visited.release_spare()
    found = ArrayExploration(ts, cs, stats, S.best, stopped, initial, parents, tids, visited,
                             warnings, levels, arr, graph)
    found.enabled = S.enabled
    found.reduced = S.reduced
    return found


def _expand(S: _Search, F: np.ndarray, d: int, total: int, sp_active: int, tp_active: int,
            visited: Visited, tid_dtype, graph: GraphRecorder | None = None):
    """Expand level d (frontier F, in discovery order).  Returns the new states kept (keys
    in discovery order, parent indices, transitions), the transitions counted, and, when
    the level was cut short, why and the index of the first state not fully expanded.
    With a `graph`, a level expanded in full adds its edges and its new states' P and Q
    (a level cut short leaves the search incomplete: its graph is never used)."""
    ts, arr, limits, nt = S.ts, S.arr, S.limits, S.nt
    n = F.shape[0]
    xp = arr.xp
    lo = LevelOut(S.effect_kinds, xp)
    arr.expand_level(F, tp_active, lo)

    en = None   # enabled pairs per state: for deadlocks, and for a cut inside the level
    deadlocked = None
    if ts.deadlock:
        en = enabled_per_state(lo, n)
        dl = (en == 0) & ~arr.terminal(F)
        if bool(dl.any()):
            deadlocked = int(dl.argmax())
    edges = level_edges(lo.succ, n, xp) if graph is not None else None
    nk, nc, npos, level_keys, level_codes, numbering = _new_states(S, lo, n, visited, total)

    # the level's events, in the per-state engine's order
    events = S.expansion_events(lo, d, deadlocked)
    if sp_active and level_keys.shape[0]:
        so = StateOut(level_keys.shape[0], xp)
        arr.state_props(level_keys, sp_active, so)

        def pos_of(j, phase):
            c = int(level_codes[j])
            return (c // nt, c % nt, phase)

        events += S.state_events(so, d + 1, pos_of)
    events.sort(key=lambda e: e.pos)

    # record them in order, up to a cut; --stop-on-first stops at the first that makes
    # an outcome unexpected (or at the first at all, once one already has)
    cut = None
    if limits.max_states is not None and level_codes.shape[0] + total >= limits.max_states:
        cut = _max_states_cut(to_numpy(level_codes) // nt, n, total, limits.max_states)
    # --max-states keeps the first max_states states: those the last state expanded finds
    # past it are forgotten, with what was found in them (as `engines.bfs.keep_first`)
    cap = None
    found = _search(xp, level_codes, cut * nt) if cut is not None else level_codes.shape[0]
    if limits.max_states is not None and total + found > limits.max_states:
        cap = limits.max_states - total
    dropped = {int(k) for k in to_numpy(level_keys[cap:found])} if cap is not None else set()
    stop_pos = None
    for ev in events:
        if cut is not None and ev.pos >= (cut, -1, 0):
            break
        if cap is not None and ((ev.end[0] == "state" and ev.end[1] == (d + 1, ev.end[1][1])
                                 and ev.end[1][1] >= cap)
                                or (ev.end[0] == "step" and ev.end[3] in dropped)):
            continue
        S.record(ev)
        if limits.stop_on_first and S.unexpected:
            stop_pos = ev.pos
            break

    # what is kept: the states discovered, and the transitions counted, before the cut
    if stop_pos is not None:
        i, t, phase = stop_pos
        keep = _search(xp, level_codes, i * nt + t + (
            1 if phase >= S.discover_phase and t < nt else 0))
        en = enabled_per_state(lo, n) if en is None else en
        counted = int(en[:i].sum())
        for tt, ix in lo.enabled_by_t:   # state i's own transitions before the stop
            if tt < t or (tt == t and phase >= 1):
                p = _search(xp, ix, i)
                counted += int(p < ix.shape[0] and int(ix[p]) == i)
        S.count_enabled(lo, i, lambda tt: tt < t or (tt == t and phase >= 1))
        stop, i_ret = "stop-on-first", (i + 1 if t == nt else i)
    elif cut is not None:
        keep = _search(xp, level_codes, cut * nt)
        en = enabled_per_state(lo, n) if en is None else en
        counted = int(en[:cut].sum())
        S.count_enabled(lo, cut)
        stop, i_ret = "max-states", cut
        keep = keep if cap is None else cap
    else:
        keep = level_codes.shape[0] if cap is None else cap
        counted = sum(ix.shape[0] for _, ix in lo.enabled_by_t)
        S.count_enabled(lo)
        stop, i_ret = None, n

    kept_codes = level_codes[:keep]
    ids = numbering[2] if numbering is not None else None
    if keep == level_codes.shape[0]:
        visited.merge(nk, npos, ids)
    else:
        m = nc.view(np.int64) < (int(kept_codes[-1]) + 1 if keep else 0)
        visited.merge(nk[m], npos[m], None if ids is None else ids[m])
    if graph is not None and stop is None:
        graph.add_edges(edges, numbering, visited.mixed)
        graph.add_values(level_keys)
    parents = (kept_codes // nt).astype(np.int32 if n < 2**31 else np.int64)
    tid = (kept_codes % nt).astype(tid_dtype)
    return level_keys[:keep], parents, tid, counted, stop, i_ret


def _new_states(S: _Search, lo: LevelOut, n: int, visited: Visited, total: int):
    """The level's new states: sorted by key (keys, codes, positions in the visited set)
    and in discovery order (keys, codes).  For each distinct successor the smallest code
    parent * n_transitions + transition wins: the per-state engine's first discovery.
    In a numbered visited set, also the numbering of the level's successors: (their
    distinct keys, sorted; the state number of each; the numbers of the new states, which
    follow the `total` states discovered before, in discovery order), else None."""
    nt = S.nt
    xp = S.arr.xp
    if not lo.succ:
        nk = xp.empty(0, dtype=np.uint64)
        none = (nk, xp.empty(0, dtype=np.int32), xp.empty(0, dtype=np.int32))
        return nk, nk, xp.empty(0, dtype=np.int64), nk, nk.view(np.int64), \
            none if visited.numbered else None
    code_bits = max(int(n * nt - 1).bit_length(), 1)
    succ, lo.succ = lo.succ, []
    # the candidates, held only by this list, so that the sort can free them as it goes
    cands = [xp.concatenate([k for _, _, k in succ]),
             xp.concatenate([ix.astype(np.uint64) * np.uint64(nt) + np.uint64(t)
                             for t, ix, _ in succ])]
    del succ
    real = None
    if S.reduced:   # dedup by orbit; the first successor met of each is the one stored
        by_code_order = xp.argsort(cands[1])
        real = (cands[1][by_code_order], cands[0][by_code_order])
        cands[0] = S.canonical(cands[0])
    if S.key_bits + code_bits > KEY_CODE_BITS:   # (key, code) no longer fits one number
        visited.use_mixed()
    if visited.mixed:
        uk, mc = first_code_per_mixed(cands.pop(0), cands.pop(0), xp)
    else:
        uk, mc = first_code_per_key(cands.pop(0), cands.pop(0), S.key_bits, code_bits, xp)
    pos, present = visited.lookup(uk)
    fresh = ~present
    nk, nc, npos = uk[fresh], mc[fresh], pos[fresh]
    del mc
    level_keys, level_codes = by_code(nk, nc, code_bits, xp)
    level_codes = level_codes.view(np.int64)
    numbering = None
    if visited.numbered:
        nids = (total + xp.searchsorted(level_codes, nc.view(np.int64))).astype(np.int32)
        uk_ids = xp.empty(uk.shape[0], dtype=np.int32)
        uk_ids[fresh] = nids
        uk_ids[present] = visited.ids[pos[present]]
        numbering = (uk, uk_ids, nids)
    del uk, pos, present, fresh
    if visited.mixed:
        level_keys = unmix(level_keys, xp)
    if real is not None:
        codes, keys = real
        level_keys = keys[xp.searchsorted(codes, level_codes.view(np.uint64))]
    return nk, nc, npos, level_keys, level_codes, numbering


def _search(xp, a, value: int) -> int:
    """Where `value` would go in the sorted array `a` (numpy's searchsorted, side left)."""
    return int(xp.searchsorted(a, xp.asarray([value], dtype=a.dtype))[0])


def _max_states_cut(parents: np.ndarray, n: int, total: int, max_states: int) -> int | None:
    """Where --max-states stops a level of n states whose new states have these parents
    (ascending): the per-state engine expands CHUNK states between checks, one at a time
    once within 8 * CHUNK of the limit, and stops before expanding a state once `total`
    plus the states found reaches the limit.  None: the level is not cut."""
    cum = np.concatenate([[0], np.cumsum(np.bincount(parents, minlength=n))])
    i = 0
    while i < n:
        now = total + int(cum[i])
        if now >= max_states:
            return i
        if now + 8 * CHUNK > max_states:
            j = int(np.searchsorted(cum, max_states - total, side="left"))
            return j if j < n else None
        i = min(n, i + CHUNK)
    return None


# ---------------------------------------------------------------- the library entry point


def check_model_array(model, limits: Limits | None = None,
                      progress: Callable[[Progress], None] | None = None,
                      memory_budget: int | None = None, *, xp=None,
                      note_fallback: bool = True, levels: list | None = None) -> CheckResult:
    """Check a loaded model with the array engine (engine "array"), on the array module
    `xp` (numpy by default; CuPy for a GPU, see `engines.device`).  A spec the array
    engine cannot take (a state wider than 64 bits, values beyond int64) is checked by the
    per-state engine instead, with a one-line warning saying so (`note_fallback`; the
    default engine, `auto`, falls back silently).  `levels`, when given, receives one
    (depth, states, new states, seconds) per level expanded."""
    from ..ir.lower import lower

    ts = lower(model)
    return check_system_array(model, ts, compile_system(ts), limits, progress, memory_budget,
                              xp=xp, note_fallback=note_fallback, levels=levels)


def check_system_array(model, ts: TransitionSystem, cs: CompiledSystem,
                       limits: Limits | None = None,
                       progress: Callable[[Progress], None] | None = None,
                       memory_budget: int | None = None, *, xp=None,
                       note_fallback: bool = True, levels: list | None = None
                       ) -> CheckResult:
    """`check_model_array` for a model already lowered and compiled (what
    `api.compile_spec` returns), like `api.check_system` for the per-state engine."""
    from ..api import check_system
    from ..explain import Explainer

    try:
        arr = compile_array_system(ts, xp)
        reducible(ts, limits or Limits(), arr)
    except ArrayUnsupported as exc:
        result = check_system(model, ts, cs, limits, progress)
        if note_fallback:
            result.warnings.append(f"the array engine cannot check this spec ({exc}); "
                                   "the per-state engine checked it")
        return result
    found = explore(ts, limits, progress, cs=cs, arr=arr, memory_budget=memory_budget)
    if levels is not None:
        levels.extend(found.levels)
    explainer = Explainer(model, ts, cs) if found.best else None
    props = build_properties(ts, cs, found, explainer.annotate if explainer else None)
    for p in props:
        p.engine = "array"
    table, unfired = coverage(model, ts, found.enabled, found.new_counts(), found.complete)
    return CheckResult(model.name, model.path, model.sha256, model.constant_values(), "array",
                       found.complete, found.stats, props, found.stopped,
                       [w.message for w in model.warnings] + found.warnings + unfired,
                       coverage=table)
