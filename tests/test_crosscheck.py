"""Cross-checks of the real engine against the reference evaluator (tests/reference).

* The reference itself is pinned by hand-checked tiny specs (counts worked out on paper).
* Random specs from `tests.reference.specgen` must load cleanly, and the real engine must
  agree with the reference on them: states, transitions, depth, every property's outcome,
  and every trace (length, actions, states).
* Same for every spec under tests/models/ and tests/contract/.

Tests that need the real engine (`dnsrace.api.check`) have `real` in their names:
`pytest tests/test_crosscheck.py -k "not real"` runs only the reference side.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from dnsrace.frontend.build import load_model
try:
    from tests.reference.evaluator import explore
    from tests.reference.specgen import BUDGET, specs
except ModuleNotFoundError:  # run as `pytest` with tests/ (not the repository) on sys.path
    from reference.evaluator import explore
    from reference.specgen import BUDGET, specs

TESTS = Path(__file__).parent
MODEL_FILES = sorted([*TESTS.glob("models/*.yaml"), *TESTS.glob("contract/*.yaml")])

GENERATED = settings(max_examples=60, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Against the real engine: no shrinking, so a disagreement fails in seconds, not minutes
# (the failing spec is printed whole; generated specs are small anyway).
CROSSCHECK = settings(GENERATED, phases=[Phase.explicit, Phase.generate])


# ---------------------------------------------------------------------- helpers


def write(directory: Path, text: str, name: str = "spec.yaml") -> Path:
    path = Path(directory) / name
    path.write_text(text)
    return path


def reference(tmp_path: Path, text: str) -> dict:
    return explore(load_model(write(tmp_path, text)))


def prop(result: dict, name: str) -> dict:
    return next(p for p in result["properties"] if p["name"] == name)


def outcomes(result: dict) -> dict:
    return {p["name"]: p["outcome"] for p in result["properties"]}


def actions(p: dict) -> list:
    return [s["action"] for s in p["trace"]["steps"]]


def states(p: dict) -> list:
    return [s["state"] for s in p["trace"]["steps"]]


def counts(result: dict) -> tuple:
    return result["states"], result["transitions"], result["depth"]


def _plain(x):
    """JSON round trip, so tuples and lists (and key order) never make a difference."""
    return json.loads(json.dumps(x))


def assert_same(path, ref: dict, result) -> None:
    """The real engine's `result` (dnsrace.api.check) agrees with the reference `ref`."""
    where = f"{path}"
    assert (result.stats.states, result.stats.transitions, result.stats.depth) == counts(ref), \
        f"{where}: states/transitions/depth differ"
    real_props = list(result.properties)
    assert [p.name for p in real_props] == [p["name"] for p in ref["properties"]], where
    for rp, p in zip(real_props, ref["properties"]):
        what = f"{where}: property {p['name']}"
        assert rp.kind == p["kind"], what
        assert rp.expected == p["expected"], what
        assert rp.outcome == p["outcome"], what
        assert (rp.trace is None) == (p["trace"] is None), f"{what}: trace presence"
        if p["trace"] is None:
            continue
        trace = _plain(rp.trace.to_json())
        assert rp.trace.length == p["trace"]["length"] == trace["length"], f"{what}: length"
        assert [s["action"] for s in trace["steps"]] == actions(p), f"{what}: actions"
        assert [s["state"] for s in trace["steps"]] == _plain(states(p)), f"{what}: states"


# ---------------------------------------------------------------------- hand-checked specs

COUNTER = """
dnsrace: 1
name: counter
variables:
  x: {type: "0..3", init: 0}
actions:
  - name: inc
    guard: x < 3
    effect: x += 1
invariants:
  small: "x <= 2"
transitions:
  up_by_one: "x' == x + 1"
reachable:
  top: "x == 3"
  beyond:
    expr: "x > 3"
    expect: unreachable
deadlock: error
"""

GUARD_ERROR = """
dnsrace: 1
name: guard-error
variables:
  i: {type: "0..2", init: 0}
  a: {type: "[2]bool", init: false}
actions:
  - name: step
    guard: i < 2
    effect: i += 1
  - name: peek
    guard: a[i]            # i == 2: index out of range
    effect: a[0] = true
deadlock: error
"""

