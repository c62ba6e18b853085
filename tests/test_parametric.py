"""Symbolic constants kept unknown (`dnsrace.ir.parametric`, `dnsrace.symbolic.parametric`):
the fixed DNS designs proved for every number of plan generations and every clean-up
threshold, never a proof where some value breaks the property, and clear refusals for what
cannot stay symbolic."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dnsrace.api import check
from dnsrace.frontend.build import load_model
from dnsrace.ir import terms as T
from dnsrace.ir.parametric import lower_parametric
from dnsrace.symbolic import check_pdr
from dnsrace.symbolic import parametric as P
from dnsrace.symbolic.invariant_text import param_invariant_text
from dnsrace.symbolic.kind import parts_of

from .helpers import ROOT, outcomes, run_cli, without_temporal, write_spec

SPECS = ROOT / "specs"


def _quantified(t) -> bool:
    return any(x.op == "exists" for x in T.walk(t))


def prove(path, name: str, timeout_ms: int = 60_000):
    ps = lower_parametric(load_model(path))
    enc = P.ParamEncoding(ps)
    return enc, P.prove(enc, parts_of(ps.ts, name, "invariant"), name, timeout_ms)


# ---------------------------------------------------------------- terms
def test_exists_one_point_rule_and_bounds():
    g = T.bound("g")
    plans = T.param("PLANS")
    x = T.slot(0, 1, 9)
    in_range = T.and_(T.mk("le", T.const(1), g), T.mk("le", g, plans))
    # some g in 1..PLANS equals x, and is in the set: x itself
    got = T.exists(g, T.and_(in_range, T.eq(x, g), T.elem(3, g)))
    assert got is T.and_(T.mk("le", x, plans), T.elem(3, x))
    # only bounds on g: the range is not empty
    assert T.exists(g, in_range) is T.mk("le", T.const(1), plans)
    # nothing to eliminate: kept
    assert T.exists(g, T.and_(in_range, T.elem(3, g))).op == "exists"


def test_contradiction_folds():
    a = T.mk("le", T.slot(0, None, None), T.param("N"))
    b = T.mk("le", T.const(0), T.slot(0, None, None))
    assert T.and_(a, b, T.not_(T.and_(a, b))) is T.FALSE
    assert T.or_(a, T.not_(a)) is T.TRUE


# ---------------------------------------------------------------- lowering
def test_fixed_design_lowers_without_quantifiers_in_steps():
    ps = lower_parametric(load_model(SPECS / "dns_fix_cas.yaml"))
    assert set(ps.params) == {"PLANS", "KEEP"}
    deleted = next(s.index for s in ps.ts.slots if s.name == "deleted")
    assert set(ps.arrays) == {deleted}                  # a set over 1..PLANS: a cell
    newest = next(s.index for s in ps.ts.slots if s.name == "newest")
    assert ps.bounds[newest][1] is ps.params["PLANS"]   # newest: 1..PLANS, symbolically
    for t in ps.ts.transitions:
        terms = [t.guard, *t.updates.values()]
        assert not any(_quantified(x) for x in terms), t.name
    cleanup = next(t for t in ps.ts.transitions if t.name == "Enactor[0].cleanup")
    assert deleted in cleanup.updates    # the clean-up loop, lifted to a pointwise update


@pytest.mark.parametrize("spec", ["dns_fix_cas.yaml", "dns_fix_cleanup_in_use.yaml"])
def test_fixed_designs_proved_for_every_plan_count(spec):
    enc, v = prove(SPECS / spec, "no_empty_record", timeout_ms=120_000)
    assert v.status == "proved", v.reason
    text = param_invariant_text(enc, v.invariant)
    assert "empty[0]" in text and "empty[1]" in text


def test_lease_design_proved_with_the_mutual_exclusion_houdini_finds():
    # Spacer alone does not find the lease's mutual exclusion; with Houdini's lemmas
    # (`symbolic/houdini.py`, over its own candidates when no states were sampled to learn
    # from) it proves the design for every PLANS and KEEP
    from dnsrace.symbolic import houdini

    enc, v = prove(SPECS / "dns_fix_lease.yaml", "no_empty_record", timeout_ms=120_000)
    assert v.status == "proved", v.reason
    assert "empty[0]" in param_invariant_text(enc, v.invariant)
    ps = enc.ps
    found = {str(x) for x in enc.lemmas.found}
    slot = {s.name: s.index for s in ps.ts.slots}
    pick = ps.ts.layout.symbols.id("check")
    # Enactor 1 checking its plan holds the lease
    want = f"Implies(x{slot['Enactor[1].pc']} == {pick}, x{slot['holder']} == 1)"
    assert want in found, sorted(found)[:20]
    assert houdini.prune(enc.lemmas.found) == enc.lemmas.found


def test_symbolic_result_says_for_every_value(tmp_path):
    spec = without_temporal(SPECS / "dns_fix_cleanup_in_use.yaml", tmp_path)  # PDR: safety
    code, out, _ = run_cli("check", str(spec), "--engine", "pdr", "--time-limit", "120")
    assert code == 0, out
    assert "PLANS=4 (symbolic)" in out
    assert "proofs hold for every PLANS, KEEP with PLANS >= 1, KEEP >= 1" in out
    assert "holds (every PLANS, KEEP)" in out
    code, out, _ = run_cli("check", str(spec), "--engine", "pdr", "--time-limit", "120",
                           "--format", "json")
    doc = json.loads(out)
    assert doc["symbolic"] == {"PLANS": "PLANS >= 1", "KEEP": "KEEP >= 1"}
    prop = next(p for p in doc["properties"] if p["name"] == "no_empty_record")
    assert prop["outcome"] == "holds" and prop["engine"] == "pdr"
    assert "for every PLANS, KEEP" in prop["message"]


@pytest.mark.parametrize("plans", [3, 5])
def test_proof_agrees_with_bfs_on_instances(plans):
    r = check(SPECS / "dns_fix_cleanup_in_use.yaml", {"PLANS": plans})
    assert r.complete and outcomes(r)["no_empty_record"] == "holds"


# ---------------------------------------------------------------- never wrong
BIG_ONLY = """
dnsrace: 1
name: big-only
constants:
  N: {value: 3, symbolic: true, assume: "N >= 1"}
