"""The `dnsrace` command line (click).  Exit statuses follow the contract:
0 passed and complete, 1 some property not as expected, 2 invalid spec or command line,
3 incomplete (a limit was reached), 130 interrupted (SIGINT), 143 terminated (SIGTERM);
and for the output itself, 141 its reader closed it (broken pipe), 74 it could not be written
(a full disk)."""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import click

from . import __version__, interrupts
from .bounds import CompileTimeout, Deadline
from .diagnostics import Diagnostic, SourceFile, SpecError, render as render_diag
from .engines.bfs import Limits, Progress
from .input_files import MAX_SPEC_BYTES, InputFileError, read_input_bytes
from .ir.layout import ArrayRep
from .report import text as text_report
from .terminal import OutputError, echo, fail_output, finish, output_error, protect_streams

EXIT_RANK = {0: 0, 3: 1, 1: 2, 2: 3, 130: 4, 143: 4}


def worst(codes: list[int]) -> int:
    return max(codes, key=lambda c: EXIT_RANK.get(c, 5)) if codes else 0


def print_diagnostics(diags: list[Diagnostic],
                      sources: dict[str, SourceFile | None] | None = None) -> None:
    """Print diagnostics, quoting the lines they point at; `sources` gives files already
    read (None: do not quote that file), the others are read again, as specs."""
    sources = dict(sources or {})
    for d in diags:
        src = None
        if d.path is not None:
            if d.path not in sources:
                try:
                    text = read_input_bytes(d.path, "spec", MAX_SPEC_BYTES).decode("utf-8")
                    sources[d.path] = SourceFile(d.path, text)
                except (InputFileError, UnicodeDecodeError):
                    sources[d.path] = None
            src = sources[d.path]
        echo(render_diag(d, src), err=True)
    errors = sum(1 for d in diags if d.severity == "error")
    if errors:
        echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)


_CONST = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([+-]?[0-9]{1,19})\s*", re.ASCII)


def parse_consts(items: tuple[str, ...]) -> dict[str, int]:
    """`--const NAME=VALUE` items: ASCII decimal integers that fit in 64 bits, each name once."""
    out: dict[str, int] = {}
    for item in items:
        m = _CONST.fullmatch(item)
        value = int(m.group(2)) if m else None
        if value is None or not -2**63 <= value < 2**63:
            raise SpecError([Diagnostic("DR401", f"--const {item!r} is not NAME=INTEGER (a "
                                        "decimal integer of at most 19 digits)", None, None,
                                        "for example --const ENACTORS=3")])
        if m.group(1) in out:
            raise SpecError([Diagnostic("DR401", f"--const {m.group(1)} is given twice "
                                        f"({out[m.group(1)]} and {value})", None, None,
                                        "give each constant once")])
        out[m.group(1)] = value
    return out


class Seconds(click.ParamType):
    """A finite, non-negative number of seconds (no nan, no inf)."""

    name = "seconds"

    def convert(self, value, param, ctx):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not math.isfinite(seconds) or seconds < 0:
            self.fail(f"{value!r} is not a number of seconds (a finite number >= 0)", param,
                      ctx)
        return seconds


