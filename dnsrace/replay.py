"""`dnsrace replay`: re-execute a trace on a spec and check that it is faithful.

For each step: the transition must exist and be enabled in the state before it; the state
it produces must equal the recorded one (a failing last step must fail here too).  The
first step where that is not so is where the trace *diverges*; the report names it, with
the guard that is false and the values it read, or the variables whose values differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .backends.python_codegen import CompiledSystem
from .diagnostics import did_you_mean
from .explain import Explainer
from .frontend.model import Model
from .frontend.unparse import unparse
from .ir.layout import (Layout, StateFieldsError, StateValueError, json_brief,
                        state_from_json, state_json)
from .ir.system import TransitionSystem
from .report.text import changes, flatten, full, value_text
from .trace_file import TraceError, check_shape

TraceFormatError = TraceError   # the name before trace files had their own module


@dataclass
class ReplayStep:
    index: int
    action: str | None
    text: str                         # what changed (or the whole initial state)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReplayReport:
    steps: list[ReplayStep]
    diverged_at: int | None = None
    problem: str | None = None
    lasso: str | None = None          # a lasso's cycle, when the loop closes
    unfair: list[str] = field(default_factory=list)  # how the cycle breaks fairness

    @property
    def faithful(self) -> bool:
        return self.diverged_at is None and not self.unfair


def trace_steps(obj) -> list[dict]:
    """The steps of a trace object (a trace file, or a bare `{"length", "steps"}`), checked
    for shape; TraceError if it is not one."""
    check_shape(obj)
    return obj["steps"]


STATE_HINT = ("a trace replays only on the spec (and constants) it was written for; was it "
              "edited, or written for another version of the spec?")


def trace_states(layout: Layout, steps: list[dict], hint: str = STATE_HINT) -> list:
    """The slot values of every step's state (None for a failing last step), each value
    checked against its variable's type before anything is packed; TraceError (DR605: the
    variables differ from the spec's, DR606: a value outside its type) naming the step."""
    out = []
    for k, step in enumerate(steps):
        state = step["state"]
        try:
            out.append(None if state is None else state_from_json(layout, state))
        except StateValueError as exc:
            raise TraceError("DR606", f"step {k}: {exc}", ("steps", k, "state") + exc.where,
                             hint) from None
        except StateFieldsError as exc:
            raise TraceError("DR605", f"step {k}: {exc}", ("steps", k, "state"),
                             hint) from None
    return out


