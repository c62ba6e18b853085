"""What every report needs from the model, computed once per check so that no report
re-reads the spec: how each variable is shown (`field_kinds`) and where each property and
transition is declared (`spec_map`)."""

from __future__ import annotations

from ..frontend.model import Model
from ..ir.layout import ArrayRep
from ..ir.system import TransitionSystem
from ..results import Location, SpecMap, TransitionSite


def field_kinds(ts: TransitionSystem) -> dict[str, str]:
    """Per variable key, how reports show its values (`results.FieldKind`)."""
    kinds = {}
    for f in ts.fields:
        is_array = isinstance(f.reps[0], ArrayRep)
        if f.per_instance:
            kinds[f.key] = "instances-array" if is_array else "instances"
        else:
            kinds[f.key] = "array" if is_array else "value"
    return kinds


def _loc(pos) -> Location | None:
    return Location(pos.line, pos.col) if pos is not None else None


def spec_map(model: Model, ts: TransitionSystem) -> SpecMap:
    out = SpecMap()
    for p in model.properties:
        out.properties[p.name] = _loc(p.pos)
    for t in model.temporal:
        out.properties[t.name] = _loc(t.pos)
    out.properties = {k: v for k, v in out.properties.items() if v is not None}
    steps = {}
    for p in model.processes:
        out.instances += [f"{p.name}[{i}]" for i in range(p.count)]
        for step in p.steps:
            for alt in step.alternatives:
                family = f"{p.name}.{step.name}" + (f".{alt.name}" if step.has_either else "")
                steps[("process", p.name, step.name, alt.name)] = (family, alt.pos or step.pos)
    for a in model.actions:
        steps[("action", a.name)] = (a.name, a.pos)
    for t in ts.transitions:
        o = t.origin
        if o[0] == "process":
            family, pos = steps[("process", o[1], o[3], o[4])]
            instance = f"{o[1]}[{o[2]}]"
        else:
            family, pos = steps[o]
            instance = None
        out.transitions[t.name] = TransitionSite(family, instance, _loc(pos))
    return out