def spec_paths(args: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            found = sorted(str(x) for x in p.glob("*.yaml"))
            if not found:
                raise SpecError([Diagnostic("DR109", f"folder {a} holds no *.yaml spec", a, None,
                                            "point at a spec file or a folder of specs")])
            out += found
        elif p.exists():
            out.append(a)
        else:
            raise SpecError([Diagnostic("DR109", f"no such file or folder: {a}", a, None,
                                        "check the path")])
    return out


def field_kinds(ts) -> dict[str, str]:
    kinds = {}
    for f in ts.fields:
        is_array = isinstance(f.reps[0], ArrayRep)
        if f.per_instance:
            kinds[f.key] = "instances-array" if is_array else "instances"
        else:
            kinds[f.key] = "array" if is_array else "value"
    return kinds


class _ProgressLine:
    """A live line on stderr while a search runs (only on a terminal)."""

    def __init__(self, enabled: bool, label: str):
        self.live = None
        if enabled:
            from rich.console import Console
            from rich.live import Live
            console = Console(stderr=True)
            if console.is_terminal:
                self.live = Live("", console=console, transient=True, refresh_per_second=4)
                self.label = label

    def __enter__(self):
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)

    def say(self, text: str) -> None:
        """Free text from an engine without state counts (the Z3 ones)."""
        if self.live is None:
            return
        import time
        self.start = getattr(self, "start", None) or time.monotonic()
        self.live.update(f"{self.label}: {text}, {time.monotonic() - self.start:.0f} s")

    def __call__(self, p: Progress) -> None:
        if self.live is None:
            return
        rate = p.states / p.seconds if p.seconds > 0 else 0
        self.live.update(f"{self.label}: {p.states:,} states, {rate:,.0f} states/s, depth "
                         f"{p.depth}, queue {p.queue:,}, {p.seconds:.0f} s")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dnsrace")
def main() -> None:
    """dnsrace: find the interleavings that break control-plane automation."""


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE",
              help="Override a constant (repeatable).")
@click.option("--max-states", type=click.IntRange(min=1), help="Stop after this many states.")
@click.option("--max-depth", type=click.IntRange(min=0), help="Do not expand states this deep.")
@click.option("--time-limit", type=Seconds(), metavar="SECONDS",
              help="Stop after this long.")
@click.option("--stop-on-first", is_flag=True, help="Stop at the first unexpected outcome.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--trace-dir", type=click.Path(file_okay=False), help="Write one trace file per "
              "counterexample or witness here.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary and what went wrong.")
@click.option("--full", is_flag=True, help="Show whole states in traces, not just changes.")
@click.option("--witnesses", is_flag=True, help="Also show the witness of each reachable "
              "property (counterexamples are always shown).")
@click.option("--no-timing", is_flag=True, help="Leave out seconds and states/s (for diffs).")
@click.option("--coverage", "show_coverage", is_flag=True, help="Show how often each step, "
              "alternative and action was enabled, and how many states it found first.")
@click.option("--engine",
              type=click.Choice(["auto", "bfs", "array", "bmc", "kind", "pdr", "all"]),
              default="auto", show_default=True, help="auto: array when the spec fits it, "
              "else bfs; bfs: explicit search, state by state; "
              "array: explicit search on whole frontiers (numpy); bmc: Z3 bounded model "
              "checking to --max-depth (default 20); kind: Z3 k-induction up to k = "
              "--max-depth; pdr: IC3/PDR proofs with Z3's Spacer, printing the invariant, for "
              "every value of the symbolic constants; all: the explicit search (as auto), then "
              "pdr on what held.")
@click.option("--device", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True,
              help="Where the array engine runs: numpy on the CPU, or CuPy on an NVIDIA GPU "
              "(pip install 'dnsrace[gpu]').")
