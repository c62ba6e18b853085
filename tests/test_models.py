"""Classic models with counts pinned against SPIN (see tests/models/README.md).

Each entry of tests/models/expected_counts.json was computed by SPIN 6.5.2 on a Promela twin
(one d_step per transition, -DNOREDUCE -DSAFETY) and by two independent Python programs;
dnsrace must give exactly the same states, transitions and depth, every verdict, and every
shortest trace length.
"""

from __future__ import annotations

import json

import pytest

from dnsrace.api import check
from tests.helpers import ROOT, outcomes, trace_lengths

EXPECTED = json.loads((ROOT / "tests" / "models" / "expected_counts.json").read_text())
CASES = {k: v for k, v in EXPECTED.items() if not k.startswith("_")}


@pytest.mark.parametrize("key", sorted(CASES))
def test_counts_match_spin(key):
    case = CASES[key]
    r = check(ROOT / case["spec"], constants=case["constants"])
    assert r.complete
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == \
        (case["states"], case["transitions"], case["depth"])
    # SPIN has one initial state: a twin of a spec with several adds a pre-initial one.
    pre_initial = 1 if "pre-initial" in case.get("spin_relation", "") else 0
    assert r.stats.states == case["spin_states_stored"] - pre_initial
    assert outcomes(r) == case["properties"]
    lengths = {k: v for k, v in trace_lengths(r).items() if v is not None}
    assert lengths == case.get("trace_lengths", {})
    assert r.passed == case["passed"]


def test_at_least_four_classics_are_pinned():
    specs = {c["spec"] for c in CASES.values()}
    for name in ("peterson2", "peterson3", "dining_philosophers", "ticket_lock", "bakery"):
        assert f"tests/models/{name}.yaml" in specs