EFFECT_ERROR = """
dnsrace: 1
name: effect-error
variables:
  d: {type: "0..2", init: 2}
  r: {type: "0..2", init: 0}
actions:
  - name: dec
    guard: d > 0
    effect: d -= 1
  - name: div
    effect: r = 2 // d     # d == 0: division by zero
"""

TYPE_ERROR = """
dnsrace: 1
name: type-error
variables:
  a: {type: "[1..2]0..1", init: 0}
actions:
  - name: bump
    params: {k: "1..2"}
    guard: a[k] == 0 or k == 2
    effect: a[k] += 1
"""

ASSERTION = """
dnsrace: 1
name: assertion
variables:
  x: {type: "0..3", init: 0}
processes:
  P:
    count: 2
    steps:
      - name: a
        effect: x += 1
      - name: b
        effect: |
          assert x < 1, "x too big"
          x += 1
"""

ALL_DONE = """
dnsrace: 1
name: all-done
variables:
  x: {type: "0..2", init: 0}
processes:
  W:
    count: 2
    steps:
      - name: go
        effect: x += 1
        next: done
deadlock: error
"""

STUCK = """
dnsrace: 1
name: stuck
variables:
  x: {type: "0..2", init: 0}
processes:
  W:
    count: 2
    steps:
      - name: go
        guard: x == 0
        effect: x += 1
        next: done
deadlock: error
"""

PRIMES = """
dnsrace: 1
name: primes
variables:
  a: {type: "[2]0..1", init: 0}
  i: {type: "0..1", init: 0}
actions:
  - name: move
    effect: i = 1 - i
  - name: bump
    guard: a[i] == 0
    effect: |
      a[i] += 1
      i = 1 - i
transitions:
  moved: "a'[i] == a[i]"              # the index is read before the step: bump violates it
  other_cell: "a'[1 - i] == a[1 - i]"
  flips: "i' != i"
  sum_grows: "(a[0] + a[1])' >= a[0] + a[1]"
"""

SHORT_CIRCUIT = """
dnsrace: 1
name: short-circuit
variables:
  q: {type: "seq of 0..1 max 1", init: "[]"}
actions:
  - name: put
    guard: q == [] or head(q) == 0
    effect: q = [1]
invariants:
  safe: "len(q) == 0 or head(q) == 1"
  implied: "len(q) > 0 => head(q) == 1"
  branch: "(head(q) == 1) if len(q) > 0 else true"
  early_stop: "any(k == 0 or q[5] == 0 for k in 0..3)"
  not_both: "not (len(q) > 0 and head(q) == 0)"
"""

PROPERTY_ERROR = """
dnsrace: 1
name: property-error
variables:
  q: {type: "seq of 0..1 max 1", init: "[]"}
actions:
  - name: put
    guard: len(q) == 0
    effect: q = [1]
invariants:
  dangling: "head(q) == 1"
transitions:
  heads: "head(q') >= head(q)"
reachable:
  filled: "head(q) == 1"
"""

DEFINES = """
dnsrace: 1
name: defines
variables:
  x: {type: "0..2", init: 0}
  q: {type: "seq of 0..2 max 1", init: "[]"}
define:
  zero: "x - x"
  ignore(u): "true"
  first_or(d, dflt): "dflt if len(q) == 0 else d"
actions:
  - name: add
    guard: len(q) < 1
    effect: q = append(q, 2)
  - name: pick
    effect: x = first_or(head(q), 1)
invariants:
  unused_div: "ignore(x // zero)"
  lazy: "first_or(head(q), 0) == (0 if q == [] else 2)"
"""

EITHER_NEXT = """
dnsrace: 1
name: either-next
variables:
  b: {type: bool, init: false}
processes:
  P:
    steps:
      - name: s1
        either:
          - {name: flip, effect: "b = not b", next: s1}
          - {guard: b, next: s2}
      - name: s2
        next: "s1 if not b else t"     # t is a step of Q: a run-time error
  Q:
    steps:
      - name: t
        guard: "false"
"""

JSON_SHAPE = """
dnsrace: 1
name: json-shape
types:
  Mode: [hi, lo]
variables:
  m: {type: "[Mode]0..1", init: 0}
  s: {type: "set of 0..3", init: "{}"}
actions:
  - name: put
    params: {k: Mode}
    guard: m[k] == 0
    effect: |
      m[k] = 1
      s |= {3, 1 if k == lo else 0}
reachable:
  full: "s == {0, 1, 3}"
"""

