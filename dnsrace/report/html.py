"""The HTML report: one self-contained page (its style and script inline, nothing fetched:
its Content-Security-Policy forbids any request, and allows only the script it carries by
hash) with, per spec, the verdict table and each trace as swimlanes.

A trace is a table: one lane (column) per process instance, in declaration order, and one
for the actions when the spec has any; one row per step.  A step's transition sits in the
lane of the instance that took it, with the values it changed, highlighted; the row's full
state is in its last column and, for the current row (chosen with the arrow keys, j and k, or
a click), beside the table.  A stale check is drawn as an arrow from the row of the check to
the row of the write that broke it, a stale read as a dashed arrow from the read to the write
that changed what it read; the steps that act on them are marked; a lasso's cycle is marked
from `loop_start` on.

Everything a spec provides (names, `about` texts, values, diagnostics) is escaped; the
script reads the page, never strings it builds into markup.  Byte for byte the same from run
to run (with `timing=False`), like the text report."""

from __future__ import annotations

import base64
import hashlib
import html
import re

from ..results import CTI_LABEL, CheckResult, PropertyResult, SpecFailure, Trace
from .html_assets import CSS, SCRIPT
from .text import (
    BUILTIN,
    diagnostics_text,
    flatten,
    lasso_notes,
    mark,
    status_word,
    summary_line,
    trace_file_name,
    trace_heading,
    value_text,
    verdict,
)

ACTIONS = "actions"
LANE_MIN = "9rem"
KEYS_HELP = ("Keys: \u2193 or j: next step; \u2191 or k: previous step; Home, End: first, "
             "last step.  Click a row to choose it (and its trace).  The current row's full "
             "state is shown beside the table.")


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def render_run(outcomes, options) -> str:
    """The whole page: a contents list, then one section per spec."""
    sections = [_outcome_section(o, f"s{i}", options) for i, o in enumerate(outcomes)]
    css = CSS + _lane_widths(outcomes)
    title = "dnsrace report: " + ", ".join(_outcome_name(o) for o in outcomes)
    contents = "".join(
        f'<li><a href="#s{i}">{esc(_outcome_name(o))}</a> '
        f'<span class="status {_status_class(o)}">{esc(_outcome_status(o))}</span></li>'
        for i, o in enumerate(outcomes))
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{_policy(css)}">\n',
        f"<title>{esc(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n",
        "<header>\n<h1>dnsrace report</h1>\n",
        f'<nav aria-label="specs"><ul class="contents">{contents}</ul></nav>\n',
        f'<p class="keys" id="keys-help">{esc(KEYS_HELP)}</p>\n</header>\n<main>\n',
        "\n".join(sections),
        f"\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"])


def _lane_widths(outcomes) -> str:
    """Lanes share a trace table's width equally, each at least LANE_MIN wide (a table
    with many lanes scrolls sideways in its box)."""
    counts = sorted({len(_lanes(o)) for o in outcomes if isinstance(o, CheckResult)})
    return "".join(f".swimlane.lanes-{n} {{ min-width: calc({n} * {LANE_MIN} + 9rem); }}\n"
                   for n in counts)


