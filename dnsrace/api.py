"""The library entry points: load a spec, lower it, compile it, check it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .backends.python_codegen import CompiledSystem, compile_system
from .bounds import NO_DEADLINE, Deadline
from .diagnostics import Diagnostic, SpecError
from .engines import bfs
from .engines.limits import Limits, Progress
from .engines.coverage import coverage
from .frontend.build import load_model
from .frontend.model import Model
from .ir.lower import lower
from .ir.system import TransitionSystem
from .results import CheckResult

if TYPE_CHECKING:
    from .engines.registry import Engine


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


def check(spec: str | Path, constants: dict[str, int] | None = None, *,
          engine: str = "auto", limits: Limits | None = None,
          progress: Callable[[Progress], None] | None = None, device: str = "cpu",
          max_states: int | None = None, max_depth: int | None = None,
          time_limit: float | None = None, stop_on_first: bool = False,
          symmetry: bool = True, lemmas: bool = False,
          proof_dir: str | Path | None = None, scale=None) -> CheckResult:
    """Check every property of the spec at `spec` with `engine` (see
    `engines.registry.ENGINES`: auto, bfs, array, bmc, kind, pdr, all).

    `limits` bounds the search (or give `max_states`, `max_depth`, `time_limit`,
    `stop_on_first`, `symmetry` one by one); the time limit covers loading and compiling
    too.  With `symmetry` (the default) the explicit engines store one state per orbit of
    the spec's scalarsets.
    `progress` is called now and then with a `Progress`.  `device` "gpu" runs the array
    engine on CuPy.  For the proof engines, `lemmas` makes every invariant a lemma (not
    only those marked `lemma: true`) and `proof_dir` keeps proved invariants between runs.
    `scale` (an `engines.partitioned.ScaleOptions`) spreads the array engine's search over
    worker processes or a Ray cluster, with checkpoints.  Raises `SpecError` when the spec (or the request) is invalid, and
    `CompileTimeout` when the time limit runs out before the search starts."""
    if limits is None:
        limits = Limits(max_states, max_depth, time_limit, stop_on_first, symmetry)
    chosen, xp = engine_and_device(engine, device)
    if scale is not None:
        scale.validate(chosen.name)
    deadline = Deadline(limits.time_limit)
    model, ts, cs = compile_spec(spec, constants, deadline)
    if limits.time_limit is not None:   # the search has what compiling left of the limit
        limits = replace(limits, time_limit=deadline.left())
    from .engines.registry import ProofOptions
    proof = ProofOptions(lemmas, None if proof_dir is None else str(proof_dir))
    return run_engine(chosen, model, ts, cs, limits, progress, xp, proof, scale=scale)


def run_engine(engine: "Engine", model: Model, ts: TransitionSystem, cs: CompiledSystem,
               limits: Limits, progress=None, xp=None, proof=None, *,
               scale=None) -> CheckResult:
    """Run `engine` on a compiled spec; the result carries what reports need (how each
    variable is shown, where each property and transition is declared)."""
    from .engines.registry import Job
    from .report.spec_map import field_kinds, spec_map

    from .engines.registry import ProofOptions
    result = engine.run(Job(model, ts, cs, limits, progress, xp, proof or ProofOptions(),
                            scale=scale))
    result.field_kinds = field_kinds(ts)
    result.spec_map = spec_map(model, ts)
    if engine.name not in ("bmc", "kind", "pdr") and limits.symmetry and ts.temporal \
            and any(s.size >= 2 for s in ts.scalarsets):
        # their lassos are followed state by state, and fairness names instances, which a
        # renaming of the identities moves (docs/SEMANTICS.md, "Symmetry reduction")
        result.stats.symmetry_off = "the spec has temporal properties"
    return result


def engine_and_device(engine: str, device: str):
    """The engine by name and the array module for `device`; SpecError (DR401) when the
    pair cannot run."""
    from .engines.registry import engine as find_engine

    def refuse(message: str, hint: str):
        return SpecError([Diagnostic("DR401", message, None, None, hint)])

    try:
        chosen = find_engine(engine)
    except ValueError as exc:
        raise refuse(str(exc), "choose one of those engines") from None
    if device == "cpu":
        return chosen, None
    if device != "gpu":
        raise refuse(f"no device {device!r}; the devices are cpu and gpu", "use cpu or gpu")
    from .engines.device import DeviceUnavailable, array_module
    if engine not in ("auto", "array"):
        raise refuse(f"--device gpu runs the array engine, not {engine}",
                     "use --engine array")
    try:
        return chosen, array_module("gpu")
    except DeviceUnavailable as exc:   # its message says what to do
        raise SpecError([Diagnostic("DR401", str(exc))]) from None


def prove_what_held(model: Model, ts: TransitionSystem, cs: CompiledSystem,
                    explored: CheckResult, time_limit: float | None = None,
                    progress=None, proof=None) -> CheckResult:
    """`--engine all`: after a complete explicit search, try to prove by PDR every property
    that held (or was unreachable), for every value of the symbolic constants.  A property
    PDR proves is reported as decided by "pdr" (with its invariant); the others keep the
    explicit engine's verdict, with PDR's reason.  Counts are the explicit search's."""
    from .symbolic import check_pdr

    explicit = explored
    if not (explicit.complete and explicit.stopped is None):
        return replace(explicit, engine="all")
    held = {p.name for p in explicit.properties if p.outcome in ("holds", "unreachable")}
    if not held:
        return replace(explicit, engine="all")
    options = proof
    proof = check_pdr(model, time_limit, ts=ts, cs=cs, progress=progress,
                      lemmas=options.lemma_names(model) if options else None,
                      proof_dir=options.proof_dir if options else None)
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