CRASH = """
dnsrace: 1
name: crash
variables:
  k: {type: "0..2", init: 0}
processes:
  W:
    count: 2
    locals:
      n: {type: "0..1", init: 0}
    steps:
      - name: a
        effect: n = 1
      - name: b
        next: done
  V:
    steps:
      - name: c
        next: c
actions:
  - name: restart                   # an action sends an instance back and resets its local
    params: {w: "0..1"}
    guard: k < 2 and W.pc[w] == b
    effect: |
      W.pc[w] = a
      W.n[w] -= 1
      k += 1
  - name: poke                      # w == 2: the instance index is out of range (error)
    params: {w: "0..2"}
    guard: k == 1
    effect: W.n[w] = 1
  - name: stray                     # `c` is not a step of W: a type error at run time
    guard: k == 2 and W.pc[0] == done
    effect: "W.pc[0] = c if W.n[0] == 1 else done"
invariants:
  bounded: {expr: "k < 2", expect: violated}
"""

INITIAL_STATES = """
dnsrace: 1
name: initial-states
variables:
  a: {type: bool, init: any}
  n: {type: "0..1", init: any}
actions:
  - name: clear
    guard: a
    effect: a = false
invariants:
  no_a: "not a"
reachable:
  a_or_one: "a or n == 1"
"""

HAND_SPECS = {name.lower(): text for name, text in [
    ("COUNTER", COUNTER), ("GUARD_ERROR", GUARD_ERROR), ("EFFECT_ERROR", EFFECT_ERROR),
    ("TYPE_ERROR", TYPE_ERROR), ("ASSERTION", ASSERTION), ("ALL_DONE", ALL_DONE),
    ("STUCK", STUCK), ("PRIMES", PRIMES), ("SHORT_CIRCUIT", SHORT_CIRCUIT),
    ("PROPERTY_ERROR", PROPERTY_ERROR), ("DEFINES", DEFINES), ("EITHER_NEXT", EITHER_NEXT),
    ("JSON_SHAPE", JSON_SHAPE), ("INITIAL_STATES", INITIAL_STATES),
    ("CRASH", CRASH)]}

BUILTINS_HOLD = {"assertion": "holds", "type": "holds", "error": "holds"}


def test_reference_counter(tmp_path):
    r = reference(tmp_path, COUNTER)
    assert counts(r) == (4, 3, 3)
    assert outcomes(r) == {"small": "violated", "up_by_one": "holds", "top": "reachable",
                           "beyond": "unreachable", **BUILTINS_HOLD, "deadlock": "violated"}
    assert [p["name"] for p in r["properties"]] == ["small", "up_by_one", "top", "beyond",
                                                    "assertion", "type", "error", "deadlock"]
    assert [p["kind"] for p in r["properties"]] == ["invariant", "transition", "reachable",
                                                    "reachable", "assertion", "type", "error",
                                                    "deadlock"]
    assert prop(r, "beyond")["expected"] == "unreachable"
    assert prop(r, "top")["expected"] == "reachable"
    small = prop(r, "small")
    assert small["trace"]["length"] == 3
    assert actions(small) == [None, "inc", "inc", "inc"]
    assert states(small) == [{"x": 0}, {"x": 1}, {"x": 2}, {"x": 3}]
    assert prop(r, "top")["trace"] == small["trace"]     # the witness
    assert prop(r, "beyond")["trace"] is None
    assert prop(r, "deadlock")["trace"]["length"] == 3


def test_reference_guard_error(tmp_path):
    r = reference(tmp_path, GUARD_ERROR)
    # peek's guard is never true, and fails at i == 2: not enabled, not counted
    assert counts(r) == (3, 2, 2)
    assert outcomes(r) == {"assertion": "holds", "type": "holds", "error": "violated",
                           "deadlock": "violated"}
    err = prop(r, "error")
    assert err["trace"]["length"] == 2                   # ends at the state, no failing step
    assert actions(err) == [None, "step", "step"]
    assert states(err)[-1] == {"i": 2, "a": [False, False]}
    assert "message" not in err["trace"]["steps"][-1]
    assert prop(r, "deadlock")["trace"]["length"] == 2   # a failing guard is not enabled


