"""The `dnsrace` command line (click).  Exit statuses follow the contract:
0 passed and complete, 1 some property not as expected, 2 invalid spec or command line,
3 incomplete (a limit was reached), 130 interrupted (SIGINT), 143 terminated (SIGTERM);
and for the output itself, 141 its reader closed it (broken pipe), 74 it could not be written
(a full disk)."""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import click

from . import __version__, interrupts
from .bounds import MAX_WORKERS, CompileTimeout, Deadline
from .diagnostics import Diagnostic, SourceFile, SpecError
from .engines.limits import Limits, Progress
from .input_files import MAX_SPEC_BYTES, InputFileError, read_input_bytes
from .report import text as text_report
from .results import SpecFailure
from .terminal import (OutputError, echo, fail_output, finish, output_error, protect_streams,
                       write_file)

EXIT_RANK = {0: 0, 3: 1, 1: 2, 2: 3, 130: 4, 143: 4}


def worst(codes: list[int]) -> int:
    return max(codes, key=lambda c: EXIT_RANK.get(c, 5)) if codes else 0


def print_diagnostics(diags: list[Diagnostic],
                      sources: dict[str, SourceFile | None] | None = None) -> None:
    """Print diagnostics on stderr, quoting the lines they point at (see
    `report.text.diagnostics_text`)."""
    echo(text_report.diagnostics_text(diags, sources), err=True, nl=False)


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


class Workers(click.ParamType):
    """A number of worker processes (>= 1), or auto."""

    name = "workers"

    def convert(self, value, param, ctx):
        if value == "auto" or isinstance(value, int):
            return value
        try:
            n = int(value)
        except (TypeError, ValueError):
            n = 0
        if n < 1:
            self.fail(f"{value!r} is not a number of workers (1 or more) or auto", param, ctx)
        if n > MAX_WORKERS:
            self.fail(f"{n:,} workers are more than the {MAX_WORKERS:,} one search can have",
                      param, ctx)
        return n


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


SPEC_SUFFIXES = (".yaml", ".yml")


def spec_paths(args: tuple[str, ...]) -> list[str]:
    """The spec files named: a file as given; a folder, every *.yaml and *.yml under it,
    recursively, in sorted order."""
    out: list[str] = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            found = sorted((x for x in p.rglob("*") if x.suffix in SPEC_SUFFIXES
                            and x.is_file()), key=lambda x: x.as_posix())
            if not found:
                raise SpecError([Diagnostic("DR109", f"folder {a} holds no *.yaml or *.yml "
                                            "spec, at any depth", a, None,
                                            "point at a spec file or a folder of specs")])
            out += [str(x) for x in found]
        elif p.exists():
            out.append(a)
        else:
            raise SpecError([Diagnostic("DR109", f"no such file or folder: {a}", a, None,
                                        "check the path")])
    return out


def field_kinds(ts) -> dict[str, str]:
    from .report.spec_map import field_kinds as kinds
    return kinds(ts)


PROGRESS_EVERY = 5.0   # seconds between progress lines when stderr is not a terminal


class _ProgressLine:
    """Progress on stderr while a check runs: a live line on a terminal; elsewhere (a CI
    log) a plain line every PROGRESS_EVERY seconds, so a long run is never silent."""

    def __init__(self, label: str, live: bool = True):
        import time
        self.live, self.label, self.clock = None, label, time.monotonic
        self.start = self.last = self.clock()
        from rich.console import Console
        console = Console(stderr=True)
        self.terminal = console.is_terminal
        if self.terminal and live:
            from rich.live import Live
            self.live = Live("", console=console, transient=True, refresh_per_second=4)

    def __enter__(self):
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)

    def __call__(self, p: Progress) -> None:
        if p.note is not None:
            text = f"{self.label}: {p.note}, {p.seconds:.0f} s"
        else:
            rate = p.states / p.seconds if p.seconds > 0 else 0
            text = (f"{self.label}: {p.states:,} states, {rate:,.0f} states/s, depth "
                    f"{p.depth}, queue {p.queue:,}, {p.seconds:.0f} s")
        if self.live is not None:
            self.live.update(text)
        elif not self.terminal:
            now = self.clock()
            if now - self.last >= PROGRESS_EVERY:
                self.last = now
                echo(f"progress: {text}", err=True)


