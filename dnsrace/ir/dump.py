"""A readable listing of the transition IR (`dnsrace compile --emit ir`)."""

from __future__ import annotations

from .system import TransitionSystem
from .terms import Term


def term_text(t: Term, names: list[str]) -> str:
    if t.op == "const":
        return str(t.args[0])
    if t.op == "slot":
        return names[t.args[0]]
    if t.op == "post":
        return names[t.args[0]] + "'"
    return f"{t.op}(" + ", ".join(term_text(a, names) for a in t.args) + ")"


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
        out.append(f"  guard   {term_text(t.guard, names)}")
        for f in t.guard_failures:
            out.append(f"  guard fails ({f.kind}: {f.message}) when {term_text(f.cond, names)}")
        for f in t.effect_failures:
            out.append(f"  fails ({f.kind}: {f.message}) when {term_text(f.cond, names)}")
        for k, v in sorted(t.updates.items()):
            out.append(f"  {names[k]}' = {term_text(v, names)}")
    for p in ts.state_properties:
        out.append("")
        out.append(f"{p.kind} {p.name}: {term_text(p.term, names)}")
    for p in ts.transition_properties:
        out.append("")
        out.append(f"transition property {p.name}: {term_text(p.term, names)}")
    return "\n".join(out)
