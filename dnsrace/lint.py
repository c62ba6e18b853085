"""`dnsrace lint`: warnings for specs that are legal but probably not what was meant.

Besides DR204 and DR304 (read after write, unused parameters, unreachable steps), the
DR7xx warnings find vacuous and dead parts: a guard that is false in every state its
variables' types allow (DR701, from the IR's value intervals), a constant, variable, local
or define that nothing reads (DR702-DR705), an invariant that reads no state (DR706), and a
process step that no `next` leads to (DR707).  "Reads" means an expression of the spec reads
it: a guard, an effect's right-hand sides and indices, a `next`, a property, an assume, a
used define; an assignment's target is a write, `x += 1` included.  A constant counts as
read wherever its name appears outside its declaration (types and domains too).
"""

from __future__ import annotations

import re

import networkx as nx

from .diagnostics import Diagnostic
from .frontend import syntax as S
from .frontend.model import Model, Ref
from .frontend.types import BoolT, IntT
from .frontend.unparse import unparse


def lint(model: Model) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    path = model.path
    bodies = [(f"action {a.name}", a.params, a.guard, a.effect, a.pos) for a in model.actions]
    for p in model.processes:
        for st in p.steps:
            for alt in st.alternatives:
                where = f"step {p.name}.{st.name}" + (f".{alt.name}" if alt.name else "")
                nxt = [alt.next.expr] if alt.next.expr is not None else []
                bodies.append((where, alt.params, alt.guard, alt.effect, alt.pos, nxt))
    for where, params, guard, effect, pos, *rest in bodies:
        extra = rest[0] if rest else []
        out += _read_after_write(effect, where, path)
        used = _names_used([guard] if guard else [], effect, extra)
        for prm in params:
            if prm.name not in used:
                out.append(Diagnostic("DR204", f"parameter '{prm.name}' of {where} is never used",
                                      path, prm.pos, "remove it: every binding is one more "
                                      "copy of the same transition", "warning"))
    for p in model.processes:
        sent_to = _pc_writes(model, p.name)
        never = _never_next(p, path, sent_to)
        out += never
        out += _unreachable_steps(p, path, sent_to, {d.message.split()[1] for d in never})
    out += _never_true_guards(model)
    out += _never_read(model)
    out += _stateless_invariants(model)
    return sorted(out, key=lambda d: (d.pos.line, d.pos.col) if d.pos else (0, 0))


def _pc_writes(model, process: str) -> set[str]:
    """Steps of `process` that an action's `P.pc[i] = ...` may send an instance to."""
    names = [s.name for s in model.process(process).steps]
    out: set[str] = set()
    for a in model.actions:
        for s in S.walk_stmts(a.effect):
            if isinstance(s, S.Assign) and s.attr == "pc" and s.target.id == process:
                out |= _next_targets(s.value, names)
    return out


def _warn(code: str, model: Model, pos, message: str, hint: str) -> Diagnostic:
    return Diagnostic(code, message, model.path, pos, hint, "warning")


def _roots(model: Model) -> list[S.Expr]:
    """Every expression the spec evaluates, except define bodies."""
    out: list[S.Expr] = []
    bodies = [(a.guard, a.effect, None) for a in model.actions]
    for p in model.processes:
        for st in p.steps:
            for alt in st.alternatives:
                bodies.append((alt.guard, alt.effect, alt.next.expr))
    for guard, effect, nxt in bodies:
        out += [e for e in (guard, nxt) if e is not None]
        for s in S.walk_stmts(effect):
            out += S.stmt_exprs(s)
    for prop in model.properties:
        out.append(prop.expr)
    for t in model.temporal:
        out += [e for e in (t.p, t.q) if e is not None]
    out += [c.assume for c in model.constants.values() if c.assume is not None]
    return out


def _used_defines(model: Model, roots: list[S.Expr]) -> set[str]:
    """The defines the roots use, directly or through other defines."""
    used: set[str] = set()
    todo = list(roots)
    while todo:
        for node in S.walk(todo.pop()):
            name = _define_of(node)
            if name is not None and name not in used and name in model.defines:
                used.add(name)
                todo.append(model.defines[name].body)
    return used


def _define_of(node) -> str | None:
    if isinstance(node, S.Name) and isinstance(node.ref, Ref) and node.ref.kind == "define":
        return node.id
    if isinstance(node, S.Call) and node.define:
        return node.define
    return None