@dataclass
class Replay:
    """What `replay` found: the report (`replay.ReplayReport`, or `replay.ScheduleReport`
    for a schedule), the spec replayed on, its constants, and whether the spec changed since
    the trace was written (its sha256 differs)."""

    report: object
    spec_path: str
    constants: dict[str, int]
    spec_changed: bool = False

    @property
    def ok(self) -> bool:
        """Faithful (a trace), or no property failed on the steps that ran (a schedule)."""
        r = self.report
        return r.harmless if hasattr(r, "harmless") else r.faithful


def replay_trace(trace: str | Path, spec: str | Path | None = None,
           constants: dict[str, int] | None = None, *, prop: str | None = None,
           schedule: bool = False) -> Replay:
    """Replay the trace at `trace` (a trace file, or `check --format json` output: choose
    the property with `prop`) on `spec` (default: the spec the trace names) with
    `constants` (default: the trace's own).  With `schedule`, run only the trace's sequence
    of transitions from the spec's own initial state.  Raises `trace_file.TraceError`
    (carrying the trace's text, for positions) or `SpecError`."""
    from .replay import STATE_HINT, Replayer, ScheduleRunner
    from .report.spec_map import field_kinds
    from .trace_file import TraceError, read_trace, spec_of

    tf = read_trace(str(trace), prop)
    try:
        spec_path = str(spec) if spec is not None else spec_of(tf)
        overrides = dict(constants) if constants is not None else dict(tf.constants)
        if schedule and constants is None:   # another design may not declare them all
            declared = load_model(spec_path, {}).constant_values()
            overrides = {k: v for k, v in overrides.items() if k in declared}
        model, ts, cs = compile_spec(spec_path, overrides)
        changed = bool(tf.spec.get("sha256")) and tf.spec["sha256"] != model.sha256
        if schedule:
            report = ScheduleRunner(model, ts, cs, field_kinds(ts)).run(tf.steps)
        else:
            hint = STATE_HINT if not changed else (
                "the spec has changed since this trace was written (its sha256 differs): "
                "replay the trace on the version it was written for")
            report = Replayer(model, ts, cs, field_kinds(ts)).replay(tf.steps, hint,
                                                                     tf.loop_start)
    except TraceError as exc:   # found after reading: positioned in the trace's text
        exc.text = tf.text
        if exc.where is not None:
            exc.where = tf.base + exc.where
        raise
    return Replay(report, spec_path, model.constant_values(), changed)
