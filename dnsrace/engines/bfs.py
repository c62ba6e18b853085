"""The explicit-state engine: breadth-first search over compiled transitions.

States are packed ints (see `backends.python_codegen`).  The visited set holds them; the list
`states` is both the BFS queue and the map from a state's number to its value, and two
compact arrays keep each state's parent and the transition that found it, so a shortest
trace can be rebuilt for any state.

Which counterexample is shown (the contract's "first shortest"): among all of a property's
counterexamples the shortest; among equally short ones, the first this search meets.
States are numbered as they are discovered; a state's properties are evaluated when it is
discovered; its transitions, in file order, when it is expanded (guard, then effect, then
transition properties, then the successor's discovery).

Under symmetry (`Limits.symmetry`, and a scalarset of size >= 2): the visited set is a
`symmetry.CanonicalSet`, which holds each orbit's canonical state, so a successor is new
when its orbit is.  The search still stores and expands the first state it meets of each
orbit, a real successor of a stored state: counts are per orbit (the transitions of one
state of each, which all have as many), and the parent links are real, shortest paths.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass
from functools import partial
from operator import add
from typing import Callable

from ..backends.python_codegen import CompiledSystem
from ..ir.layout import state_json
from ..ir.system import TransitionSystem
from ..results import PropertyResult, Stats, Trace, TraceStep
from .graph import StateGraph
from .symmetry import CanonicalSet, reduced_scalarsets
from .temporal import decide_all as decide_temporal
from .temporal import search_graph as temporal_search_graph

from .limits import Limits, Progress  # noqa: F401  (the engines' shared types)

CHUNK = 1024  # states expanded per call of the generated search

UNEXPECTED_WHEN_FOUND = {"holds": True, "unreachable": True, "violated": False,
                         "reachable": False}


class _Best:
    """Per property: the shortest trace found so far, and when (for ties)."""

    __slots__ = ("length", "end", "message")

    def __init__(self, length: int, end: tuple, message: str | None):
        self.length = length
        self.end = end
        self.message = message


@dataclass
class Exploration:
    """What a search found: the states in discovery order, how each was reached, and per
    property the shortest trace's end."""

    stats: Stats
    best: dict
    stopped: str | None
    states: list[int]
    links: array  # per state: parent * n_transitions + transition, or -1 (initial)
    n_transitions: int
    graph: StateGraph | None = None  # recorded for temporal properties only
    enabled: list[int] | None = None  # per transition: the states expanded where it was enabled

    def new_counts(self) -> list[int]:
        """Per transition: the states it discovered first (read off the links)."""
        import numpy as np

        links = np.frombuffer(self.links, dtype=np.int64)
        found = links[links >= 0] % self.n_transitions
        return np.bincount(found, minlength=len(self.enabled or ())).tolist()

    @property
    def complete(self) -> bool:
        return self.stopped is None

    def search_graph(self, ts: TransitionSystem, cs: CompiledSystem):
        """The graph and P/Q values the temporal decision needs (a complete search)."""
        return temporal_search_graph(ts, cs, self)

    def path_to(self, sid: int) -> list[tuple[int, int]]:
        """(transition, state number) from an initial state to sid; the first has -1."""
        out = []
        while sid >= 0:
            link = self.links[sid]
            if link < 0:
                out.append((-1, sid))
                break
            parent, tid = divmod(link, self.n_transitions)
            out.append((tid, sid))
            sid = parent
        out.reverse()
        return out

    def trace_path(self, end: tuple) -> list[tuple[int, int | None]]:
        """The trace ending at `end` as (transition, packed state after it); the first entry
        has transition -1, and a failing last step has state None."""
        kind, sid = end[0], end[1]
        path = [(t, self.states[k]) for t, k in self.path_to(sid)]
        if kind == "fail":
            path.append((end[2], None))
        elif kind == "step":
            path.append((end[2], end[3]))
        return path


