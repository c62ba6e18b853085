"""Which owner keeps a state: its key, mixed (a bijection that spreads structured keys over
all 64 bits), taken modulo the number of owners.  Every owner and the driver use this one
function, so a state's owner never depends on where it was found."""

from __future__ import annotations

from ..array_level import MIX
from ..device import numpy as np


def owner_of(keys: np.ndarray, owners: int) -> np.ndarray:
    """The owner (0 .. owners - 1) of each uint64 key."""
    if owners == 1:
        return np.zeros(keys.shape[0], dtype=np.int64)
    mixed = keys * np.uint64(MIX)
    mixed >>= np.uint64(32)
    return (mixed % np.uint64(owners)).astype(np.int64)


def owner_of_key(key: int, owners: int) -> int:
    return int(owner_of(np.asarray([key], dtype=np.uint64), owners)[0])


def split(keys: np.ndarray, codes: np.ndarray, owners: int) -> list[tuple]:
    """(keys, codes) per owner; each part keeps the order it had (sorted stays sorted)."""
    if owners == 1:
        return [(keys, codes)]
    dest = owner_of(keys, owners)
    if owners <= 255:   # a stable sort of bytes is a radix sort
        dest = dest.astype(np.uint8)
    order = np.argsort(dest, kind="stable")
    counts = np.bincount(dest, minlength=owners)
    ks, cs = keys[order], codes[order]
    out, start = [], 0
    for c in counts.tolist():
        out.append((ks[start:start + c], cs[start:start + c]))
        start += c
    return out
