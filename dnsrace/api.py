"""The library entry points: load a spec, lower it, compile it, check it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .backends.python_codegen import CompiledSystem, compile_system
from .bounds import NO_DEADLINE, Deadline
from .diagnostics import Diagnostic, SpecError
from .engines import bfs
from .engines.bfs import Limits, Progress
from .engines.coverage import coverage
from .frontend.build import load_model
from .frontend.model import Model
from .ir.lower import lower
from .ir.system import TransitionSystem
from .results import CheckResult


def compile_spec(path: str | Path, overrides: dict[str, int] | None = None,
                 deadline: Deadline = NO_DEADLINE
                 ) -> tuple[Model, TransitionSystem, CompiledSystem]:
    """Front end, lowering and code generation: everything an engine needs.  Raises
    CompileTimeout when `deadline` passes first (checked between the stages, and inside
    lowering's long loops)."""
    model = load_model(path, overrides or {}, deadline)
    try:
        ts = lower(model, deadline=deadline)
    except RecursionError:   # a last resort: the bounds keep nesting far below the limit
        raise SpecError([Diagnostic(
            "DR504", "this spec nests too deeply to be compiled", model.path, None,
            "flatten its defines and nested blocks")]) from None
    deadline.check()
    cs = compile_system(ts)
    deadline.check()
    return model, ts, cs


def check_model(model: Model, limits: Limits | None = None,
                progress: Callable[[Progress], None] | None = None) -> CheckResult:
    ts = lower(model)
    cs = compile_system(ts)
    return check_system(model, ts, cs, limits, progress)


def check_system(model: Model, ts: TransitionSystem, cs: CompiledSystem,
                 limits: Limits | None = None,
                 progress: Callable[[Progress], None] | None = None) -> CheckResult:
    from .explain import Explainer

    found = bfs.explore(ts, cs, limits, progress)
    explainer = Explainer(model, ts, cs) if found.best else None
    props = bfs.build_properties(ts, cs, found, explainer.annotate if explainer else None)
    table, unfired = coverage(model, ts, found.enabled, found.new_counts(), found.complete)
    return CheckResult(model.name, model.path, model.sha256, model.constant_values(), "bfs",
                       found.complete, found.stats, props, found.stopped,
                       [w.message for w in model.warnings] + unfired, coverage=table)


def check(path: str | Path, constants: dict[str, int] | None = None,
          max_states: int | None = None, max_depth: int | None = None,
          time_limit: float | None = None, stop_on_first: bool = False) -> CheckResult:
    """Check the spec at `path`; raises `SpecError` when it is invalid."""
    model = load_model(path, constants or {})
    return check_model(model, Limits(max_states, max_depth, time_limit, stop_on_first))


def prove_what_held(model: Model, ts: TransitionSystem, cs: CompiledSystem,
                    explored: CheckResult, time_limit: float | None = None,
                    progress=None) -> CheckResult:
    """`--engine all`: after a complete explicit search, try to prove by PDR every property
    that held (or was unreachable), for every value of the symbolic constants.  A property
    PDR proves is reported as decided by "pdr" (with its invariant); the others keep the
    explicit engine's verdict, with PDR's reason.  Counts are the explicit search's."""
    from dataclasses import replace

    from .symbolic import check_pdr

    explicit = explored
    if not (explicit.complete and explicit.stopped is None):
        return replace(explicit, engine="all")
    held = {p.name for p in explicit.properties if p.outcome in ("holds", "unreachable")}
    if not held:
        return replace(explicit, engine="all")
    proof = check_pdr(model, time_limit, ts=ts, cs=cs, progress=progress)
    by_name = {p.name: p for p in proof.properties}
    props, warnings = [], list(explicit.warnings)
    for p in explicit.properties:
        q = by_name.get(p.name)
        if p.name not in held or q is None:
            props.append(p)
        elif q.outcome == p.outcome:
            props.append(q)
        elif q.outcome == "unknown":
            props.append(replace(p, message=f"PDR: {q.message}" if q.message else p.message))
        else:
            warnings.append(f"engines disagree on {p.name}: {explicit.engine} says "
                            f"{p.outcome}, pdr says {q.outcome}; this is a bug in dnsrace, "
                            "please report it with the spec")
            props.append(p)
    proved = any(p.engine == "pdr" for p in props)
    return replace(explicit, engine="all", properties=props, warnings=warnings,
                   symbolic=proof.symbolic if proved else {})
