"""The incident library: the DynamoDB DNS race is found and explained; the fixes hold."""

from __future__ import annotations

import pytest

from dnsrace.api import check
from tests.helpers import ROOT, checks_of, run_cli

SPECS = ROOT / "specs"
RACE = SPECS / "dynamodb_dns_race.yaml"
FIXES = ["dns_fix_cas.yaml", "dns_fix_cleanup_in_use.yaml", "dns_fix_lease.yaml"]


def test_the_project_invariant_gate_passes():
    code, out, err = run_cli("check", str(SPECS), "-q")
    assert code == 0, out + err


def test_race_empties_the_record_with_two_enactors_and_the_cleanup():
    r = check(RACE)
    assert r.passed
    p = r.property("no_empty_record")
    assert p.outcome == "violated" and p.expected == "violated"
    actions = [s.action for s in p.trace.steps[1:]]
    enactors = {a.split(".")[0] for a in actions if a.startswith("Enactor")}
    assert len(enactors) >= 2
    assert actions[-1].endswith(".cleanup")
    assert r.property("repair_trap").outcome == "reachable"
    assert r.property("newest_applied").outcome == "reachable"


def test_race_counterexample_marks_the_stale_check():
    r = check(RACE)
    trace = r.property("no_empty_record").trace
    assert len(checks_of(trace)) == 1
    c = checks_of(trace)[0]
    assert c.check == "plan > applied"
    assert c.instance == "Enactor[0]"
    assert trace.steps[c.step].action == "Enactor[0].write"
    assert trace.steps[c.made_false_at].action.startswith("Enactor[1].write")
    assert c.checked_at < c.made_false_at < c.step
    out = run_cli("check", str(RACE), "--no-timing")[1]
    assert "^ stale check: Enactor[0] checked `plan > applied` at step 5" in out


@pytest.mark.parametrize("name", FIXES)
@pytest.mark.parametrize("consts", [{}, {"PLANS": 5}])
def test_fixed_designs_hold_completely(name, consts):
    r = check(SPECS / name, constants=consts)
    assert r.complete and r.passed
    assert r.property("no_empty_record").outcome == "holds"
    assert r.property("repair_trap").outcome == "unreachable"
    assert r.property("newest_applied").outcome == "reachable"     # not vacuous
    for p in r.properties:
        if p.trace is not None:
            assert checks_of(p.trace) == [], (name, p.name)


def test_rechecking_the_first_endpoint_only_is_not_enough():
    r = check(SPECS / "dns_recheck_first_endpoint.yaml")
    assert r.passed
    p = r.property("no_empty_record")
    assert p.outcome == "violated"
    # The re-check at the regional endpoint is the delayed Enactor's own write making its
    # check false (plan == record[0]): not a stale check. What is marked is the stale read
    # of the plan it picked, which the Planner has since superseded.
    assert checks_of(p.trace) == []
    reads = [r for r in p.trace.races if r.kind == "read"]
    assert [(r.instance, r.local, r.read_at, r.changed_at, r.step) for r in reads] == \
        [("Enactor[0]", "plan", 2, 4, 5)]


def test_a_crash_mid_write_never_empties_a_record_but_may_leave_it_torn():
    r = check(SPECS / "dns_enactor_crash.yaml")
    assert r.complete and r.passed
    assert r.property("no_empty_record").outcome == "holds"
    assert r.property("torn_by_crash").outcome == "reachable"       # the crash happens
    settle = r.property("endpoints_settle")
    assert settle.outcome == "violated"
    actions = [s.action for s in settle.trace.steps[1:]]
    crash = actions.index("crash(e=0)")
    assert "Enactor[0].write.apply" in actions[:crash]          # it crashed mid-write
