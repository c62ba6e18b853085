"""Temporal properties: the four forms with and without fairness, lassos and their replay,
recoverable's shortest traces, and both explicit engines (per-state and array, which must
give the same JSON) against a slow networkx reference on generated specs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

import numpy as np

from dnsrace.api import check_system, compile_spec
from dnsrace.engines import array_bfs, bfs
from dnsrace.engines.array_bfs import check_system_array
from dnsrace.engines.temporal import check_lasso
from dnsrace.ir.layout import state_from_json
from tests.helpers import ROOT, check_text, run_cli, write_spec
from tests.reference.liveness import RefGraph
from tests.reference.specgen import temporal_specs

SPINNER = """
    dnsrace: 1
    name: spinner
    variables:
      x: {type: bool, init: false}
    processes:
      Spin:
        steps:
          - name: spin
            guard: not x
    actions:
      - name: raise_x
        guard: not x
        effect: x = true
    temporal:
      gets_set: "always eventually x"
      stays_set: "eventually always x"
      answered: "not x leads_to x"
      fixable: "recoverable x"
    """

TOGGLE = """
    dnsrace: 1
    name: toggle
    variables:
      t: {type: "0..1", init: 0}
      x: {type: bool, init: false}
    processes:
      Tog:
        steps:
          - name: flip
            effect: t = 1 - t
    actions:
      - name: raise_x
        guard: t == 1 and not x
        effect: x = true
    temporal:
      gets_set: "always eventually x"
    """

COUNTER = """
    dnsrace: 1
    name: counter
    variables:
      x: {type: "0..3", init: 0}
    actions:
      - name: inc
        guard: x < 2
        effect: x = x + 1
    temporal:
      back_to_zero: "always eventually x == 0"
      settles: "eventually always x == 2"
      zero_again: "recoverable x == 0"
    """


def spec_with_fairness(text: str, fairness: str) -> str:
    return text.rstrip(" ") + "".join(f"    {line}\n" for line in fairness.splitlines())


def outcomes(result) -> dict[str, str]:
    return {p.name: p.outcome for p in result.properties if p.kind == "temporal"}


def test_a_process_can_spin_forever_without_fairness(tmp_path):
    r = check_text(tmp_path, SPINNER)
    assert outcomes(r) == {"gets_set": "violated", "stays_set": "violated",
                           "answered": "violated", "fixable": "holds"}
    trace = r.property("gets_set").trace
    assert [s.action for s in trace.steps] == [None, "Spin[0].spin"]
    assert trace.loop_start == 0 and trace.steps[-1].state == trace.steps[0].state


def test_weak_fairness_on_the_action_makes_it_happen(tmp_path):
    r = check_text(tmp_path, spec_with_fairness(SPINNER, "fairness:\n  weak: [raise_x]"))
    assert outcomes(r) == {"gets_set": "holds", "stays_set": "holds", "answered": "holds",
                           "fixable": "holds"}
    assert r.passed


def test_weak_fairness_of_the_spinner_alone_does_not_help(tmp_path):
    r = check_text(tmp_path, spec_with_fairness(SPINNER, "fairness:\n  weak: [Spin]"))
    assert r.property("gets_set").outcome == "violated"
    assert r.property("gets_set").trace.fair_steps == ["Spin[0] (weak)"]


def test_an_intermittently_enabled_action_needs_strong_fairness(tmp_path):
    assert check_text(tmp_path, TOGGLE).property("gets_set").outcome == "violated"
    weak = check_text(tmp_path, spec_with_fairness(TOGGLE, "fairness:\n  weak: [raise_x, Tog]"))
    assert weak.property("gets_set").outcome == "violated"
    trace = weak.property("gets_set").trace
    # the weakly fair cycle flips t without taking `raise_x`: raise_x is disabled where t == 0
    assert {s.action for s in trace.steps[trace.loop_start + 1:]} == {"Tog[0].flip"}
    strong = check_text(tmp_path, spec_with_fairness(TOGGLE, "fairness:\n  strong: [raise_x]"))
    assert strong.property("gets_set").outcome == "holds"


def test_a_deadlock_repeats_forever_as_a_one_state_cycle(tmp_path):
    r = check_text(tmp_path, COUNTER)
    assert outcomes(r) == {"back_to_zero": "violated", "settles": "holds",
                           "zero_again": "violated"}
    trace = r.property("back_to_zero").trace
    assert trace.length == 2 and trace.loop_start == 2          # the repeat is not a step
    assert trace.to_json()["loop_start"] == 2


def test_recoverable_shows_a_shortest_path_to_the_first_trap(tmp_path):
    r = check_text(tmp_path, COUNTER)
    trace = r.property("zero_again").trace
    assert trace.loop_start is None and trace.length == 1
    assert [s.state for s in trace.steps] == [{"x": 0}, {"x": 1}]
    two_traps = check_text(tmp_path, """
        dnsrace: 1
        name: traps
        variables:
          x: {type: "0..3", init: 0}
        actions:
          - name: right
            guard: x == 0
            effect: x = 2
          - name: left
            guard: x == 0
            effect: x = 1
        temporal:
          home: "recoverable x == 0"
        """)
    steps = two_traps.property("home").trace.steps
    assert [s.action for s in steps] == [None, "right"]           # first in BFS order


def test_a_failing_effect_adds_no_edge(tmp_path):
    r = check_text(tmp_path, """
        dnsrace: 1
        name: fails
        variables:
          x: {type: "0..3", init: 0}
        actions:
          - name: step
            guard: x < 2
            effect: |
              x = x + 1
              assert x < 2, "too far"
          - name: back
            guard: x == 1 and x > 5
            effect: x = 0
        temporal:
          returns: "x == 1 leads_to x == 0"
        fairness:
          weak: [step]
        """)
    # at x == 1 the only enabled transition fails: the state repeats forever
    trace = r.property("returns").trace
    assert r.property("returns").outcome == "violated"
    assert r.property("assertion").outcome == "violated"
    assert trace.loop_start == 1 and trace.length == 1


def test_leads_to_needs_the_trigger_before_the_cycle(tmp_path):
    r = check_text(tmp_path, """
        dnsrace: 1
        name: request
        variables:
          req: {type: bool, init: false}
          ack: {type: bool, init: false}
        processes:
          Client:
            steps:
              - name: ask
                effect: req = true
              - name: idle
                next: idle
        actions:
          - name: answer
            guard: req and not ack
            effect: ack = true
        temporal:
          answered: "req leads_to ack"
        fairness:
          weak: [Client]
        """)
    p = r.property("answered")
    assert p.outcome == "violated"
    states = [s.state for s in p.trace.steps]
    assert any(s["req"] and not s["ack"] for s in states[:p.trace.loop_start + 1])
    assert all(not s["ack"] for s in states)


def test_lasso_trace_files_replay_and_report_fairness(tmp_path):
    spec = write_spec(tmp_path, spec_with_fairness(TOGGLE, "fairness:\n  weak: [raise_x, Tog]"))
    out = tmp_path / "traces"
    code, stdout, _ = run_cli("check", str(spec), "--engine", "bfs", "--trace-dir", str(out))
    assert code == 1
    assert "the cycle starts here" in stdout and "repeat forever" in stdout
    trace_file = out / "toggle.gets_set.json"
    obj = json.loads(trace_file.read_text())
    assert obj["kind"] == "temporal" and obj["loop_start"] == 0
    code, stdout, _ = run_cli("replay", str(trace_file))
    assert code == 0, stdout
    assert "fairness holds on the cycle" in stdout
    # the same cycle under strong fairness of `raise_x` is unfair: replay says so
    strong = write_spec(tmp_path, spec_with_fairness(TOGGLE, "fairness:\n  strong: [raise_x]"),
                        "strong.yaml")
    code, stdout, _ = run_cli("replay", str(trace_file), "--spec", str(strong))
    assert code == 1 and "UNFAIR cycle: raise_x (strongly fair)" in stdout
    # a loop that does not close
    obj["loop_start"] = 1
    trace_file.write_text(json.dumps(obj))
    code, stdout, _ = run_cli("replay", str(trace_file))
    assert code == 1 and "the loop does not close" in stdout


def test_json_marks_temporal_properties(tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    code, stdout, _ = run_cli("check", str(spec), "--format", "json")
    props = {p["name"]: p for p in json.loads(stdout)["properties"]}
    assert props["back_to_zero"]["kind"] == "temporal"
    assert props["back_to_zero"]["trace"]["loop_start"] == 2
    assert "loop_start" not in props["zero_again"]["trace"]
    assert props["settles"]["trace"] is None


def test_an_incomplete_search_leaves_temporal_properties_unknown(tmp_path):
    r = check_text(tmp_path, COUNTER, max_states=2)
    assert set(outcomes(r).values()) == {"unknown"}
    model, ts, cs = compile_spec(write_spec(tmp_path, COUNTER))
    arr = check_system_array(model, ts, cs, bfs.Limits(max_states=2))
    assert arr.engine == "array" and set(outcomes(arr).values()) == {"unknown"}


# ---------------------------------------------------------------------- the array engine


def result_json(results) -> list:
    """What a user reads of each property (traces as JSON), whichever engine decided it."""
    return [json.loads(json.dumps({k: v for k, v in p.to_json().items() if k != "engine"}))
            for p in results]


def both_engines(path: Path, xp=None) -> tuple:
    """((ts, cs, the per-state engine's properties), the array engine's result), the array
    engine's result checked to be its own (no fallback) and equal to the per-state one's,
    counts and JSON."""
    model, ts, cs = compile_spec(path)
    per_state = check_system(model, ts, cs)
    arr = check_system_array(model, ts, cs, xp=xp)
    assert arr.engine == "array" and arr.warnings == per_state.warnings, arr.warnings
    assert all(p.engine == "array" for p in arr.properties)
    s = per_state.stats
    assert (arr.stats.states, arr.stats.transitions, arr.stats.depth) == \
        (s.states, s.transitions, s.depth)
    assert result_json(arr.properties) == result_json(per_state.properties), path.read_text()
    return (ts, cs, per_state.properties), arr


def test_the_array_engine_gives_the_same_json(tmp_path):
    for text in (SPINNER, TOGGLE, COUNTER,
                 spec_with_fairness(TOGGLE, "fairness:\n  weak: [raise_x, Tog]"),
                 spec_with_fairness(TOGGLE, "fairness:\n  strong: [raise_x]")):
        both_engines(write_spec(tmp_path, text))


def test_the_array_engine_records_the_per_state_engines_graph(tmp_path):
    model, ts, cs = compile_spec(write_spec(tmp_path, spec_with_fairness(
        SPINNER, "fairness:\n  weak: [Spin]\n  strong: [raise_x]")))
    mine = bfs.explore(ts, cs).search_graph(ts, cs)
    theirs = array_bfs.explore(ts, cs=cs).search_graph(ts, cs)
    for name in ("indptr", "dst", "tid", "unit", "enabled", "stuck"):
        assert np.array_equal(getattr(mine.graph, name), getattr(theirs.graph, name)), name
    for (p1, q1), (p2, q2) in zip(mine.values, theirs.values):
        assert np.array_equal(p1, p2) and (q1 is None) == (q2 is None)
        assert q1 is None or np.array_equal(q1, q2)


DNS_TEMPORAL = """temporal:
  healed: "recoverable not any(empty[e] for e in 0..ENDPOINTS-1)"
  settles: "always eventually all(record[e] == PLANS for e in 0..ENDPOINTS-1)"
  answered: "any(Enactor.pc[i] == write for i in Enactor) leads_to newest == PLANS"
  cleans: "eventually always deleted != {}"
  fresh: "newest < PLANS leads_to newest == PLANS"
fairness:
  weak: [Enactor]
  strong: [Planner]
"""


def test_the_array_engine_agrees_on_the_dns_race_in_every_sort_order(tmp_path, monkeypatch):
    """The DNS race with temporal properties: the same JSON from both engines, also through
    a non-numpy array module with every level in the mixed order (the visited set re-sorted
    with its state numbers)."""
    from tests.test_array_engine import XP

    race = (ROOT / "specs" / "dynamodb_dns_race.yaml").read_text()
    text = race[:race.index("\ntemporal:") + 1] + DNS_TEMPORAL   # these, not the spec's own
    path = tmp_path / "race.yaml"
    path.write_text(text, encoding="utf-8")
    _, arr = both_engines(path)
    assert outcomes(arr) == {"healed": "violated", "settles": "violated",
                             "answered": "holds", "cleans": "holds", "fresh": "holds"}
    monkeypatch.setattr(array_bfs, "KEY_CODE_BITS", 0)
    both_engines(path, xp=XP)


# ---------------------------------------------------------------------- against the reference

REFERENCE = settings(max_examples=40, deadline=None, database=None,
                     phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_matches_reference(path: Path, text: str) -> tuple[int, int]:
    """Both engines' verdicts equal the reference's (and each other's, JSON included);
    every counterexample replays and is as short as the reference says.  Returns how many
    properties were violated and how many held."""
    (ts, cs, per_state), arr = both_engines(path)
    results = {p.name: p for p in per_state}
    assert {p.name: p.outcome for p in arr.properties} == \
        {p.name: p.outcome for p in per_state}
    ref = RefGraph(ts, cs)
    violated = held = 0
    for prop in ts.temporal:
        bad, where = ref.verdict(prop)
        got = results[prop.name]
        assert got.outcome == ("violated" if bad else "holds"), (prop.name, text)
        if not bad:
            held += 1
            continue
        violated += 1
        packed = [cs.packing.pack(state_from_json(ts.layout, s.state)) for s in got.trace.steps]
        tids = [-1] + [next(t.index for t in ts.transitions if t.name == s.action)
                       for s in got.trace.steps[1:]]
        assert check_lasso(ts, cs, packed, tids, got.trace.loop_start) == [], text
        shortest = min(ref.dist[s] for s in where)
        if prop.form == "recoverable":
            assert got.trace.length == shortest and packed[-1] in where, text
        elif prop.form != "leads_to":
            assert got.trace.loop_start == shortest and packed[got.trace.loop_start] in where
    return violated, held


def test_both_engines_match_the_networkx_reference_on_generated_specs():
    seen = {"violated": 0, "held": 0, "specs": 0}

    @REFERENCE
    @given(temporal_specs())
    def compare(text):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "spec.yaml"
            path.write_text(text, encoding="utf-8")
            violated, held = assert_matches_reference(path, text)
            seen["violated"] += violated
            seen["held"] += held
            seen["specs"] += 1

    compare()
    # not vacuous: many specs, and verdicts of both kinds decided by both engines
    assert seen["specs"] >= 20 and seen["violated"] >= 10 and seen["held"] >= 10, seen


def test_an_error_evaluating_a_temporal_property_is_an_error_and_counts_as_neither(tmp_path):
    r = check_text(tmp_path, """
        dnsrace: 1
        name: divide
        variables:
          x: {type: "0..2", init: 2}
        actions:
          - name: down
            guard: x > 0
            effect: x = x - 1
        temporal:
          big: "always eventually 4 // x >= 2"
        """)
    error = r.property("error")
    assert error.outcome == "violated" and error.trace.length == 2
    assert "evaluating property big" in error.message
    # x == 0 repeats forever, but P cannot be evaluated there: it is not a not-P state
    assert r.property("big").outcome == "holds"