def _state_reads(exprs: list[S.Expr]) -> set[tuple]:
    """("var", name) and ("local", process, name) read by the expressions (not through
    defines), and ("pc", process) for a read of a process's pc."""
    out: set[tuple] = set()
    for e in exprs:
        for node in S.walk(e):
            ref = getattr(node, "ref", None)
            if not isinstance(ref, Ref):
                continue
            if ref.kind == "var":
                out.add(("var", ref.name))
            elif ref.kind in ("local", "proclocal"):
                out.add(("local", ref.process, ref.name))
            elif ref.kind in ("pc", "procpc", "self"):
                out.add(("pc", ref.process))
    return out


def _never_read(model: Model) -> list[Diagnostic]:
    roots = _roots(model)
    used = _used_defines(model, roots)
    reads = _state_reads(roots + [model.defines[d].body for d in used])
    out = []
    for d in model.defines.values():
        if d.name not in used:
            out.append(_warn("DR705", model, d.pos, f"define '{d.name}' is never used",
                             "use it in a guard, an effect or a property, or remove it"))
    for v in model.variables:
        if ("var", v.name) not in reads:
            out.append(_warn("DR703", model, v.pos, f"variable '{v.name}' is never read",
                             "nothing depends on its value, yet every value it takes is one "
                             "more state: read it (in a guard or a property) or remove it"))
    for p in model.processes:
        for v in p.locals:
            if ("local", p.name, v.name) not in reads:
                out.append(_warn("DR704", model, v.pos, f"local '{v.name}' of {p.name} is "
                                 "never read", "nothing depends on its value, yet every value "
                                 "it takes is one more state: read it or remove it"))
    text = _without_comments(model.source.lines)
    for c in model.constants.values():
        word = re.compile(rf"(?<![\w.]){re.escape(c.name)}(?!\w)")
        if not any(word.search(line) for k, line in enumerate(text, 1) if k != c.pos.line):
            out.append(_warn("DR702", model, c.pos, f"constant '{c.name}' is never used",
                             "use it, or remove it"))
    return out


def _without_comments(lines: list[str]) -> list[str]:
    """The source lines with YAML comments (`#` at a line's start or after a space) cut."""
    return [re.sub(r"(^|\s)#.*$", "", line) for line in lines]


def _stateless_invariants(model: Model) -> list[Diagnostic]:
    out = []
    for prop in model.properties:
        if prop.kind != "invariant":
            continue
        exprs = [prop.expr] + [model.defines[d].body for d in _used_defines(model, [prop.expr])]
        if not _state_reads(exprs):
            out.append(_warn("DR706", model, prop.expr.pos, f"invariant {prop.name} reads no "
                             "variable, local or pc, so it is the same in every state",
                             "compare a variable with the value it must keep"))
    return out


def _never_true_guards(model: Model) -> list[Diagnostic]:
    """Guards that the IR folds to false for every instance and parameter binding."""
    from .ir.lower import lower
    from .ir.terms import FALSE
    ts = lower(model)   # raises SpecError where the spec cannot be lowered (DR5xx)
    live: dict[tuple, bool] = {}
    for t in ts.transitions:
        o = t.origin
        key = o if o[0] == "action" else ("process", o[1], o[3], o[4])
        live[key] = live.get(key, False) or t.guard is not FALSE
    out = []
    for a in model.actions:
        if a.guard is not None and live.get(("action", a.name)) is False:
            out.append(_never_true(model, a.guard, f"action {a.name}"))
    for p in model.processes:
        for st in p.steps:
            for alt in st.alternatives:
                key = ("process", p.name, st.name, alt.name)
                if alt.guard is not None and live.get(key) is False:
                    where = f"step {p.name}.{st.name}" + (f".{alt.name}" if alt.name else "")
                    out.append(_never_true(model, alt.guard, where))
    return out


def _never_true(model: Model, guard: S.Expr, where: str) -> Diagnostic:
    return _warn("DR701", model, guard.pos, f"the guard of {where} is never true: "
                 f"`{unparse(guard)}` is false for every value the types of what it reads "
                 "allow", "compare against values the variables can take (see their types)")


