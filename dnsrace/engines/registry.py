"""Every engine behind one interface, by name: what `dnsrace.check(engine=...)` and
`dnsrace check --engine` choose from.

An engine takes a `Job` (a compiled spec, the limits, a progress callback, the array
module) and returns a `CheckResult`; the Z3 engines read `Limits.max_depth` as their bound
(bmc: steps, default 20; kind: k) and report progress as text (`Progress.note`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, Protocol

from ..backends.python_codegen import CompiledSystem
from ..frontend.model import Model
from ..ir.system import TransitionSystem
from ..results import CheckResult
from .limits import Limits, Progress

DEFAULT_BMC_DEPTH = 20


@dataclass(frozen=True)
class ProofOptions:
    """What the proof engines (kind, pdr, all) take besides the limits."""

    all_lemmas: bool = False       # --lemmas: every invariant is a lemma, not only `lemma: true`
    proof_dir: str | None = None   # --proof-dir: stored invariants, checked again first

    def lemma_names(self, model: Model) -> list[str]:
        """The invariants proved together with each property and assumed while proving it."""
        return [p.name for p in model.properties if p.kind == "invariant"
                and p.expected == "holds" and (p.lemma or self.all_lemmas)]


@dataclass
class Job:
    model: Model
    ts: TransitionSystem
    cs: CompiledSystem
    limits: Limits
    progress: Callable[[Progress], None] | None = None
    xp: object = None   # the array module for the array engine: None for numpy, or CuPy
    proof: ProofOptions = ProofOptions()
    scale: object = None  # `partitioned.ScaleOptions`: workers, cluster, checkpoints

    def say(self) -> Callable[[str], None] | None:
        """The progress callback as the Z3 engines call it: with a line of text."""
        if self.progress is None:
            return None
        start, progress = time.monotonic(), self.progress
        return lambda text: progress(Progress(0, 0, 0, 0, time.monotonic() - start, text))


class Engine(Protocol):
    name: str
    summary: str   # one line, for --help
    array: bool    # whether it runs the array engine (and so may run on a GPU)

    def run(self, job: Job) -> CheckResult: ...


@dataclass(frozen=True)
class _Engine:
    name: str
    summary: str
    runner: Callable[[Job], CheckResult]
    array: bool = False

    def run(self, job: Job) -> CheckResult:
        return self.runner(job)


def _bfs(job: Job) -> CheckResult:
    from ..api import check_system
    return check_system(job.model, job.ts, job.cs, job.limits, job.progress)


def _array(job: Job, *, say_fallback: bool) -> CheckResult:
    from .array_bfs import check_system_array
    if job.scale is not None and job.scale.partitioned and job.xp is None:
        from .partitioned import check_system_partitioned
        return check_system_partitioned(job.model, job.ts, job.cs, job.limits, job.progress,
                                        job.scale, say_fallback=say_fallback)
    return check_system_array(job.model, job.ts, job.cs, job.limits, job.progress, xp=job.xp,
                              note_fallback=say_fallback or job.xp is not None)


def _bmc(job: Job) -> CheckResult:
    from ..symbolic import check_bmc
    depth = DEFAULT_BMC_DEPTH if job.limits.max_depth is None else job.limits.max_depth
    return check_bmc(job.model, depth, job.limits.time_limit, ts=job.ts, cs=job.cs,
                     progress=job.say())


def _kind(job: Job) -> CheckResult:
    from ..symbolic import check_kind
    depth = DEFAULT_BMC_DEPTH if job.limits.max_depth is None else job.limits.max_depth
    return check_kind(job.model, depth, job.limits.time_limit, ts=job.ts, cs=job.cs,
                      progress=job.say(), lemmas=job.proof.lemma_names(job.model))


def _pdr(job: Job) -> CheckResult:
    from ..symbolic import check_pdr
    return check_pdr(job.model, job.limits.time_limit, ts=job.ts, cs=job.cs,
                     progress=job.say(), lemmas=job.proof.lemma_names(job.model),
                     proof_dir=job.proof.proof_dir)


def _all(job: Job) -> CheckResult:
    from ..api import prove_what_held
    started = time.monotonic()
    result = _array(job, say_fallback=False)
    if result.stopped == "interrupted":
        return replace(result, engine="all")
    left = job.limits.time_limit
    if left is not None:
        left = max(0.0, left - (time.monotonic() - started))
    return prove_what_held(job.model, job.ts, job.cs, result, left, job.say(), job.proof)


ENGINES: dict[str, Engine] = {e.name: e for e in (
    _Engine("auto", "the array engine when the spec fits it, else bfs",
            lambda job: _array(job, say_fallback=False), array=True),
    _Engine("bfs", "explicit search, state by state", _bfs),
    _Engine("array", "explicit search on whole frontiers (numpy, or CuPy on a GPU)",
            lambda job: _array(job, say_fallback=True), array=True),
    _Engine("bmc", "Z3 bounded model checking to --max-depth (default 20)", _bmc),
    _Engine("kind", "Z3 k-induction up to k = --max-depth (default 20)", _kind),
    _Engine("pdr", "IC3/PDR proofs with Z3's Spacer, with the invariant, for every value of "
            "the symbolic constants", _pdr),
    _Engine("all", "the explicit search (as auto), then pdr on what held", _all, array=True),
)}


def engine(name: str) -> Engine:
    """The engine called `name`; ValueError naming the engines when there is none."""
    try:
        return ENGINES[name]
    except KeyError:
        raise ValueError(f"no engine {name!r}; the engines are "
                         + ", ".join(ENGINES)) from None