def test_reference_effect_error(tmp_path):
    r = reference(tmp_path, EFFECT_ERROR)
    # (d, r): (2,0) (1,0) (2,1) (0,0) (1,2) (1,1) (0,2) (0,1); div at d == 0 fails but counts
    assert counts(r) == (8, 13, 3)
    assert outcomes(r) == {"assertion": "holds", "type": "holds", "error": "violated"}
    err = prop(r, "error")
    assert err["trace"]["length"] == 3                   # depth of (0,0) is 2, plus the step
    assert actions(err) == [None, "dec", "dec", "div"]
    assert states(err)[:3] == [{"d": 2, "r": 0}, {"d": 1, "r": 0}, {"d": 0, "r": 0}]
    last = err["trace"]["steps"][-1]
    assert last["state"] is None and last["message"]


def test_reference_type_error(tmp_path):
    r = reference(tmp_path, TYPE_ERROR)
    assert counts(r) == (4, 6, 2)
    assert outcomes(r) == {"assertion": "holds", "type": "violated", "error": "holds"}
    t = prop(r, "type")
    assert t["trace"]["length"] == 2
    assert actions(t) == [None, "bump(k=2)", "bump(k=2)"]
    assert states(t) == [{"a": [0, 0]}, {"a": [0, 1]}, None]
    assert t["trace"]["steps"][-1]["message"]


def test_reference_assertion(tmp_path):
    r = reference(tmp_path, ASSERTION)
    # x=0 [a,a]; x=1 [b,a]; x=1 [a,b]; x=2 [b,b]; every b fails (and counts)
    assert counts(r) == (4, 8, 2)
    assert outcomes(r) == {"assertion": "violated", "type": "holds", "error": "holds"}
    a = prop(r, "assertion")
    assert a["trace"]["length"] == 2
    assert actions(a) == [None, "P[0].a", "P[0].b"]
    assert states(a)[:2] == [{"x": 0, "P.pc": ["a", "a"]}, {"x": 1, "P.pc": ["b", "a"]}]
    assert a["trace"]["steps"][-1] == {"action": "P[0].b", "state": None,
                                       "message": "x too big"}


def test_reference_deadlock_all_done_is_not_stuck(tmp_path):
    r = reference(tmp_path, ALL_DONE)
    assert counts(r) == (4, 4, 2)
    assert outcomes(r) == {**BUILTINS_HOLD, "deadlock": "holds"}


def test_reference_deadlock_stuck_instance(tmp_path):
    r = reference(tmp_path, STUCK)
    assert counts(r) == (3, 2, 1)
    assert outcomes(r) == {**BUILTINS_HOLD, "deadlock": "violated"}
    d = prop(r, "deadlock")
    assert actions(d) == [None, "W[0].go"]
    assert states(d)[-1] == {"x": 1, "W.pc": ["done", "go"]}


def test_reference_transition_property_with_primes(tmp_path):
    r = reference(tmp_path, PRIMES)
    # (a, i): all 8 reachable; (01,1) and (11,1) are 3 steps away, e.g.
    # (00,0) -move-> (00,1) -bump-> (01,0) -move-> (01,1)
    assert counts(r) == (8, 12, 3)
    assert outcomes(r) == {"moved": "violated", "other_cell": "holds", "flips": "holds",
                           "sum_grows": "holds", **BUILTINS_HOLD}
    moved = prop(r, "moved")
    assert moved["trace"]["length"] == 1                 # ends with the bad step
    assert actions(moved) == [None, "bump"]
    assert states(moved) == [{"a": [0, 0], "i": 0}, {"a": [1, 0], "i": 1}]


def test_reference_short_circuit_avoids_errors(tmp_path):
    r = reference(tmp_path, SHORT_CIRCUIT)
    assert counts(r) == (2, 1, 1)
    assert set(outcomes(r).values()) == {"holds"}


def test_reference_property_error(tmp_path):
    r = reference(tmp_path, PROPERTY_ERROR)
    assert counts(r) == (2, 1, 1)
    # the failing state neither violates nor satisfies the property
    assert outcomes(r) == {"dangling": "holds", "heads": "holds", "filled": "reachable",
                           "assertion": "holds", "type": "holds", "error": "violated"}
    err = prop(r, "error")
    assert err["trace"] == {"length": 0, "steps": [{"action": None, "state": {"q": []}}]}
    assert actions(prop(r, "filled")) == [None, "put"]


def test_reference_defines_with_unused_failing_argument(tmp_path):
    r = reference(tmp_path, DEFINES)
    # (q, x): ([],0) ([2],0) ([],1) ([2],2) ([2],1)
    assert counts(r) == (5, 7, 2)
    assert set(outcomes(r).values()) == {"holds"}


