"""How a permutation of a scalarset's identities acts on a state (issue #13).

A scalarset `S` of `size` identities (0..size-1) is laid out by lowering; a permutation
`p` (p[i] is the image of identity i) maps a state (a tuple of slot values, in
`TransitionSystem.slots` order) to another state:

  1. `blocks[i]` are the slots that belong to identity i (its row of every array indexed by
     S, its process instance's pc and locals when a process has `count: S`), all blocks
     the same length and in the same order of meaning: block i's k-th slot moves to
     block p[i]'s k-th slot;
  2. then every slot in `values` holds an identity v, which becomes p[v]; a value inside a
     sequence is one only below the sequence's length (its unused positions hold 0, and
     stay 0): `(slot, length_slot, position)`, with length_slot None outside sequences;
  3. then every slot in `masks` holds a set of identities as bits (bit i: identity i),
     and bit i moves to bit p[i].

Every slot not named is left as it is.  Lowering builds one `Scalarset` per scalarset of
the spec (`TransitionSystem.scalarsets`); the explicit engines canonicalise states with
them, and `apply` is the reference semantics every faster method is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scalarset:
    name: str
    size: int
    blocks: tuple[tuple[int, ...], ...]
    values: tuple[tuple[int, int | None, int], ...] = ()
    masks: tuple[int, ...] = ()

    def apply(self, p: tuple[int, ...], state: tuple[int, ...]) -> tuple[int, ...]:
        """The state with identity i renamed p[i] everywhere (the reference semantics)."""
        out = list(state)
        for i, block in enumerate(self.blocks):
            for k, slot in enumerate(block):
                out[self.blocks[p[i]][k]] = state[slot]
        for slot, length_slot, position in self.values:
            if length_slot is None or position < out[length_slot]:
                out[slot] = p[out[slot]]
        for slot in self.masks:
            m = out[slot]
            out[slot] = sum(1 << p[i] for i in range(self.size) if m >> i & 1)
        return tuple(out)
