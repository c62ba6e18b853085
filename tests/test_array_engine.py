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
import tempfile
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
)
from dnsrace.backends.python_codegen import compile_system
from dnsrace.cli import field_kinds
from dnsrace.engines import array_bfs
from dnsrace.engines.array_bfs import ArrayEngineError, check_model_array
from dnsrace.engines.array_level import by_code, first_code_per_key
from dnsrace.engines.bfs import Limits
from dnsrace.frontend.build import load_model
from dnsrace.ir import terms as T
from dnsrace.ir.lower import lower
from dnsrace.replay import Replayer, trace_steps
from tests.helpers import ROOT
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
    per_state = check(path, constants, limits.max_states, limits.max_depth, limits.time_limit,
                      limits.stop_on_first)
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
    assert p.trace.stale_checks and p.trace.stale_checks[0].step == 9


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


# ---------------------------------------------------------------------- dedupe primitives


@pytest.mark.parametrize("key_bits,code_bits", [(30, 20), (50, 20), (54, 20), (60, 20)],
                         ids=["one-number", "groups-of-uint8", "groups-of-uint16", "argsort"])
def test_first_code_per_key_on_every_path(key_bits, code_bits):
    rng = np.random.default_rng(key_bits)
    pool = rng.integers(0, 1 << key_bits, 300, dtype=np.uint64)
    keys = rng.choice(pool, 5000)
    codes = rng.permutation(1 << code_bits)[:5000].astype(np.uint64)
    want: dict[int, int] = {}
    for k, c in zip(keys.tolist(), codes.tolist()):
        want[k] = min(c, want.get(k, c))
    uk, mc = first_code_per_key(keys, codes, key_bits, code_bits)
    assert uk.tolist() == sorted(want)
    assert mc.tolist() == [want[k] for k in sorted(want)]
    ok, oc = by_code(uk, mc, code_bits)
    assert oc.tolist() == sorted(mc.tolist())
    assert [want[k] for k in ok.tolist()] == oc.tolist()


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
