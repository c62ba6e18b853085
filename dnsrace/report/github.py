"""GitHub Actions workflow commands: an annotation on the spec for each property not as
expected and each diagnostic (`::error`; an `unknown` property or a warning is a
`::warning`), then a `::notice` summarising each spec.

Escaped as GitHub's runner reads them: `%`, CR and LF in the message, and also `:` and
`,` in the properties (file, line, col, title)."""

from __future__ import annotations

from ..results import CheckResult, SpecOutcome
from .findings import Finding, findings, relative_path, spec_title
from .text import status_word, summary_line, trace_table


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items())
    return f"::{name} {props}::{escape_data(message)}"


def annotation(f: Finding, kinds: dict[str, str]) -> str:
    """The finding, with the counterexample table under it when it has one."""
    message = f.message
    if f.prop is not None and f.prop.trace is not None:
        message += "\n" + "\n".join(trace_table(f.prop.trace, kinds, False))
    return command(f.level, {"file": f.path, "line": f.location.line, "col": f.location.col,
                             "title": f"dnsrace {f.title}"}, message)


def summary(outcome: SpecOutcome, timing: bool) -> str:
    path = relative_path(outcome.spec_path)
    if isinstance(outcome, CheckResult):
        n = len(outcome.properties)
        ok = sum(p.as_expected for p in outcome.properties)
        text = (f"{outcome.spec_name}: {status_word(outcome)}; {ok} of {n} properties as "
                f"expected; {summary_line(outcome, timing)}")
    else:
        text = f"{path}: not checked; {outcome.reason}"
    return command("notice", {"file": path, "title": f"dnsrace {spec_title(outcome)}"}, text)


def render_run(outcomes: list[SpecOutcome], options) -> str:
    lines = []
    for o in outcomes:
        kinds = o.field_kinds if isinstance(o, CheckResult) else {}
        lines += [annotation(f, kinds) for f in findings(o)]
        lines.append(summary(o, options.timing))
    return "\n".join(lines) + "\n"
