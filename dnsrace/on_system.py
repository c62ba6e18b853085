"""Library entry points for running a spec on a real system through an adapter:
`replay_on_system` (a trace, step by step) and `run_system_test` (model-based testing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .adapters import AdapterError
from .api import Replay, compile_spec, replay_trace
from .conformance import Conformance, RunReport, action_of
from .ir.layout import state_json
from .mbt import SystemTester, SystemTestReport
from .report.spec_map import field_kinds


@dataclass
class SystemReplay:
    """What `replay --adapter` found: the trace's replay on the spec (`model`), and when it
    is faithful, the run on the system (`system`)."""

    model: Replay
    system: RunReport | None
    dropped_last: bool = False      # the trace's failing last step was not performed

    @property
    def ok(self) -> bool:
        return self.model.ok and self.system is not None and self.system.agrees


def conformance_for(adapter, model, ts) -> Conformance:
    variables = [f.key for f in ts.layout.fields]
    return Conformance(adapter, model.constant_values(), variables, field_kinds(ts))


def replay_on_system(trace: str | Path, adapter, spec: str | Path | None = None,
                     constants: dict[str, int] | None = None, *,
                     prop: str | None = None, schedule: bool = False) -> SystemReplay:
    """Replay the trace on its spec (as `replay_trace`); if it is faithful, perform its
    transitions on the system through `adapter` and compare the observed state with the
    trace's after every step.  With `schedule`, run the trace's schedule on `spec` (as
    `replay --schedule`) and perform the steps the spec ran, comparing with the spec's
    states.  Raises TraceError, SpecError or AdapterError."""
    from .trace_file import read_trace

    done = replay_trace(trace, spec, constants, prop=prop, schedule=schedule)
    if schedule:
        return schedule_on_system(done, read_trace(str(trace), prop).steps, adapter)
    if not done.ok:
        return SystemReplay(done, None)
    model, ts, _ = compile_spec(done.spec_path, done.constants)
    steps = read_trace(str(trace), prop).steps
    dropped = steps[-1]["state"] is None
    if dropped:
        steps = steps[:-1]
    by_name = {t.name: t for t in ts.transitions}
    actions = [action_of(by_name[s["action"]]) for s in steps[1:]]
    conf = conformance_for(adapter, model, ts)
    try:
        report = conf.run(actions, [s["state"] for s in steps])
    finally:
        conf.close()
    return SystemReplay(done, report, dropped)


def schedule_on_system(done: Replay, steps: list[dict], adapter) -> SystemReplay:
    """The transitions the spec ran of a schedule (`done.report`, a ScheduleReport, of the
    trace's `steps`), performed on the system and compared with the spec's states."""
    from .mbt import Generator, Run
    from .replay import ScheduleRunner

    model, ts, cs = compile_spec(done.spec_path, done.constants)
    recorded = steps[0]["state"] if isinstance(steps[0].get("state"), dict) else {}
    first, _ = ScheduleRunner(model, ts, cs, field_kinds(ts)).start_state(recorded)
    ran = [s for s in done.report.steps[1:] if not s.text.startswith("FAILS")]
    by_name = {t.name: t.index for t in ts.transitions}
    gen = Generator(ts, cs)
    tids = [by_name[s.action] for s in ran]
    states = gen.states(Run("schedule", first, tids))
    conf = conformance_for(adapter, model, ts)
    try:
        report = conf.run([action_of(ts.transitions[t]) for t in tids],
                          [state_json(ts.layout, cs.packing.unpack(s)) for s in states])
    finally:
        conf.close()
    for mine, theirs in zip(report.steps[1:], ran):
        mine.notes[:0] = [n for n in theirs.notes if n.startswith("the trace's ")]
    return SystemReplay(done, report)


@dataclass
class SystemTest:
    report: SystemTestReport
    spec_path: str
    spec_name: str
    sha256: str
    constants: dict[str, int]
    trace: dict | None = None       # the shortest failing run as a trace file object
    kinds: dict | None = None       # state property -> (kind, expected)


def run_system_test(spec: str | Path, adapter, constants: dict[str, int] | None = None, *,
                   seed: int = 0, runs: int = 20, max_steps: int = 30) -> SystemTest:
    """Model-based testing (`mbt`): the spec's runs performed on the system through
    `adapter`.  Raises SpecError or AdapterError."""
    model, ts, cs = compile_spec(spec, constants)
    conf = conformance_for(adapter, model, ts)
    tester = SystemTester(ts, cs, conf)
    try:
        report = tester.test(seed, runs, max_steps)
    finally:
        conf.close()
    done = SystemTest(report, str(spec), model.name, model.sha256, model.constant_values(),
                      kinds={p.name: (p.kind, p.expected) for p in ts.state_properties})
    if report.failure is not None:
        done.trace = trace_object(done, tester)
    return done


def trace_object(done: SystemTest, tester: SystemTester) -> dict:
    """The shortest failing run as the trace file `dnsrace replay` reads (its spec path is
    made relative to the file's folder when it is written)."""
    f = done.report.failure
    states = tester.gen.states(f.shortest)
    steps = [{"action": None, "state": tester.json_of(states[0])}]
    for t, s in zip(f.shortest.tids, states[1:]):
        steps.append({"action": tester.ts.transitions[t].name, "state": tester.json_of(s)})
    m = f.shortest_report.mismatch
    return {"version": 1,
            "spec": {"name": done.spec_name, "path": done.spec_path, "sha256": done.sha256},
            "constants": dict(done.constants), "length": len(steps) - 1, "steps": steps,
            "conformance": {"step": m.step, "variable": m.variable, "spec": m.expected,
                            "observed": m.observed}}


__all__ = ["AdapterError", "SystemReplay", "SystemTest", "replay_on_system",
           "run_system_test"]