variables:
  x: {type: "0..N", init: 0}
  seen: {type: "set of 0..N", init: "{}"}
actions:
  - name: up
    guard: x < N
    effect: |
      x += 1
      seen |= {x}
invariants:
  small: "x < 5"
  members: "all(g <= x for g in 0..N if g in seen)"
"""


def test_violation_only_for_larger_values_is_not_proved(tmp_path):
    path = write_spec(tmp_path, BIG_ONLY)
    assert outcomes(check(path))["small"] == "holds"          # at N = 3
    r = check_pdr(load_model(path), time_limit=60)
    got = {p.name: p for p in r.properties}
    assert got["small"].outcome == "unknown"                   # N = 5 breaks it
    assert "some value of the symbolic constants" in got["small"].message
    assert got["members"].outcome == "holds"                   # true for every N
    assert outcomes(check(path, {"N": 6}))["small"] == "violated"


def test_violation_at_the_value_is_found_with_its_trace(tmp_path):
    path = write_spec(tmp_path, BIG_ONLY.replace("value: 3", "value: 6"))
    r = check_pdr(load_model(path), time_limit=60)
    small = next(p for p in r.properties if p.name == "small")
    assert small.outcome == "violated" and small.trace.length == 5


def test_race_is_not_proved_with_symbolic_plans(tmp_path):
    text = (SPECS / "dynamodb_dns_race.yaml").read_text()
    text = text.replace("  PLANS: 4 ", '  PLANS: {value: 4, symbolic: true, assume: "PLANS >= 1"} #')
    path = write_spec(tmp_path, text)
    r = check_pdr(load_model(path), time_limit=60)
    assert outcomes(r)["no_empty_record"] == "violated"


# ---------------------------------------------------------------- refusals
REFUSED = {
    "array size": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 2, symbolic: true}
        variables:
          a: {type: "[N]bool", init: false}
        actions:
          - name: t
            effect: a[0] = true
        """, "cannot fix a structure"),
    "counter in a loop": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 2, symbolic: true}
        variables:
          n: {type: "0..9", init: 0}
        actions:
          - name: t
            guard: n == 0
            effect: |
              for g in 1..N:
                  n += 1
        """, "iterations depend on each other"),
    "read at another index": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 2, symbolic: true}
        variables:
          s: {type: "set of 0..N", init: "{}"}
        actions:
          - name: t
            effect: |
              for g in 1..N:
                  if g - 1 not in s:
                      s |= {g}
        """, "at an index other than the loop variable"),
    # found in review: each of these once gave a proof that BFS refutes at a larger N
    "set inside an array": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 3, symbolic: true, assume: "N >= 2"}
        variables:
          a: {type: "[2]set of 1..N", init: "{}"}
        actions:
          - name: w
            effect: a[0] = {1}
        """, "inside an array or a sequence"),
    "sequence of a symbolic range": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 3, symbolic: true, assume: "N >= 2"}
        variables:
          q: {type: "seq of 1..N max 2", init: "[]"}
        actions:
          - name: push
            guard: len(q) < 2
            effect: q = append(q, 1)
        """, "a sequence of a symbolic range"),
    "init any over a symbolic set": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 3, symbolic: true, assume: "N >= 1"}
        variables:
          s: {type: "set of 1..N", init: any}
        invariants:
          inv: "not (4 in s)"
        """, "cannot fix a structure"),
    "a check inside all": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 3, symbolic: true, assume: "N >= 1"}
        variables:
          arr: {type: "[3]0..1", init: 0}
        invariants:
          inv: "all((g != 1 or N < 5) and (g != 5 or arr[g] == 0) for g in 1..N)"
        """, "can fail"),
    "checks of two kinds in a loop": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 3, symbolic: true, assume: "N >= 1"}
        variables:
          x: {type: "0..1", init: 0}
        actions:
          - name: go
            guard: x == 0
            effect: |
              for g in 1..N:
                  assert g != 5, "five"
                  if g == 1 and N >= 5:
                      x = 2
        """, "fail in different ways"),
    "a comparison reading the set in its loop": ("""
        dnsrace: 1
        name: r
        constants:
          N: {value: 3, symbolic: true, assume: "N >= 2"}
        variables:
          s: {type: "set of 1..N", init: "{1, 2}"}
        actions:
          - name: clean
            effect: |
              for g in 1..N:
                  if s <= {g}:
                      s -= {g}
        """, "at an index other than the loop variable"),
}


def test_comparison_in_an_invariant_is_never_proved_wrongly(tmp_path):
    # a set comparison inside a quantifier over the same set (once captured its variable)
    path = write_spec(tmp_path, """
        dnsrace: 1
        name: r
        constants:
          N: {value: 3, symbolic: true, assume: "N >= 2"}
        variables:
          s: {type: "set of 1..N", init: "{}"}
        actions:
          - name: add1
            effect: s |= {1}
          - name: add2
            guard: N >= 4
            effect: s |= {2}
        invariants:
          at_most_one: "all(g in (s if s <= {g} else {}) for g in s)"
        """)
    assert outcomes(check(path, {"N": 4}))["at_most_one"] == "violated"
    r = check_pdr(load_model(path), time_limit=20)
    assert outcomes(r)["at_most_one"] != "holds"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_cannot_stay_symbolic_is_refused_with_a_position(tmp_path, case):
    text, words = REFUSED[case]
    path = write_spec(tmp_path, text)
    code, out, err = run_cli("check", str(path), "--engine", "pdr", "--time-limit", "20")
    assert code == 2, (out, err)
    assert "DR502" in err and words in err
    assert f"{path}:" in err and "Traceback" not in err
    # the explicit engines still check it at the value
    assert run_cli("check", str(path))[0] in (0, 1)


# ---------------------------------------------------------------- generated parametric specs
# Small specs over a symbolic N (a counter, a set over 1..N filled by a lifted loop, a flag
# set inside it) with random thresholds: PDR's proof for every N must never contradict BFS
# at any value, and its violations must be BFS's, as short.

@st.composite
def parametric_specs(draw):
    c1 = draw(st.integers(0, 4))
    c2 = draw(st.integers(0, 3))
    keep = draw(st.integers(0, 2))
    value = draw(st.integers(1, 4))
    flag_cond = draw(st.sampled_from(["g == x", "g <= x - K", "g + 1 == x", "g == 1"]))
    inv = draw(st.sampled_from([
        "x <= N", f"x < {c1 + 1}", "not f or x >= 1", f"not f or x > {c2}",
        "all(g <= x for g in 1..N if g in s)", f"all(g > {c2} or g <= x for g in s)",
        "x - K < N or not f"]))
    return f"""