def explore(ts: TransitionSystem, cs: CompiledSystem, limits: Limits | None = None,
            progress: Callable[[Progress], None] | None = None) -> Exploration:
    """Run the search over every reachable state (or until a limit)."""
    limits = limits or Limits()
    pk = cs.packing
    state_props = cs.state_props
    expected = {name: exp for name, _, exp in ts.property_order}
    sp_names = [p.name for p in ts.state_properties]
    tp_names = [p.name for p in ts.transition_properties]
    guard_table = cs.generated.guard_failures
    effect_table = cs.generated.effect_failures
    best: dict[str, _Best] = {}
    unexpected = [False]

    def record(name: str, length: int, end: tuple, message: str | None = None) -> None:
        b = best.get(name)
        if b is None or length < b.length:
            best[name] = _Best(length, end, message)
            if b is None and UNEXPECTED_WHEN_FOUND[expected[name]]:
                unexpected[0] = True

    # A property that cannot fail to evaluate is done once it has its trace; one that can
    # stays on while a run-time error found later could still be the shortest.
    sp_fallible = [bool(p.failures) for p in ts.state_properties]
    tp_fallible = [bool(p.failures) for p in ts.transition_properties]

    def active_masks(level: int) -> tuple[int, int]:
        """Properties still worth evaluating at states discovered at `level`."""
        err = best.get("error")
        errors_settled = err is not None and err.length <= level
        sp = 0
        for k, n in enumerate(sp_names):
            if n not in best or (sp_fallible[k] and not errors_settled):
                sp |= 1 << k
        tp = 0
        for k, n in enumerate(tp_names):
            if n not in best or (tp_fallible[k] and not errors_settled):
                tp |= 1 << k
        return sp, tp

    def on_state_events(ev, sid: int, level: int) -> None:
        for k, code in ev:
            if code == 0:
                record(sp_names[k], level, ("state", sid))
            else:
                fail = ts.state_properties[k].failures[-1 - code]
                record("error", level, ("state", sid),
                       f"{fail.message} (evaluating property {sp_names[k]})")

    graph = StateGraph() if ts.temporal else None
    reduced = reduced_scalarsets(ts, limits.symmetry)
    visited: set[int] | dict[int, int] = {} if graph else \
        CanonicalSet(reduced, pk) if reduced else set()
    states: list[int] = []
    links = array("q")
    t0 = time.monotonic()
    stopped: str | None = None
    sp_active, tp_active = active_masks(0)

    for init in ts.initial:
        s = pk.pack(init)
        if s in visited:
            continue
        if graph:
            visited[s] = len(states)
        else:
            visited.add(s)
        states.append(s)
        links.append(-1)
        if sp_active:
            ev = state_props(s, sp_active)
            if ev:
                on_state_events(ev, len(states) - 1, 0)
                sp_active, tp_active = active_masks(0)

    level = 0

    def event(kind: int, *args):
        """Called by the generated search for every rare event (see python_codegen.run)."""
        d1 = level + 1
        if kind == 0:                                   # a guard failed to evaluate
            i, g = args
            tid, fail = guard_table[g]
            record("error", level, ("state", i),
                   f"{fail.message} (in the guard of {ts.transitions[tid].name})")
        elif kind == 1:                                 # an effect failed
            i, tid, e = args
            fail = effect_table[e][1]
            name = fail.kind if fail.kind in ("assertion", "type") else "error"
            record(name, d1, ("fail", i, tid, fail.message), fail.message)
        elif kind == 2:                                 # a state property, on a new state
            sid, k, code = args
            on_state_events([(k, code)], sid, d1)
        elif kind == 3:                                 # a transition property
            i, tid, n, k, code = args
            on_step_events([(k, code)], i, tid, n, d1)
        elif kind == 4:
            i, tid, n, ev = args
            on_step_events(ev, i, tid, n, d1)
        elif kind == 5:
            sid, ev = args
            on_state_events(ev, sid, d1)
        else:                                           # deadlock
            (i,) = args
            record("deadlock", level, ("state", i))
        sp, tp = active_masks(level)
        return sp, tp, bool(unexpected[0] and limits.stop_on_first)

    def on_step_events(ev, i, tid, n, depth) -> None:
        for k, code in ev:
            if code == 0:
                record(tp_names[k], depth, ("step", i, tid, n))
            else:
                fail = ts.transition_properties[k].failures[-1 - code]
                record("error", depth, ("step", i, tid, n),
                       f"{fail.message} (evaluating property {tp_names[k]})")

    run = cs.run if graph is None else partial(cs.run_graph, edge_dst=graph.dst,
                                               edge_tid=graph.tid, row_end=graph.row_end)
    level_end = n_initial = len(states)
    i = 0
    transitions = 0
    enabled = [0] * len(ts.transitions)
    next_report = t0 + 0.5
    try:
        while i < len(states):
            if i == level_end:
                level += 1
                level_end = len(states)
                sp_active, tp_active = active_masks(level)
            if limits.max_depth is not None and level >= limits.max_depth:
                stopped = "max-depth"
                break
            chunk = CHUNK
            if limits.max_states is not None:
                if len(states) >= limits.max_states:
                    stopped = "max-states"
                    break
                if len(states) + 8 * CHUNK > limits.max_states:
                    chunk = 1
            end = min(level_end, i + chunk)
            i, counts, sp_active, tp_active, stop = run(
                states, i, end, visited, links, sp_active, tp_active, ts.deadlock, event)
            transitions += sum(counts)
            enabled = list(map(add, enabled, counts))
            if stop:
                stopped = "stop-on-first"
                break
            now = time.monotonic()
            if now >= next_report:
                next_report = now + 0.5
                if progress is not None:
                    progress(Progress(len(states), transitions, level, len(states) - i, now - t0))
                if limits.time_limit is not None and now - t0 > limits.time_limit:
                    stopped = "time-limit"
                    break
    except KeyboardInterrupt:
        stopped = "interrupted"
        # the generated code pushes a new state, then its link: an interrupt may come between
        del states[len(links):]
    if stopped is None and limits.time_limit is not None and \
            time.monotonic() - t0 > limits.time_limit and i < len(states):
        stopped = "time-limit"
    if stopped == "max-states":   # the initial states are all kept (docs/SEMANTICS.md)
        keep_first(max(limits.max_states, n_initial), states, links, visited, best)
    stats = Stats(len(states), transitions, 0, time.monotonic() - t0, max(len(states) - i, 0),
                  [s.name for s in reduced] or None)
    found = Exploration(stats, best, stopped, states, links, max(len(ts.transitions), 1),
                        graph, enabled)
    stats.depth = len(found.path_to(len(states) - 1)) - 1 if states else 0
    return found


