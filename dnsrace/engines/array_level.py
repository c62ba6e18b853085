"""One level of the array engine (`engines.array_bfs`): what the generated array code
reports about a frontier (`LevelOut`, `StateOut`), the sorted set of visited keys
(`Visited`), and the sort that deduplicates a level's successors while keeping, for each,
the first (parent, transition) pair in the per-state engine's order (`first_code_per_key`,
`by_code`).

A *code* names a (parent, transition) pair of a level: parent * n_transitions + transition,
so that codes ascend in the per-state engine's order of discovery.

The sorts are the engine's largest cost after the expansion.  A (key, code) pair that fits
in 64 bits sorts as one number with a plain sort, the fastest numpy has.  Wider pairs
(large levels of wide states) are sorted in the *mixed order*: each key is multiplied by an
odd constant (`MIX`, a bijection of the 64-bit integers that spreads structured keys over
the whole range), its low bits are replaced by the candidate's index, and one plain sort
orders the candidates by their mixed keys' top bits, ties rare and repaired.  Once a search
needs the mixed order its visited set is re-sorted in it (`Visited.use_mixed`), and keys
are unmixed again for the next frontier.
"""

from __future__ import annotations

from .device import numpy as np

# ---------------------------------------------------------------- one level's events


class LevelOut:
    """What the generated `expand_level` reports for one frontier: enabled positions and
    successors per transition, and the first position of each kind of event.  Arrays are
    of the array module `xp`; positions and codes it keeps are Python ints."""

    def __init__(self, effect_kinds: list[str], xp=np):
        self.effect_kinds = effect_kinds
        self.xp = xp
        self.enabled_by_t: list[tuple[int, np.ndarray]] = []
        self.succ: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.guard_first: list[tuple[int, int, int]] = []          # (i, t, number)
        self.effect_first: dict[str, list[tuple[int, int, int]]] = {}  # kind -> (i, t, number)
        self.tp_fire: dict[int, list[tuple[int, int, int]]] = {}   # k -> (i, t, key)
        self.tp_fail: dict[int, list[tuple[int, int, int, int]]] = {}  # k -> (i, t, key, code)

    @staticmethod
    def _any(xp, m: int, conds: list):
        """The mask of positions where some cond holds, or None where none does."""
        anyf = None
        for c in conds:
            if c is False:
                continue
            if c is True:
                return xp.ones(m, dtype=bool) if m else None
            anyf = c.copy() if anyf is None else (anyf | c)
        if anyf is None or not bool(anyf.any()):
            return None
        return anyf

    @staticmethod
    def _first_cond(conds: list, p: int) -> int:
        """The number of the first cond that holds at position p."""
        for j, c in enumerate(conds):
            if c is True or (c is not False and bool(c[p])):
                return j
        raise AssertionError("no cond holds")

    def guard_failures(self, t: int, ix, conds, nums):
        anyf = self._any(self.xp, ix.shape[0], conds)
        if anyf is None:
            return None
        p = int(anyf.argmax())
        self.guard_first.append((int(ix[p]), t, nums[self._first_cond(conds, p)]))
        return ~anyf

    def enabled(self, t: int, ix) -> None:
        self.enabled_by_t.append((t, ix))

    def effect_failures(self, t: int, ix, conds, nums):
        """A position fails with the first of its conds that holds; the kind of that cond
        (assertion, type, error) decides which outcome it belongs to."""
        xp, m = self.xp, ix.shape[0]
        anyf = self._any(xp, m, conds)
        if anyf is None:
            return None
        kinds = [self.effect_kinds[n] for n in nums]
        if len(set(kinds)) == 1:
            hits = {kinds[0]: anyf}
        else:   # positions whose first holding cond is of each kind
            hits: dict = {}
            prior = None
            for c, kind in zip(conds, kinds):
                if c is False:
                    continue
                cm = xp.ones(m, dtype=bool) if c is True else c
                h = cm if prior is None else cm & ~prior
                hits[kind] = h if kind not in hits else hits[kind] | h
                prior = cm if prior is None else prior | cm
        for kind in ("assertion", "type", "error"):
            h = hits.get(kind)
            if h is None:
                continue
            p = int(h.argmax())
            if not bool(h[p]):
                continue
            j = self._first_cond(conds, p)
            self.effect_first.setdefault(kind, []).append((int(ix[p]), t, nums[j]))
        return ~anyf

    def transition_property(self, t: int, k: int, ix, keys, conds, fires) -> None:
        xp, m = self.xp, ix.shape[0]
        anyf = self._any(xp, m, conds)
        if anyf is not None:
            p = int(anyf.argmax())
            self.tp_fail.setdefault(k, []).append((int(ix[p]), t, int(keys[p]),
                                                   -1 - self._first_cond(conds, p)))
        if fires is False:
            return
        f = xp.ones(m, dtype=bool) if fires is True else fires
        if anyf is not None:
            f = f & ~anyf
        if m and bool(f.any()):
            p = int(f.argmax())
            self.tp_fire.setdefault(k, []).append((int(ix[p]), t, int(keys[p])))

    def successors(self, t: int, ix, keys) -> None:
        if ix.shape[0]:
            self.succ.append((t, ix, keys))