def check(specs, consts, max_states, max_depth, time_limit, stop_on_first, fmt, trace_dir,
          quiet, full, witnesses, no_timing, engine, device, show_coverage) -> None:
    """Check every property of SPEC (a file, or a folder of *.yaml specs)."""
    from .api import compile_spec

    try:
        overrides = parse_consts(consts)
        paths = spec_paths(specs)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    limits = Limits(max_states, max_depth, time_limit, stop_on_first)
    xp = None
    if device == "gpu":
        from .engines.device import DeviceUnavailable, array_module
        try:
            if engine not in ("auto", "array"):
                raise DeviceUnavailable(f"--device gpu runs the array engine, not {engine}: "
                                        "use --engine array")
            xp = array_module("gpu")
        except DeviceUnavailable as exc:
            echo(f"dnsrace: {exc}", err=True)
            sys.exit(2)
    if trace_dir:
        prepare_trace_dir(trace_dir)
    codes: list[int] = []
    json_out: list[dict] = []
    for path in paths:
        phase = "compiling"
        deadline = Deadline(time_limit)   # --time-limit covers loading and compiling too
        try:
            model, ts, cs = compile_spec(path, overrides, deadline)
            phase = "checking"
            if time_limit is not None:   # the search has what compiling left of the limit
                limits = replace(limits, time_limit=deadline.left())
            result = _run_engine(engine, model, ts, cs, limits, xp, quiet)
        except CompileTimeout:
            codes.append(3)
            echo(f"{path}: the time limit ran out while compiling; nothing was checked",
                 err=True)
            if fmt == "json":
                json_out.append({"spec": {"path": path}, "complete": False,
                                 "stopped": "time-limit", "properties": []})
            continue
        except SpecError as exc:   # the spec, or what an engine cannot take
            print_diagnostics(exc.diagnostics)
            codes.append(2)
            if fmt == "json":
                json_out.append({"spec": {"path": path}, "errors": [
                    {"code": d.code, "message": d.message,
                     "line": d.pos.line if d.pos else None,
                     "col": d.pos.col if d.pos else None, "hint": d.hint}
                    for d in exc.diagnostics]})
            continue
        except KeyboardInterrupt:
            echo(f"dnsrace: {path}: {interrupts.signal_name()} while {phase}; nothing of it "
                 "was checked", err=True)
            codes.append(interrupts.exit_status())
            break
        files = write_traces(result, trace_dir) if trace_dir else {}
        if fmt == "json":
            json_out.append(result.to_json())
        else:
            if codes:
                echo("")
            echo(text_report.render(result, field_kinds(ts), quiet=quiet, show_full=full,
                                    timing=not no_timing, trace_files=files,
                                    witnesses=witnesses, coverage=show_coverage), nl=False)
            if engine == "kind" and not quiet:
                from .symbolic.report import cti_text
                echo(cti_text(result, field_kinds(ts), full), nl=False)
            if engine in ("pdr", "all") and not quiet:
                for p in result.properties:
                    if getattr(p, "invariant_text", None):
                        text = p.invariant_text.replace("\n", "\n  ")
                        echo(f"\n{p.name}: proved; the inductive invariant Spacer found:"
                             f"\n  {text}")
        if result.stopped == "interrupted":
            codes.append(interrupts.exit_status())
            break
        codes.append(result.exit_code)
    if fmt == "json":
        payload = json_out[0] if len(json_out) == 1 and len(paths) == 1 else json_out
        echo(text_report.dumps(payload), nl=False)
    sys.exit(worst(codes))


def _run_engine(engine, model, ts, cs, limits, xp, quiet):
    from .api import check_system
    if engine in ("bmc", "kind", "pdr"):
        with _ProgressLine(not quiet, model.name) as progress:
            return _check_symbolic(engine, model, ts, cs, limits.max_depth, limits.time_limit,
                                   progress.say)
    search = check_system
    if engine in ("auto", "array", "all"):   # auto and all: array, or bfs silently
        from functools import partial

        from .engines.array_bfs import check_system_array
        search = partial(check_system_array, xp=xp,
                         note_fallback=engine == "array" or xp is not None)
    with _ProgressLine(not quiet, model.name) as progress:
        result = search(model, ts, cs, limits, progress)
    if engine == "all" and result.stopped != "interrupted":
        from .api import prove_what_held
        with _ProgressLine(not quiet, model.name) as progress:
            result = prove_what_held(model, ts, cs, result, limits.time_limit, progress.say)
    return result


# ---- the Z3 engines (dnsrace.symbolic), chosen with `check --engine bmc|kind`
def _check_symbolic(engine, model, ts, cs, max_depth, time_limit, progress=None):
    from .symbolic import check_bmc, check_kind, check_pdr
    depth = 20 if max_depth is None else max_depth
    if engine == "bmc":
        return check_bmc(model, depth, time_limit, ts=ts, cs=cs, progress=progress)
    if engine == "pdr":
        return check_pdr(model, time_limit, ts=ts, cs=cs, progress=progress)
    return check_kind(model, depth, time_limit, ts=ts, cs=cs, progress=progress)
# ---- end of the Z3 engines


