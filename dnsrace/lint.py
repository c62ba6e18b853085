"""`dnsrace lint`: warnings for specs that are legal but probably not what was meant."""

from __future__ import annotations

import networkx as nx

from .diagnostics import Diagnostic
from .frontend import syntax as S
from .frontend.model import Model, Ref
from .frontend.types import BoolT, IntT


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
        out += _unreachable_steps(p, path, _pc_writes(model, p.name))
    return out


def _pc_writes(model, process: str) -> set[str]:
    """Steps of `process` that an action's `P.pc[i] = ...` may send an instance to."""
    names = [s.name for s in model.process(process).steps]
    out: set[str] = set()
    for a in model.actions:
        for s in S.walk_stmts(a.effect):
            if isinstance(s, S.Assign) and s.attr == "pc" and s.target.id == process:
                out |= _next_targets(s.value, names)
    return out


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


def _unreachable_steps(p, path: str, sent_to: set[str]) -> list[Diagnostic]:
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
        if st.name not in reach:
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
