"""One level of the array engine (`engines.array_bfs`): what the generated array code
reports about a frontier (`LevelOut`, `StateOut`), the sorted set of visited keys
(`Visited`), and the sort that deduplicates a level's successors while keeping, for each,
the first (parent, transition) pair in the per-state engine's order (`first_code_per_key`,
`by_code`).

A *code* names a (parent, transition) pair of a level: parent * n_transitions + transition,
so that codes ascend in the per-state engine's order of discovery.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- one level's events


class LevelOut:
    """What the generated `expand_level` reports for one frontier: enabled positions and
    successors per transition, and the first position of each kind of event."""

    def __init__(self, effect_kinds: list[str]):
        self.effect_kinds = effect_kinds
        self.enabled_by_t: list[tuple[int, np.ndarray]] = []
        self.succ: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.guard_first: list[tuple[int, int, int]] = []          # (i, t, number)
        self.effect_first: dict[str, list[tuple[int, int, int]]] = {}  # kind -> (i, t, number)
        self.tp_fire: dict[int, list[tuple[int, int, int]]] = {}   # k -> (i, t, key)
        self.tp_fail: dict[int, list[tuple[int, int, int, int]]] = {}  # k -> (i, t, key, code)

    @staticmethod
    def _first_codes(m: int, conds: list) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(mask of positions where some cond holds, first cond number per position)."""
        anyf = None
        for c in conds:
            if c is False:
                continue
            if c is True:
                anyf = np.ones(m, dtype=bool)
                break
            anyf = c.copy() if anyf is None else (anyf | c)
        if anyf is None or not anyf.any():
            return None, None
        num = np.full(m, -1, dtype=np.int64)
        for j in range(len(conds) - 1, -1, -1):   # the first cond wins: write it last
            c = conds[j]
            if c is False:
                continue
            if c is True:
                num[:] = j
            else:
                num[c] = j
        return anyf, num

    def guard_failures(self, t: int, ix, conds, nums):
        anyf, num = self._first_codes(ix.shape[0], conds)
        if anyf is None:
            return None
        p = int(np.argmax(anyf))
        self.guard_first.append((int(ix[p]), t, nums[num[p]]))
        return ~anyf

    def enabled(self, t: int, ix) -> None:
        self.enabled_by_t.append((t, ix))

    def effect_failures(self, t: int, ix, conds, nums):
        anyf, num = self._first_codes(ix.shape[0], conds)
        if anyf is None:
            return None
        where = np.flatnonzero(anyf)
        kinds = np.array([self.effect_kinds[n] for n in nums], dtype=object)[num[where]]
        for kind in ("assertion", "type", "error"):
            hit = np.flatnonzero(kinds == kind)
            if hit.size:
                p = int(where[hit[0]])
                self.effect_first.setdefault(kind, []).append((int(ix[p]), t, nums[num[p]]))
        return ~anyf

    def transition_property(self, t: int, k: int, ix, keys, conds, fires) -> None:
        m = ix.shape[0]
        anyf, num = self._first_codes(m, conds)
        if anyf is not None:
            p = int(np.argmax(anyf))
            self.tp_fail.setdefault(k, []).append((int(ix[p]), t, int(keys[p]),
                                                   -1 - int(num[p])))
        if fires is False:
            return
        f = np.ones(m, dtype=bool) if fires is True else fires
        if anyf is not None:
            f = f & ~anyf
        if f.any():
            p = int(np.argmax(f))
            self.tp_fire.setdefault(k, []).append((int(ix[p]), t, int(keys[p])))

    def successors(self, t: int, ix, keys) -> None:
        if ix.shape[0]:
            self.succ.append((t, ix, keys))


class StateOut:
    """First event per state property over one level's new states."""

    def __init__(self, n: int):
        self.n = n
        self.fire: dict[int, int] = {}             # k -> first position
        self.fail: dict[int, tuple[int, int]] = {}  # k -> (first position, code)

    def state_property(self, k: int, conds, fires) -> None:
        anyf, num = LevelOut._first_codes(self.n, conds)
        if anyf is not None:
            p = int(np.argmax(anyf))
            self.fail[k] = (p, -1 - int(num[p]))
        if fires is False:
            return
        f = np.ones(self.n, dtype=bool) if fires is True else fires
        if anyf is not None:
            f = f & ~anyf
        if f.any():
            self.fire[k] = int(np.argmax(f))


# ---------------------------------------------------------------- the visited set