def prepare_trace_dir(trace_dir: str) -> None:
    """Create the `--trace-dir` folder before any search, or end with exit 2 saying why."""
    try:
        Path(trace_dir).mkdir(parents=True, exist_ok=True)
    except (OSError, RecursionError) as exc:   # RecursionError: thousands of missing parents
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            "too many folders to create" if isinstance(exc, RecursionError) else str(exc)
        print_diagnostics([Diagnostic("DR402", f"--trace-dir {trace_dir}: cannot create the "
                                      f"folder ({why})", None, None,
                                      "give a folder dnsrace may create or write in")])
        sys.exit(2)


def write_traces(result, trace_dir: str) -> dict[str, str]:
    out = {}
    for p in result.properties:
        if p.trace is None:
            continue
        f = Path(trace_dir) / text_report.trace_file_name(result, p)
        obj = result.trace_file(p)
        obj["spec"]["path"] = spec_path_from(Path(trace_dir), obj["spec"]["path"])
        try:
            f.write_text(text_report.dumps(obj), encoding="utf-8", errors="backslashreplace")
        except OSError as exc:
            raise output_error(exc, f"the trace file {f}") from None
        out[p.name] = str(f)
    return out


def spec_path_from(trace_dir: Path, spec_path: str) -> str:
    """The spec's path relative to the trace's folder, as `dnsrace replay` reads it (a
    trace names its spec by a relative path only)."""
    try:
        return Path(os.path.relpath(spec_path, trace_dir)).as_posix()
    except ValueError:   # another drive
        return spec_path


@main.command()
@click.argument("trace", type=click.Path(dir_okay=False))
@click.option("--spec", "spec_path", help="The spec to replay on (default: the trace's own).")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE",
              help="Constants (default: the trace's own).")
@click.option("--schedule", is_flag=True,
              help="Run only the trace's sequence of transitions on the spec (usually another "
                   "design, given with --spec), from the spec's own initial state.")
def replay(trace, spec_path, consts, schedule) -> None:
    """Re-execute TRACE on its spec, step by step, and check that it is faithful.

    With --schedule, run the trace's transitions, by name, on the spec from its own initial
    state, ignoring the recorded states: the schedule stops where the spec refuses a step
    (its guard and the values that refused it are named) or runs through; the properties
    that fail on the way are listed.

    Exit status: 0 the trace replays faithfully; 1 it diverges (the first step that does
    is named); 2 the trace or spec cannot be read.  With --schedule: 0 no property fails on
    the steps that ran (the spec refused a step, or ran them all); 1 a property fails, or the
    spec has no transition of a name the schedule uses; 2 as above."""
    from .api import compile_spec
    from .replay import STATE_HINT, Replayer, render
    from .trace_file import TraceError, read_trace, spec_of

    tf = None
    try:
        tf = read_trace(trace)
        if spec_path is None:
            spec_path = spec_of(tf)
    except TraceError as exc:
        fail_trace(trace, tf, exc)
    try:
        overrides = parse_consts(consts) if consts else dict(tf.constants)
        if schedule and not consts:
            overrides = shared_constants(spec_path, overrides)
        model, ts, cs = compile_spec(spec_path, overrides)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    if schedule:
        replay_schedule(trace, tf, spec_path, model, ts, cs)
    hint = STATE_HINT
    if tf.spec.get("sha256") and tf.spec["sha256"] != model.sha256:
        echo(f"warning: {spec_path} has changed since this trace was written (its "
             "sha256 differs); replaying anyway", err=True)
        hint = ("the spec has changed since this trace was written (its sha256 differs): "
                "replay the trace on the version it was written for")
    try:
        report = Replayer(model, ts, cs, field_kinds(ts)).replay(tf.steps, hint, tf.loop_start)
    except TraceError as exc:
        fail_trace(trace, tf, exc)
    consts_text = ", ".join(f"{k}={v}" for k, v in model.constant_values().items())
    header = f"replay of {trace} on {spec_path}" + (f" ({consts_text})" if consts_text else "")
    echo(render(report, header), nl=False)
    sys.exit(0 if report.faithful else 1)


