"""The command line's part for real systems: `replay --adapter` and `dnsrace test`.

Exit statuses: 0 the system agrees with the spec (or the trace) on every step; 1 a
conformance failure (the step, the variable, the spec's value and the observed one), or a
trace that is not a run of its spec; 2 a bad command line, spec, trace or adapter, or an
adapter that raised (DR8xx, one line, never a traceback)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from . import conformance
from .adapters import AdapterError, load_adapter
from .diagnostics import SpecError
from .report.text import fit_file_name
from .terminal import echo, write_file


def _fail(exc: AdapterError | SpecError) -> None:
    from .cli import print_diagnostics

    print_diagnostics([exc.diagnostic()] if isinstance(exc, AdapterError) else exc.diagnostics)
    sys.exit(2)


def _adapter(text: str):
    try:
        return load_adapter(text)
    except AdapterError as exc:
        _fail(exc)


def replay_with_adapter(trace: str, adapter_text: str, spec_path, consts, prop,
                        schedule: bool = False) -> None:
    from .cli import fail_trace
    from .on_system import replay_on_system
    from .replay import render, render_schedule
    from .trace_file import TraceError

    adapter = _adapter(adapter_text)
    try:
        done = replay_on_system(trace, adapter, spec_path, consts, prop=prop,
                                schedule=schedule)
    except TraceError as exc:
        fail_trace(trace, None, exc)
    except (SpecError, AdapterError) as exc:
        _fail(exc)
    consts_text = ", ".join(f"{k}={v}" for k, v in done.model.constants.items())
    where = f"{done.model.spec_path}" + (f" ({consts_text})" if consts_text else "")
    if schedule:
        header = f"schedule of {trace} on {where} through {adapter_text}"
        echo(conformance.render(done.system, header), nl=False)
        verdict = render_schedule(replace(done.model.report, steps=[]), "")
        echo(verdict.lstrip("\n"), nl=False)
        sys.exit(0 if done.model.ok and done.system.agrees else 1)
    if not done.model.ok:
        echo(render(done.model.report, f"replay of {trace} on {where}"), nl=False)
        echo("the trace is not a run of its spec: it was not performed on the system")
        sys.exit(1)
    header = f"replay of {trace} on {where} through {adapter_text}"
    echo(conformance.render(done.system, header, "the trace"), nl=False)
    if done.dropped_last:
        echo("note: the trace's last step fails in the spec; it was not performed")
    sys.exit(0 if done.ok else 1)


def run_test(spec: str, adapter_text: str, overrides: dict, seed: int, runs: int,
             max_steps: int, output: str | None, trace_dir: str | None, fmt: str) -> None:
    from .cli import prepare_output, prepare_trace_dir, spec_path_from
    from .mbt_report import render_text, to_json
    from .on_system import run_system_test
    from .report.text import dumps

    if output:
        prepare_output(output)
    if trace_dir:
        prepare_trace_dir(trace_dir)
    adapter = _adapter(adapter_text)
    try:
        done = run_system_test(spec, adapter, overrides, seed=seed, runs=runs,
                              max_steps=max_steps)
    except (SpecError, AdapterError) as exc:
        _fail(exc)
    path = None
    if done.trace is not None and (output or trace_dir):
        path = output or str(Path(trace_dir) / fit_file_name(done.spec_name,
                                                               ".conformance.json"))
        obj = dict(done.trace, spec=dict(done.trace["spec"]))
        obj["spec"]["path"] = spec_path_from(Path(path).parent, done.spec_path)
        write_file(path, dumps(obj), f"the trace file {path}")
    if fmt == "json":
        echo(dumps(to_json(done, adapter_text, seed, path)), nl=False)
    else:
        echo(render_text(done, adapter_text, seed, path), nl=False)
    sys.exit(0 if done.report.passed else 1)