class Visited:
    """Sorted uint64 keys, merged into one of two reused buffers (no page faults from a
    fresh allocation per level)."""

    def __init__(self):
        self.bufs = [np.empty(1024, dtype=np.uint64), np.empty(1024, dtype=np.uint64)]
        self.cur = 0
        self.n = 0

    @property
    def keys(self) -> np.ndarray:
        return self.bufs[self.cur][:self.n]

    def lookup(self, sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(insertion positions, mask of keys already present)."""
        v = self.keys
        pos = np.searchsorted(v, sorted_keys)
        if self.n == 0:
            return pos, np.zeros(sorted_keys.shape[0], dtype=bool)
        return pos, np.take(v, pos, mode="clip") == sorted_keys

    def merge(self, new_keys: np.ndarray, pos: np.ndarray) -> None:
        """Insert sorted `new_keys` (absent; `pos` from `lookup`)."""
        nn = new_keys.shape[0]
        if not nn:
            return
        total = self.n + nn
        other = 1 - self.cur
        if self.bufs[other].shape[0] < total:
            # an eighth to spare: late levels grow the set by little, so a reallocation
            # (fresh pages, page faults) is rare, and the two buffers stay near 8 bytes/state
            self.bufs[other] = np.empty(total + total // 8 + 1024, dtype=np.uint64)
        out = self.bufs[other][:total]
        ins = pos + np.arange(nn)
        keep = np.ones(total, dtype=bool)
        keep[ins] = False
        out[ins] = new_keys
        out[keep] = self.keys
        self.cur, self.n = other, total

    def release_spare(self) -> None:
        """Free the second buffer (after the search: only lookups remain)."""
        self.bufs[1 - self.cur] = np.empty(0, dtype=np.uint64)

    def contains(self, key: int) -> bool:
        v = self.keys
        p = int(np.searchsorted(v, np.uint64(key)))
        return p < self.n and int(v[p]) == key

    @property
    def nbytes(self) -> int:
        return self.bufs[0].nbytes + self.bufs[1].nbytes


def enabled_per_state(lo: LevelOut, n: int) -> np.ndarray:
    en = np.zeros(n, dtype=np.int32)
    for _, ix in lo.enabled_by_t:
        en[ix] += 1
    return en


def first_code_per_key(keys: np.ndarray, codes: np.ndarray, key_bits: int, code_bits: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, ascending, each with its smallest code (uint64 arrays; keys below
    2**key_bits, codes below 2**code_bits).  Sorts (key, code) pairs: when both fit in 64
    bits, as one number with a plain sort, several times faster than an argsort; else
    grouped first by the key's top bits (a radix argsort of small integers), each group
    then sorted as one number; else with an argsort.  Overwrites `keys` and `codes`: pass
    arrays nobody else holds, so that they are freed as soon as they are used up."""
    m = keys.shape[0]
    if m == 0:
        return keys, codes
    cmask = np.uint64((1 << code_bits) - 1)
    cb = np.uint64(code_bits)
    over = key_bits + code_bits - 64
    if over <= 0:
        comb = keys
        comb <<= cb
        comb |= codes
        del keys, codes
        comb.sort()
        ks = comb >> cb
    elif over <= 12:
        low_bits = np.uint64(64 - code_bits)
        lowmask = np.uint64((1 << (64 - code_bits)) - 1)
        hi = (keys >> low_bits).astype(np.uint8 if over <= 8 else np.uint16)
        perm = np.argsort(hi, kind="stable")
        counts = np.bincount(hi, minlength=1 << over)
        del hi
        comb = codes[perm]
        del codes
        ks = keys[perm]
        del keys, perm
        low = ks & lowmask
        low <<= cb
        comb |= low
        del low
        start = 0
        for c in counts.tolist():
            if c > 1:
                comb[start:start + c].sort()
            start += c
        ks &= ~lowmask      # the group's top bits, and the rest from the sorted numbers
        ks |= comb >> cb
    else:
        perm = np.argsort(keys)
        ks = keys[perm]
        cs = codes[perm]
        del perm, keys, codes
        flag = np.empty(m, dtype=bool)
        flag[0] = True
        np.not_equal(ks[1:], ks[:-1], out=flag[1:])
        starts = np.flatnonzero(flag)
        return ks[starts], np.minimum.reduceat(cs, starts)
    flag = np.empty(m, dtype=bool)
    flag[0] = True
    np.not_equal(ks[1:], ks[:-1], out=flag[1:])
    uk = ks[flag]
    del ks
    comb &= cmask
    return uk, comb[flag]


def by_code(keys: np.ndarray, codes: np.ndarray, code_bits: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """keys and codes (distinct) reordered by code, sorting each code with its position
    as one number when they fit in 64 bits."""
    n = keys.shape[0]
    if n == 0:
        return keys, codes
    rank_bits = max(int(n - 1).bit_length(), 1)
    if code_bits + rank_bits <= 64:
        comb = (codes << np.uint64(rank_bits)) | np.arange(n, dtype=np.uint64)
        comb.sort()
        order = (comb & np.uint64((1 << rank_bits) - 1)).view(np.int64)
        return keys[order], comb >> np.uint64(rank_bits)
    order = np.argsort(codes)
    return keys[order], codes[order]