def shared_constants(spec_path: str, trace_constants: dict) -> dict:
    """The trace's constants that the spec (another design, perhaps) declares too."""
    from .frontend.build import load_model

    declared = load_model(spec_path, {}).constant_values()
    return {k: v for k, v in trace_constants.items() if k in declared}


def replay_schedule(trace: str, tf, spec_path: str, model, ts, cs) -> None:
    """`replay --schedule`: run the trace's transitions on the spec; exit 0 when no property
    fails on the steps that ran, else 1."""
    from .replay import ScheduleRunner, render_schedule
    from .trace_file import TraceError

    try:
        report = ScheduleRunner(model, ts, cs, field_kinds(ts)).run(tf.steps)
    except TraceError as exc:
        fail_trace(trace, tf, exc)
    consts_text = ", ".join(f"{k}={v}" for k, v in model.constant_values().items())
    header = f"schedule of {trace} on {spec_path}" + (f" ({consts_text})" if consts_text
                                                       else "")
    echo(render_schedule(report, header), nl=False)
    sys.exit(0 if report.harmless else 1)


def fail_trace(path: str, trace, exc) -> None:
    """Print a trace file's problem (a TraceError), positioned in its text, and exit 2."""
    from .trace_file import diagnostic

    diag, source = diagnostic(path, trace.text if trace else exc.text, exc)
    print_diagnostics([diag], {path: source})
    sys.exit(2)


@main.command()
@click.argument("spec")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE")
def lint(spec, consts) -> None:
    """Check SPEC without exploring it, and warn where it is legal but likely wrong.

    Exit status: 0 clean, 1 warnings, 2 errors."""
    from .frontend.build import load_model
    from .lint import lint as run_lint

    try:
        model = load_model(spec, parse_consts(consts))
        warnings = list(model.warnings) + run_lint(model)   # lowers it: DR5xx are errors
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    if warnings:
        print_diagnostics(warnings)
        echo(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}", err=True)
        sys.exit(1)
    echo(f"{spec}: no problems found")


@main.command(name="compile")
@click.argument("spec")
@click.option("--emit", type=click.Choice(["python", "ir"]), default="python", show_default=True)
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE")
def compile_cmd(spec, emit, consts) -> None:
    """Show what SPEC compiles to: the generated Python, or the transition IR."""
    from .backends.python_codegen import generate
    from .frontend.build import load_model
    from .ir.dump import dump
    from .ir.lower import lower

    try:
        ts = lower(load_model(spec, parse_consts(consts)))
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    echo(generate(ts).source if emit == "python" else dump(ts))


def run() -> None:
    """The console script.  Signals, a closed pipe and a full disk end it with their own exit
    statuses and a line on stderr, in every phase, never with a traceback."""
    protect_streams()
    interrupts.install()
    try:
        status = main.main(standalone_mode=False)
        status = status if isinstance(status, int) else 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (KeyboardInterrupt, click.Abort):
        echo_safely(f"dnsrace: {interrupts.signal_name()}; stopped")
        status = interrupts.exit_status()
    except click.UsageError as exc:   # a bad option or argument: a diagnostic like the others
        command = exc.ctx.command_path if exc.ctx is not None else "dnsrace"
        try:
            print_diagnostics([Diagnostic("DR401", exc.format_message(), None, None,
                                          f"see `{command} --help`")])
        except OutputError:
            pass
        status = exc.exit_code
    except click.ClickException as exc:
        try:
            exc.show()
        except OSError:
            pass
        status = exc.exit_code
    except OutputError as exc:
        status = fail_output(exc)
    except OSError as exc:   # click's own writes (--help, usage errors)
        status = fail_output(output_error(exc, "the output"))
    status = finish(status)
    if interrupts.received():
        interrupts.exit_now(status)
    sys.exit(status)


def echo_safely(message: str) -> None:
    try:
        echo(message, err=True)
    except OutputError:
        pass


if __name__ == "__main__":  # pragma: no cover
    run()
