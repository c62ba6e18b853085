"""Every example of the contract (../shared/SPEC-LANGUAGE.md) checks as its text says."""

from __future__ import annotations

import re

from dnsrace.api import check
from tests.helpers import ROOT, outcomes, run_cli, trace_lengths, write_spec

CONTRACT = ROOT.parent / "shared" / "SPEC-LANGUAGE.md"
LEASE = ROOT / "tests" / "contract" / "lease_handoff.yaml"


# The example as copied from the contract; the contract itself sits beside the checkout in
# the workspace and in CI (../shared), and is compared whenever it is there.
LEASE_SHA256 = "7c18cf38c1f970e9fc1650e4fc15c92241bc5479101b202bb7e1a85023d0d326"


def test_lease_example_is_the_contract_text_unchanged():
    import hashlib
    assert hashlib.sha256(LEASE.read_bytes()).hexdigest() == LEASE_SHA256
    if CONTRACT.exists():
        first_yaml = re.findall(r"```yaml\n(.*?)```", CONTRACT.read_text(), re.S)[0]
        assert LEASE.read_text() == first_yaml


def test_lease_example_gives_the_results_its_comments_state():
    r = check(LEASE)
    assert r.complete and r.passed
    assert outcomes(r) == {
        "single_holder": "violated",      # expect: violated, "a known bug kept as a regression"
        "free_or_granted": "holds",
        "history_only_grows": "holds",
        "both_crashed": "reachable",      # a witness: the model is not vacuous
        "assertion": "holds", "type": "holds", "error": "holds",
    }


def test_lease_example_counts_match_the_json_example():
    r = check(LEASE)
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (556, 1144, 12)
    assert trace_lengths(r)["single_holder"] == 4
    steps = r.property("single_holder").trace.to_json()["steps"]
    assert steps[0]["action"] is None
    assert steps[0]["state"]["Worker.pc"] == ["read", "read"]
    assert steps[1]["action"] == "Worker[0].read"


def test_json_result_has_the_fixed_keys():
    code, out, _ = run_cli("check", str(LEASE), "--format", "json")
    assert code == 0
    import json
    obj = json.loads(out)
    for key in ("spec", "constants", "engine", "complete", "passed", "stats", "properties"):
        assert key in obj
    assert set(obj["spec"]) >= {"name", "path", "sha256"}
    assert obj["constants"] == {"WORKERS": 2, "GRANTS": 3}
    assert obj["stats"]["states"] == 556
    names = [p["name"] for p in obj["properties"]]
    assert names == ["single_holder", "free_or_granted", "history_only_grows", "both_crashed",
                     "assertion", "type", "error"]
    sh = obj["properties"][0]
    assert (sh["kind"], sh["expected"], sh["outcome"]) == ("invariant", "violated", "violated")
    assert sh["trace"]["length"] == 4 and len(sh["trace"]["steps"]) == 5
    state = sh["trace"]["steps"][0]["state"]
    assert state == {"lease": -1, "grants": [], "health": ["up", "up"],
                     "Worker.pc": ["read", "read"], "Worker.seen": [-1, -1]}


def test_either_example_is_two_transitions_named_by_alternative():
    r = check(ROOT / "tests" / "contract" / "either_turn.yaml")
    assert r.complete
    assert outcomes(r) == {"mutex": "holds", "both_done": "reachable", "assertion": "holds",
                           "type": "violated", "error": "holds"}
    retries = [s.action for s in r.property("type").trace.steps[1:]]
    assert retries == ["P[1].wait.retry"] * 3      # TRIES + 1: the third write leaves 0..2
    assert r.property("type").trace.steps[-1].state is None
    names = [s.action for s in r.property("both_done").trace.steps[1:]]
    assert names[0] == "P[0].wait.enter"
    assert any(n == "P[1].wait.retry" for n in names) or "P[1].wait.enter" in names


def test_temporal_example_is_checked(tmp_path):
    spec = write_spec(tmp_path, """
        dnsrace: 1
        name: heal
        variables:
          record_ok: {type: bool, init: true}
        actions:
          - name: flip
            effect: record_ok = not record_ok
        temporal:
          heals: "always eventually record_ok"
          settles: {expr: "eventually always record_ok", expect: violated}
        """)
    code, out, err = run_cli("check", str(spec))
    assert code == 0, out + err
    assert "heals" in out and "temporal" in out

