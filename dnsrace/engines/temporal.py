"""Temporal verdicts for an explicit search: P and Q on every state, each property decided on
the recorded graph (`engines.liveness`), and a counterexample turned into a trace after
replaying it through the compiled successor function.  Both explicit engines hand over the
same `SearchGraph` (the per-state engine through `search_graph`, the array engine through
`engines.array_graph`), so their verdicts and traces are the same.

Only a complete search decides a temporal property; otherwise it is `unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..backends.python_codegen import CompiledSystem, compile_predicates
from ..ir.system import TransitionSystem
from .graph import Graph, as_graph
from .liveness import ERROR, FALSE, TRUE, Lasso, decide


@dataclass
class TemporalVerdict:
    outcome: str             # holds | violated
    lasso: Lasso | None      # state numbers (in the search's order) and transitions
    fair_steps: list[str]    # fairness units that take a step in the cycle
    packed: list[int] | None = None  # the lasso's states, as the explicit engine packs them


@dataclass
class SearchGraph:
    """What an explicit search hands the temporal decision, whichever engine ran it (the
    state numbers are the per-state engine's discovery order in both)."""

    graph: Graph
    values: list[tuple]                       # per property: (P's values, Q's or None)
    path_to: Callable[[int], list]            # a first shortest path: [(transition, state)]
    depth: Callable[[], np.ndarray]           # each state's distance from the initial ones
    packed: Callable[[list[int], list[int]], list[int]]  # a lasso's states, packed


def evaluate(ts: TransitionSystem, cs: CompiledSystem, states: list[int]) -> list[tuple]:
    """Per temporal property: (P's values, Q's values or None), TRUE/FALSE/ERROR per state.
    A state where any of the property's failure conditions holds is ERROR for both."""
    out = []
    for prop in ts.temporal:
        terms = [prop.p] + ([prop.q] if prop.q is not None else []) + \
            [f.cond for f in prop.failures]
        fns = compile_predicates(ts, cs.packing, terms)
        nval = 2 if prop.q is not None else 1
        vals = np.zeros((nval, len(states)), dtype=np.int8)
        value_fns, fail_fns = fns[:nval], fns[nval:]
        for k, s in enumerate(states):
            if any(f(s) for f in fail_fns):
                vals[:, k] = ERROR
            else:
                for j, f in enumerate(value_fns):
                    vals[j, k] = TRUE if f(s) else FALSE
        out.append((vals[0], vals[1] if prop.q is not None else None))
    return out


def depths(links, n_transitions: int) -> np.ndarray:
    """Each state's distance from the initial states (its parent is numbered before it)."""
    out = np.zeros(len(links), dtype=np.int64)
    for k, link in enumerate(links):
        if link >= 0:
            out[k] = out[link // n_transitions] + 1
    return out


def search_graph(ts: TransitionSystem, cs: CompiledSystem, found) -> SearchGraph:
    """The `SearchGraph` of a complete per-state search (`engines.bfs.Exploration`)."""
    return SearchGraph(as_graph(found.graph, len(found.states), ts),
                       evaluate(ts, cs, found.states), found.path_to,
                       lambda: depths(found.links, found.n_transitions),
                       lambda states, tids: [found.states[s] for s in states])


def decide_all(ts: TransitionSystem, cs: CompiledSystem, sg: SearchGraph
               ) -> dict[str, TemporalVerdict]:
    """Every temporal property's verdict after a complete search."""
    depth = None
    out = {}
    for prop, (pv, qv) in zip(ts.temporal, sg.values):
        if prop.form == "leads_to" and depth is None:
            depth = sg.depth()
        verdict = decide(sg.graph, prop, pv, qv, sg.path_to, depth)
        if not verdict.violated:
            out[prop.name] = TemporalVerdict("holds", None, [])
            continue
        lasso = verdict.lasso
        packed = sg.packed(lasso.states, lasso.tids)
        problems = check_lasso(ts, cs, packed, lasso.tids, lasso.loop_start)
        assert not problems, f"internal error: the counterexample of {prop.name} does not " \
            f"replay: {problems}"
        steps = [] if lasso.loop_start is None else \
            fair_units_taking_steps(ts, lasso.tids[lasso.loop_start + 1:])
        out[prop.name] = TemporalVerdict("violated", lasso, steps, packed)
    return out


def check_lasso(ts: TransitionSystem, cs: CompiledSystem, packed: list[int], tids: list[int],
                loop_start: int | None) -> list[str]:
    """What is wrong with a path or lasso under the explicit semantics (empty: nothing):
    every step is a successful transition of the state before it, a lasso's last state
    equals the one at `loop_start`, a one-state lasso repeats a stuck state, and its cycle
    respects the spec's fairness."""
    problems = []
    initial = {cs.packing.pack(s) for s in ts.initial}
    if packed[0] not in initial:
        problems.append("step 0 is not an initial state")
    for k in range(1, len(packed)):
        succ = cs.expand(packed[k - 1], [])
        if (tids[k], packed[k]) not in succ:
            problems.append(f"step {k} ({ts.transitions[tids[k]].name}) is not a transition "
                            "to the recorded state")
    if loop_start is None:
        return problems
    if packed[-1] != packed[loop_start]:
        problems.append(f"the last state is not the state of step {loop_start}: the loop "
                        "does not close")
    elif loop_start == len(packed) - 1 and any(n >= 0 for _, n in cs.expand(packed[-1], [])):
        problems.append("the last state repeats, but it has a successor")
    else:
        problems += cycle_unfairness(ts, cs, packed[loop_start:], tids[loop_start + 1:])
    return problems


def enabled_units(ts: TransitionSystem, cs: CompiledSystem, packed: int) -> set[int]:
    """The fairness units with a transition that succeeds at this state."""
    unit_of = {t: u for u, fu in enumerate(ts.fairness) for t in fu.transitions}
    return {unit_of[t] for t, n in cs.expand(packed, []) if n >= 0 and t in unit_of}


def cycle_unfairness(ts: TransitionSystem, cs: CompiledSystem, cycle: list[int],
                     tids: list[int]) -> list[str]:
    """How the cycle through the states `cycle` (the first repeated as the last) by the
    transitions `tids` breaks the spec's fairness: a weakly fair unit enabled at every state
    that takes no step, a strongly fair one enabled at some state that takes none."""
    states = cycle[:-1] if len(cycle) > 1 else cycle
    enabled = [enabled_units(ts, cs, s) for s in states]
    taken = {u for u, fu in enumerate(ts.fairness) if set(fu.transitions) & set(tids)}
    out = []
    for u, fu in enumerate(ts.fairness):
        if u in taken:
            continue
        if fu.kind == "weak" and all(u in e for e in enabled):
            out.append(f"{fu.name} (weakly fair) is enabled at every state of the cycle but "
                       "takes no step in it")
        elif fu.kind == "strong" and any(u in e for e in enabled):
            out.append(f"{fu.name} (strongly fair) is enabled in the cycle but takes no "
                       "step in it")
    return out


def fair_units_taking_steps(ts: TransitionSystem, tids: list[int]) -> list[str]:
    return [f"{fu.name} ({fu.kind})" for fu in ts.fairness if set(fu.transitions) & set(tids)]