class StateOut:
    """First event per state property over one level's new states."""

    def __init__(self, n: int, xp=np):
        self.n = n
        self.xp = xp
        self.fire: dict[int, int] = {}             # k -> first position
        self.fail: dict[int, tuple[int, int]] = {}  # k -> (first position, code)

    def state_property(self, k: int, conds, fires) -> None:
        xp = self.xp
        anyf = LevelOut._any(xp, self.n, conds)
        if anyf is not None:
            p = int(anyf.argmax())
            self.fail[k] = (p, -1 - LevelOut._first_cond(conds, p))
        if fires is False:
            return
        f = xp.ones(self.n, dtype=bool) if fires is True else fires
        if anyf is not None:
            f = f & ~anyf
        if self.n and bool(f.any()):
            self.fire[k] = int(f.argmax())


# ---------------------------------------------------------------- the visited set


MIX = 0x9E3779B97F4A7C15            # odd: x -> x * MIX is a bijection mod 2**64
UNMIX = pow(MIX, -1, 1 << 64)       # its inverse


def mix(keys, xp=np):
    return keys * np.uint64(MIX)


def unmix(ys, xp=np):
    return ys * np.uint64(UNMIX)


class Visited:
    """Sorted uint64 keys (or mixed keys, once `use_mixed` was called), merged into one of
    two reused buffers (no page faults from a fresh allocation per level).  `numbered`: each
    key also carries its state's number (int32, in the same order, two buffers likewise),
    for the state graph of temporal properties."""

    def __init__(self, xp=np, numbered: bool = False):
        self.xp = xp
        self.bufs = [xp.empty(1024, dtype=np.uint64), xp.empty(1024, dtype=np.uint64)]
        self.id_bufs = [xp.empty(1024, dtype=np.int32), xp.empty(1024, dtype=np.int32)] \
            if numbered else None
        self.cur = 0
        self.n = 0
        self.mixed = False

    @property
    def numbered(self) -> bool:
        return self.id_bufs is not None

    def use_mixed(self) -> None:
        """Keep the set in the mixed order from now on."""
        if self.mixed:
            return
        v = self.keys
        v *= np.uint64(MIX)
        if self.numbered:
            order = self.xp.argsort(v)
            v[:] = v[order]
            ids = self.ids
            ids[:] = ids[order]
        else:
            v.sort()
        self.mixed = True

    @property
    def keys(self) -> np.ndarray:
        return self.bufs[self.cur][:self.n]

    @property
    def ids(self) -> np.ndarray:
        return self.id_bufs[self.cur][:self.n]

    def lookup(self, sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(insertion positions, mask of keys already present)."""
        xp = self.xp
        v = self.keys
        pos = xp.searchsorted(v, sorted_keys)
        if self.n == 0:
            return pos, xp.zeros(sorted_keys.shape[0], dtype=bool)
        return pos, v[xp.minimum(pos, self.n - 1)] == sorted_keys

    def merge(self, new_keys: np.ndarray, pos: np.ndarray, new_ids=None) -> None:
        """Insert sorted `new_keys` (absent; `pos` from `lookup`), numbered `new_ids` in a
        numbered set."""
        xp = self.xp
        nn = new_keys.shape[0]
        if not nn:
            return
        total = self.n + nn
        other = 1 - self.cur
        if self.bufs[other].shape[0] < total:
            # an eighth to spare: late levels grow the set by little, so a reallocation
            # (fresh pages, page faults) is rare, and the two buffers stay near 8 bytes/state
            size = total + total // 8 + 1024
            self.bufs[other] = None
            self.bufs[other] = xp.empty(size, dtype=np.uint64)
            if self.numbered:
                self.id_bufs[other] = None
                self.id_bufs[other] = xp.empty(size, dtype=np.int32)
        out = self.bufs[other][:total]
        ins = pos + xp.arange(nn)
        keep = xp.ones(total, dtype=bool)
        keep[ins] = False
        out[ins] = new_keys
        out[keep] = self.keys
        if self.numbered:
            ids = self.id_bufs[other][:total]
            ids[ins] = new_ids
            ids[keep] = self.ids
        self.cur, self.n = other, total

    def release_spare(self) -> None:
        """Free the second buffer (after the search: only lookups remain)."""
        self.bufs[1 - self.cur] = self.xp.empty(0, dtype=np.uint64)
        if self.numbered:
            self.id_bufs[1 - self.cur] = self.xp.empty(0, dtype=np.int32)

    def contains(self, key: int) -> bool:
        return self._position(key) is not None

    def _position(self, key: int) -> int | None:
        if self.mixed:
            key = key * MIX % (1 << 64)
        v = self.keys
        p = int(self.xp.searchsorted(v, self.xp.asarray([key], dtype=np.uint64))[0])
        return p if p < self.n and int(v[p]) == key else None

    def number_of(self, key: int) -> int | None:
        """The number of the state with this key (a numbered set), None if absent."""
        p = self._position(key)
        return None if p is None else int(self.ids[p])

    @property
    def nbytes(self) -> int:
        out = self.bufs[0].nbytes + self.bufs[1].nbytes
        if self.numbered:
            out += self.id_bufs[0].nbytes + self.id_bufs[1].nbytes
        return out


def enabled_per_state(lo: LevelOut, n: int) -> np.ndarray:
    en = lo.xp.zeros(n, dtype=np.int32)
    for _, ix in lo.enabled_by_t:
        en[ix] += 1
    return en


def _stable_argsort(xp, a):
    # numpy's stable argsort of small integers is a radix sort; CuPy's argsort is stable
    # and takes no `kind`
    return xp.argsort(a, kind="stable") if xp is np else xp.argsort(a)


def first_code_per_key(keys: np.ndarray, codes: np.ndarray, key_bits: int, code_bits: int,
                       xp=np) -> tuple[np.ndarray, np.ndarray]:
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
        perm = _stable_argsort(xp, hi)
        counts = xp.bincount(hi, minlength=1 << over)
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
        if xp is np:
            perm = np.argsort(keys)
            ks = keys[perm]
            cs = codes[perm]
        else:       # no ufunc.reduceat: sort by (key, code), the first of a key is its min
            perm = xp.lexsort(xp.stack([codes, keys]))
            ks = keys[perm]
            cs = codes[perm]
        del perm, keys, codes
        flag = xp.empty(m, dtype=bool)
        flag[0] = True
        xp.not_equal(ks[1:], ks[:-1], out=flag[1:])
        starts = xp.flatnonzero(flag)
        if xp is np:
            return ks[starts], np.minimum.reduceat(cs, starts)
        return ks[starts], cs[starts]
    flag = xp.empty(m, dtype=bool)
    flag[0] = True
    xp.not_equal(ks[1:], ks[:-1], out=flag[1:])
    uk = ks[flag]
    del ks
    comb &= cmask
    return uk, comb[flag]


def first_code_per_mixed(keys: np.ndarray, codes: np.ndarray, xp=np
                         ) -> tuple[np.ndarray, np.ndarray]:
    """`first_code_per_key` in the mixed order: the distinct mixed keys, ascending, each
    with its smallest code.  One plain sort of (the mixed key's top bits, the candidate's
    index); distinct mixed keys that share those top bits (about m**2 / 2**(65 - log2 m)
    pairs among m candidates: rare) are then put in order by a small sort of their run.
    Overwrites and frees `keys` and `codes` like `first_code_per_key`."""
    m = keys.shape[0]
    if m == 0:
        return keys, codes
    if xp is not np:     # no ufunc.reduceat: sort by (mixed key, code), take each first
        y = mix(keys, xp)
        del keys
        perm = xp.lexsort(xp.stack([codes, y]))
        ys, cs = y[perm], codes[perm]
        del perm, y, codes
        flag = xp.empty(m, dtype=bool)
        flag[0] = True
        xp.not_equal(ys[1:], ys[:-1], out=flag[1:])
        return ys[flag], cs[flag]
    ib = max(int(m - 1).bit_length(), 1)
    imask = np.uint64((1 << ib) - 1)
    y = keys
    y *= np.uint64(MIX)
    del keys
    comb = y & ~imask
    comb |= np.arange(m, dtype=np.uint64)
    comb.sort()
    perm = (comb & imask).view(np.int64)
    ys = y[perm]
    del y
    cs = codes[perm]
    del codes, perm
    top = comb
    top >>= np.uint64(ib)
    _repair_runs(ys, cs, top)
    del top
    flag = np.empty(m, dtype=bool)
    flag[0] = True
    np.not_equal(ys[1:], ys[:-1], out=flag[1:])
    starts = np.flatnonzero(flag)
    del flag
    return ys[starts], np.minimum.reduceat(cs, starts)


def _repair_runs(ys: np.ndarray, cs: np.ndarray, top: np.ndarray) -> None:
    """Sort, in place, each run of equal `top` (ascending) whose `ys` differ."""
    bad = np.flatnonzero((ys[1:] != ys[:-1]) & (top[1:] == top[:-1]))
    done = -1
    for i in bad.tolist():
        if i < done:
            continue
        s = int(np.searchsorted(top, top[i], side="left"))
        e = int(np.searchsorted(top, top[i], side="right"))
        order = np.argsort(ys[s:e], kind="stable")
        ys[s:e] = ys[s:e][order]
        cs[s:e] = cs[s:e][order]
        done = e


def by_code(keys: np.ndarray, codes: np.ndarray, code_bits: int, xp=np
            ) -> tuple[np.ndarray, np.ndarray]:
    """keys and codes (distinct) reordered by code, sorting each code with its position
    as one number when they fit in 64 bits."""
    n = keys.shape[0]
    if n == 0:
        return keys, codes
    rank_bits = max(int(n - 1).bit_length(), 1)
    if code_bits + rank_bits <= 64:
        comb = codes << np.uint64(rank_bits)
        comb |= xp.arange(n, dtype=np.uint64)
        comb.sort()
        order = (comb & np.uint64((1 << rank_bits) - 1)).view(np.int64)
        comb >>= np.uint64(rank_bits)
        return keys[order], comb
    order = xp.argsort(codes)
    return keys[order], codes[order]
