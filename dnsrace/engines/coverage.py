"""Coverage, TLC-style: how often each transition of the spec was enabled and taken.

Counts are per transition *family*, as the spec names it: a process step, or one
alternative of a step with `either` ("Enactor.check.newer"), across all its instances and
parameter bindings; an action across all its bindings.  Per family:

  enabled  the (state, transition) pairs the search expanded where one of the family's
           transitions was enabled (a failing effect counts): these sum to the
           `transitions` count;
  new      the states one of its transitions discovered first: these sum to the states
           less the initial ones.

After a complete search a family never enabled is a warning (a spec that passes with a
transition that can never fire is almost always wrong), and so is a fairness unit never
enabled, unless every family its transitions belong to is already reported.  After an
incomplete search the counts cover what was explored, and nothing is reported: a transition
may fire later.  The explicit engines both count per transition (`engines.bfs`,
`engines.array_bfs`); this module groups their counts by family.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..frontend.model import Model
from ..ir.system import TransitionSystem
from ..results import Coverage


@dataclass
class Family:
    name: str   # "Worker.read", "Enactor.check.newer", "crash"
    what: str   # step | action
    key: tuple  # ("process", P, step, alternative) or ("action", name)
    order: tuple  # where the spec declares it: (line, col)
    guarded: bool  # whether it has a guard


def families(model: Model) -> list[Family]:
    """Every step, alternative and action of the spec, in file order (also one with no
    transition at all: a parameter without values)."""
    out = []
    for p in model.processes:
        for step in p.steps:
            for alt in step.alternatives:
                name = f"{p.name}.{step.name}" + (f".{alt.name}" if step.has_either else "")
                out.append(Family(name, "step", ("process", p.name, step.name, alt.name),
                                  _order(alt.pos or step.pos), alt.guard is not None))
    for a in model.actions:
        out.append(Family(a.name, "action", ("action", a.name), _order(a.pos),
                          a.guard is not None))
    return sorted(out, key=lambda f: f.order)


def _order(pos) -> tuple:
    return (pos.line, pos.col) if pos is not None else (0, 0)


def family_key(origin: tuple) -> tuple:
    """The family of a transition, from its origin (see `ir.system.Transition`)."""
    if origin[0] == "process":
        return ("process", origin[1], origin[3], origin[4])
    return origin


def coverage(model: Model, ts: TransitionSystem, enabled: list[int], new: list[int],
             complete: bool) -> tuple[list[Coverage], list[str]]:
    """Per family, in file order, its counts; and the warnings (only after a complete
    search).  `enabled` and `new` are per transition of `ts`."""
    fams = families(model)
    by_key = {f.key: Coverage(f.name, 0, 0) for f in fams}
    members: dict[tuple, int] = {f.key: 0 for f in fams}
    for t in ts.transitions:
        key = family_key(t.origin)
        c = by_key[key]
        c.enabled += enabled[t.index]
        c.new += new[t.index]
        members[key] += 1
    table = [by_key[f.key] for f in fams]
    if not complete:
        return table, []
    warnings = []
    dead = set()
    for f in fams:
        if by_key[f.key].enabled == 0:
            dead.add(f.key)
            warnings.append(never_enabled(f, members[f.key]))
    for unit in ts.fairness:
        if any(enabled[t] for t in unit.transitions):
            continue
        if all(family_key(ts.transitions[t].origin) in dead for t in unit.transitions):
            continue   # its steps are reported already
        warnings.append(f"fairness unit {unit.name} ({unit.kind}) is never enabled: its "
                        "fairness constrains nothing")
    return table, warnings


def never_enabled(f: Family, transitions: int) -> str:
    if transitions == 0:
        why = "it has no transitions: one of its parameters has no values"
    elif f.what == "step" and not f.guarded:
        why = "its pc is never reached"
    elif f.what == "step":
        why = "its guard is never true in a reachable state, or its pc is never reached"
    else:
        why = "its guard is never true in a reachable state"
    return f"{f.what} {f.name} is never enabled: {why}"
