"""Diagnostics: every problem a user can cause, with a code, a position and a hint.

Diagnostics are collected first and formatted once (mypy's habit).  Each has a code from
the registry below, grouped by the stage that finds it:

    DR1xx  reading the file (YAML, structure, keys)
    DR2xx  expressions and effects (syntax, names, types)
    DR3xx  the model (constants, types, processes, properties)
    DR4xx  the command line
    DR5xx  lowering limits (what a back end cannot represent; DR502: what cannot stay
           symbolic for the proof engines)
    DR6xx  trace files (what `dnsrace replay` reads)
    DR7xx  lint warnings (`dnsrace lint`): vacuous and dead parts of a legal spec, each a
           warning with a position (see dnsrace/lint.py)
    DR8xx  adapters and model-based testing (`replay --adapter`, `dnsrace test`: loading
           the adapter, and an adapter that raises or observes what the spec has not)
    DR9xx  distributed search and checkpoints (`check --workers/--cluster/--checkpoint/
           --resume`: docs/SCALING.md)

Sizes past dnsrace's resource bounds (dnsrace/bounds.py: nesting, literals, counts, domains,
what lowering builds) have codes of their own in the stage that finds them: DR110-DR111,
DR211-DR213, DR308-DR311, DR503-DR504.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

CODES: dict[str, str] = {
    # reading
    "DR101": "yaml-syntax",
    "DR102": "duplicate-key",
    "DR103": "unknown-key",
    "DR104": "missing-key",
    "DR105": "wrong-shape",
    "DR106": "yaml-tag",
    "DR107": "version",
    "DR109": "file",
    "DR110": "too-deep",
    "DR111": "yaml-number-too-large",
    # expressions and effects
    "DR201": "unknown-name",
    "DR202": "syntax",
    "DR203": "type-mismatch",
    "DR204": "not-allowed",
    "DR205": "unknown-function",
    "DR206": "arity",
    "DR207": "constant-write",
    "DR208": "redefined",
    "DR209": "prime",
    "DR210": "recursion",
    "DR211": "expression-too-large",
    "DR212": "literal-too-large",
    "DR213": "nested-too-deep",
    "DR230": "process-write",
    "DR231": "process-write-in-step",
    "DR232": "pc-not-a-step",
    # the model
    "DR301": "constant",
    "DR302": "bad-type",
    "DR303": "bad-init",
    "DR304": "bad-next",
    "DR305": "bad-property",
    "DR306": "bad-name",
    "DR307": "assume",
    "DR320": "temporal-form",
    "DR321": "fairness-unit",
    "DR322": "fairness-repeat",
    "DR330": "scalarset-declaration",
    "DR331": "scalarset-order",
    "DR332": "scalarset-arithmetic",
    "DR333": "scalarset-mismatch",
    "DR334": "scalarset-as-integer",
    "DR335": "scalarset-init",
    "DR336": "scalarset-order-of-iteration",
    "DR337": "scalarset-nested",
    "DR308": "too-large",
    "DR309": "too-many-initial-states",
    "DR310": "too-many-transitions",
    "DR311": "constant-too-large",
    # command line
    "DR401": "bad-option",
    "DR402": "output-path",
    # lowering
    "DR501": "unbounded",
    "DR502": "symbolic",
    # trace files
    "DR601": "trace-file",
    "DR602": "trace-json",
    "DR603": "trace-shape",
    "DR604": "trace-spec",
    "DR605": "state-variables",
    "DR606": "state-value",
    # lint warnings
    "DR701": "guard-never-true",
    "DR702": "constant-unused",
    "DR703": "variable-never-read",
    "DR704": "local-never-read",
    "DR705": "define-unused",
    "DR706": "invariant-reads-no-state",
    "DR707": "step-never-next",
    # adapters and model-based testing
    "DR801": "adapter-name",
    "DR802": "adapter-module",
    "DR803": "adapter-class",
    "DR804": "not-an-adapter",
    "DR805": "adapter-raised",
    "DR806": "adapter-observation",
    "DR503": "lowering-too-large",
    "DR504": "nested-too-deep-when-lowered",
    "DR901": "checkpoint-unwritable",
    "DR902": "checkpoint-missing",
    "DR903": "checkpoint-mismatch",
    "DR904": "cluster-address",
    "DR905": "cluster-unavailable",
    "DR906": "scale-engine",
}


@dataclass(frozen=True, slots=True)
class Pos:
    """A position in a spec file: 1-based line and column."""

    line: int
    col: int


@dataclass(slots=True)
class Diagnostic:
    code: str
    message: str
    path: str | None = None
    pos: Pos | None = None
    hint: str | None = None
    severity: str = "error"  # error | warning

    @property
    def slug(self) -> str:
        return CODES.get(self.code, "")


@dataclass
class SourceFile:
    """A spec file's text, kept so diagnostics can quote the offending line."""

    path: str
    text: str
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()

    def line(self, n: int) -> str | None:
        return self.lines[n - 1] if 1 <= n <= len(self.lines) else None


class SpecError(Exception):
    """Raised with one or more diagnostics when a spec or a command line is invalid."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


class Reporter:
    """Collects diagnostics for one file; `fail()` raises them all at once."""

    def __init__(self, source: SourceFile | None):
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    @property
    def path(self) -> str | None:
        return self.source.path if self.source else None

    def error(self, code: str, message: str, pos: Pos | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.path, pos, hint))

    def warning(self, code: str, message: str, pos: Pos | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.path, pos, hint, "warning"))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def fail_if_errors(self) -> None:
        if self.errors:
            raise SpecError(self.errors)

    def fail(self, code: str, message: str, pos: Pos | None, hint: str | None = None):
        self.error(code, message, pos, hint)
        raise SpecError(self.errors)


def did_you_mean(word: str, candidates, what: str = "", cutoff: float = 0.6) -> str | None:
    """A hint naming the closest candidates to a misspelt word, or None."""
    candidates = sorted(set(candidates))
    close = difflib.get_close_matches(word, candidates, n=3, cutoff=cutoff)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if what and candidates and len(candidates) <= 12:
        return f"{what}: " + ", ".join(candidates)
    return None


def render(diag: Diagnostic, source: SourceFile | None = None) -> str:
    """Format a diagnostic as `file:line:col: error[DR201 unknown-name]: ...` with a caret."""
    where = diag.path or "<command line>"
    if diag.pos is not None:
        where += f":{diag.pos.line}:{diag.pos.col}"
    head = f"{where}: {diag.severity}[{diag.code} {diag.slug}]: {diag.message}"
    out = [head]
    if source is not None and diag.pos is not None:
        text = source.line(diag.pos.line)
        if text is not None:
            gutter = f"{diag.pos.line:>4} | "
            out.append(gutter + text)
            caret_col = max(diag.pos.col - 1, 0)
            prefix = "".join(ch if ch == "\t" else " " for ch in text[:caret_col])
            out.append(" " * (len(gutter) - 2) + "| " + prefix + "^")
    if diag.hint:
        out.append(f"  hint: {diag.hint}")
    return "\n".join(out)