def _policy(css: str) -> str:
    """No request of any kind; only this page's own style and script."""
    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
    return (f"default-src 'none'; style-src {digest(css)}; script-src {digest(SCRIPT)}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


def _outcome_name(o) -> str:
    return o.spec_name if isinstance(o, CheckResult) else o.spec_path


def _outcome_status(o) -> str:
    if isinstance(o, CheckResult):
        return status_word(o)
    return "INVALID" if o.diagnostics else "NOT CHECKED"


def _status_class(o) -> str:
    return "st-" + _outcome_status(o).lower().replace(" ", "-")


def _outcome_section(o, sid: str, options) -> str:
    if isinstance(o, SpecFailure):
        return _failure_section(o, sid)
    return _result_section(o, sid, options)


def _failure_section(o: SpecFailure, sid: str) -> str:
    """A spec that was not checked: why, with its diagnostics as the text report shows
    them (file:line:col, the source line and a caret, the hint)."""
    out = [f'<section class="spec" id="{sid}" aria-labelledby="{sid}-h">',
           (f'<h2 id="{sid}-h">{esc(o.spec_path)} <span class="status {_status_class(o)}">'
           f"{esc(_outcome_status(o))}</span></h2>"),
           f'<p class="reason">{esc(o.reason)}</p>']
    if o.diagnostics:
        out.append(f'<pre class="diagnostics" aria-label="diagnostics">'
                   f"{esc(diagnostics_text(o.diagnostics))}</pre>")
    out.append("</section>")
    return "\n".join(out)


def _result_section(r: CheckResult, sid: str, options) -> str:
    out = [f'<section class="spec" id="{sid}" aria-labelledby="{sid}-h">',
           (f'<h2 id="{sid}-h">{esc(r.spec_name)} <span class="path">({esc(r.spec_path)})'
           f'</span> <span class="status {_status_class(r)}">{esc(status_word(r))}</span></h2>'),
           f'<p class="summary">{esc(summary_line(r, options.timing))}</p>']
    if r.constants:
        consts = ", ".join(f"{k}={v}" + (" (symbolic)" if k in r.symbolic else "")
                           for k, v in r.constants.items())
        out.append(f'<p class="constants">constants: {esc(consts)}</p>')
    traced = _traced(r)
    out.append(_verdict_table(r, sid, traced))
    if r.warnings:
        out.append('<ul class="warnings">' + "".join(
            f"<li>warning: {esc(w)}</li>" for w in r.warnings) + "</ul>")
    files = options.trace_files.get(r.spec_path, {})
    for j, p in enumerate(r.properties):
        if p.trace is not None:
            out.append(_trace_section(r, p, p.trace, f"{sid}-t{j}", files.get(p.name),
                                      open_=p.kind != "reachable" or options.witnesses))
        if p.cti is not None:
            out.append(_trace_section(r, p, p.cti, f"{sid}-c{j}", None, open_=True))
        if p.invariant_text:
            out.append(f'<section class="proof"><h3>{esc(p.name)}: proved; its inductive '
                       f"invariant</h3><pre>{esc(p.invariant_text)}</pre>"
                       "</section>")
    out.append("</section>")
    return "\n".join(out)


def _traced(r: CheckResult) -> set[str]:
    return {p.name for p in r.properties if p.trace is not None}


def _verdict_table(r: CheckResult, sid: str, traced: set[str]) -> str:
    rows = []
    for j, p in enumerate(r.properties):
        text = verdict(p)
        if p.message and (p.outcome == "unknown" or p.kind in BUILTIN):
            text += f" ({p.message})"
        link = f'<a href="#{sid}-t{j}">trace</a>' if p.name in traced else ""
        if p.cti is not None:
            link += f' <a href="#{sid}-c{j}">not proved: see why</a>'
        rows.append(f'<tr class="{_mark_class(p)}"><td class="mark">{esc(mark(p))}</td>'
                    f'<th scope="row">{esc(p.name)}</th><td>{esc(_kind(p))}</td>'
                    f"<td>{esc(text)}</td><td>{link}</td></tr>")
    return (f'<table class="verdicts"><caption>The properties of {esc(r.spec_name)}'
            '</caption><thead><tr><th scope="col">result</th><th scope="col">property</th>'
            '<th scope="col">kind</th><th scope="col">verdict</th><th scope="col">trace</th>'
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _mark_class(p: PropertyResult) -> str:
    return {"ok": "v-ok", "FAIL": "v-fail", "?": "v-unknown"}[mark(p)]


def _kind(p: PropertyResult) -> str:
    return "built-in" if p.kind in BUILTIN and p.name == p.kind else p.kind


# --- a trace as swimlanes -------------------------------------------------------------------

def _lanes(r: CheckResult) -> list[str]:
    """The process instances in declaration order, then the actions when the spec has any."""
    lanes = list(r.spec_map.instances)
    if any(site.instance is None for site in r.spec_map.transitions.values()):
        lanes.append(ACTIONS)
    return lanes or [ACTIONS]


def _lane_of(r: CheckResult, lanes: list[str], action: str) -> int:
    site = r.spec_map.site(action)
    if site is not None and (site.instance or ACTIONS) in lanes:
        return lanes.index(site.instance or ACTIONS)
    for k, name in enumerate(lanes):   # a name the map lacks: by its instance prefix
        if action.startswith(name + "."):
            return k
    return lanes.index(ACTIONS) if ACTIONS in lanes else len(lanes) - 1


def _trace_section(r: CheckResult, p: PropertyResult, trace: Trace, tid: str,
                   trace_file: str | None, open_: bool) -> str:
    cti = trace is p.cti
    lanes = _lanes(r)
    heading = (f"{p.name}: not proved; {CTI_LABEL}" if cti else trace_heading(p))
    out = [f'<section class="trace" id="{tid}" aria-labelledby="{tid}-h">',
           (f"<details{' open' if open_ else ''}><summary><h3 id=\"{tid}-h\">{esc(heading)}"
           f"{_trace_kind_badge(p, trace, cti)}</h3></summary>")]
    if cti:
        out.append(f'<p class="message">{trace.length} steps from a state that may be '
                   "unreachable; the property (and its lemmas) holds at every state but the "
                   f"last, so it is not {p.k}-inductive.  Try a larger --max-depth or a "
                   "stronger invariant as a lemma.</p>")
    if p.about and not cti:
        out.append(f'<p class="about">{esc(p.about.strip())}</p>')
    if p.message and not cti:
        out.append(f'<p class="message">{esc(p.message)}</p>')
    out.append(f'<p class="keys">{esc(KEYS_HELP)}</p>')
    marks = _marks(r, lanes, trace)
    out.append(_legend(trace))
    out.append('<div class="trace-body">')
    out.append(f'<div class="lanes" data-links="{esc(_links(r, lanes, trace))}">')
    out.append(_swimlane_table(r, lanes, trace, tid, marks, heading,
                               first="any state" if cti else "initial state"))
    out.append('<svg class="arrows" aria-hidden="true" focusable="false"><defs>'
               f'<marker id="{tid}-ah-check" class="ah-check" viewBox="0 0 10 10" refX="9" '
               'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
               '<path d="M0,0 L10,5 L0,10 z"/></marker>'
               f'<marker id="{tid}-ah-read" class="ah-read" viewBox="0 0 10 10" refX="9" '
               'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
               '<path d="M0,0 L10,5 L0,10 z"/></marker></defs></svg>')
    out.append("</div>")
    out.append(_state_panel(r, trace, first="any state" if cti else "initial state"))
    out.append("</div>")
    out.append(_notes(trace))
    if trace_file:
        out.append(f'<p class="replay">replay: <code>dnsrace replay {esc(trace_file)}</code></p>')
    elif not cti:
        out.append(f'<p class="replay">replay: rerun with <code>--trace-dir DIR</code>, then '
                   f"<code>dnsrace replay DIR/{esc(trace_file_name(r, p))}</code></p>")
    out.append("</details></section>")
    return "\n".join(out)


def _legend(trace: Trace) -> str:
    parts = []
    if any(c.kind == "check" for c in trace.races):
        parts.append('<span class="l-check">→ red arrow</span>: from a check to the step '
                     "of another that made it false; the step that still acts on it is "
                     "marked ⚠")
    if any(c.kind == "read" for c in trace.races):
        parts.append('<span class="l-read">⇢ dashed arrow</span>: from a read into a '
                     "local to the step of another that changed what it read")
    if trace.loop_start is not None:
        parts.append('<span class="l-cycle">↻</span>: the rows from the cycle’s '
                     "start to the last repeat forever")
    return f'<p class="legend">{"; ".join(parts)}.</p>' if parts else ""


def _trace_kind_badge(p: PropertyResult, trace: Trace, cti: bool) -> str:
    if cti:
        what = "counterexample to induction"
    elif p.kind == "reachable":
        what = "witness"
    elif trace.loop_start is not None:
        what = "lasso"
    else:
        what = "counterexample"
    return f' <span class="badge">{what}</span>'


def _marks(r: CheckResult, lanes: list[str], trace: Trace) -> dict[tuple[int, int], list[str]]:
    """The marks in cells, (step, lane) -> HTML: where a stale check was checked, broken
    and acted on; where a stale read was read, changed and used."""
    out: dict[tuple[int, int], list[str]] = {}

    def add(step: int, lane: int, cls: str, text: str) -> None:
        out.setdefault((step, lane), []).append(f'<span class="mark {cls}">{text}</span>')

    for c in trace.races:
        own = _lane_of(r, lanes, c.taken)
        if c.kind == "check":
            add(c.checked_at, own, "m-check", f"checks <code>{esc(c.check)}</code>")
            add(c.made_false_at, _lane_of(r, lanes, c.made_false_by), "m-break",
                f"breaks the check of step {c.checked_at}")
            add(c.step, own, "m-stale", f"\u26a0 stale check: <code>{esc(c.check)}</code> "
                f"(checked at step {c.checked_at}, broken at step {c.made_false_at})")
        else:
            add(c.read_at, own, "m-read",
                f"reads <code>{esc(c.local)} = {esc(value_text(c.value))}</code>")
            add(c.changed_at, _lane_of(r, lanes, c.changed_by), "m-change",
                f"changes what step {c.read_at} read")
            add(c.step, own, "m-stale", f"\u26a0 stale read: <code>{esc(c.local)} = "
                f"{esc(value_text(c.value))}</code> (reading again gives "
                f"{esc(value_text(c.fresh))})")
    return out


def _links(r: CheckResult, lanes: list[str], trace: Trace) -> str:
    """The arrows the script draws, as `kind,from_step,from_lane,to_step,to_lane` (numbers
    and two fixed words only)."""
    out = []
    for c in trace.races:
        own = _lane_of(r, lanes, c.taken)
        if c.kind == "check":
            out.append(f"check,{c.checked_at},{own},{c.made_false_at},"
                       f"{_lane_of(r, lanes, c.made_false_by)}")
        else:
            out.append(f"read,{c.read_at},{own},{c.changed_at},"
                       f"{_lane_of(r, lanes, c.changed_by)}")
    return " ".join(out)


def _swimlane_table(r: CheckResult, lanes: list[str], trace: Trace, tid: str,
                    marks: dict, heading: str, first: str) -> str:
    head = "".join(f'<th scope="col" class="lane">{esc(name)}</th>' for name in lanes)
    rows = []
    prev = None
    for k, step in enumerate(trace.steps):
        rows.append(_step_row(r, lanes, trace, tid, k, step, prev, marks, first))
        if step.state is not None:
            prev = step.state
    cols = '<col class="n">' + '<col class="lane">' * len(lanes) + '<col class="state">'
    return (f'<table class="swimlane lanes-{len(lanes)}" aria-describedby="keys-help">'
            f"<caption>{esc(heading)}: one lane per process instance, one row per step"
            f"</caption><colgroup>{cols}</colgroup>"
            '<thead><tr><th scope="col" class="n">step</th>' + head +
            '<th scope="col">state</th></tr></thead><tbody>' + "".join(rows) +
            "</tbody></table>")


def _step_row(r, lanes, trace: Trace, tid: str, k: int, step, prev, marks, first) -> str:
    classes = ["step"]
    loop = trace.loop_start
    if loop is not None and k >= loop:
        classes.append("cycle")
        if k == loop:
            classes.append("cycle-start")
        if k == len(trace.steps) - 1:
            classes.append("cycle-end")
    if k == 0:
        classes.append("current")
    label = step.action or first
    cells = [f'<th scope="row" class="n">{k}{_cycle_tag(trace, k)}</th>']
    if step.action is None:
        cells.append(f'<td colspan="{len(lanes)}" class="init" id="{tid}-s{k}-l0">'
                     f'<span class="tr">{esc(label)}</span></td>')
    else:
        lane = _lane_of(r, lanes, step.action)
        for i, name in enumerate(lanes):
            if i != lane:
                cells.append(f'<td id="{tid}-s{k}-l{i}"></td>')
                continue
            body = _cell(name, step, prev, r.field_kinds) + "".join(marks.get((k, i), []))
            cells.append(f'<td id="{tid}-s{k}-l{i}" class="taken lane-{i % 8}">{body}</td>')
    state = "" if step.state is None else (
        f"<details><summary>state</summary>{_state_list(step.state, prev, r.field_kinds)}"
        "</details>")
    cells.append(f'<td class="state">{state}</td>')
    current = ' aria-current="step"' if k == 0 else ""
    return (f'<tr class="{" ".join(classes)}" id="{tid}-s{k}" data-step="{k}" '
            f'data-label="{esc(label)}"{current}>' + "".join(cells) + "</tr>")


def _cycle_tag(trace: Trace, k: int) -> str:
    loop = trace.loop_start
    if loop is None:
        return ""
    last = len(trace.steps) - 1
    if k == loop == last:
        return '<span class="cyc" title="this state repeats forever">\u21bb stuck</span>'
    if k == loop:
        return '<span class="cyc" title="the cycle starts here">\u21bb cycle</span>'
    if k == last:
        return f'<span class="cyc" title="back to the state of step {loop}">\u21a9 {loop}</span>'
    return ""


def _cell(lane: str, step, prev, kinds) -> str:
    """The transition, in its lane without the instance's name, and what it changed."""
    name = step.action[len(lane) + 1:] if step.action.startswith(lane + ".") else step.action
    out = f'<span class="tr">{esc(name)}</span>'
    if step.state is None:
        return out + f'<span class="fails">FAILS: {esc(step.message or "")}</span>' + \
            _error_location(step)
    changed = _changed(prev, step.state, kinds)
    if not changed:
        return out + '<span class="nochange">(no change)</span>'
    return out + '<ul class="changes">' + "".join(
        f'<li><mark>{esc(_own_key(lane, key))}={esc(value_text(v))}</mark></li>'
        for key, v in changed) + "</ul>"


def _error_location(step) -> str:
    if step.error is None:
        return ""
    return f'<pre class="error">{esc(chr(10).join(step.error.location))}</pre>'


def _changed(before: dict | None, after: dict, kinds) -> list[tuple[str, object]]:
    """The leaves of the state that differ, as `text.changes` finds them."""
    a = flatten(before or {}, kinds)
    return [(k, v) for k, v in flatten(after, kinds).items() if a.get(k) != v]


def _own_key(lane: str, key: str) -> str:
    """`Enactor.pc[0]` is `pc` in the lane of Enactor[0]: the instance's own locals lose its
    name; shared variables keep theirs."""
    m = re.fullmatch(r"(\w+)\[(\d+)\]", lane)
    if not m:
        return key
    proc, index = m.groups()
    own = re.fullmatch(re.escape(proc) + r"\.([\w.]+)\[" + index + r"\](.*)", key)
    return own.group(1) + own.group(2) if own else key


def _state_list(state: dict, prev: dict | None, kinds) -> str:
    """A state's leaves as a definition list; those the step changed are marked."""
    before = flatten(prev, kinds) if prev is not None else None
    items = []
    for key, v in flatten(state, kinds).items():
        cls = ' class="changed"' if before is not None and before.get(key) != v else ""
        items.append(f"<div{cls}><dt>{esc(key)}</dt><dd>{esc(value_text(v))}</dd></div>")
    return '<dl class="kv">' + "".join(items) + "</dl>"


def _state_panel(r: CheckResult, trace: Trace, first: str) -> str:
    """The current row's full state (the first row's until the script moves it)."""
    step = trace.steps[0]
    dl = _state_list(step.state, None, r.field_kinds) if step.state is not None else "<dl></dl>"
    return ('<aside class="state-panel" aria-live="polite" aria-label="the current step">'
            f'<h4>step <span class="sp-step">0</span>: <span class="sp-label">'
            f"{esc(step.action or first)}</span></h4>{dl}</aside>")


def _notes(trace: Trace) -> str:
    """The races and the lasso in words, by step, as the text report says them."""
    notes = [(c.step, c.text()) for c in trace.races] + lasso_notes(trace)
    last = trace.steps[-1]
    if not notes and last.error is None:
        return ""
    items = "".join(f"<li><strong>step {k}</strong>: {esc(text)}</li>"
                    for k, text in sorted(notes, key=lambda n: n[0]))
    return f'<ul class="notes" aria-label="notes on the trace">{items}</ul>'