EXIT_STATUSES = """\b
Exit statuses:
  0    every property as expected, every search complete
  1    some property not as expected (a counterexample, or a missing witness)
  2    an invalid spec, trace or command line (each problem named with file:line:col)
  3    incomplete: a limit was reached (or an engine could not decide) and nothing failed
  130  interrupted (SIGINT, Ctrl-C): the summary so far is printed
  143  terminated (SIGTERM, a CI time-out): the summary so far is printed
  141  the output's reader went away (a closed pipe); 74 the output could not be written
With several specs, the worst status wins (130/143 over 2 over 1 over 3 over 0)."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXIT_STATUSES)
@click.version_option(__version__, prog_name="dnsrace")
def main() -> None:
    """dnsrace: find the interleavings that break control-plane automation."""


def _engine_help() -> str:
    from .engines.registry import ENGINES
    return "; ".join(f"{e.name}: {e.summary}" for e in ENGINES.values()) + "."


def _format_help() -> str:
    from .report.formats import FORMATS
    return "; ".join(f"{name}: {what}" for name, (_, what) in FORMATS.items()) + "."


def _format_names() -> list[str]:
    from .report.formats import FORMATS
    return list(FORMATS)


def parse_outputs(items: tuple[str, ...]) -> list[tuple[str, str]]:
    """`--output FORMAT=PATH` items, in order; `-` is standard output."""
    names = _format_names()
    out = []
    for item in items:
        fmt, sep, path = item.partition("=")
        if not sep or fmt not in names or not path:
            raise SpecError([Diagnostic(
                "DR401", f"--output {item!r} is not FORMAT=PATH with FORMAT one of "
                + ", ".join(names), None, None, "for example --output sarif=dnsrace.sarif")])
        out.append((fmt, path))
    return out


@main.command(epilog=EXIT_STATUSES)
@click.argument("specs", nargs=-1, required=True)
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE",
              help="Override a constant (repeatable).")
@click.option("--max-states", type=click.IntRange(min=1), help="Stop after this many states.")
@click.option("--max-depth", type=click.IntRange(min=0), help="Do not expand states this deep.")
@click.option("--time-limit", type=Seconds(), metavar="SECONDS",
              help="Stop after this long.")
@click.option("--stop-on-first", is_flag=True, help="Stop at the first unexpected outcome.")
@click.option("--format", "fmt", type=click.Choice(_format_names()), default="text",
              show_default=True, help="What to print on standard output: "
              + _format_help())
@click.option("--output", "outputs", multiple=True, metavar="FORMAT=PATH",
              help="Also write the report in FORMAT to PATH (repeatable; PATH - is standard "
              "output), e.g. --output junit=report.xml --output sarif=dnsrace.sarif.")
@click.option("--trace-dir", type=click.Path(file_okay=False), help="Write one trace file per "
              "counterexample or witness here.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary and what went wrong: "
              "every counterexample and every reason for an unknown is kept.")
@click.option("--full", is_flag=True, help="Show whole states in traces, not just changes.")
@click.option("--witnesses", is_flag=True, help="Also show the witness of each reachable "
              "property (counterexamples are always shown).")
@click.option("--no-timing", is_flag=True, help="Leave out seconds and states/s (for diffs).")
@click.option("--coverage", "show_coverage", is_flag=True, help="Show how often each step, "
              "alternative and action was enabled, and how many states it found first.")
@click.option("--engine", type=click.Choice(
    ["auto", "bfs", "array", "bmc", "kind", "pdr", "all"]), default="auto", show_default=True,
    help=_engine_help())
@click.option("--device", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True,
              help="Where the array engine runs: numpy on the CPU, or CuPy on an NVIDIA GPU "
              "(pip install 'dnsrace[gpu]').")
@click.option("--symmetry", type=click.Choice(["on", "off"]), default="on", show_default=True,
              help="Store one state per orbit of the scalarsets' permutations (the explicit "
              "engines), or explore every state.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Reuse the result of a spec whose text, constants, engine, limits and "
              "dnsrace version are unchanged (kept in DIR).")
@click.option("--lemmas", is_flag=True, help="kind, pdr: treat every invariant as a lemma "
              "(proved together with each property, and assumed while proving it), not only "
              "those marked `lemma: true`.")
@click.option("--proof-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="pdr, all: keep each proved property's inductive invariant in DIR; the "
              "next run checks it again against the spec (a second) before searching.")
@click.option("--workers", type=Workers(), metavar="N|auto", help="Spread the array engine's "
              "search over N processes; auto: over every usable CPU once a level is wide "
              "(default 1; see docs/SCALING.md).")
@click.option("--cluster", metavar="ADDRESS", help="Spread it over the actors of a Ray "
              "cluster: local, or ray://HOST:PORT (pip install 'dnsrace[ray]').")
@click.option("--checkpoint", "checkpoint_dir", type=click.Path(file_okay=False),
              metavar="DIR", help="Write a checkpoint to DIR after a level, every "
              "--checkpoint-every seconds.")
@click.option("--checkpoint-every", type=Seconds(), default=300.0, show_default=True,
              metavar="SECONDS", help="How often to write a checkpoint.")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Continue the run whose checkpoint is in DIR (and checkpoint there).")
def check(specs, consts, max_states, max_depth, time_limit, stop_on_first, fmt, outputs,
          trace_dir, quiet, full, witnesses, no_timing, engine, device, show_coverage,
          symmetry, cache_dir, lemmas, proof_dir, workers, cluster, checkpoint_dir,
          checkpoint_every, resume_dir) -> None:
    """Check every property of SPECS (files, or folders: every *.yaml and *.yml in them,
    recursively)."""
    from .report.formats import ReportOptions

    try:
        overrides = parse_consts(consts)
        paths = spec_paths(specs)
        writes = parse_outputs(outputs)
        from .api import engine_and_device
        chosen, xp = engine_and_device(engine, device)
        scale = scale_options(workers, cluster, checkpoint_dir, checkpoint_every,
                              resume_dir, chosen.name, len(paths), device)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    limits = Limits(max_states, max_depth, time_limit, stop_on_first, symmetry == "on")
    from .engines.registry import ProofOptions
    proof = ProofOptions(lemmas, proof_dir)
    if trace_dir:
        prepare_trace_dir(trace_dir)
    if proof_dir:
        prepare_trace_dir(proof_dir, "--proof-dir")
    for _, path in writes:
        prepare_output(path)
    cache = open_cache(cache_dir) if cache_dir else None
    options = ReportOptions(quiet=quiet, full=full, timing=not no_timing,
                            witnesses=witnesses, coverage=show_coverage)
    outcomes, codes = [], []
    for path in paths:
        outcome = check_one(path, overrides, chosen, xp, limits, quiet, cache, proof,
                            scale=scale)
        if outcome is None:   # a signal while compiling: nothing of this spec was checked
            codes.append(interrupts.exit_status())
            break
        outcomes.append(outcome)
        if trace_dir and not isinstance(outcome, SpecFailure):
            options.trace_files[path] = write_traces(outcome, trace_dir)
        if isinstance(outcome, SpecFailure) and outcome.diagnostics:
            print_diagnostics(outcome.diagnostics)
        elif isinstance(outcome, SpecFailure):
            echo(f"{path}: {outcome.reason}", err=True)
        elif fmt == "text":
            if len(outcomes) > 1:
                echo("")
            echo(text_report.render_outcome(outcome, options), nl=False)
        if getattr(outcome, "stopped", None) == "interrupted":
            codes.append(interrupts.exit_status())
            break
        codes.append(outcome.exit_code)
    write_reports(fmt, writes, outcomes, options)
    sys.exit(worst(codes))


def scale_options(workers, cluster, checkpoint, every, resume, engine: str, specs: int,
                  device: str = "cpu"):
    """The `engines.partitioned.ScaleOptions` of `check`, validated (SpecError), or None."""
    if workers is None and not (cluster or checkpoint or resume):
        return None
    from .engines.partitioned import ScaleOptions
    auto = workers == "auto"
    scale = ScaleOptions(None if auto else workers, cluster, checkpoint, every, resume,
                         auto=auto)
    if (checkpoint or resume) and specs > 1:
        raise SpecError([Diagnostic("DR906", "--checkpoint and --resume take one spec", None,
                                    None, "check the specs one by one")])
    if scale.partitioned and device != "cpu":
        raise SpecError([Diagnostic("DR906", "--workers, --cluster, --checkpoint and --resume "
                                    "run the search on CPUs, not with --device gpu", None,
                                    None, "leave out --device gpu")])
    scale.validate(engine)
    return scale


def check_one(path, overrides, chosen, xp, limits, quiet, cache, proof=None, *,
              scale=None):
    """Check one spec: its result, a SpecFailure, or None when a signal came while it was
    being compiled (a line on stderr says so)."""
    from .api import compile_spec, run_engine

    phase = "compiling"
    deadline = Deadline(limits.time_limit)   # --time-limit covers loading and compiling too
    try:
        key, spec_bytes = cache_key(cache, path, overrides, chosen.name
                                    + ("+lemmas" if proof and proof.all_lemmas else ""),
                                    limits, xp)
        if key is not None:
            hit = cache.get(key, path)
            if hit is not None:
                return hit
        model, ts, cs = compile_spec(path, overrides, deadline)
        phase = "checking"
        searched = limits
        if limits.time_limit is not None:   # the search has what compiling left of the limit
            searched = replace(limits, time_limit=deadline.left())
        with _ProgressLine(model.name, live=not quiet) as progress:
            result = run_engine(chosen, model, ts, cs, searched, progress, xp, proof,
                                    scale=scale)
        if getattr(result, "owners", None) and not quiet and scale.partitioned:
            echo(owners_line(result.owners), err=True)
    except CompileTimeout:
        return SpecFailure(path, [], "time-limit")
    except SpecError as exc:   # the spec, or what an engine cannot take
        return SpecFailure(path, exc.diagnostics)
    except interrupts.SIGNAL_ERRORS as exc:
        if not interrupts.signalled(exc):
            raise
        echo(f"dnsrace: {path}: {interrupts.signal_name()} while {phase}; nothing of it "
             "was checked", err=True)
        return None
    if key is not None and model.sha256 == hashlib.sha256(spec_bytes).hexdigest():
        store(cache, key, result)
    return result


def owners_line(owners: list[dict]) -> str:
    """Per owner of a partitioned search: its states and peak memory (one line)."""
    parts = [f"{o['name']}: no answer" if o.get("lost") else
             f"{o['name']}: {o['states']:,} states, peak RSS "
             f"{o['peak_rss_bytes'] / 2**20:,.0f} MiB" for o in owners]
    return "dnsrace: owners: " + "; ".join(parts)


def cache_key(cache, path, overrides, engine: str, limits, xp):
    """The `--cache` key of a spec (None without a cache), and the bytes it was made of."""
    if cache is None:
        return None, None
    from .cache import key

    try:
        spec_bytes = read_input_bytes(path, "spec", MAX_SPEC_BYTES)
    except InputFileError:
        return None, None   # the check itself says what is wrong with the file
    return key(spec_bytes, overrides, engine, limits, "cpu" if xp is None else "gpu"), \
        spec_bytes


def store(cache, key: str, result) -> None:
    """Keep a complete result in the cache.  The folder was checked before the run; if it
    fails now (a full disk), the run goes on without the cache, saying so."""
    from .cache import CacheUnwritable

    try:
        cache.put(key, result)
    except CacheUnwritable as exc:
        echo(f"warning: --cache: {exc}; this result is not kept", err=True)


def prepare_output(path: str) -> None:
    """Make sure an `--output` file can be written before any search: its folder is
    created; exit 2 (DR402) saying why when it cannot be.  A FIFO or socket is refused (a
    write would wait for a reader for ever): `-` is standard output."""
    if path == "-":
        return
    p = Path(path)
    try:
        why = _unwritable_output(p)
    except OSError as exc:   # a name too long, a loop of links, ...
        why = exc.strerror or str(exc)
    if why:
        print_diagnostics([Diagnostic("DR402", f"--output {path}: cannot write the report "
                                      f"({why})", None, None,
                                      "give a file in a folder dnsrace may write in (- is "
                                      "standard output)")])
        sys.exit(2)


def _unwritable_output(p: Path) -> str | None:
    import stat

    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except RecursionError:
        return f"cannot create the folder {p.parent}: too deep"
    except OSError as exc:
        return f"cannot create the folder {p.parent}: {exc.strerror or exc}"
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        return "it is a folder"
    if mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return "it is a FIFO or a socket, not a file"
    if not os.access(p.parent, os.W_OK) or (mode is not None and not os.access(p, os.W_OK)):
        return "permission denied"
    return None


def write_reports(fmt: str, writes: list[tuple[str, str]], outcomes, options) -> None:
    """The non-text report on standard output, and every `--output` file (also after an
    interrupt: the results so far are not lost)."""
    from .report.formats import render

    if fmt != "text":
        echo(render(fmt, outcomes, options), nl=False)
    for out_fmt, path in writes:
        text = render(out_fmt, outcomes, options)
        if path == "-":
            echo(text, nl=False)
            continue
        write_file(path, text, f"the report {path}")


def open_cache(folder: str):
    """The `--cache` folder, created and known to be writable, or exit 2 (DR402)."""
    from .cache import ResultCache

    prepare_trace_dir(folder, "--cache")
    if not os.access(folder, os.W_OK | os.X_OK):
        print_diagnostics([Diagnostic("DR402", f"--cache {folder}: cannot write in the folder "
                                      "(permission denied)", None, None,
                                      "give a folder dnsrace may write in")])
        sys.exit(2)
    return ResultCache(folder)


def prepare_trace_dir(trace_dir: str, option: str = "--trace-dir") -> None:
    """Create the `--trace-dir` (or `--cache`) folder before any search, or end with exit 2
    saying why."""
    try:
        Path(trace_dir).mkdir(parents=True, exist_ok=True)
    except (OSError, RecursionError) as exc:   # RecursionError: thousands of missing parents
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            "too many folders to create" if isinstance(exc, RecursionError) else str(exc)
        print_diagnostics([Diagnostic("DR402", f"{option} {trace_dir}: cannot create the "
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
        write_file(f, text_report.dumps(obj), f"the trace file {f}")
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
@click.option("--property", "prop", metavar="NAME",
              help="When TRACE is `check --format json` output: replay this property's "
              "trace (needed when several have one).")
@click.option("--schedule", is_flag=True,
              help="Run only the trace's sequence of transitions on the spec (usually another "
                   "design, given with --spec), from the spec's own initial state.")
@click.option("--adapter", metavar="MODULE:CLASS", help="Also perform the trace on a real "
              "system through this adapter, comparing its state after every step "
              "(docs/ADAPTERS.md).")
def replay(trace, spec_path, consts, prop, schedule, adapter) -> None:
    """Re-execute TRACE on its spec, step by step, and check that it is faithful.

    TRACE is a trace file (`check --trace-dir`), or the output of `check --format json`
    (choose the property with --property NAME).

    With --schedule, run the trace's transitions, by name, on the spec from its own initial
    state, ignoring the recorded states: the schedule stops where the spec refuses a step
    (its guard and the values that refused it are named) or runs through; the properties
    that fail on the way are listed.

    Exit status: 0 the trace replays faithfully; 1 it diverges (the first step that does
    is named); 2 the trace or spec cannot be read.  With --schedule: 0 no property fails on
    the steps that ran (the spec refused a step, or ran them all); 1 a property fails, or the
    spec has no transition of a name the schedule uses; 2 as above.

    With --adapter, a faithful trace (or, with --schedule, the steps the spec ran) is then
    performed on the system: 0 the system agrees with the trace (the spec) on every step and
    no property fails; 1 it parts from it (the step, the variable, the expected value and
    the observed one are named); 2 the adapter cannot be loaded or raised."""
    from .api import replay_trace

    if adapter:
        from .system_cli import replay_with_adapter

        try:
            overrides = parse_consts(consts) if consts else None
        except SpecError as exc:
            print_diagnostics(exc.diagnostics)
            sys.exit(2)
        replay_with_adapter(trace, adapter, spec_path, overrides, prop, schedule)
    from .replay import render, render_schedule
    from .trace_file import TraceError

    try:
        done = replay_trace(trace, spec_path, parse_consts(consts) if consts else None,
                          prop=prop, schedule=schedule)
    except TraceError as exc:
        fail_trace(trace, None, exc)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    if done.spec_changed and not schedule:
        echo(f"warning: {done.spec_path} has changed since this trace was written (its "
             "sha256 differs); replaying anyway", err=True)
    consts_text = ", ".join(f"{k}={v}" for k, v in done.constants.items())
    what = "schedule" if schedule else "replay"
    header = f"{what} of {trace} on {done.spec_path}" + (f" ({consts_text})" if consts_text
                                                          else "")
    show = render_schedule if schedule else render
    echo(show(done.report, header), nl=False)
    sys.exit(0 if done.ok else 1)


@main.command(name="test")
@click.argument("spec")
@click.option("--adapter", required=True, metavar="MODULE:CLASS",
              help="The adapter that drives the system (docs/ADAPTERS.md).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The random walks' seed: the same seed, the same runs.")
@click.option("--runs", type=click.IntRange(min=0), default=20, show_default=True,
              help="Random walks, after the directed runs.")
@click.option("--max-steps", type=click.IntRange(min=1), default=30, show_default=True,
              help="Steps of a random walk, at most.")
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE",
              help="Override a constant (repeatable).")
@click.option("--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the shortest failing run here as a trace file.")
@click.option("--trace-dir", type=click.Path(file_okay=False),
              help="Write the shortest failing run in this folder as SPEC.conformance.json.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def test_cmd(spec, adapter, seed, runs, max_steps, consts, output, trace_dir, fmt) -> None:
    """Model-based testing: run SPEC's transitions on a real system through an adapter and
    compare its state with the spec's after every step.

    The runs: one per kind of transition and per reachable property event (the shortest
    the spec has), then --runs random walks.  The first failing run is shrunk and printed,
    and written as a trace file with --output or --trace-dir (`dnsrace replay FILE
    --adapter ...` performs it again).

    Exit status: 0 the system agrees with the spec on every step; 1 a conformance failure;
    2 a bad spec, command line or adapter, or an adapter that raised."""
    from .system_cli import run_test

    try:
        overrides = parse_consts(consts)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    run_test(spec, adapter, overrides, seed, runs, max_steps, output, trace_dir, fmt)


def fail_trace(path: str, trace, exc) -> None:
    """Print a trace file's problem (a TraceError), positioned in its text, and exit 2."""
    from .trace_file import diagnostic

    diag, source = diagnostic(path, trace.text if trace else exc.text, exc)
    print_diagnostics([diag], {path: source})
    sys.exit(2)


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--const", "consts", multiple=True, metavar="NAME=VALUE",
              help="Override a constant (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one object per spec, with its diagnostics.")
