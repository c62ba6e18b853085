"""Explanations on traces: stale checks and stale reads (the two shapes of a check-then-act
race), and the run-time error a trace ends in.

Both look at a process instance P[i] within one *round* (since P[i] last took a step at its
first step), and blame only a step of *another* instance or of an action:

- A **stale check**: P[i] takes t_k at step k; at an earlier step j of the round it took t_j,
  whose guard g_j held then.  Step k acts on a stale check when g_j is false in the state
  step k starts from, and the last step in j+1 .. k-1 that turned g_j from true to false was
  another's (that step is named).  A check the instance's own step made false is not stale:
  the instance moved on.  Guards that are always true are not checks.
- A **stale read**: at step j, P[i] copied shared state into a local x (t_j writes x with a
  term that reads slots other than P[i]'s own); at step k, with x unchanged since, P[i]
  takes a transition that reads x (in its guard, its effect or its `next`), while evaluating
  the same term again would give another value, and the last step in j+1 .. k-1 that changed
  that value was another's (that step is named).

Each check and each read is reported once, at the first step that acts on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .backends.python_codegen import CompiledSystem, compile_predicates
from .frontend import syntax as S
from .frontend.model import Model, Ref
from .frontend.unparse import unparse
from .ir.layout import ScalarRep, rep_slots, state_json, to_json
from .ir.system import Failure, TransitionSystem
from .ir.terms import TRUE, walk
from .report.text import value_text


@dataclass
class StaleCheck:
    kind = "check"
    step: int            # the step taken on the stale check
    checked_at: int      # the step whose guard was the check
    made_false_at: int   # the step after which the check no longer held
    instance: str
    check: str           # the guard, as written in the spec
    checked_by: str      # transitions at those steps
    made_false_by: str
    taken: str
    values: dict         # what the check reads, in the state step `step` starts from

    def text(self) -> str:
        now = ", ".join(f"{k}={value_text(v)}" for k, v in self.values.items())
        return (f"stale check: {self.instance} checked `{self.check}` at step {self.checked_at}; "
                f"step {self.made_false_at} ({self.made_false_by}) changed what it reads, so it "
                f"no longer held when {self.instance} took {self.taken.split('.', 1)[1]} at step "
                f"{self.step}" + (f" ({now})" if now else ""))

    def to_json(self) -> dict:
        return {"step": self.step, "checked_at": self.checked_at,
                "made_false_at": self.made_false_at, "instance": self.instance,
                "check": self.check, "values": self.values}


@dataclass
class StaleRead:
    kind = "read"
    step: int            # the step that used the stale local
    read_at: int         # the step that copied shared state into it
    changed_at: int      # the step (of another) after which a fresh read differs
    instance: str
    local: str           # "seen"
    value: object        # what the local holds (copied at `read_at`)
    fresh: object        # what reading again gives, in the state step `step` starts from
    changed_by: str
    taken: str

    def text(self) -> str:
        return (f"stale read: {self.instance} read `{self.local}` = {value_text(self.value)} "
                f"at step {self.read_at}; step {self.changed_at} ({self.changed_by}) changed "
                f"what it was read from, so it was stale when {self.instance} took "
                f"{self.taken.split('.', 1)[1]} at step {self.step} (reading again gives "
                f"{value_text(self.fresh)})")

    def to_json(self) -> dict:
        return {"step": self.step, "read_at": self.read_at, "changed_at": self.changed_at,
                "instance": self.instance, "local": self.local, "value": self.value,
                "fresh": self.fresh}


@dataclass
class FailureExplanation:
    """A run-time error at a trace's failing last step: where in the spec, what it says,
    and the values the failing expression read in the state the step starts from."""

    line: int | None
    col: int | None
    message: str
    values: dict
    location: list[str]   # for the text report: file:line:col: message, source, caret

    def to_json(self) -> dict:
        return {"line": self.line, "col": self.col, "message": self.message,
                "values": self.values}


class Explainer:
    """Compiled once per spec; explains any number of traces."""

    def __init__(self, model: Model, ts: TransitionSystem, cs: CompiledSystem):
        self.model, self.ts, self.cs = model, ts, cs
        self.effect_conds: dict[int, list] = {}
        self.checks = [k for k, t in enumerate(ts.transitions) if t.guard is not TRUE]
        fns = compile_predicates(ts, cs.packing, [ts.transitions[k].guard for k in self.checks])
        self.guard = dict(zip(self.checks, fns))
        self.own = _own_slots(ts)
        self.copies = self._copies()
        self.uses = {t.index: _slots_of([t.guard, *t.updates.values()])
                     for t in ts.transitions}

    def _copies(self) -> dict[int, dict[int, object]]:
        """Per process transition, its writes of the instance's own locals whose term reads
        state that is not the instance's own: local slot -> a compiled function of the
        state.  (The pc is not a local: its update is control, not a copy.)"""
        out: dict[int, dict[int, object]] = {}
        wanted = []
        for t in self.ts.transitions:
            who = self.owner(t.index)
            if who is None:
                continue
            own = self.own.get(who, {})
            for slot, term in t.updates.items():
                if own.get(slot) == "local" and _slots_of([term]) - set(own):
                    wanted.append((t.index, slot, term))
        fns = compile_predicates(self.ts, self.cs.packing, [w[2] for w in wanted])
        for (tid, slot, _), fn in zip(wanted, fns):
            out.setdefault(tid, {})[slot] = fn
        return out

    def races(self, path: list[tuple[int, int | None]]) -> list:
        """The stale checks and stale reads of a trace (see the module's docstring), by
        step; path as for `stale_checks`."""
        found = self.stale_checks(path) + self.stale_reads(path)
        return sorted(found, key=lambda r: r.step)

    def annotate(self, trace, path: list[tuple[int, int | None]],
                 message: str | None = None) -> None:
        """Attach the races to `trace` (a results.Trace), and the explanation of
        the error it ends in: its last step's effect fails, or (`message`, the engine's)
        a guard or a state property fails to evaluate in its last state."""
        trace.races = self.races(path)
        if len(path) > 1 and path[-1][1] is None and path[-2][1] is not None:
            trace.steps[-1].error = self.failure(path[-1][0], path[-2][1])
        elif message is not None and path[-1][1] is not None:
            trace.steps[-1].error = self.state_failure(message, path[-1][1])

    def state_failure(self, message: str, packed: int) -> FailureExplanation | None:
        """The guard or state property failure that `message` reports, explained."""
        m = re.search(r"\((in the guard of|evaluating property) (.+)\)$", message)
        if m is None:
            return None
        if m.group(1) == "in the guard of":
            fails = next((t.guard_failures for t in self.ts.transitions
                          if t.name == m.group(2)), [])
        else:
            fails = next((p.failures for p in self.ts.state_properties
                          if p.name == m.group(2)), [])
        conds = compile_predicates(self.ts, self.cs.packing, [f.cond for f in fails])
        for f, cond in zip(fails, conds):
            if cond(packed):
                return self.explain_failure(f, packed)
        return None

    def failure(self, tid: int, packed: int) -> FailureExplanation | None:
        """Why transition `tid` fails from the packed state: its first effect failure that
        holds there, with the values its expression reads."""
        fails = self.ts.transitions[tid].effect_failures
        if tid not in self.effect_conds:
            self.effect_conds[tid] = compile_predicates(self.ts, self.cs.packing,
                                                        [f.cond for f in fails])
        for f, cond in zip(fails, self.effect_conds[tid]):
            if cond(packed):
                return self.explain_failure(f, packed)
        return None

    def explain_failure(self, f: Failure, packed: int) -> FailureExplanation:
        values = self.read_values(f, packed)
        message = f.message
        if f.expr is not None and f.kind != "assertion":
            message += ": " + f.expr
        message += _values_text(values)
        line, col = (f.pos.line, f.pos.col) if f.pos is not None else (None, None)
        return FailureExplanation(line, col, message, values,
                                  self.location(line, col, message))

    def read_values(self, f: Failure, packed: int) -> dict:
        """The values of f's reads, by label, as JSON (a collection's length under
        `len(label)`, a sequence cut to its length)."""
        terms = []
        for r in f.reads:
            terms += [t for _, t in r.term] if r.kind == "array" else [r.term]
        got = iter(fn(packed) for fn in compile_predicates(self.ts, self.cs.packing, terms))
        out: dict = {}
        for r in f.reads:
            if r.kind == "array":
                out[r.label] = [self.decode(k, next(got)) for k, _ in r.term]
            elif r.kind == "length":
                n = next(got)
                out[f"len({r.label})"] = n
                if isinstance(out.get(r.label), list):
                    out[r.label] = out[r.label][:n]
            else:
                out[r.label] = self.decode(r.kind, next(got))
        return out

    def decode(self, kind: str, v: int):
        if kind == "bool":
            return bool(v)
        v = int(v)   # a term may simplify to a comparison, giving a Python bool
        if kind == "sym":
            names = self.ts.layout.symbols.names
            return names[v] if 0 <= v < len(names) else v
        return v

    def location(self, line: int | None, col: int | None, message: str) -> list[str]:
        """`file:line:col: message`, the source line and a caret under the column."""
        where = self.model.path + (f":{line}:{col}" if line is not None else "")
        out = [f"{where}: {message}"]
        text = self.model.source.line(line) if line is not None else None
        if text is not None:
            gutter = f"{line:>4} | "
            out.append(gutter + text)
            prefix = "".join(ch if ch == "\t" else " " for ch in text[:max(col - 1, 0)])
            out.append(" " * (len(gutter) - 2) + "| " + prefix + "^")
        return out

    def owner(self, tid: int) -> tuple | None:
        o = self.ts.transitions[tid].origin
        return (o[1], o[2]) if o[0] == "process" else None

    def stale_checks(self, path: list[tuple[int, int | None]]) -> list[StaleCheck]:
        """path[0] = (-1, initial state); path[k] = (transition, state after step k, or None
        when the step failed)."""
        out: list[StaleCheck] = []
        reported: set[int] = set()
        for k, tid, who, before, start in self.process_steps(path):
            for j in range(start, k):
                tj = path[j][0]
                if j in reported or tj < 0 or self.owner(tj) != who or tj not in self.guard:
                    continue
                g = self.guard[tj]
                if g(before):
                    continue
                m = self.made_false_by(path, g, j, k)
                if m is None or self.owner(path[m][0]) == who:
                    continue
                reported.add(j)
                out.append(StaleCheck(k, j, m, f"{who[0]}[{who[1]}]", self.guard_text(tj),
                                      self.ts.transitions[tj].name,
                                      self.ts.transitions[path[m][0]].name,
                                      self.ts.transitions[tid].name,
                                      self.values(tj, before)))
        return out

    @staticmethod
    def made_false_by(path, g, j: int, k: int) -> int | None:
        """The last step in j+1..k-1 that turned the guard g from true to false."""
        for m in range(k - 1, j, -1):
            if g(path[m - 1][1]) and not g(path[m][1]):
                return m
        return None

    @staticmethod
    def last_change(path, fn, j: int, k: int) -> int | None:
        """The last step in j+1..k-1 after which fn (of the state) has another value."""
        for m in range(k - 1, j, -1):
            if fn(path[m - 1][1]) != fn(path[m][1]):
                return m
        return None

    def stale_reads(self, path: list[tuple[int, int | None]]) -> list[StaleRead]:
        out: list[StaleRead] = []
        reported: set[tuple[int, int]] = set()
        unpack = self.cs.packing.unpack
        for k, tid, who, before, start in self.process_steps(path):
            state = unpack(before)
            for slot in self.uses[tid] & set(self.own.get(who, {})):
                j = self.last_write(path, slot, start, k, who)
                if j is None or (j, slot) in reported:
                    continue
                fn = self.copies.get(path[j][0], {}).get(slot)
                if fn is None:
                    continue
                fresh = fn(before)
                if fresh == state[slot]:
                    continue
                m = self.last_change(path, fn, j, k)
                if m is None or self.owner(path[m][0]) == who:
                    continue
                reported.add((j, slot))
                out.append(StaleRead(k, j, m, f"{who[0]}[{who[1]}]", self.local_name(slot),
                                     self.slot_json(slot, state[slot]),
                                     self.slot_json(slot, fresh),
                                     self.ts.transitions[path[m][0]].name,
                                     self.ts.transitions[tid].name))
        return out

    def process_steps(self, path):
        """(k, transition, instance, packed state before, start of its round) for every
        step k of the trace that a process instance takes from a known state."""
        for k in range(1, len(path)):
            tid = path[k][0]
            who = self.owner(tid)
            before = path[k - 1][1]
            if who is not None and before is not None:
                yield k, tid, who, before, self.round_start(path, k, who)

    def round_start(self, path, k: int, who) -> int:
        """The step at which `who` last took its first step before step k (1 if never)."""
        proc = self.model.process(who[0])
        for j in range(k - 1, 0, -1):
            if self.owner(path[j][0]) == who and \
                    self.ts.transitions[path[j][0]].origin[3] == proc.steps[0].name:
                return j
        return 1

    def last_write(self, path, slot: int, start: int, k: int, who) -> int | None:
        """The last step in start..k-1 where `who` wrote `slot` (None: not in this round)."""
        for j in range(k - 1, start - 1, -1):
            t = path[j][0]
            if t >= 0 and self.owner(t) == who and slot in self.ts.transitions[t].updates:
                return j
        return None

    def local_name(self, slot: int) -> str:
        """`Worker[0].seen` -> `seen`; an element keeps its index (`buf[1]`)."""
        return self.ts.slots[slot].name.split(".", 1)[1]

    def slot_json(self, slot: int, value: int):
        """A slot's value as the report shows it (a symbol's name, a bool as true/false)."""
        for f in self.ts.layout.fields:
            for rep in f.reps:
                if isinstance(rep, ScalarRep) and rep.slot == slot:
                    return to_json(rep.type, self.ts.layout.decode_scalar(rep.type, value))
        return value

    def guard_expr(self, tid: int) -> S.Expr | None:
        o = self.ts.transitions[tid].origin
        if o[0] == "action":
            return next(a for a in self.model.actions if a.name == o[1]).guard
        step = next(s for s in self.model.process(o[1]).steps if s.name == o[3])
        alt = next(a for a in step.alternatives if a.name == o[4])
        return alt.guard

    def guard_holds(self, tid: int, packed: int) -> bool:
        g = self.guard.get(tid)
        return True if g is None else bool(g(packed))

    def guard_text(self, tid: int) -> str:
        return unparse(self.guard_expr(tid))

    def values(self, tid: int, packed: int) -> dict:
        """The variables and locals the guard of `tid` reads (through defines too)."""
        state = state_json(self.ts.layout, self.cs.packing.unpack(packed))
        inst = self.ts.transitions[tid].origin[2] if self.ts.transitions[tid].origin[0] == \
            "process" else None
        out: dict = {k: v for k, v in self.ts.transitions[tid].params.items()}
        expr = self.guard_expr(tid)
        if expr is None:
            return out
        for name, ref in _reads(expr, self.model):
            if ref.kind == "var":
                out[name] = state[name]
            elif ref.kind == "local" and inst is not None:
                out[name] = state[f"{ref.process}.{name}"][inst]
        return out


def _slots_of(terms) -> set[int]:
    return {x.args[0] for term in terms for x in walk(term) if x.op == "slot"}


def _own_slots(ts: TransitionSystem) -> dict[tuple, dict[int, str]]:
    """Per process instance (P, i): its slots, each "pc" or "local"."""
    out: dict[tuple, dict[int, str]] = {}
    for f in ts.layout.fields:
        if not f.per_instance:
            continue
        proc, attr = f.key.split(".", 1)
        for i, rep in enumerate(f.reps):
            for s in rep_slots(rep):
                out.setdefault((proc, i), {})[s] = "pc" if attr == "pc" else "local"
    return out


def _values_text(values: dict) -> str:
    """` writes 4, with e = 3, record has 2 elements`: what a failing expression read."""
    scalars, sizes, written = [], [], ""
    for label, v in values.items():
        if label == "written":
            written = f" writes {value_text(v)}"
        elif label.startswith("len(") and label[4:-1] in values and label != "len(written)":
            sizes.append(f"{label[4:-1]} has {v} element{'s' if v != 1 else ''}")
        elif not isinstance(v, list) and not label.startswith("len("):
            scalars.append(f"{label} = {value_text(v)}")
    parts = (["with " + ", ".join(scalars)] if scalars else []) + sizes
    if not parts:
        return written
    return written + ("," if written or not scalars else "") + " " + ", ".join(parts)


def _reads(e: S.Expr, model: Model, seen: set | None = None):
    """(name, ref) of every variable and local an expression reads, defines expanded."""
    seen = set() if seen is None else seen
    out = []
    for node in S.walk(e):
        if isinstance(node, S.Name) and isinstance(node.ref, Ref):
            if node.ref.kind in ("var", "local") and node.id not in seen:
                seen.add(node.id)
                out.append((node.id, node.ref))
            elif node.ref.kind == "define" and node.id not in seen:
                seen.add(node.id)
                out += _reads(model.defines[node.id].body, model, seen)
        elif isinstance(node, S.Call) and node.define and node.define not in seen:
            seen.add(node.define)
            out += _reads(model.defines[node.define].body, model, seen)
    return out