def keep_first(n: int, states: list[int], links, visited, best: dict) -> None:
    """Forget the states found after the first n (the last state expanded may find several
    at once), and what was found in them, so that `--max-states n` keeps n states."""
    if len(states) <= n:
        return
    for s in states[n:]:
        if isinstance(visited, dict):
            del visited[s]
        else:
            visited.discard(s)
    del states[n:]
    del links[n:]
    for name, b in list(best.items()):
        end = b.end
        if (end[0] == "state" and end[1] >= n) or (end[0] == "step" and end[3] >= n):
            del best[name]


def build_trace(ts: TransitionSystem, cs: CompiledSystem, path, message: str | None = None
                ) -> Trace:
    unpack = cs.packing.unpack
    steps = []
    for t, packed in path:
        action = None if t < 0 else ts.transitions[t].name
        if packed is None:
            steps.append(TraceStep(action, None, message))
        else:
            steps.append(TraceStep(action, state_json(ts.layout, unpack(packed))))
    return Trace(steps)


def build_properties(ts: TransitionSystem, cs: CompiledSystem, found: Exploration,
                     explain=None) -> list[PropertyResult]:
    about = {p.name: p.about for p in ts.state_properties}
    about.update({p.name: p.about for p in ts.transition_properties})
    about.update({p.name: p.about for p in ts.temporal})
    temporal = decide_temporal(ts, cs, found.search_graph(ts, cs)) \
        if ts.temporal and found.complete else {}
    out = []
    for name, kind, expected in ts.property_order:
        if kind == "temporal":
            out.append(temporal_result(ts, cs, found, name, expected, temporal.get(name),
                                       about.get(name)))
            continue
        b = found.best.get(name)
        if b is not None:
            outcome = "reachable" if kind == "reachable" else "violated"
            path = found.trace_path(b.end)
            trace = build_trace(ts, cs, path, b.end[3] if b.end[0] == "fail" else None)
            if explain is not None:
                explain(trace, path, b.message)
        else:
            trace = None
            if not found.complete:
                outcome = "unknown"
            else:
                outcome = "unreachable" if kind == "reachable" else "holds"
        out.append(PropertyResult(name, kind, expected, outcome, trace, about.get(name),
                                  b.message if b is not None else None))
    return out


def temporal_result(ts: TransitionSystem, cs: CompiledSystem, found: Exploration, name: str,
                    expected: str, verdict, about) -> PropertyResult:
    """A temporal property's result: `unknown` after an incomplete search, else the verdict
    (a lasso's trace carries `loop_start`)."""
    if verdict is None:
        return PropertyResult(name, "temporal", expected, "unknown", None, about)
    trace = None
    if verdict.lasso is not None:
        lasso = verdict.lasso
        path = list(zip(lasso.tids, verdict.packed))
        trace = build_trace(ts, cs, path)
        trace.loop_start = lasso.loop_start
        trace.fair_steps = verdict.fair_steps
    message = None
    if trace is not None and trace.loop_start is None:
        message = "the last state is a trap: no path from it reaches the condition"
    return PropertyResult(name, "temporal", expected, verdict.outcome, trace, about, message)