def lint(specs, consts, fmt) -> None:
    """Check SPECS (files, or folders: every *.yaml and *.yml in them, recursively) without
    exploring them, and warn where a spec is legal but likely wrong.

    Exit status: 0 clean, 1 warnings, 2 errors (the worst over all specs)."""
    from .lint import lint_spec

    try:
        overrides = parse_consts(consts)
        paths = spec_paths(specs)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(2)
    reports, codes = [], []
    for path in paths:
        diags = lint_spec(path, overrides)
        errors = [d for d in diags if d.severity == "error"]
        codes.append(2 if errors else 1 if diags else 0)
        reports.append({"spec": {"path": path}, "errors": len(errors),
                        "warnings": len(diags) - len(errors),
                        "diagnostics": [diagnostic_json(d) for d in diags]})
        if fmt == "text":
            if diags:
                print_diagnostics(diags)
                if not errors:
                    n = len(diags)
                    echo(f"{n} warning{'s' if n != 1 else ''}", err=True)
            else:
                echo(f"{path}: no problems found")
    if fmt == "json":
        echo(text_report.dumps(reports[0] if len(reports) == 1 else reports), nl=False)
    sys.exit(worst(codes))


def diagnostic_json(d: Diagnostic) -> dict:
    return {"code": d.code, "severity": d.severity, "message": d.message, "path": d.path,
            "line": d.pos.line if d.pos else None, "col": d.pos.col if d.pos else None,
            "hint": d.hint}


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
    except Exception:
        # a signal that Python wrapped on its way (ctypes converting a Z3 call's arguments,
        # a class body's __set_name__ while a module loads): once a signal has arrived,
        # whatever stopped the run is that signal
        if not interrupts.received():
            raise
        echo_safely(f"dnsrace: {interrupts.signal_name()}; stopped")
        status = interrupts.exit_status()
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
