"""The text report: a TLC-like summary, one line per property, and each trace as a table of
steps showing only what changed.  Everything but the timing figures is the same, byte for
byte, from run to run (`timing=False` drops those too)."""

from __future__ import annotations

import hashlib
import json

from ..results import CTI_LABEL, CheckResult, PropertyResult, Trace
from ..terminal import escape_controls_json

BUILTIN = {"assertion", "type", "error", "deadlock"}


def value_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(value_text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {value_text(x)}" for k, x in v.items()) + "}"
    return str(v)


def flatten(state: dict, kinds: dict[str, str]) -> dict[str, object]:
    """Leaf paths of a state: per-instance fields and arrays by element, others whole.

    `kinds` maps a field to 'instances', 'array' or 'value' (how to split its JSON)."""
    out: dict[str, object] = {}
    for key, v in state.items():
        kind = kinds.get(key, "value")
        if kind in ("instances", "instances-array") and isinstance(v, list):
            for i, x in enumerate(v):
                _split(f"{key}[{i}]", x, kind == "instances-array", out)
        else:
            _split(key, v, kind == "array", out)
    return out


def _split(path: str, v, is_array: bool, out: dict) -> None:
    if is_array and isinstance(v, list):
        for i, x in enumerate(v):
            out[f"{path}[{i}]"] = x
    elif is_array and isinstance(v, dict):
        for k, x in v.items():
            out[f"{path}[{k}]"] = x
    else:
        out[path] = v


def changes(before: dict, after: dict, kinds) -> str:
    a, b = flatten(before, kinds), flatten(after, kinds)
    diff = [f"{k}={value_text(b[k])}" for k in b if a.get(k) != b[k]]
    return ", ".join(diff) if diff else "(no change)"


def full(state: dict) -> str:
    return ", ".join(f"{k}={value_text(v)}" for k, v in state.items())


def verdict(p: PropertyResult) -> str:
    text = p.outcome
    if p.trace is not None:
        n = p.trace.length
        what = "witness" if p.kind == "reachable" else "trace"
        text += f", {what} of {n} step{'s' if n != 1 else ''}"
    if p.outcome != "unknown" and p.expected in ("violated", "unreachable") and p.as_expected:
        text += " (as expected)"
    elif p.outcome != "unknown" and not p.as_expected:
        text += f" (expected {p.expected})"
    return text


def mark(p: PropertyResult) -> str:
    if p.outcome == "unknown":
        return "?"
    return "ok" if p.as_expected else "FAIL"


