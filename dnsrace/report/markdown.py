"""A job summary in Markdown (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab merge-request notes):
per spec, the verdict table, and each counterexample as a Mermaid `sequenceDiagram`: one
participant per process instance, one for the shared state (and one for the actions when
the spec has actions); each step a message from the one who took it to the shared state,
saying what it changed; stale checks and reads as notes; a lasso's cycle in a `loop`."""

from __future__ import annotations

from ..results import CheckResult, PropertyResult, SpecFailure, SpecOutcome
from .findings import ACTIONS, StepView, kind_name, lanes, relative_path, shown_traces, \
    short_transition, step_views
from .text import status_word, summary_line, trace_heading, verdict

SHARED = "shared state"
MARKS = {"ok": "✅ ok", "FAIL": "❌ FAIL", "?": "❔ unknown"}


def md_text(text: str) -> str:
    """Text safe in Markdown (and in a table cell): HTML and Markdown's markup escaped."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#~":
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.split())


def code(text: str) -> str:
    """A code span; escaped text where the text has a backtick of its own."""
    return md_text(text) if "`" in text else f"`{text}`"


def mermaid_text(text: str) -> str:
    """Text safe in a Mermaid message or note: one line, with `;` (which ends a
    statement), `#` (which starts an entity), `<`, `>` and backticks as entity codes."""
    out = []
    for ch in " ".join(text.split()):
        out.append(f"#{ord(ch)};" if ch in "#;<>`" else ch)
    return "".join(out)


def render_run(outcomes: list[SpecOutcome], options) -> str:
    checked = [o for o in outcomes if isinstance(o, CheckResult)]
    passed = sum(o.passed for o in checked)
    out = ["# dnsrace", "",
           f"{len(outcomes)} spec{'s' if len(outcomes) != 1 else ''}: {passed} passed, "
           f"{len(checked) - passed} not passed, {len(outcomes) - len(checked)} not checked"]
    for o in outcomes:
        out += [""] + (spec_section(o, options) if isinstance(o, CheckResult)
                       else failure_section(o))
    return "\n".join(out) + "\n"


def spec_section(r: CheckResult, options) -> list[str]:
    out = [f"## {md_text(r.spec_name)}: {status_word(r)}", "",
           f"{code(relative_path(r.spec_path))}: {md_text(summary_line(r, options.timing))}"]
    if r.constants:
        out[-1] += "; constants " + md_text(", ".join(f"{k}={v}"
                                                      for k, v in r.constants.items()))
    out += ["", "| property | kind | expected | outcome | |", "| --- | --- | --- | --- | --- |"]
    out += [verdict_row(p) for p in r.properties]
    out += [f"> warning: {md_text(w)}" for w in r.warnings]
    for p in shown_traces(r, options.witnesses):
        out += [""] + trace_section(r, p)
    return out


def verdict_row(p: PropertyResult) -> str:
    outcome = md_text(verdict(p))
    if p.outcome == "unknown" and p.message:
        outcome += f" ({md_text(p.message)})"
    mark = "?" if p.outcome == "unknown" else ("ok" if p.as_expected else "FAIL")
    return f"| `{p.name}` | {kind_name(p)} | {p.expected} | {outcome} | {MARKS[mark]} |"


def trace_section(r: CheckResult, p: PropertyResult) -> list[str]:
    heading = trace_heading(p).removeprefix(f"{p.name}: ")
    out = [f"### {code(p.name)}: {md_text(heading)}", ""]
    if p.about:
        out += [md_text(p.about), ""]
    if p.message:
        out += [md_text(p.message), ""]
    return out + ["```mermaid"] + sequence_diagram(r, p) + ["```"]


def sequence_diagram(r: CheckResult, p: PropertyResult) -> list[str]:
    names = {lane: f"L{i}" for i, lane in enumerate(lanes(r))}
    names[SHARED] = "S"
    out = ["sequenceDiagram"]
    out += [f"    participant {pid} as {mermaid_text(lane)}" for lane, pid in names.items()]
    steps = step_views(r, p.trace)
    out.append(f"    Note over S: step 0, initial state: {mermaid_text(steps[0].text)}")
    loop = p.trace.loop_start
    cycle = loop is not None and loop < len(steps) - 1
    for s in steps[1:]:
        if cycle and s.index == loop + 1:
            out.append(f"    loop steps {loop + 1}..{len(steps) - 1} repeat forever")
        indent = "        " if cycle and s.index > loop else "    "
        out += [indent + line for line in step_lines(s, names)]
    if cycle:
        out.append("    end")
    return out


def step_lines(s: StepView, names: dict[str, str]) -> list[str]:
    who = names.get(s.lane, names.get(ACTIONS, "S"))
    lines = [f"{who}->>S: {s.index}. {mermaid_text(short_transition(s))}: "
             f"{mermaid_text(s.text)}"]
    for note in s.notes:
        over = f"{who},S" if who != "S" else "S"
        lines.append(f"Note over {over}: {mermaid_text(note)}")
    return lines


def failure_section(f: SpecFailure) -> list[str]:
    path = relative_path(f.spec_path)
    out = [f"## {md_text(path)}: not checked", ""]
    if not f.diagnostics:
        return out + [md_text(f.reason)]
    for d in f.diagnostics:
        where = relative_path(d.path or f.spec_path) + (f":{d.pos.line}:{d.pos.col}"
                                                        if d.pos else "")
        out.append(f"- {code(where)}: {d.severity} **{d.code}** {d.slug}: {md_text(d.message)}")
        if d.hint:
            out.append(f"  hint: {md_text(d.hint)}")
    return out
