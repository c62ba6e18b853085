"""How `dnsrace test` reports: text for people, JSON for tools (`--format json`)."""

from __future__ import annotations

from . import conformance
from .mbt import BFS_LIMIT
from .on_system import SystemTest


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def render_text(done: SystemTest, adapter: str, seed: int, trace_path: str | None) -> str:
    rep = done.report
    consts = ", ".join(f"{k}={v}" for k, v in done.constants.items())
    lines = [f"test of {done.spec_path} through {adapter} (seed {seed}"
             + (f"; {consts})" if consts else ")")]
    directed = sum(1 for r in rep.runs if not r.why.startswith("random walk"))
    lines.append(f"  runs: {_plural(len(rep.runs), 'run')} performed ({directed} directed, "
                 f"{len(rep.runs) - directed} random), {_plural(rep.steps, 'step')} on the "
                 "system")
    if rep.observed:
        lines.append("  observed: " + ", ".join(rep.observed))
    taken = [k for k, n in rep.kinds.items() if n]
    lines.append(f"  transitions taken: {len(taken)} of {len(rep.kinds)} kinds: "
                 + ", ".join(f"{k} {n}" for k, n in rep.kinds.items()))
    if rep.never_enabled:
        lines.append("  never enabled in the spec: " + ", ".join(rep.never_enabled))
    lines.append(f"  property events reached on the system: {len(rep.found)} of "
                 f"{len(rep.witnesses)}")
    for name, (run, step) in rep.found.items():
        lines.append(f"    {name}: {event_text(done, name)} in run {run} "
                     f"({rep.runs[run - 1].why}) at step {step}")
    if rep.unreachable:
        lines.append("  events the spec never reaches: " + ", ".join(rep.unreachable))
    if not rep.search_complete:
        lines.append(f"  note: the directed runs come from the first {BFS_LIMIT:,} states "
                     "of the spec")
    broken = [f"FAILED: invariant {name} fails on the system, as it does in the spec (see "
              "`dnsrace check`)" for name in rep.broken]
    if rep.failure is None:
        agree = (f"the system agrees with the spec on every step of "
                 f"{_plural(len(rep.runs), 'run')}")
        lines += [agree] + broken if broken else ["PASSED: " + agree]
        return "\n".join(lines) + "\n"
    lines += broken
    f = rep.failure
    k = len(rep.runs)
    lines.append(f"FAILED: run {k} ({f.run.why}) parts from the spec at step "
                 f"{f.report.mismatch.step}")
    n = len(f.shortest.tids)
    header = (f"the shortest failing run found: {_plural(n, 'step')} "
              f"({_plural(f.tried, 'run')} tried while shrinking)")
    lines.append(conformance.render(f.shortest_report, header).rstrip("\n"))
    if trace_path:
        lines.append(f"trace: {trace_path}; `dnsrace replay {trace_path} --adapter {adapter}`"
                     " performs it again")
    else:
        lines.append("keep it as a trace file with --output FILE (or --trace-dir DIR)")
    return "\n".join(lines) + "\n"


def event_text(done: SystemTest, name: str) -> str:
    kind, expected = done.kinds[name]
    if kind == "invariant":
        return "the invariant fails" + (" (as the spec expects)" if expected == "violated"
                                        else "")
    return "reached" + (" (the spec expects it unreachable)" if expected == "unreachable"
                        else "")


def to_json(done: SystemTest, adapter: str, seed: int, trace_path: str | None) -> dict:
    rep = done.report
    out = {"version": 1,
           "spec": {"name": done.spec_name, "path": done.spec_path, "sha256": done.sha256},
           "constants": dict(done.constants), "adapter": adapter, "seed": seed,
           "passed": rep.passed,
           "runs": [{"why": r.why, "length": len(r.tids)} for r in rep.runs],
           "steps": rep.steps, "observed": rep.observed,
           "coverage": {"transitions": dict(rep.kinds), "never_enabled": rep.never_enabled,
                        "events": dict(rep.witnesses),
                        "found": {k: {"run": r, "step": st} for k, (r, st) in rep.found.items()},
                        "broken": rep.broken, "unreachable": rep.unreachable,
                        "search_complete": rep.search_complete},
           "failure": None}
    if rep.failure is not None:
        f = rep.failure
        m = f.shortest_report.mismatch
        out["failure"] = {"run": len(rep.runs), "why": f.run.why,
                          "step": f.report.mismatch.step, "shortest_length": len(f.shortest.tids),
                          "shrink_runs": f.tried, "mismatch": {
                              "step": m.step, "action": m.action, "variable": m.variable,
                              "spec": m.expected, "observed": m.observed},
                          "trace": done.trace, "trace_file": trace_path}
    return out
