"""The array engine's search partitioned over owners: every core of one machine
(`--workers N`: one process per owner), or the actors of a Ray cluster (`--cluster`), with
checkpoints that survive a crash (`--checkpoint DIR`, `--resume DIR`).

Each state belongs to the owner its key hashes to (`partition`); an owner keeps its part
of the visited set and of the frontier (`owner`); the driver runs the single-process
engine's bookkeeping over them, level by level (`search`), so that counts, verdicts and
traces are exactly the single-process engine's.  `local` runs owners in this process or
in forked processes, `ray_cluster` as Ray actors; `checkpoint` writes and reads
checkpoints.  docs/SCALING.md says how to use it and what it costs.

Temporal properties are decided on the state graph recorded across owners (each edge's
successor numbered by its owner; the single-process engine's graph, array for array).
Not partitioned (checked in one process, with a warning saying so): searches reduced by
symmetry (`--symmetry off` spreads them), and specs the array engine cannot take.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from ...diagnostics import Diagnostic, SpecError

DEFAULT_CHECKPOINT_EVERY = 300.0


def usable_cpus() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:   # not on Linux
        return max(os.cpu_count() or 1, 1)


@dataclass
class ScaleOptions:
    """How a search is spread: `workers` owners (None: 1 on one machine; on a cluster, one
    per CPU it has), on `cluster` (None: this machine; "local": a Ray started here; or
    "ray://HOST:PORT"), checkpointed to `checkpoint` every `checkpoint_every` seconds,
    resumed from `resume` (which then also receives the next checkpoints)."""

    workers: int | None = None
    cluster: str | None = None
    checkpoint: str | None = None
    checkpoint_every: float = DEFAULT_CHECKPOINT_EVERY
    resume: str | None = None
    in_process: bool = False   # all owners in this process (tests, debugging)
    auto: bool = False   # `--workers auto`: start here, move to usable_cpus() processes

    @property
    def partitioned(self) -> bool:
        return (self.workers or 1) > 1 or bool(self.cluster or self.checkpoint or
                                                self.resume or self.in_process) or \
            (self.auto and usable_cpus() > 1)

    def validate(self, engine: str) -> None:
        """SpecError (exit 2) for options that cannot go together."""
        from ...bounds import MAX_WORKERS
        if self.workers is not None and not 1 <= self.workers <= MAX_WORKERS:
            raise SpecError([Diagnostic(
                "DR906", f"{self.workers} workers: a search has 1 to {MAX_WORKERS:,}", None,
                None, "give --workers a number in that range, or auto")])
        if self.partitioned and engine not in ("auto", "array"):
            raise SpecError([Diagnostic(
                "DR906", f"--workers, --cluster, --checkpoint and --resume spread the array "
                f"engine's search, not {engine}'s", None, None,
                "use --engine auto or --engine array")])
        if self.cluster is not None:
            from .ray_cluster import check_address
            check_address(self.cluster)
        if self.checkpoint is not None:
            from .checkpoint import prepare
            prepare(self.checkpoint)
        if self.resume is not None:
            from .checkpoint import latest
            if latest(self.resume) is None:
                from .checkpoint import error
                raise error("DR902", f"no checkpoint to resume in {self.resume}",
                            "resume from the folder a run with --checkpoint wrote")


def _unsupported(ts, limits, arr) -> str | None:
    from ..array_bfs import reducible
    if reducible(ts, limits, arr):
        return "symmetry reduction is on (use --symmetry off to spread the search)"
    return None


def check_system_partitioned(model, ts, cs, limits, progress, scale: ScaleOptions,
                             memory_budget: int | None = None, say_fallback: bool = True):
    """`array_bfs.check_system_array`, with the search spread as `scale` says."""
    from ...api import check_system
    from ...backends.numpy_codegen import ArrayUnsupported, compile_array_system
    from ...explain import Explainer
    from ...results import CheckResult
    from ..array_bfs import check_system_array
    from ..bfs import Limits, build_properties
    from ..coverage import coverage
    from .checkpoint import Checkpointer, identity, load_meta, resumer
    from .local import OwnerLost
    from .search import PartitionedSearch, explore_partitioned

    limits = limits or Limits()
    ident = identity(model, limits)
    resume = None
    if scale.resume is not None:   # before anything runs: a wrong folder is an input error
        path, meta = load_meta(scale.resume, ident)
        resume = resumer(path, meta)
    try:
        arr = compile_array_system(ts)
        why = _unsupported(ts, limits, arr)
    except ArrayUnsupported as exc:
        result = check_system(model, ts, cs, limits, progress)
        result.warnings.append(f"the array engine cannot check this spec ({exc}); the "
                               "per-state engine checked it in one process")
        return result
    if why is not None:
        result = check_system_array(model, ts, cs, limits, progress, memory_budget,
                                    note_fallback=say_fallback)
        result.warnings.append(f"the search ran in one process ({why}): the partitioned "
                               "search does not support it yet; no checkpoint was written")
        return result
    if memory_budget is None and scale.cluster is None:   # one machine: as one process
        from ..array_bfs import default_memory_budget
        memory_budget = default_memory_budget()
    folder = scale.resume or scale.checkpoint
    checkpointer = Checkpointer(folder, scale.checkpoint_every, ident) if folder else None
    grow = None
    if scale.auto:   # one owner here until the frontier is wide, then worker processes
        workers = replace(scale, workers=usable_cpus(), auto=False)
        grow = lambda: make_group(workers, ts, arr)  # noqa: E731
        scale = replace(scale, workers=1, in_process=True)
    search = PartitionedSearch(ts, cs, arr, limits, make_group(scale, ts, arr), progress,
                               checkpointer, memory_budget, grow)
    try:
        found = explore_partitioned(search, resume)
        try:
            explainer = Explainer(model, ts, cs) if found.best else None
            props = build_properties(ts, cs, found, explainer.annotate if explainer else None)
        except OwnerLost as exc:   # a trace's links went with an owner: decide nothing
            found.best, found.stopped = {}, found.stopped or "worker-lost"
            found.warnings.append(f"the partitioned search lost an owner: {exc}; the "
                                  "traces it held links of cannot be rebuilt, so every "
                                  "property is unknown")
            props = build_properties(ts, cs, found, None)
        try:
            counts = found.new_counts()
        except OwnerLost:   # coverage's "found first" counts went with an owner
            counts = [0] * len(ts.transitions)
        table, unfired = coverage(model, ts, found.enabled, counts, found.complete)
        memory = owner_memory(search.group)
    finally:
        search.group.close()
    for p in props:
        p.engine = "array"
    result = CheckResult(model.name, model.path, model.sha256, model.constant_values(),
                         "array", found.complete, found.stats, props, found.stopped,
                         [w.message for w in model.warnings] + found.warnings + unfired,
                         coverage=table)
    result.owners = memory   # per owner: states, memory (not part of the JSON result)
    return result


def owner_memory(group) -> list[dict]:
    from .local import OwnerLost
    out = []
    for o in range(group.size):
        try:
            m = group.call_one(o, "memory")
        except OwnerLost:
            m = {"owner": o, "lost": True}
        m["name"] = group.name(o)
        out.append(m)
    return out


def make_group(scale: ScaleOptions, ts, arr):
    """The owners: Ray actors, forked processes, or one owner in this process."""
    from ..array_bfs import _Search
    from ..bfs import Limits
    from .local import InProcessGroup, ProcessGroup
    from .owner import setup_of

    S = _Search(ts, arr, Limits(symmetry=False))
    if scale.cluster is not None:
        from .ray_cluster import RayGroup
        return RayGroup(scale.cluster, scale.workers,
                        lambda n: setup_of(arr, ts, S.effect_kinds, S.key_bits, n))
    n = scale.workers or 1
    setup = setup_of(arr, ts, S.effect_kinds, S.key_bits, n)
    # worker processes on one machine: no network to save; owners in this process (tests)
    # route as on a cluster, so that both ways are tested without Ray
    setup.dedup_before_routing = scale.in_process
    if n == 1 or scale.in_process:
        return InProcessGroup(setup, arr)
    return ProcessGroup(setup)