dnsrace: 1
name: gen-param
constants:
  N: {{value: {value}, symbolic: true, assume: "N >= 1"}}
  K: {keep}
variables:
  x: {{type: "0..N", init: 0}}
  s: {{type: "set of 1..N", init: "{{}}"}}
  f: {{type: bool, init: false}}
actions:
  - name: up
    guard: x < N
    effect: x += 1
  - name: sweep
    effect: |
      for g in 1..N:
          if {flag_cond} and g not in s:
              s |= {{g}}
              f = true
  - name: reset
    guard: x > {c2}
    effect: f = false
invariants:
  inv: "{inv}"
"""


@settings(max_examples=20, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow])
@given(parametric_specs())
def test_parametric_pdr_is_never_wrong_on_generated_specs(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text)
        r = check_pdr(load_model(path), time_limit=20)
        got = r.property("inv")
        value = load_model(path).constants["N"].value
        at_value = check(path).property("inv")
        if got.outcome == "holds":
            for n in range(1, 7):   # true for every N: BFS agrees at each value tried
                assert outcomes(check(path, {"N": n}))["inv"] == "holds", (text, n)
        elif got.outcome == "violated":
            assert at_value.outcome == "violated", text
            assert got.trace.length == at_value.trace.length, text
        assert not (at_value.outcome == "violated" and got.outcome == "holds"), (text, value)


# ---------------------------------------------------------------- --engine all
def test_engine_all_explores_then_proves_for_every_value():
    code, out, _ = run_cli("check", str(SPECS / "dns_fix_cleanup_in_use.yaml"), "--engine",
                           "all", "--time-limit", "120", "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["engine"] == "all" and doc["complete"] and doc["passed"]
    assert doc["stats"]["states"] == 64_699            # the explicit search's counts
    assert doc["symbolic"] == {"PLANS": "PLANS >= 1", "KEEP": "KEEP >= 1"}
    got = {p["name"]: p for p in doc["properties"]}
    assert got["no_empty_record"]["engine"] == "pdr"   # decided for every value by PDR
    assert got["no_empty_record"]["invariant"]
    assert got["newest_applied"]["outcome"] == "reachable"
    assert got["newest_applied"]["engine"] != "pdr"     # a witness: the explicit search's


def test_engine_all_keeps_a_violation_from_the_search():
    code, out, _ = run_cli("check", str(SPECS / "dynamodb_dns_race.yaml"), "--engine", "all",
                           "--time-limit", "60", "--format", "json")
    doc = json.loads(out)
    got = {p["name"]: p for p in doc["properties"]}
    assert got["no_empty_record"]["outcome"] == "violated"
    assert got["no_empty_record"]["trace"]["length"] == 11
    assert doc["engine"] == "all" and code == 0
