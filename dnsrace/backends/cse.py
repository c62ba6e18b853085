"""Which sub-terms a code generator hoists into temporaries: those used more than once, and
those nested deeper than a limit (Python's parser caps nesting).  Safe to evaluate early,
because every IR term is total."""

from __future__ import annotations

from ..ir.terms import Term, walk

MAX_INLINE_DEPTH = 30


def terms_to_hoist(roots: list[Term], named: set[int], max_depth: int = MAX_INLINE_DEPTH
                   ) -> list[Term]:
    """The terms to bind to temporaries, children before parents; `named` holds the ids of
    terms that already have a name (they count as leaves)."""
    order = [t for r in roots for t in walk(r)]
    uses: dict[int, int] = {}
    for t in {id(t): t for t in order}.values():
        for a in t.args:
            if isinstance(a, Term):
                uses[id(a)] = uses.get(id(a), 0) + 1
    for r in roots:
        uses[id(r)] = uses.get(id(r), 0) + 1
    out: list[Term] = []
    depth: dict[int, int] = {}
    for t in order:
        if id(t) in depth:
            continue
        if t.op in ("const", "slot", "post") or id(t) in named:
            depth[id(t)] = 0
            continue
        d = 1 + max((depth.get(id(a), 0) for a in t.args if isinstance(a, Term)), default=0)
        if uses.get(id(t), 0) > 1 or d > max_depth:
            out.append(t)
            d = 0
        depth[id(t)] = d
    return out