def _never_next(p, path: str, sent_to: set[str]) -> list[Diagnostic]:
    """Steps other than the first that no `next` names (nor may yield), and that no action
    sends an instance to."""
    names = [s.name for s in p.steps]
    targets: set[str] = set(sent_to)
    for st in p.steps:
        for alt in st.alternatives:
            if alt.next.target is not None:
                targets.add(alt.next.target)
            else:
                targets |= _next_targets(alt.next.expr, names)
    return [Diagnostic("DR707", f"step {p.name}.{st.name} is never the target of a `next` "
                       f"and no action sends an instance there, so it can never run (a "
                       f"process starts at its first step, {names[0]})", path, st.pos,
                       "name it in the `next` of the step that should lead to it, or remove "
                       "it", "warning")
            for st in p.steps[1:] if st.name not in targets]


def _names_used(exprs, effect, extra) -> set[str]:
    used: set[str] = set()
    roots = [e for e in exprs if e is not None] + list(extra)
    for s in S.walk_stmts(effect):
        roots += S.stmt_exprs(s)
    for r in roots:
        for node in S.walk(r):
            if isinstance(node, S.Name):
                used.add(node.id)
    return used


def _reads(e: S.Expr) -> set[str]:
    out = set()
    for node in S.walk(e):
        if isinstance(node, S.Name) and isinstance(node.ref, Ref) and node.ref.kind in ("var",
                                                                                       "local"):
            out.add(node.id)
    return out


def _read_after_write(effect: list[S.Stmt], where: str, path: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    written: dict[str, int] = {}
    reported: set[str] = set()
    for s in S.walk_stmts(effect):
        for e in S.stmt_exprs(s):
            for name in sorted(_reads(e)):
                if name in written and name not in reported and not (
                        isinstance(s, S.Assign) and s.target.id == name and s.op != "="):
                    reported.add(name)
                    out.append(Diagnostic(
                        "DR204", f"{where} reads '{name}' after writing it (line "
                        f"{written[name]}): effects run in order, so this is the new value",
                        path, e.pos, "if you meant the value before the step (as x in TLA+ "
                        "next to x'), read it into a temporary local first or reorder",
                        "warning"))
        if isinstance(s, S.Assign):
            written.setdefault(s.shown, s.pos.line)
    return out


def _unreachable_steps(p, path: str, sent_to: set[str], reported: set[str]
                       ) -> list[Diagnostic]:
    """Steps that `next`s name but that no chain of `next`s leads to from the first step or
    from a step an action sends an instance to (those named by none are DR707's)."""
    g = nx.DiGraph()
    names = [s.name for s in p.steps]
    g.add_nodes_from(names + ["done"])
    for st in p.steps:
        for alt in st.alternatives:
            if alt.next.target is not None:
                g.add_edge(st.name, alt.next.target)
                continue
            targets = _next_targets(alt.next.expr, names)
            for t in targets:
                g.add_edge(st.name, t)
    reach = set()
    for start in {names[0]} | (sent_to & set(names)):   # actions may send an instance there
        reach |= nx.descendants(g, start) | {start}
    out = []
    for st in p.steps:
        if st.name not in reach and f"{p.name}.{st.name}" not in reported:
            out.append(Diagnostic("DR304", f"step {p.name}.{st.name} can never run: no `next` "
                                  f"leads to it from {names[0]}, and no action sends an "
                                  "instance there", path, st.pos,
                                  "add it as a `next` target or remove it", "warning"))
    return out


def _next_targets(e: S.Expr, names: list[str]) -> set[str]:
    """Steps a `next` expression may yield: the step names it mentions, or every step when it
    reads state (or a define) that could hold one."""
    out: set[str] = set()
    for node in S.walk(e):
        ref = getattr(node, "ref", None)
        if not isinstance(ref, Ref):
            continue
        if ref.kind == "sym" and node.id in names + ["done"]:
            out.add(node.id)
        elif ref.kind in ("var", "local", "pc", "define", "procpc") and \
                not isinstance(node.type, (IntT, BoolT)):
            out |= set(names)
    return out


def lint_spec(path: str, overrides: dict[str, int] | None = None) -> list[Diagnostic]:
    """Everything `dnsrace lint` says about the spec at `path`: its errors (when it is
    invalid, or cannot be lowered), or the front end's warnings and lint's."""
    from .diagnostics import SpecError
    from .frontend.build import load_model

    try:
        model = load_model(path, overrides or {})
        return list(model.warnings) + lint(model)   # lowers it: DR5xx are errors
    except SpecError as exc:
        return list(exc.diagnostics)
