"""Where each scalarset's identities live in the state layout (issue #13): one
`ir.symmetry.Scalarset` per scalarset of the spec, read off the layout that lowering built.

A slot belongs to identity i's block when it is element i of an array indexed by the
scalarset, or part of instance i of a process with `count: S`; a slot holds an identity
(a *value*) when its type is the scalarset; a slot holds a *mask* when it is a set of the
scalarset (bit i: identity i).  The front end refuses what a block cannot express: an array
indexed by S inside another (or inside a `count: S` instance's locals).
"""

from __future__ import annotations

from ..frontend.model import Model
from ..frontend.types import ScalarsetT, SetT
from .layout import ArrayRep, Layout, Rep, ScalarRep
from .symmetry import Scalarset


def scalarsets_of(model: Model, layout: Layout) -> list[Scalarset]:
    return [_one(model, layout, s) for s in model.scalarsets.values()]


def _one(model: Model, layout: Layout, s: ScalarsetT) -> Scalarset:
    blocks: list[list[int]] = [[] for _ in range(s.size)]
    values: list[tuple[int, int | None, int]] = []
    masks: list[int] = []

    def walk(rep: Rep, block: int | None, len_slot: int | None, position: int) -> None:
        if isinstance(rep, ScalarRep):
            if block is not None:
                blocks[block].append(rep.slot)
            if _is(rep.type, s):
                values.append((rep.slot, len_slot, position))
            elif isinstance(rep.type, SetT) and _is(rep.type.elem, s):
                masks.append(rep.slot)
        elif isinstance(rep, ArrayRep):
            by_identity = _is(rep.type.key, s)
            assert not (by_identity and block is not None), "an array by S inside S's block"
            for i, r in enumerate(rep.elems):
                walk(r, i if by_identity else block, len_slot, position)
        else:
            if block is not None:
                blocks[block].append(rep.len_slot)
            for k, r in enumerate(rep.elems):
                walk(r, block, rep.len_slot, k)

    for f in layout.fields:
        owner = model.process(f.key.split(".")[0]) if f.per_instance else None
        per_identity = owner is not None and owner.identities is not None \
            and owner.identities.name == s.name
        for i, rep in enumerate(f.reps):
            walk(rep, i if per_identity else None, None, 0)
    return Scalarset(s.name, s.size, tuple(tuple(b) for b in blocks), tuple(values),
                     tuple(masks))


def _is(t, s: ScalarsetT) -> bool:
    return isinstance(t, ScalarsetT) and t.name == s.name


__all__ = ["scalarsets_of"]
