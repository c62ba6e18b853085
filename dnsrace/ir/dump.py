"""A readable listing of the transition IR (`dnsrace compile --emit ir`)."""

from __future__ import annotations

from .system import TransitionSystem
from .terms import Term, walk

MAX_DEPTH = 40      # a sub-term nested deeper is listed once, as `let tN = ...`, and named
MAX_SHARED = 200    # ... and so is a sub-term used twice whose text would be this long


def term_text(t: Term, names: list[str], bound: dict[int, str] | None = None) -> str:
    """t as text; `bound` names sub-terms listed before (by id).  Iterative: a term nested
    thousands deep (a loop unrolled over many values) cannot overflow Python's stack."""
    bound = bound or {}
    text: dict[int, str] = {}
    for x in walk(t):
        if id(x) in bound:
            text[id(x)] = bound[id(x)]
        elif x.op == "const":
            text[id(x)] = str(x.args[0])
        elif x.op == "slot":
            text[id(x)] = names[x.args[0]]
        elif x.op == "post":
            text[id(x)] = names[x.args[0]] + "'"
        else:
            text[id(x)] = f"{x.op}(" + ", ".join(
                text[id(a)] if isinstance(a, Term) else str(a) for a in x.args) + ")"
    return text[id(t)]


def named_parts(roots: list[Term], names: list[str], out: list[str]) -> dict[int, str]:
    """Lists, as `let tN = ...` lines in `out`, the sub-terms of roots nested deeper than
    MAX_DEPTH or shared and long (their text would repeat, doubling at each use), and
    returns their names by id; none for the terms of an ordinary spec."""
    order = [x for r in roots for x in walk(r)]
    uses: dict[int, int] = {}
    for x in {id(x): x for x in order}.values():
        for a in x.args:
            if isinstance(a, Term):
                uses[id(a)] = uses.get(id(a), 0) + 1
    bound: dict[int, str] = {}
    depth: dict[int, int] = {}
    size: dict[int, int] = {}
    for x in order:
        if id(x) in depth:
            continue
        kids = [a for a in x.args if isinstance(a, Term)]
        d = 1 + max((depth[id(a)] for a in kids), default=0)
        n = min(1 + sum(size[id(a)] for a in kids), 1 << 30)
        if kids and (d > MAX_DEPTH or (uses.get(id(x), 0) > 1 and n > MAX_SHARED)):
            name = f"t{len(bound)}"
            out.append(f"  let {name} = {term_text(x, names, bound)}")
            bound[id(x)] = name
            d, n = 0, 1
        depth[id(x)], size[id(x)] = d, n
    return bound


def dump(ts: TransitionSystem) -> str:
    names = [s.name for s in ts.slots]
    out = [f"system {ts.name}", "", "slots:"]
    for s in ts.slots:
        rng = f"{s.lo}..{s.hi}" if s.lo is not None and s.hi is not None else "int"
        out.append(f"  {s.index:>3}  {s.name:<24} {rng}")
    out.append(f"initial states: {len(ts.initial)}")
    for sc in ts.scalarsets:
        out.append(f"scalarset {sc.name} ({sc.size} identities):")
        for i, block in enumerate(sc.blocks):
            out.append(f"  identity {i}: " + (", ".join(names[k] for k in block) or "-"))
        if sc.values:
            out.append("  holding an identity: " + ", ".join(names[k] for k, _, _ in sc.values))
        if sc.masks:
            out.append("  sets of identities: " + ", ".join(names[k] for k in sc.masks))
    for t in ts.transitions:
        out.append("")
        out.append(f"transition {t.index}: {t.name}")
        if t.pc:
            out.append(f"  at      {names[t.pc[0]]} == {t.pc[1]}")
        bound = named_parts([t.guard, *(f.cond for f in t.guard_failures),
                             *(f.cond for f in t.effect_failures), *t.updates.values()],
                            names, out)
        out.append(f"  guard   {term_text(t.guard, names, bound)}")
        for f in t.guard_failures:
            out.append(f"  guard fails ({f.kind}: {f.message}) when "
                       f"{term_text(f.cond, names, bound)}")
        for f in t.effect_failures:
            out.append(f"  fails ({f.kind}: {f.message}) when {term_text(f.cond, names, bound)}")
        for k, v in sorted(t.updates.items()):
            out.append(f"  {names[k]}' = {term_text(v, names, bound)}")
    for p in ts.state_properties:
        out.append("")
        bound = named_parts([p.term], names, out)
        out.append(f"{p.kind} {p.name}: {term_text(p.term, names, bound)}")
    for p in ts.transition_properties:
        out.append("")
        bound = named_parts([p.term], names, out)
        out.append(f"transition property {p.name}: {term_text(p.term, names, bound)}")
    return "\n".join(out)