class Replayer:
    def __init__(self, model: Model, ts: TransitionSystem, cs: CompiledSystem, kinds: dict):
        self.model, self.ts, self.cs, self.kinds = model, ts, cs, kinds
        self.explainer = Explainer(model, ts, cs)
        self.by_name = {t.name: t.index for t in ts.transitions}
        self.initial = {cs.packing.pack(s) for s in ts.initial}
        self.all_sp = (1 << len(ts.state_properties)) - 1
        self.all_tp = (1 << len(ts.transition_properties)) - 1

    def json_of(self, packed: int) -> dict:
        return state_json(self.ts.layout, self.cs.packing.unpack(packed))

    def replay(self, steps: list[dict], hint: str = STATE_HINT,
               loop_start: int | None = None) -> ReplayReport:
        """Re-execute steps (checked for shape by `trace_steps`).  Every state is checked
        against the spec's types first: TraceError if one is not of them.  A lasso (with
        `loop_start`) must also close its loop."""
        pk = self.cs.packing
        states = [None if s is None else pk.pack(s)
                  for s in trace_states(self.ts.layout, steps, hint)]
        out: list[ReplayStep] = []
        report = ReplayReport(out)
        cur = states[0]
        if cur not in self.initial:
            first = self.json_of(pk.pack(self.ts.initial[0]))
            return self._diverge(report, 0, "step 0 is not an initial state of the spec "
                                 f"(it differs from the first one in: "
                                 f"{changes(first, steps[0]['state'], self.kinds)})")
        out.append(ReplayStep(0, None, full(self.json_of(cur)), self.state_notes(cur)))
        path: list[tuple[int, int | None]] = [(-1, cur)]
        for k in range(1, len(steps)):
            name = steps[k]["action"]
            tid = self.by_name.get(name)
            if tid is None:
                close = did_you_mean(name, self.by_name) if len(name) <= 200 else None
                return self._diverge(report, k, "the spec has no transition named "
                                     + json_brief(name) + (f"; {close}" if close else ""))
            gerr: list[int] = []
            succ = dict(self.cs.expand(cur, gerr))
            if tid not in succ:
                return self._diverge(report, k, self.why_not_enabled(tid, cur, gerr))
            n = succ[tid]
            recorded = steps[k]["state"]
            if n < 0:
                fail = self.cs.generated.effect_failures[-1 - n][1]
                if recorded is not None:
                    return self._diverge(report, k, f"{name} fails here ({fail.kind}: "
                                         f"{fail.message}), but the trace records a state")
                why = self.explainer.failure(tid, cur)
                out.append(ReplayStep(k, name, f"FAILS: {fail.message}",
                                      why.location if why is not None else []))
                path.append((tid, None))
                break
            if recorded is None:
                return self._diverge(report, k, f"the trace says {name} fails here, but it "
                                     "succeeds")
            if states[k] != n:
                got = self.json_of(n)
                diff = changes(got, recorded, self.kinds)
                return self._diverge(report, k, f"after {name} the state differs from the "
                                     f"recorded one: the trace has {diff}, the spec gives "
                                     f"{changes(recorded, got, self.kinds)}")
            notes = self.step_notes(cur, n, tid) + self.state_notes(n)
            out.append(ReplayStep(k, name, changes(self.json_of(cur), self.json_of(n),
                                                   self.kinds), notes))
            path.append((tid, n))
            cur = n
        for c in reversed(self.explainer.races(path)):
            out[c.step].notes.insert(0, c.text())
        if loop_start is not None:
            self.check_loop(report, path, loop_start)
        return report

    def check_loop(self, report: ReplayReport, path, loop_start) -> None:
        """A lasso: the loop closes (the last state is the state at `loop_start`, or a stuck
        last state repeats), and the cycle respects the spec's fairness."""
        from .engines.temporal import cycle_unfairness, fair_units_taking_steps

        last = len(path) - 1
        if isinstance(loop_start, bool) or not isinstance(loop_start, int) \
                or not 0 <= loop_start <= last:
            self._diverge(report, last, f"`loop_start` {loop_start!r} is not a step of the "
                          "trace")
            return
        states = [n for _, n in path]
        if states[-1] is None or states[-1] != states[loop_start]:
            self._diverge(report, last, f"the loop does not close: the last state is not the "
                          f"state of step {loop_start}")
            return
        if loop_start == last:
            if any(n >= 0 for _, n in self.cs.expand(states[-1], [])):
                self._diverge(report, last, "the last state repeats forever in the trace, "
                              "but a transition leaves it")
                return
            report.lasso = f"the state of step {last} has no successor and repeats forever"
            return
        tids = [t for t, _ in path[loop_start + 1:]]
        report.unfair = cycle_unfairness(self.ts, self.cs, states[loop_start:], tids)
        units = ", ".join(fair_units_taking_steps(self.ts, tids)) or "none"
        report.lasso = (f"steps {loop_start + 1}..{last} return to the state of step "
                        f"{loop_start} and repeat forever; fair units taking steps in the "
                        f"cycle: {units}")

    def _diverge(self, report: ReplayReport, k: int, problem: str) -> ReplayReport:
        report.diverged_at = k
        report.problem = problem
        return report

    def why_not_enabled(self, tid: int, cur: int, gerr: list[int]) -> str:
        t = self.ts.transitions[tid]
        values = self.cs.packing.unpack(cur)
        if t.pc is not None and values[t.pc[0]] != t.pc[1]:
            o = t.origin
            at = self.ts.layout.symbols.names[values[t.pc[0]]]
            return f"{t.name} is not enabled: {o[1]}[{o[2]}] is at {at}, not at {o[3]}"
        for g in gerr:
            gt, fail = self.cs.generated.guard_failures[g]
            if gt == tid:
                return f"{t.name} is not enabled: its guard fails ({fail.message})"
        expr = self.explainer.guard_expr(tid)
        vals = ", ".join(f"{k}={value_text(_plain(v))}"
                         for k, v in self.explainer.values(tid, cur).items())
        return (f"{t.name} is not enabled: its guard `{unparse(expr)}` is false"
                + (f" ({vals})" if vals else ""))

    def state_notes(self, packed: int) -> list[str]:
        notes = []
        for k, code in self.cs.state_props(packed, self.all_sp):
            p = self.ts.state_properties[k]
            if code != 0:
                notes.append(f"evaluating {p.name} fails here: {p.failures[-1 - code].message}")
            elif p.kind == "invariant":
                notes.append(f"invariant {p.name} fails here")
            else:
                notes.append(f"{p.name} is reached here")
        return notes

    def step_notes(self, cur: int, n: int, tid: int) -> list[str]:
        notes = []
        for k, code in self.cs.trans_props(cur, n, self.all_tp):
            p = self.ts.transition_properties[k]
            if code == 0:
                notes.append(f"transition property {p.name} fails on this step")
            else:
                notes.append(f"evaluating {p.name} fails on this step: "
                             f"{p.failures[-1 - code].message}")
        return notes


