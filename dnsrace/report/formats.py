"""Every report format by name: `dnsrace check --format NAME` and `--output NAME=PATH`.

A format renders the outcomes of one run (a `CheckResult` per spec checked, a
`SpecFailure` per spec that could not be) to one text.  Each lives in its own module,
imported when used."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..results import SpecOutcome

# name -> (module under dnsrace.report, what it is for, for --help)
FORMATS: dict[str, tuple[str, str]] = {
    "text": ("text", "the summary and each counterexample as a table (the default)"),
    "json": ("json_report", "the contract's JSON: one object per spec"),
    "junit": ("junit", "JUnit XML: a test suite per spec, a test case per property"),
    "sarif": ("sarif", "SARIF 2.1.0 for code scanning: findings located in the spec"),
    "github": ("github", "GitHub Actions workflow commands: annotations on the spec"),
    "markdown": ("markdown", "a job summary: the verdicts and each counterexample as a "
                 "Mermaid sequence diagram"),
    "html": ("html", "one self-contained page: each counterexample as swimlanes"),
}


@dataclass
class ReportOptions:
    quiet: bool = False       # text: only the summary and what went wrong
    full: bool = False        # text: whole states in traces, not just changes
    timing: bool = True       # seconds and states/s (off for diffs and golden files)
    witnesses: bool = False   # text: show the witnesses of reachable properties too
    coverage: bool = False    # text: the coverage table
    # the trace files written (`--trace-dir`): spec path -> property -> file
    trace_files: dict[str, dict[str, str]] = field(default_factory=dict)


def render(fmt: str, outcomes: list[SpecOutcome], options: ReportOptions | None = None) -> str:
    """The report of a run in format `fmt` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"no format {fmt!r}; the formats are " + ", ".join(FORMATS))
    module = importlib.import_module(f".{FORMATS[fmt][0]}", __package__)
    return module.render_run(list(outcomes), options or ReportOptions())