def counted(n: int, word: str) -> str:
    """`1 state`, `2,048 states`."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_line(r: CheckResult, timing: bool = True) -> str:
    s = r.stats
    if r.engine in ("bmc", "kind", "pdr"):
        what = {"bmc": "bounded model checking", "kind": "k-induction",
                "pdr": "IC3/PDR"}[r.engine]
        line = f"{what} (Z3) to depth {s.depth}" if r.engine != "pdr" else \
            f"{what} (Z3), traces by BMC to depth {s.depth}"  # the proof has no depth
        if timing:
            line += f", {s.seconds:.2f} s"
    else:
        line = f"{counted(s.states, 'state')}, {counted(s.transitions, 'transition')}, " \
            f"depth {s.depth}"
        if timing:
            rate = s.states / s.seconds if s.seconds > 0 else 0.0
            line += f", {s.seconds:.2f} s, {rate:,.0f} states/s"
    if r.complete:
        line += "; complete"
    else:
        line += f"; INCOMPLETE ({_stopped(r.stopped)})"
    if r.cached:
        line += "; cached (an earlier run's result: the spec, constants, engine and limits " \
            "are unchanged)"
    return line


def _stopped(why: str | None) -> str:
    return {"max-states": "--max-states reached", "max-depth": "--max-depth reached",
            "time-limit": "--time-limit reached",
            "memory-limit": "the next level would not fit in memory",
            "solver-unknown": "Z3 could not decide",
            "temporal-unchecked": "this engine does not decide temporal properties",
            "stop-on-first": "stopped at the first unexpected outcome",
            "interrupted": "interrupted",
            "worker-lost": "a worker of the partitioned search was lost",
            }.get(why or "", why or "")


def status_word(r: CheckResult) -> str:
    if r.stopped == "interrupted":
        return "INTERRUPTED"
    if r.failed:
        return "FAILED"
    if not r.complete:
        return "INCOMPLETE"
    return "PASSED"


def trace_table(trace: Trace, kinds, show_full: bool, first: str = "initial state"
                ) -> list[str]:
    """The trace as a table; `first` labels step 0 (a counterexample to induction starts
    from any state, not an initial one)."""
    rows = []
    prev = None
    for k, step in enumerate(trace.steps):
        action = step.action or first
        if step.state is None:
            what = f"FAILS: {step.message}"
        elif prev is None or show_full:
            what = full(step.state)
        else:
            what = changes(prev, step.state, kinds)
        rows.append((str(k), action, what))
        if step.state is not None:
            prev = step.state
    w0 = max(len("step"), *(len(r[0]) for r in rows))
    w1 = max(len("transition"), *(len(r[1]) for r in rows))
    notes: dict[int, list[str]] = {}
    for c in trace.races:
        notes.setdefault(c.step, []).append(c.text())

    for k, note in lasso_notes(trace):
        notes.setdefault(k, []).append(note)
    lines = [f"  {'step':>{w0}}  {'transition':<{w1}}  changes"]
    for a, b, c in rows:
        lines.append(f"  {a:>{w0}}  {b:<{w1}}  {c}".rstrip())
        for note in notes.get(int(a), []):
            lines.append(f"  {'':>{w0}}  ^ {note}")
    last = trace.steps[-1]
    if last.error is not None:
        lines += [f"  {'':>{w0}}  {x}" for x in last.error.location]
    return lines


def lasso_notes(trace: Trace) -> list[tuple[int, str]]:
    """Where a lasso's cycle starts, and that it repeats forever (with the fairness units
    that take a step in it)."""
    k = trace.loop_start
    if k is None:
        return []
    last = len(trace.steps) - 1
    if k == last:
        return [(k, "stuck: no transition has a successor, so this state repeats forever")]
    units = ", ".join(trace.fair_steps) if trace.fair_steps else "none"
    return [(k, "the cycle starts here"),
            (last, f"back to the state of step {k}: steps {k + 1}..{last} repeat forever; "
                   f"fair units taking steps in the cycle: {units}")]


def trace_heading(p: PropertyResult) -> str:
    n = p.trace.length
    if p.kind == "reachable":
        head = f"{p.name}: reachable in {n} step{'s' if n != 1 else ''}"
    else:
        head = f"{p.name}: {p.kind} violated in {n} step{'s' if n != 1 else ''}"
    if p.as_expected:
        head += " (as expected)"
    return head


def render(r: CheckResult, kinds: dict[str, str], *, quiet: bool = False, show_full: bool = False,
           timing: bool = True, trace_files: dict[str, str] | None = None,
           witnesses: bool = False, coverage: bool = False) -> str:
    """The report; counterexamples are shown as tables, witnesses and the coverage table
    only when asked."""
    out = [f"{r.spec_name} ({r.spec_path})", f"  {summary_line(r, timing)}"]
    if r.constants:
        out.append("  constants: " + ", ".join(
            f"{k}={v}" + (" (symbolic)" if k in r.symbolic else "")
            for k, v in r.constants.items()))
    if r.stats.symmetry:
        out.append(f"  symmetry: states are orbits of {', '.join(r.stats.symmetry)} "
                   "(--symmetry off counts every state)")
    elif r.stats.symmetry_off:
        out.append(f"  symmetry: off, every state explored: {r.stats.symmetry_off}")
    if r.symbolic:
        assumes = [a for a in r.symbolic.values() if a]
        out.append(f"  proofs hold for every {', '.join(r.symbolic)}"
                   + (f" with {', '.join(assumes)}" if assumes else "")
                   + "; traces use the values above")
    out += property_rows(r, [p for p in r.properties if not quiet or _goes_wrong(p)
                             or _counterexample(p)])
    out.append(f"  {status_word(r)}")
    for w in r.warnings:
        out.append(f"  warning: {w}")
    if coverage:
        out += coverage_table(r)
    for p in r.properties:
        if p.trace is None or (not _counterexample(p) and (quiet or not witnesses)):
            continue
        out.append("")
        out.append(trace_heading(p))
        if p.about:
            out.append(f"  {p.about.strip()}")
        if p.message:
            out.append(f"  {p.message}")
        out += trace_table(p.trace, kinds, show_full)
        file = (trace_files or {}).get(p.name)
        if file:
            out.append(f"  replay: dnsrace replay {file}")
        else:
            out.append(f"  replay: rerun with --trace-dir DIR, then `dnsrace replay "
                       f"DIR/{trace_file_name(r, p)}`")
    if quiet:
        return "\n".join(out) + "\n"
    out += cti_sections(r, kinds, show_full)
    for p in r.properties:
        if p.invariant_text:
            text = p.invariant_text.replace("\n", "\n  ")
            out.append("")
            out.append(f"{p.name}: proved; its inductive invariant:\n  {text}")
    return "\n".join(out) + "\n"


def cti_sections(r: CheckResult, kinds: dict[str, str], show_full: bool = False) -> list[str]:
    """One section per property that k-induction could not prove and has a counterexample
    to induction for: neither a counterexample nor a witness, so shown apart."""
    out: list[str] = []
    for p in r.properties:
        if p.cti is None:
            continue
        n = p.cti.length
        out.append("")
        out.append(f"{p.name}: not proved; {CTI_LABEL}")
        out.append(f"  {n} step{'s' if n != 1 else ''} from a state that may be unreachable; "
                   "the property (and its lemmas) holds at every state but the last, so it "
                   f"is not {p.k}-inductive. Try a larger --max-depth or a stronger "
                   "invariant as a lemma.")
        out += trace_table(p.cti, kinds, show_full, first="any state")
    return out


def _goes_wrong(p: PropertyResult) -> bool:
    return not p.as_expected   # not as expected, or unknown


def _counterexample(p: PropertyResult) -> bool:
    """A trace that shows a property failing (as expected or not), or a state reached that
    should not be: shown always, `--quiet` too.  A witness of an expected reachable is not."""
    return p.trace is not None and (p.kind != "reachable" or not p.as_expected)


def property_rows(r: CheckResult, props: list[PropertyResult]) -> list[str]:
    """One line per property, in columns: mark, name, kind, verdict."""
    if not props:
        return []
    out = []
    width = max(len(p.name) for p in props)
    kw = max(len(_kind(p)) for p in props)
    for p in props:
        v = verdict(p)
        if r.symbolic and p.engine == "pdr" and p.outcome in ("holds", "unreachable"):
            v += f" (every {', '.join(r.symbolic)})"
        out.append(f"  {mark(p):<4} {p.name:<{width}}  {_kind(p):<{kw}}  {v}")
        if p.outcome == "unknown" and p.message:
            # why an engine left it undecided (a limit, Z3, a temporal form it cannot take)
            out.append(f"  {'':<4} {'':<{width}}  {'':<{kw}}  ({p.message})")
    return out


def coverage_table(r: CheckResult) -> list[str]:
    """Per step, alternative and action: the (state, transition) pairs where it was
    enabled, and the states it found first (`--coverage`)."""
    if r.coverage is None:
        return [f"  coverage: none (the {r.engine} engine explores no states)"]
    head = "  coverage"
    if not r.complete:
        head += " of the states explored so far (the search is incomplete)"
    rows = [(c.transition, f"{c.enabled:,}", f"{c.new:,}",
             "never enabled" if r.complete and c.enabled == 0 else "") for c in r.coverage]
    w0 = max([len("transition")] + [len(x[0]) for x in rows])
    w1 = max([len("enabled")] + [len(x[1]) for x in rows])
    w2 = max([len("new")] + [len(x[2]) for x in rows])
    out = [head + ":", f"    {'transition':<{w0}}  {'enabled':>{w1}}  {'new':>{w2}}"]
    for name, en, new, note in rows:
        out.append(f"    {name:<{w0}}  {en:>{w1}}  {new:>{w2}}  {note}".rstrip())
    return out


def _kind(p: PropertyResult) -> str:
    return "built-in" if p.kind in BUILTIN and p.name == p.kind else p.kind


MAX_FILE_NAME_BYTES = 200   # under the 255 bytes of a name on common file systems, with
                            # room for the temporary suffix an atomic write adds


def fit_file_name(name: str, suffix: str = ".json") -> str:
    """`name + suffix`, or, when that is longer than a file system takes, its first
    characters and a digest of the whole (still one name per input name)."""
    whole = name + suffix
    if len(whole.encode("utf-8", "surrogatepass")) <= MAX_FILE_NAME_BYTES:
        return whole
    digest = hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    head = name.encode("utf-8", "surrogatepass")[:MAX_FILE_NAME_BYTES - len(suffix) - 14]
    return f"{head.decode('utf-8', 'ignore')}--{digest}{suffix}"


def trace_file_name(r: CheckResult, p: PropertyResult) -> str:
    """The name `--trace-dir` gives a property's trace: SPEC.PROPERTY.json (shortened with
    a digest when spec and property names are too long for a file name)."""
    return fit_file_name(f"{r.spec_name}.{p.name}")


def dumps(obj) -> str:
    """JSON as dnsrace writes it: stable key order, two-space indent."""
    return escape_controls_json(json.dumps(obj, indent=2, ensure_ascii=False)) + "\n"


def render_outcome(o, options) -> str:
    """One spec's part of the text report: its result, or why it was not checked."""
    if not isinstance(o, CheckResult):
        if o.diagnostics:
            return diagnostics_text(o.diagnostics)
        return f"{o.spec_path}: {o.reason}\n"
    return render(o, o.field_kinds, quiet=options.quiet, show_full=options.full,
                  timing=options.timing, trace_files=options.trace_files.get(o.spec_path),
                  witnesses=options.witnesses, coverage=options.coverage)


def render_run(outcomes, options) -> str:
    return "\n".join(render_outcome(o, options) for o in outcomes)


def diagnostics_text(diags, sources: dict | None = None) -> str:
    """Diagnostics quoting the lines they point at, then the count of errors.  `sources`
    gives files already read (path -> SourceFile, or None: do not quote that file); the
    others are read again, as specs."""
    from ..diagnostics import SourceFile, render as render_diag
    from ..input_files import MAX_SPEC_BYTES, InputFileError, read_input_bytes

    sources = dict(sources or {})
    out = []
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
        out.append(render_diag(d, src))
    errors = sum(1 for d in diags if d.severity == "error")
    if errors:
        out.append(f"{errors} error{'s' if errors != 1 else ''}")
    return "\n".join(out) + "\n"
