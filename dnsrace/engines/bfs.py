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
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass
from typing import Callable

from ..backends.python_codegen import CompiledSystem
from ..ir.layout import state_json
from ..ir.system import TransitionSystem
from ..results import CheckResult, PropertyResult, Stats, Trace, TraceStep

UNEXPECTED_WHEN_FOUND = {"holds": True, "unreachable": True, "violated": False,
                         "reachable": False}


@dataclass
class Limits:
    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None
    stop_on_first: bool = False


@dataclass
class Progress:
    states: int
    transitions: int
    depth: int
    queue: int
    seconds: float


class _Best:
    """Per property: the shortest trace found so far, and when (for ties)."""

    __slots__ = ("length", "end", "message")

    def __init__(self, length: int, end: tuple, message: str | None):
        self.length = length
        self.end = end
        self.message = message


def explore(ts: TransitionSystem, cs: CompiledSystem, limits: Limits | None = None,
            progress: Callable[[Progress], None] | None = None) -> tuple:
    """Run the search; returns (stats, best traces by property name, complete, stopped, states,
    parents, tids) for `build_result`."""
    limits = limits or Limits()
    pk = cs.packing
    expand, state_props, trans_props, terminal = (cs.expand, cs.state_props, cs.trans_props,
                                                  cs.terminal)
    order = [name for name, _, _ in ts.property_order]
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

    visited: set[int] = set()
    states: list[int] = []
    parents = array("q")
    tids = array("l")
    transitions = 0
    t0 = time.monotonic()
    stopped: str | None = None
    sp_active, tp_active = active_masks(0)

    for init in ts.initial:
        s = pk.pack(init)
        if s in visited:
            continue
        visited.add(s)
        states.append(s)
        parents.append(-1)
        tids.append(-1)
        if sp_active:
            ev = state_props(s, sp_active)
            if ev:
                on_state_events(ev, len(states) - 1, 0)
                sp_active, tp_active = active_masks(0)

    level = 0
    level_end = len(states)
    i = 0
    next_check = 2048
    deadlock = ts.deadlock
    max_depth = limits.max_depth
    max_states = limits.max_states
    try:
        while i < len(states):
            if i == level_end:
                level += 1
                level_end = len(states)
                sp_active, tp_active = active_masks(level)
            if max_depth is not None and level >= max_depth:
                stopped = "max-depth"
                break
            if i >= next_check:
                next_check = i + 2048
                elapsed = time.monotonic() - t0
                if progress is not None:
                    progress(Progress(len(states), transitions, level, len(states) - i, elapsed))
                if limits.time_limit is not None and elapsed > limits.time_limit:
                    stopped = "time-limit"
                    break
            s = states[i]
            gerr: list[int] = []
            succ = expand(s, gerr)
            transitions += len(succ)
            if gerr:
                for g in gerr:
                    tid, fail = guard_table[g]
                    record("error", level, ("state", i),
                           f"{fail.message} (in the guard of {ts.transitions[tid].name})")
            if deadlock and not succ and not terminal(s):
                record("deadlock", level, ("state", i))
            d1 = level + 1
            for tid, n in succ:
                if n < 0:
                    tid_, fail = effect_table[-1 - n]
                    name = {"assertion": "assertion", "type": "type"}.get(fail.kind, "error")
                    record(name, d1, ("fail", i, tid, fail.message), fail.message)
                    continue
                if tp_active:
                    ev = trans_props(s, n, tp_active)
                    if ev:
                        for k, code in ev:
                            if code == 0:
                                record(tp_names[k], d1, ("step", i, tid, n))
                            else:
                                fail = ts.transition_properties[k].failures[-1 - code]
                                record("error", d1, ("step", i, tid, n),
                                       f"{fail.message} (evaluating property {tp_names[k]})")
                        sp_active, tp_active = active_masks(level)
                if n not in visited:
                    visited.add(n)
                    states.append(n)
                    parents.append(i)
                    tids.append(tid)
                    if sp_active:
                        ev = state_props(n, sp_active)
                        if ev:
                            on_state_events(ev, len(states) - 1, d1)
                            sp_active, tp_active = active_masks(level)
            i += 1
            if unexpected[0] and limits.stop_on_first:
                stopped = "stop-on-first"
                break
            if max_states is not None and len(states) >= max_states and i < len(states):
                stopped = "max-states"
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
    depth = level if states else 0
    if stopped is None:
        depth = level
    else:
        # the deepest state discovered so far
        depth = _depth_of(len(states) - 1, parents) if states else 0
    stats = Stats(len(states), transitions, depth, time.monotonic() - t0, len(states) - i)
    return stats, best, stopped is None, stopped, states, parents, tids


def _depth_of(sid: int, parents) -> int:
    d = 0
    while parents[sid] >= 0:
        sid = parents[sid]
        d += 1
    return d


def _path(sid: int, parents, tids) -> list[tuple[int, int]]:
    """(transition, state number) from an initial state to sid; the first has transition -1."""
    out = []
    while sid >= 0:
        out.append((tids[sid], sid))
        sid = parents[sid]
    out.reverse()
    return out


def trace_path(end: tuple, states, parents, tids) -> list[tuple[int, int | None]]:
    """The trace ending at `end` as (transition, packed state after it); the first entry
    has transition -1, and a failing last step has state None."""
    kind, sid = end[0], end[1]
    path = [(t, states[k]) for t, k in _path(sid, parents, tids)]
    if kind == "fail":
        path.append((end[2], None))
    elif kind == "step":
        path.append((end[2], end[3]))
    return path


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


def build_properties(ts: TransitionSystem, cs: CompiledSystem, best: dict, complete: bool,
                     states, parents, tids, explain=None) -> list[PropertyResult]:
    about = {p.name: p.about for p in ts.state_properties}
    about.update({p.name: p.about for p in ts.transition_properties})
    out = []
    for name, kind, expected in ts.property_order:
        b = best.get(name)
        if b is not None:
            outcome = "reachable" if kind == "reachable" else "violated"
            path = trace_path(b.end, states, parents, tids)
            trace = build_trace(ts, cs, path, b.end[3] if b.end[0] == "fail" else None)
            if explain is not None:
                trace.stale_checks = explain(path)
        else:
            trace = None
            if not complete:
                outcome = "unknown"
            else:
                outcome = "unreachable" if kind == "reachable" else "holds"
        out.append(PropertyResult(name, kind, expected, outcome, trace, about.get(name),
                                  b.message if b is not None else None))
    return out
