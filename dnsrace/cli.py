"""The `dnsrace` command line (click).  Exit statuses follow the contract:
0 passed and complete, 1 some property not as expected, 2 invalid spec or command line,
3 incomplete (a limit was reached), 130 interrupted."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .bounds import CompileTimeout, Deadline
from .diagnostics import Diagnostic, SourceFile, SpecError, render as render_diag
from .engines.bfs import Limits, Progress
from .input_files import MAX_SPEC_BYTES, InputFileError, read_input_bytes
from .ir.layout import ArrayRep
from .report import text as text_report

EXIT_RANK = {0: 0, 3: 1, 1: 2, 2: 3, 130: 4}


def worst(codes: list[int]) -> int:
    return max(codes, key=lambda c: EXIT_RANK.get(c, 5)) if codes else 0


def print_diagnostics(diags: list[Diagnostic]) -> None:
    sources: dict[str, SourceFile | None] = {}
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
        click.echo(render_diag(d, src), err=True)
    errors = sum(1 for d in diags if d.severity == "error")
    if errors:
        click.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)


def parse_consts(items: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = int(value.strip(), 10)
        except ValueError:
            raise SpecError([Diagnostic("DR401", f"--const {item!r} is not NAME=INTEGER", None,
                                        None, "for example --const ENACTORS=3")]) from None
    return out


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
@click.option("--time-limit", type=click.FloatRange(min=0), metavar="SECONDS",
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
          quiet, full, witnesses, no_timing, engine, device) -> None:
    """Check every property of SPEC (a file, or a folder of *.yaml specs)."""
    from .api import check_system, compile_spec

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
            click.echo(f"dnsrace: {exc}", err=True)
            sys.exit(2)
    codes: list[int] = []
    json_out: list[dict] = []
    for path in paths:
        deadline = Deadline(time_limit)   # --time-limit covers loading and compiling too
        try:
            model, ts, cs = compile_spec(path, overrides, deadline)
        except CompileTimeout:
            codes.append(3)
            click.echo(f"{path}: the time limit ran out while compiling; nothing was checked",
                       err=True)
            if fmt == "json":
                json_out.append({"spec": {"path": path}, "complete": False,
                                 "stopped": "time-limit", "properties": []})
            continue
        except SpecError as exc:
            print_diagnostics(exc.diagnostics)
            codes.append(2)
            if fmt == "json":
                json_out.append({"spec": {"path": path}, "errors": [
                    {"code": d.code, "message": d.message,
                     "line": d.pos.line if d.pos else None,
                     "col": d.pos.col if d.pos else None, "hint": d.hint}
                    for d in exc.diagnostics]})
            continue
        if time_limit is not None:   # the search has what compiling left of the time limit
            time_left = deadline.left()
            limits = Limits(max_states, max_depth, time_left, stop_on_first)
        else:
            time_left = None
        try:
            if engine in ("bmc", "kind", "pdr"):
                with _ProgressLine(not quiet, model.name) as progress:
                    result = _check_symbolic(engine, model, ts, cs, max_depth, time_left,
                                             progress.say)
            else:
                search = check_system
                if engine in ("auto", "array", "all"):   # auto and all: array, or bfs silently
                    from functools import partial

                    from .engines.array_bfs import check_system_array
                    search = partial(check_system_array, xp=xp,
                                     note_fallback=engine == "array" or xp is not None)
                with _ProgressLine(not quiet, model.name) as progress:
                    result = search(model, ts, cs, limits, progress)
                if engine == "all":
                    from .api import prove_what_held
                    with _ProgressLine(not quiet, model.name) as progress:
                        result = prove_what_held(model, ts, cs, result, time_left,
                                                 progress.say)
        except SpecError as exc:   # what an engine cannot take (e.g. a symbolic array size)
            print_diagnostics(exc.diagnostics)
            codes.append(2)
            continue
        files = write_traces(result, trace_dir) if trace_dir else {}
        if fmt == "json":
            json_out.append(result.to_json())
        else:
            if codes:
                click.echo("")
            click.echo(text_report.render(result, field_kinds(ts), quiet=quiet, show_full=full,
                                          timing=not no_timing, trace_files=files,
                                          witnesses=witnesses), nl=False)
            if engine == "kind" and not quiet:
                from .symbolic.report import cti_text
                click.echo(cti_text(result, field_kinds(ts), full), nl=False)
            if engine in ("pdr", "all") and not quiet:
                for p in result.properties:
                    if getattr(p, "invariant_text", None):
                        text = p.invariant_text.replace("\n", "\n  ")
                        click.echo(f"\n{p.name}: proved; the inductive invariant Spacer found:"
                                   f"\n  {text}")
        codes.append(result.exit_code)
        if result.stopped == "interrupted":
            break
    if fmt == "json":
        payload = json_out[0] if len(json_out) == 1 and len(paths) == 1 else json_out
        click.echo(text_report.dumps(payload), nl=False)
    sys.exit(worst(codes))


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


def write_traces(result, trace_dir: str) -> dict[str, str]:
    out = {}
    d = Path(trace_dir)
    d.mkdir(parents=True, exist_ok=True)
    for p in result.properties:
        if p.trace is None:
            continue
        f = d / text_report.trace_file_name(result, p)
        f.write_text(text_report.dumps(result.trace_file(p)), encoding="utf-8")
        out[p.name] = str(f)
    return out


@main.command()
@click.argument("trace", type=click.Path(dir_okay=False))
@click.option("--spec", "spec_path", help="The spec to replay on (default: the trace's own).")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE",
              help="Constants (default: the trace's own).")
def replay(trace, spec_path, consts) -> None:
    """Re-execute TRACE on its spec, step by step, and check that it is faithful.

    Exit status: 0 the trace replays faithfully, 1 it diverges (the first step that does
    is named), 2 the trace or spec cannot be read."""
    import json

    from .api import compile_spec
    from .replay import Replayer, TraceFormatError, render, trace_steps

    def fail(message: str, hint: str, pos=None) -> None:
        from .diagnostics import Pos
        print_diagnostics([Diagnostic("DR109", message, trace, Pos(*pos) if pos else None,
                                      hint)])
        sys.exit(2)

    try:
        text = Path(trace).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the trace: {exc}", "check the path")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"the trace is not valid JSON: {exc.msg}", "traces are written by "
             "`dnsrace check --trace-dir`", (exc.lineno, exc.colno))
    try:
        steps = trace_steps(obj)
    except TraceFormatError as exc:
        fail(f"the trace is not in the contract's shape: {exc}",
             "see 'Machine-readable results' in the spec language")
    meta = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if spec_path is None:
        recorded = meta.get("path")
        if not recorded:
            fail("the trace does not name its spec", "give it with --spec SPEC")
        candidates = [Path(recorded), Path(trace).parent / recorded]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            fail(f"the trace's spec {recorded} is not found", "give it with --spec SPEC")
        spec_path = str(found)
    try:
        overrides = parse_consts(consts) if consts else {
            k: v for k, v in (obj.get("constants") or {}).items() if isinstance(v, int)}
        model, ts, cs = compile_spec(spec_path, overrides)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    if meta.get("sha256") and meta["sha256"] != model.sha256:
        click.echo(f"warning: {spec_path} has changed since this trace was written (its "
                   "sha256 differs); replaying anyway", err=True)
    report = Replayer(model, ts, cs, field_kinds(ts)).replay(steps)
    consts_text = ", ".join(f"{k}={v}" for k, v in model.constant_values().items())
    header = f"replay of {trace} on {spec_path}" + (f" ({consts_text})" if consts_text else "")
    click.echo(render(report, header), nl=False)
    sys.exit(0 if report.faithful else 1)


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
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    warnings = list(model.warnings) + run_lint(model)
    if warnings:
        print_diagnostics(warnings)
        click.echo(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}", err=True)
        sys.exit(1)
    click.echo(f"{spec}: no problems found")


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
    click.echo(generate(ts).source if emit == "python" else dump(ts))


def run() -> None:
    """The console script: Ctrl-C before a search starts still exits 130, quietly."""
    try:
        main()
    except KeyboardInterrupt:
        click.echo("dnsrace: interrupted before the search started", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    run()