def _plain(v):
    return str(v) if hasattr(v, "upper") else v


def step_lines(steps) -> list[str]:
    """Each step as a line (number, action, what changed) and its notes under it."""
    lines = []
    width = max([len(s.action or "initial state") for s in steps] + [13])
    for s in steps:
        lines.append(f"  {s.index:>4}  {(s.action or 'initial state'):<{width}}  {s.text}")
        for note in s.notes:
            lines.append(f"  {'':>4}  ^ {note}")
    return lines


def render(report: ReplayReport, header: str) -> str:
    lines = [header, *step_lines(report.steps)]
    if report.diverged_at is None:
        n = len(report.steps) - 1
        lines.append(f"replayed {n} step{'s' if n != 1 else ''} faithfully")
        if report.lasso:
            lines.append(f"lasso: {report.lasso}")
        if report.lasso and not report.unfair:
            lines.append("fairness holds on the cycle")
        for u in report.unfair:
            lines.append(f"UNFAIR cycle: {u}")
    else:
        lines.append(f"DIVERGES at step {report.diverged_at}: {report.problem}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- schedule replay


@dataclass
class ScheduleReport:
    """A trace's sequence of transitions run on a spec from its own initial state."""

    steps: list[ReplayStep]
    length: int                        # transitions in the schedule
    start: str | None = None           # how the initial state was chosen, when it matters
    stopped_at: int | None = None      # the step the spec refuses (or cannot name)
    problem: str | None = None
    unknown: bool = False              # stopped because the spec has no such transition
    failures: list[str] = field(default_factory=list)   # "invariant x fails at step 11"
    departs: str | None = None         # the first step that changes the shared variables
                                       # otherwise than the trace recorded

    @property
    def harmless(self) -> bool:
        """No property fails on the part of the schedule that ran, and the spec either ran
        it all or refused one of its steps (a transition it cannot name is not a refusal)."""
        return not self.failures and not self.unknown


def _split_label(name: str) -> tuple[str, str]:
    """`Enactor[0].write(x=1)` -> ('Enactor[0].write', '(x=1)')."""
    i = name.find("(")
    return (name, "") if i < 0 else (name[:i], name[i:])


class ScheduleRunner(Replayer):
    """`replay --schedule`: run the trace's transitions by name, ignoring its recorded states
    except to choose the initial state.  A step named for a whole step where this spec offers
    alternatives (or for an alternative where this spec has a plain step) runs as the one
    that is enabled."""

    def __init__(self, model: Model, ts: TransitionSystem, cs: CompiledSystem, kinds: dict):
        super().__init__(model, ts, cs, kinds)
        self.alternatives: dict[str, list[int]] = {}
        for t in ts.transitions:
            head, label = _split_label(t.name)
            if t.origin[0] == "process" and head.count(".") == 2:   # P[i].step.alternative
                self.alternatives.setdefault(head.rsplit(".", 1)[0] + label, []).append(t.index)

    def candidates(self, name: str) -> list[int]:
        """The transitions of this spec that the schedule's `name` may run as."""
        if name in self.by_name:
            return [self.by_name[name]]
        if name in self.alternatives:
            return self.alternatives[name]
        head, label = _split_label(name)
        if head.count(".") == 2 and head.rsplit(".", 1)[0] + label in self.by_name:
            return [self.by_name[head.rsplit(".", 1)[0] + label]]
        return []

    def start_state(self, recorded: dict) -> tuple[int, str | None]:
        """The first initial state equal to the trace's on the variables both have (else the
        first initial state, said so)."""
        pk = self.cs.packing
        firsts = [pk.pack(s) for s in self.ts.initial]
        shared = None
        for packed in firsts:
            mine = self.json_of(packed)
            shared = [k for k in mine if k in recorded]
            if all(mine[k] == recorded[k] for k in shared):
                return packed, None
        names = ", ".join(shared or [])
        return firsts[0], (f"no initial state of the spec agrees with the trace's step 0 on "
                           f"{names}; starting from the spec's first initial state")

    def run(self, steps: list[dict]) -> ScheduleReport:
        """Run the schedule of `steps` (checked for shape by `trace_steps`)."""
        recorded = steps[0]["state"] if isinstance(steps[0].get("state"), dict) else {}
        cur, start = self.start_state(recorded)
        out: list[ReplayStep] = []
        report = ScheduleReport(out, len(steps) - 1, start)
        first = self.state_notes(cur)
        out.append(ReplayStep(0, None, full(self.json_of(cur)), first))
        self.note_failures(report, first, 0)
        for k in range(1, len(steps)):
            name = steps[k]["action"]
            tids = self.candidates(name)
            if not tids:
                close = did_you_mean(name, self.by_name) if len(name) <= 200 else None
                report.unknown = True
                self._stop(report, k, "the spec has no transition named " + json_brief(name)
                           + (f"; {close}" if close else ""))
                return report
            gerr: list[int] = []
            succ = dict(self.cs.expand(cur, gerr))
            enabled = [t for t in tids if t in succ]
            if not enabled:
                self._stop(report, k, self.why_none_enabled(name, tids, cur, gerr))
                return report
            if len(tids) > 1 and report.departs is None and start is None:
                # alternatives, while the run still agrees with the trace: the one that
                # makes the recorded change (none: the spec refuses the step as recorded)
                alike = [t for t in enabled if succ[t] >= 0 and
                         self.departure(steps, k, cur, succ[t], name) is None]
                if not alike:
                    self._stop(report, k, self.why_not_as_recorded(
                        steps, k, name, tids, enabled, cur, succ, gerr))
                    return report
                enabled = alike
            tid = enabled[0]
            t = self.ts.transitions[tid]
            n = succ[tid]
            if n < 0:
                fail = self.cs.generated.effect_failures[-1 - n][1]
                out.append(ReplayStep(k, t.name, f"FAILS: {fail.message}"))
                report.failures.append(f"{fail.kind} fails at step {k}: {fail.message}")
                return report
            notes = self.step_notes(cur, n, tid) + self.state_notes(n)
            if t.name != name:
                notes.insert(0, f"the trace's {name} runs here as {t.name}")
            if report.departs is None:
                report.departs = self.departure(steps, k, cur, n, t.name)
            out.append(ReplayStep(k, t.name, changes(self.json_of(cur), self.json_of(n),
                                                     self.kinds), notes))
            self.note_failures(report, notes, k)
            cur = n
        return report

    def departure(self, steps: list[dict], k: int, cur: int, n: int, ran: str) -> str | None:
        """Where step k changes the variables this spec shares with the trace otherwise than
        the trace recorded (None where it changes them alike, or a state is missing)."""
        before, after = steps[k - 1]["state"], steps[k]["state"]
        if not isinstance(before, dict) or not isinstance(after, dict):
            return None
        mine_before, mine_after = self.json_of(cur), self.json_of(n)
        shared = [x for x in mine_after if x in before and x in after]

        def delta(a: dict, b: dict) -> dict:
            fa = flatten({x: a[x] for x in shared}, self.kinds)
            fb = flatten({x: b[x] for x in shared}, self.kinds)
            return {x: fb[x] for x in fb if fa.get(x) != fb[x]}

        theirs, mine = delta(before, after), delta(mine_before, mine_after)
        if theirs == mine:
            return None
        show = lambda d: ", ".join(f"{x}={value_text(v)}" for x, v in d.items()) or \
            "(no change)"
        return (f"step {k}: in the trace, {steps[k]['action']} did {show(theirs)}; here "
                f"{ran} does {show(mine)}")

    def _stop(self, report: ScheduleReport, k: int, problem: str) -> None:
        report.stopped_at = k
        report.problem = problem

    @staticmethod
    def note_failures(report: ScheduleReport, notes: list[str], k: int) -> None:
        for note in notes:
            if note.startswith(("invariant ", "transition property ", "evaluating ")):
                report.failures.append(note.replace(" fails here", f" fails at step {k}", 1)
                                       .replace(" fails on this step", f" fails at step {k}", 1))

    def why_not_as_recorded(self, steps, k, name, tids, enabled, cur, succ, gerr) -> str:
        """The spec offers alternatives for the step, but none that is enabled makes the
        change the trace recorded: the guards of the others, and what the enabled do."""
        whys = [self.why_not_enabled(t, cur, gerr) for t in tids if t not in enabled]
        did = [self.departure(steps, k, cur, succ[t], self.ts.transitions[t].name)
               for t in enabled if succ[t] >= 0]
        text = f"no alternative of {name} makes the change the trace recorded"
        if whys:
            text += ": " + "; ".join(whys)
        return text + "".join(f"; the enabled {d.split('; here ', 1)[1]}" for d in did if d)

    def why_none_enabled(self, name: str, tids: list[int], cur: int, gerr: list[int]) -> str:
        """Why the spec refuses the schedule's step `name`: the guard and the values that
        refused it (each alternative's, when the spec offers several)."""
        whys = [self.why_not_enabled(t, cur, gerr) for t in tids]
        if len(tids) == 1:
            return whys[0] if self.ts.transitions[tids[0]].name == name else \
                f"{name} (here {whys[0]})"
        t = self.ts.transitions[tids[0]]
        values = self.cs.packing.unpack(cur)
        if t.pc is not None and values[t.pc[0]] != t.pc[1]:   # the instance is elsewhere
            return name + whys[0][len(t.name):]
        return f"none of {name}'s alternatives is enabled: " + "; ".join(whys)


def render_schedule(report: ScheduleReport, header: str) -> str:
    lines = [header]
    if report.start:
        lines.append(f"note: {report.start}")
    width = max([len(s.action or "initial state") for s in report.steps] + [13])
    for s in report.steps:
        lines.append(f"  {s.index:>4}  {(s.action or 'initial state'):<{width}}  {s.text}")
        for note in s.notes:
            lines.append(f"  {'':>4}  ^ {note}")
    n = report.length
    if report.stopped_at is not None:
        verb = "STOPS" if report.unknown else "BLOCKED"
        lines.append(f"{verb} at step {report.stopped_at} of {n}: {report.problem}")
    elif report.failures and report.steps[-1].text.startswith("FAILS"):
        lines.append(f"the schedule fails at step {len(report.steps) - 1} of {n}")
    else:
        lines.append(f"ran all {n} step{'s' if n != 1 else ''} of the schedule")
    if report.departs:
        lines.append(f"the spec first departs from the trace at {report.departs}")
    if report.failures:
        lines += [f"FAILS: {f}" for f in report.failures]
    else:
        lines.append("no property fails on the steps that ran")
    return "\n".join(lines) + "\n"
