"""The array engine (engines/array_bfs.py over backends/numpy_codegen.py) against the
per-state engine (`dnsrace.api.check`).

The array engine is meant to give exactly the per-state engine's result: the same states,
transitions and depth, every verdict and message, and the same traces (each property's
first shortest one), also when a limit cuts the search short.  Checked here on every spec
under specs/, tests/models/ and tests/contract/, on hypothesis-generated specs, and under
--stop-on-first, --max-states and --max-depth; every trace it returns must replay.  The
numpy rendering of each IR op is checked against the op's definition on edge values, and
the engine's own paths (fallback, memory budget, interrupt, time limit, a corrupt trace)
one by one.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from dnsrace.api import check
from dnsrace.backends.numpy_codegen import (
    RUNTIME,
    ArrayUnsupported,
    _Writer,
    compile_array_system,
    runtime,
    slot_ranges,
)
from dnsrace.backends.python_codegen import compile_system
from dnsrace.cli import field_kinds
from dnsrace.engines import array_bfs
from dnsrace.engines.array_bfs import ArrayEngineError, check_model_array
from dnsrace.engines.array_level import (
    Visited,
    by_code,
    first_code_per_key,
    first_code_per_mixed,
    mix,
    unmix,
)
from dnsrace.engines.bfs import Limits
from dnsrace.engines.device import DeviceUnavailable, array_module
from dnsrace.frontend.build import load_model
from dnsrace.ir import terms as T
from dnsrace.ir.lower import lower
from dnsrace.replay import Replayer, trace_steps
from tests.helpers import ROOT, checks_of, run_cli
from tests.reference.specgen import specs

CORPUS = sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("tests/models/*.yaml"),
                 *ROOT.glob("tests/contract/*.yaml")])
EXPECTED = json.loads((ROOT / "tests" / "models" / "expected_counts.json").read_text())
VARIANTS = {k: v for k, v in EXPECTED.items() if "[" in k}   # e.g. ticket_lock[K=2]
SMALL = [p for p in CORPUS if p.parent.name != "specs"] + [ROOT / "specs" / "lease_handoff.yaml"]
RACE = ROOT / "specs" / "dynamodb_dns_race.yaml"

LIMITS = {
    "stop-on-first": Limits(stop_on_first=True),
    "max-states-1": Limits(max_states=1),
    "max-states-60": Limits(max_states=60),
    "max-states-9000": Limits(max_states=9000),
    "max-depth-0": Limits(max_depth=0),
    "max-depth-4": Limits(max_depth=4),
    "depth-and-stop": Limits(max_depth=6, stop_on_first=True),
}


# ---------------------------------------------------------------------- helpers


class HostArrays(types.ModuleType):
    """numpy under another name: the engine then takes the code paths it takes for CuPy
    (no `ufunc.reduceat`, lexsorts, no `bitwise_count`, runtime helpers built for the
    module), and runs them on the CPU.  This is how CI checks the GPU path."""

    HIDDEN = ("bitwise_count",)

    def __init__(self):
        super().__init__("host_arrays")

    def __getattr__(self, name):
        if name in self.HIDDEN:
            raise AttributeError(name)
        return getattr(np, name)


XP = HostArrays()



def signature(r) -> tuple:
    """Everything a user can read in a result, timing aside (traces as JSON, stale checks
    included)."""
    s = r.stats
    return ((s.states, s.transitions, s.depth, s.queue), r.complete, r.stopped,
            [(p.name, p.kind, p.expected, p.outcome, p.message,
              json.loads(json.dumps(p.trace.to_json())) if p.trace else None)
             for p in r.properties])


def both(path, constants=None, limits: Limits | None = None):
    limits = limits or Limits()
    per_state = check(path, constants, engine="bfs", limits=limits)
    array = check_model_array(load_model(path, constants or {}), limits)
    return per_state, array


def assert_same(per_state, array, where) -> None:
    assert array.engine == "array", f"{where}: fell back: {array.warnings}"
    assert all(p.engine == "array" for p in array.properties)
    a, b = signature(per_state), signature(array)
    assert a[:3] == b[:3], f"{where}: counts or completeness differ: {a[:3]} != {b[:3]}"
    for x, y in zip(a[3], b[3]):
        assert x == y, f"{where}: property {x[0]} differs"
    assert per_state.exit_code == array.exit_code


def assert_replays(path, constants, result) -> int:
    """Every trace in `result` replays faithfully (`dnsrace replay`'s logic)."""
    model = load_model(path, constants or {})
    ts = lower(model)
    replayer = Replayer(model, ts, compile_system(ts), field_kinds(ts))
    n = 0
    for p in result.properties:
        if p.trace is None:
            continue
        steps = trace_steps(json.loads(json.dumps(result.trace_file(p))))
        report = replayer.replay(steps)
        assert report.faithful, f"{path}: {p.name}: {report.problem}"
        n += 1
    return n


# ---------------------------------------------------------------------- the corpus


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_agrees_with_per_state_engine_and_traces_replay(path):
    per_state, array = both(path)
    assert_same(per_state, array, path.name)
    assert_replays(path, None, array)


@pytest.mark.parametrize("key", sorted(VARIANTS))
def test_agrees_on_pinned_variants(key):
    case = VARIANTS[key]
    path = ROOT / case["spec"]
    per_state, array = both(path, case["constants"])
    assert_same(per_state, array, key)
    assert (array.stats.states, array.stats.transitions, array.stats.depth) == \
        (case["states"], case["transitions"], case["depth"])
    assert assert_replays(path, case["constants"], array) >= 1


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_agrees_under_limits(name):
    """A cut-short search counts what the per-state engine counts: --stop-on-first and
    --max-states cut a level where the per-state engine would stop."""
    for path in SMALL:
        per_state, array = both(path, None, LIMITS[name])
        assert_same(per_state, array, f"{path.name} {name}")
        assert_replays(path, None, array)


def test_agrees_under_limits_on_the_race():
    for limits in (Limits(stop_on_first=True), Limits(max_states=20_000),
                   Limits(max_depth=9, stop_on_first=True)):
        per_state, array = both(RACE, None, limits)
        assert_same(per_state, array, f"race {limits}")
        # every outcome of the race is the expected one: only the limits cut it short
        assert array.complete == (limits.max_states is None and limits.max_depth is None)


def test_the_race_trace_is_the_readme_one():
    _, array = both(RACE)
    p = array.property("no_empty_record")
    assert p.outcome == "violated" and p.trace.length == 11
    assert checks_of(p.trace) and checks_of(p.trace)[0].step == 9


# ---------------------------------------------------------------------- generated specs

GENERATED = settings(max_examples=40, deadline=None, database=None,
                     phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@GENERATED
@given(specs())
def test_agrees_on_generated_specs(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text)
        for limits in (Limits(), Limits(stop_on_first=True)):
            per_state, array = both(path, None, limits)
            assert_same(per_state, array, text)
            assert_replays(path, None, array)


# ---------------------------------------------------------------------- the numpy ops


def _py(t: T.Term, env: dict[int, int]) -> int:
    """The IR's meaning of a term (terms.OPS), written out independently."""
    a = [(_py(x, env) if isinstance(x, T.Term) else x) for x in t.args]
    op = t.op
    if op == "const":
        return a[0]
    if op == "slot":
        return env[a[0]]
    table = {
        "add": lambda: a[0] + a[1], "sub": lambda: a[0] - a[1], "mul": lambda: a[0] * a[1],
        "neg": lambda: -a[0], "abs": lambda: abs(a[0]),
        "div": lambda: a[0] // a[1] if a[1] else 0, "mod": lambda: a[0] % a[1] if a[1] else 0,
        "min": lambda: min(a), "max": lambda: max(a),
        "eq": lambda: int(a[0] == a[1]), "ne": lambda: int(a[0] != a[1]),
        "lt": lambda: int(a[0] < a[1]), "le": lambda: int(a[0] <= a[1]),
        "not": lambda: int(not a[0]), "and": lambda: int(all(a)), "or": lambda: int(any(a)),
        "ite": lambda: a[1] if a[0] else a[2],
        "select": lambda: a[1 + a[0]] if 0 <= a[0] < len(a) - 1 else 0,
        "bor": lambda: a[0] | a[1], "band": lambda: a[0] & a[1], "bdiff": lambda: a[0] & ~a[1],
        "bit": lambda: (a[0] >> a[1]) & 1 if a[1] >= 0 else 0,
        "setbit": lambda: 1 << a[0] if a[0] >= 0 else 0,
        "shl": lambda: a[0] << a[1] if a[1] >= 0 else a[0] >> -a[1],
        "popcount": lambda: a[0].bit_count(),
        "lowbit": lambda: (a[0] & -a[0]).bit_length() - 1 if a[0] else 0,
        "highbit": lambda: a[0].bit_length() - 1 if a[0] else 0,
    }
    return table[op]()


def _numpy_fn(term: T.Term, slots: list[int]):
    tables: dict = {}
    w = _Writer("t", {k: f"v{k}" for k in slots}, None, "n", tables)
    lines = w.section([term], "    ")
    src = "\n".join([f"def f({', '.join(f'v{k}' for k in slots)}, n):", *lines,
                     f"    return {w.render_int(term)}"]) + "\n"
    ns = {"__builtins__": {"True": True, "False": False, "None": None}, **RUNTIME}
    ns.update({name: np.array(list(key), dtype=np.int64) for key, name in tables.items()})
    exec(compile(src, "<test>", "exec"), ns)  # noqa: S102 - generated from IR terms
    return ns["f"], src


A = T.slot(900, -9, 9)
B = T.slot(901, -3, 66)
M = T.slot(902, -(1 << 40), 1 << 40)
VALUES = {900: [-9, -8, -3, -1, 0, 1, 2, 5, 9], 901: [-3, -1, 0, 1, 2, 31, 62, 63, 64, 66],
          902: [-(1 << 40), -12, -8, -1, 0, 1, 6, 96, (1 << 40) - 1, 1 << 40]}
_c = T.const
_b = T.mk("lt", A, _c(2))
_d = T.mk("le", _c(0), M)
OP_TERMS = {
    "add": T.mk("add", A, M), "sub": T.mk("sub", M, A), "mul": T.mk("mul", A, M),
    "neg": T.mk("neg", M), "abs": T.mk("abs", M),
    "div": T.mk("div", M, A), "mod": T.mk("mod", M, A),
    "div-const": T.mk("div", M, _c(-7)), "mod-const": T.mk("mod", M, _c(-7)),
    "div-by-zero": T.mk("div", M, _c(0)),
    "min": T.mk("min", A, B), "max": T.mk("max", A, M),
    "eq": T.mk("eq", A, B), "ne": T.mk("ne", A, B), "lt": T.mk("lt", A, B), "le": T.mk("le", B, A),
    "not": T.mk("not", _b), "and": T.mk("and", _b, _d), "or": T.mk("or", _b, _d),
    "not-of-int": T.mk("not", T.mk("select", A, T.mk("bit", M, _c(2)), _c(1))),
    "ite": T.mk("ite", _b, M, A), "ite-bools": T.mk("ite", _d, _b, T.mk("eq", A, _c(0))),
    "select": T.mk("select", A, B, _c(7), M),
    "select-consts": T.mk("select", B, _c(4), _c(-5), _c(6)),
    "select-in-range": T.mk("select", T.mk("abs", T.mk("div", A, _c(5))), M, B),
    "bor": T.mk("bor", M, B), "band": T.mk("band", M, A), "bdiff": T.mk("bdiff", M, A),
    "bit": T.mk("bit", M, B), "bit-const": T.mk("bit", M, _c(3)),
    "bit-of-negative-index": T.mk("bit", M, A),
    "setbit": T.mk("setbit", A), "shl": T.mk("shl", M, _c(5)), "shr": T.mk("shl", M, _c(-3)),
    "shr-far": T.mk("shl", M, _c(-70)),
    "popcount": T.mk("popcount", M), "lowbit": T.mk("lowbit", M), "highbit": T.mk("highbit", M),
    "nested": T.mk("add", T.mk("mul", T.mk("mod", M, B), T.mk("ite", _b, A, B)),
                   T.mk("popcount", T.mk("bor", T.mk("setbit", A), T.mk("band", M, B)))),
}


@pytest.mark.parametrize("name", sorted(OP_TERMS))
def test_numpy_op_matches_its_definition(name):
    term = OP_TERMS[name]
    slots = sorted({x.args[0] for x in T.walk(term) if x.op == "slot"})
    rows = list(itertools.product(*(VALUES[k] for k in slots)))
    f, src = _numpy_fn(term, slots)
    cols = [np.array([r[j] for r in rows], dtype=np.int64) for j in range(len(slots))]
    got = np.broadcast_to(np.asarray(f(*cols, len(rows))), (len(rows),))
    for r, g in zip(rows, got.tolist()):
        env = dict(zip(slots, r))
        assert g == _py(term, env), f"{name} at {env}:\n{src}"


@pytest.mark.parametrize("xp", [np, XP], ids=["numpy", "xp"])
@pytest.mark.parametrize("w,lo,off", [(3, 0, 5), (1, 0, 0), (4, -3, 20), (5, 2, 33)])
def test_packed_select_and_store_match_their_definition(xp, w, lo, off):
    """_pselect reads item i of k slots packed side by side; _pstore is the change of
    writing e there (0 when i is outside 0..k-1), as a[i] and a[i] = e define them."""
    rt = runtime(xp)
    k, n = 4, 400
    rng = np.random.default_rng(w * 100 + off)
    vals = rng.integers(lo, lo + (1 << w), (n, k))
    other = rng.integers(0, 1 << off, n, dtype=np.uint64) if off else np.zeros(n, np.uint64)
    src = other.copy()
    for j in range(k):
        src |= (vals[:, j] - lo).astype(np.uint64) << np.uint64(off + j * w)
    idx = rng.integers(-2, k + 2, n)
    e = rng.integers(lo, lo + (1 << w), n)
    mask = (1 << w) - 1
    got = rt["_pselect"](src, idx, off, w, mask, lo, k, False)
    d = rt["_pstore"](src, idx, e, off, w, mask, lo, k, False)
    for r in range(n):
        i = int(idx[r])
        inside = 0 <= i < k
        assert int(got[r]) == (int(vals[r, i]) if inside else 0)
        want = vals[r].copy()
        if inside:
            want[i] = e[r]
        packed = int(other[r])
        for j in range(k):
            packed |= (int(want[j]) - lo) << (off + j * w)
        assert (int(src[r]) + int(d[r])) % (1 << 64) == packed
    inside = (idx >= 0) & (idx < k)
    checked = rt["_pselect"](src[inside], idx[inside], off, w, mask, lo, k, True)
    assert checked.tolist() == got[inside].tolist()


def test_select_of_many_items_gathers_from_a_stack():
    term = T.mk("select", A, B, _c(7), M, T.mk("add", B, _c(1)), A)
    slots = [900, 901, 902]
    rows = list(itertools.product(*(VALUES[k] for k in slots)))
    f, src = _numpy_fn(term, slots)
    cols = [np.array([r[j] for r in rows], dtype=np.int64) for j in range(len(slots))]
    for r, g in zip(rows, f(*cols, len(rows)).tolist()):
        assert g == _py(term, dict(zip(slots, r))), src


def test_the_array_packing_is_narrower_than_the_explicit_one():
    """Slots narrowed to their reachable ranges: the race's program counters take 2 bits
    (4 steps), the Planner's, which never changes, none; still every state agrees."""
    ts = lower(load_model(RACE))
    explicit, narrow = compile_system(ts).packing, compile_array_system(ts).packing
    names = [s.name for s in ts.slots]
    assert sum(narrow.widths) < sum(explicit.widths)
    assert narrow.widths[names.index("Planner[0].pc")] == 0
    assert narrow.widths[names.index("Enactor[0].pc")] == 2
    ranges = dict(zip(names, slot_ranges(ts)))
    assert ranges["newest"] == (1, 4) and ranges["Enactor[2].plan"] == (1, 4)


# ---------------------------------------------------------------------- dedupe primitives


@pytest.mark.parametrize("xp", [np, XP], ids=["numpy", "xp"])
@pytest.mark.parametrize("key_bits,code_bits", [(30, 20), (50, 20), (54, 20), (60, 20)],
                         ids=["one-number", "groups-of-uint8", "groups-of-uint16", "argsort"])
def test_first_code_per_key_on_every_path(key_bits, code_bits, xp):
    rng = np.random.default_rng(key_bits)
    pool = rng.integers(0, 1 << key_bits, 300, dtype=np.uint64)
    keys = rng.choice(pool, 5000)
    codes = rng.permutation(1 << code_bits)[:5000].astype(np.uint64)
    want: dict[int, int] = {}
    for k, c in zip(keys.tolist(), codes.tolist()):
        want[k] = min(c, want.get(k, c))
    uk, mc = first_code_per_key(keys, codes, key_bits, code_bits, xp)
    assert uk.tolist() == sorted(want)
    assert mc.tolist() == [want[k] for k in sorted(want)]
    ok, oc = by_code(uk, mc, code_bits, xp)
    assert oc.tolist() == sorted(mc.tolist())
    assert [want[k] for k in ok.tolist()] == oc.tolist()


@pytest.mark.parametrize("xp", [np, XP], ids=["numpy", "xp"])
@pytest.mark.parametrize("collide", [False, True], ids=["spread", "colliding-top-bits"])
def test_first_code_per_mixed(xp, collide):
    """The mixed order: distinct mixed keys ascending, each with its smallest code, also
    when many distinct keys share their mixed top bits (the runs the sort must repair)."""
    rng = np.random.default_rng(7)
    if collide:   # mixed keys that differ only in their low 16 bits: one long run
        ys = (np.uint64(0xABCDEF) << np.uint64(40)) + rng.integers(0, 1 << 16, 200,
                                                                   dtype=np.uint64)
        pool = unmix(ys)
    else:
        pool = rng.integers(0, 1 << 62, 300, dtype=np.uint64)
    keys = rng.choice(pool, 6000)
    codes = rng.permutation(1 << 20)[:6000].astype(np.uint64)
    want: dict[int, int] = {}
    for k, c in zip(mix(keys).tolist(), codes.tolist()):
        want[k] = min(c, want.get(k, c))
    uy, mc = first_code_per_mixed(keys.copy(), codes.copy(), xp)
    assert uy.tolist() == sorted(want)
    assert mc.tolist() == [want[y] for y in sorted(want)]
    assert unmix(mix(keys)).tolist() == keys.tolist()


def test_visited_switches_to_the_mixed_order_and_still_finds_its_keys():
    v = Visited()
    keys = np.array([5, 1, 9, 1 << 40], dtype=np.uint64)
    pos, _ = v.lookup(np.sort(keys))
    v.merge(np.sort(keys), pos)
    v.use_mixed()
    assert v.mixed and all(v.contains(int(k)) for k in keys) and not v.contains(6)
    assert v.keys.tolist() == sorted(mix(keys).tolist())


# ---------------------------------------------------------------------- the engine's own paths

WIDE = """
dnsrace: 1
name: wide
variables:
  a: {type: "[10]0..100", init: 0}
actions:
  - name: bump
    params: {i: "0..9"}
    guard: a[i] < 1
    effect: a[i] += 1
"""

UNBOUNDED = """
dnsrace: 1
name: unbounded
variables:
  x: {type: int, init: 0}
actions:
  - name: inc
    guard: x < 3
    effect: x += 1
invariants:
  small: "x < 3"
"""


@pytest.mark.parametrize("text,why", [(WIDE, "bits"), (UNBOUNDED, "64 bits")],
                         ids=["wide-state", "unbounded-int"])
def test_a_spec_the_array_engine_cannot_take_falls_back_with_a_note(tmp_path, text, why):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(ArrayUnsupported, match=why):
        compile_array_system(lower(load_model(path)))
    per_state, array = both(path)
    assert array.engine == "bfs"
    assert len(array.warnings) == 1 and "array engine cannot check this spec" in \
        array.warnings[0]
    assert signature(array) == signature(per_state)


def test_memory_budget_stops_with_unknown_and_says_why():
    r = check_model_array(load_model(RACE), memory_budget=1 << 20)
    assert r.stopped == "memory-limit" and not r.complete and r.exit_code == 3
    assert any("memory budget" in w for w in r.warnings)
    decided = {p.name for p in r.properties if p.outcome != "unknown"}
    assert all(p.trace is not None for p in r.properties if p.name in decided)
    assert "error" not in decided


def test_interrupt_keeps_the_levels_already_finished(monkeypatch):
    full = check_model_array(load_model(RACE))
    real = array_bfs._expand
    calls = []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(array_bfs, "_expand", interrupted)
    r = check_model_array(load_model(RACE))
    assert r.stopped == "interrupted" and r.exit_code == 130
    assert r.stats.depth == 3 and 0 < r.stats.states < full.stats.states
    assert r.stats.queue > 0


def test_time_limit_and_progress_act_between_levels(monkeypatch):
    clock = iter(range(10_000))
    monkeypatch.setattr(array_bfs, "_now", lambda: float(next(clock)))
    seen = []
    r = check_model_array(load_model(RACE), Limits(time_limit=2.5), seen.append)
    assert r.stopped == "time-limit" and not r.complete and r.exit_code == 3
    assert seen and seen[0].depth == 1 and seen[-1].states == r.stats.states


def test_a_trace_that_does_not_replay_is_an_internal_error():
    ts = lower(load_model(RACE))
    cs = compile_system(ts)
    found = array_bfs.explore(ts, cs=cs)
    best = found.best["no_empty_record"]
    assert len(found.trace_path(best.end)) == 12
    with pytest.raises(ArrayEngineError):   # the state is no deadlock
        found.trace_path(("state", best.end[1], ("deadlock",)))
    level, j = best.end[1]
    tids = found.tids[level - 1]
    t = int(tids[j])
    tids[j] = (t + 1) % len(ts.transitions)   # another transition: not the recorded path
    try:
        with pytest.raises(ArrayEngineError):
            found.trace_path(best.end)
    finally:
        tids[j] = t


# ---------------------------------------------------------------------- the array module (--device)




@pytest.mark.parametrize("path", SMALL + [RACE], ids=lambda p: p.name)
def test_the_xp_code_path_agrees_with_the_per_state_engine(path):
    per_state = check(path)
    via_xp = check_model_array(load_model(path), xp=XP)
    assert_same(per_state, via_xp, f"{path.name} through a non-numpy array module")


def test_the_xp_code_path_under_limits_and_in_the_mixed_order(monkeypatch):
    monkeypatch.setattr(array_bfs, "KEY_CODE_BITS", 0)   # every level in the mixed order
    for path in (RACE, ROOT / "tests" / "models" / "bakery.yaml"):
        for limits in (Limits(), Limits(stop_on_first=True), Limits(max_states=9000)):
            per_state = check(path, engine="bfs", limits=limits)
            assert_same(per_state, check_model_array(load_model(path), limits, xp=XP),
                        f"{path.name} {limits}")


def test_the_generated_code_names_no_module_but_the_one_it_is_given():
    ts = lower(load_model(RACE))
    arr = compile_array_system(ts, XP)
    assert arr.xp is XP
    assert "numpy" not in arr.source and "import" not in arr.source
    assert arr.expand_level.__globals__["np"] is XP


def test_device_gpu_without_cupy_exits_2_with_one_line_that_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)     # `import cupy` raises ImportError
    code, out, err = run_cli("check", str(RACE), "--device", "gpu")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()   # one diagnostic: its line says it all
    assert lines[1:] == ["1 error"] and "DR401" in lines[0]
    assert "CuPy" in lines[0] and "not installed" in lines[0]
    assert "pip install 'dnsrace[gpu]'" in lines[0]


def test_device_gpu_without_a_gpu_exits_2(monkeypatch):
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    code, out, err = run_cli("check", str(RACE), "--engine", "array", "--device", "gpu")
    assert code == 2 and out == ""
    assert err.strip().splitlines()[1:] == ["1 error"]
    assert "no usable GPU" in err and "cudaErrorNoDevice" in err and "--device cpu" in err
    with pytest.raises(DeviceUnavailable, match="no usable GPU"):
        array_module("gpu")


def test_device_gpu_needs_the_array_engine():
    code, _, err = run_cli("check", str(RACE), "--engine", "bfs", "--device", "gpu")
    assert code == 2 and "--device gpu runs the array engine" in err


def test_device_cpu_is_numpy():
    assert array_module("cpu") is np
    code, out, _ = run_cli("check", str(RACE), "--device", "cpu", "--format", "json",
                           "--no-timing")
    assert code == 0 and json.loads(out)["engine"] == "array"


# ---------------------------------------------------------------------- the default engine


def test_the_default_engine_is_array_and_the_result_names_it():
    code, out, _ = run_cli("check", str(RACE), "--format", "json")
    obj = json.loads(out)
    assert code == 0 and obj["engine"] == "array"
    assert {p["engine"] for p in obj["properties"]} == {"array"}


@pytest.mark.parametrize("text", [WIDE, UNBOUNDED], ids=["wide-state", "unbounded-int"])
def test_the_default_engine_falls_back_to_bfs_silently(tmp_path, text):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    _, out, _ = run_cli("check", str(path), "--format", "json")
    assert json.loads(out)["engine"] == "bfs"
    _, out, _ = run_cli("check", str(path), "--engine", "array", "--format", "json")
    assert json.loads(out)["engine"] == "bfs"
    auto, explicit = (run_cli("check", str(path), "--no-timing", *e)
                      for e in ([], ["--engine", "array"]))
    assert "array engine" not in auto[1] + auto[2]
    assert "array engine cannot check this spec" in explicit[1] + explicit[2]


def test_the_default_and_explicit_engines_print_the_same_report():
    outs = [run_cli("check", str(RACE), "--no-timing", *e)[1]
            for e in ([], ["--engine", "bfs"], ["--engine", "array"])]
    assert outs[0] == outs[1] == outs[2]


# ---------------------------------------------------------------------- benchmarks


def test_bench_gpu_says_no_gpu_and_exits_0_without_one():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_gpu.py")],
                          check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if "no GPU" not in proc.stdout:
        pytest.skip("this machine has a GPU: bench_gpu.py is a benchmark, not a test, here")
    assert proc.returncode == 0 and proc.stdout.startswith("no GPU: ")


def test_bench_gpu_runs_its_sizes_on_a_stand_in_device(monkeypatch, capsys):
    """bench_gpu.py's logic, with the host-array stand-in as its 'GPU' and a budget that
    ends it after the first size."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_gpu
    finally:
        sys.path.pop(0)
    from dnsrace.engines import device
    monkeypatch.setattr(device, "array_module", lambda name="cpu": XP)
    assert bench_gpu.main(["--time-budget", "0.1", "--cpu-max-states", "1000000"]) == 0
    out = capsys.readouterr().out
    assert "827,275" in out and "stopped before E3 P6 EP3" in out
    assert "speed-up" in out and "GPU states/s against the frontier" in out


def test_a_signal_in_the_middle_of_a_level_forgets_what_that_level_found(monkeypatch):
    """A signal can come after a level's expansion recorded a violation at one of its new
    states but before the level is kept: the report must not point at a state that was not
    kept (it did, with an IndexError while building the trace)."""
    from dnsrace.engines import array_bfs

    real = array_bfs._expand

    def cut_after(S, frontier, d, *rest):
        out = real(S, frontier, d, *rest)
        if d == 6:   # the level that finds no_empty_record's last state is expanded...
            raise KeyboardInterrupt   # ...and the signal comes before it is committed
        return out

    monkeypatch.setattr(array_bfs, "_expand", cut_after)
    result = check_model_array(load_model(RACE), Limits())
    assert result.stopped == "interrupted" and result.stats.depth == 6
    race = result.property("no_empty_record")
    assert race.outcome == "unknown" and race.trace is None
    for p in result.properties:   # whatever was kept has a trace that ends where it says
        assert p.trace is None or p.trace.length <= 6