def test_reference_either_and_next_expression(tmp_path):
    r = reference(tmp_path, EITHER_NEXT)
    assert counts(r) == (3, 4, 2)
    assert outcomes(r) == {"assertion": "holds", "type": "holds", "error": "violated"}
    err = prop(r, "error")
    assert err["trace"]["length"] == 3
    assert actions(err) == [None, "P[0].s1.flip", "P[0].s1.2", "P[0].s2"]
    assert states(err)[0] == {"b": False, "P.pc": ["s1"], "Q.pc": ["t"]}
    assert states(err)[-1] is None


def test_reference_json_shape(tmp_path):
    r = reference(tmp_path, JSON_SHAPE)
    assert counts(r) == (4, 4, 2)
    full = prop(r, "full")
    assert full["outcome"] == "reachable"
    assert actions(full) == [None, 'put(k="hi")', 'put(k="lo")']
    assert states(full) == [{"m": {"hi": 0, "lo": 0}, "s": []},
                            {"m": {"hi": 1, "lo": 0}, "s": [0, 3]},
                            {"m": {"hi": 1, "lo": 1}, "s": [0, 1, 3]}]


def test_reference_initial_state_order(tmp_path):
    r = reference(tmp_path, INITIAL_STATES)
    assert counts(r) == (4, 2, 0)
    # initial states in order: (a, n) = (F,0) (F,1) (T,0) (T,1); the first variable varies slowest
    assert states(prop(r, "no_a")) == [{"a": True, "n": 0}]
    assert states(prop(r, "a_or_one")) == [{"a": False, "n": 1}]


def test_reference_contract_example(tmp_path):
    """The contract's JSON example: lease-handoff has 556 states, 1144 transitions, depth 12,
    and single_holder's counterexample has length 4 and starts with Worker[0].read."""
    r = explore(load_model(TESTS / "contract" / "lease_handoff.yaml"))
    assert counts(r) == (556, 1144, 12)
    sh = prop(r, "single_holder")
    assert sh["outcome"] == "violated" and sh["trace"]["length"] == 4
    assert actions(sh)[1] == "Worker[0].read"
    assert states(sh)[0]["Worker.pc"] == ["read", "read"]


@pytest.mark.parametrize("path", sorted(TESTS.glob("models/*.yaml")), ids=lambda p: p.name)
def test_reference_meets_model_expectations(path):
    """Every example model under tests/models/ is written to pass: each outcome is the
    expected one.  (Specs under tests/contract/ may show a violation on purpose.)"""
    r = explore(load_model(path))
    assert {p["name"]: p["outcome"] for p in r["properties"]} == \
        {p["name"]: p["expected"] for p in r["properties"]}


# ---------------------------------------------------------------------- generated specs


@GENERATED
@given(specs())
def test_generated_specs_load_cleanly(text):
    with tempfile.TemporaryDirectory() as d:
        model = load_model(write(Path(d), text))
    assert model.warnings == []
    r = explore(model)
    assert 1 <= r["states"] <= BUDGET


# ---------------------------------------------------------------------- the real engine


def _check():
    """The real engine's `check`, bounded so that a runaway search fails fast instead of
    exhausting memory: it may visit at most ten times the states the reference found."""
    from dnsrace.api import check  # the real engine; an ImportError fails the test

    def bounded(path, ref: dict):
        return check(path, constants=None, max_states=max(10 * ref["states"], 10_000))

    return bounded


def test_real_engine_matches_reference_on_generated_specs():
    check = _check()

    @CROSSCHECK
    @given(specs())
    def compare(text):
        with tempfile.TemporaryDirectory() as d:
            path = write(Path(d), text)
            ref = explore(load_model(path))
            assert_same(text, ref, check(path, ref))

    compare()


@pytest.mark.parametrize("name", sorted(HAND_SPECS))
def test_real_engine_matches_reference_on_hand_specs(name, tmp_path):
    check = _check()
    path = write(tmp_path, HAND_SPECS[name])
    ref = explore(load_model(path))
    assert_same(name, ref, check(path, ref))


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.name)
def test_real_engine_matches_reference_on_model_files(path):
    check = _check()
    ref = explore(load_model(path))
    assert_same(path, ref, check(path, ref))
