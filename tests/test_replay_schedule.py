"""`dnsrace replay --schedule`: a trace's transitions run on another spec (a fixed design),
from that spec's own initial state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

SPECS = ROOT / "specs"
RACE = SPECS / "dynamodb_dns_race.yaml"
GOLDEN = ROOT / "tests" / "schedules"
DESIGNS = ["dynamodb_dns_race.yaml", *sorted(p.name for p in SPECS.glob("dns_fix_*.yaml")),
           "dns_enactor_crash.yaml"]


def trace_of(spec: Path, prop: str, out: Path) -> Path:
    code, _, err = run_cli("check", str(spec), "--trace-dir", str(out), "-q")
    assert code in (0, 1), err
    return next(out.glob(f"*.{prop}.json"))


@pytest.fixture
def race_trace(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(ROOT)
    return trace_of(RACE, "no_empty_record", tmp_path)


def schedule(trace: Path, spec: str, tmp_path: Path):
    code, out, err = run_cli("replay", str(trace), "--spec", f"specs/{spec}", "--schedule")
    return code, out.replace(str(tmp_path), "TMP"), err


@pytest.mark.parametrize("spec", DESIGNS)
def test_the_race_schedule_on_each_design(spec, race_trace, tmp_path, update_goldens):
    code, out, err = schedule(race_trace, spec, tmp_path)
    golden = GOLDEN / (Path(spec).stem + ".expected")
    if update_goldens:
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")
    assert err == ""
    if spec == RACE.name:
        assert code == 1
        assert "ran all 11 steps of the schedule" in out
        assert out.endswith("FAILS: invariant no_empty_record fails at step 11\n")
    else:
        assert code == 0
        assert out.endswith("no property fails on the steps that ran\n")


@pytest.mark.parametrize("spec, step, guard", [
    ("dns_fix_cas.yaml", 9, "`not empty[ep] and plan > record[ep]` is false (empty=[false, "
                            "false], ep=0, plan=2, record=[4, 1])"),
    ("dns_fix_lease.yaml", 6, "`holder == -1` is false (holder=0)"),
])
def test_a_fix_that_refuses_a_step_names_its_guard_and_values(spec, step, guard, race_trace,
                                                              tmp_path):
    code, out, _ = schedule(race_trace, spec, tmp_path)
    blocked = next(ln for ln in out.splitlines() if ln.startswith("BLOCKED"))
    assert blocked.startswith(f"BLOCKED at step {step} of 11: ")
    assert guard in blocked


def test_a_fix_that_changes_an_effect_is_where_the_spec_departs(race_trace, tmp_path):
    code, out, _ = schedule(race_trace, "dns_fix_cleanup_in_use.yaml", tmp_path)
    assert code == 0 and "ran all 11 steps" in out
    assert "the spec first departs from the trace at step 11: in the trace, " \
           "Enactor[1].cleanup did empty[0]=true" in out


def test_a_transition_the_spec_lacks_stops_the_schedule_with_exit_1(race_trace, tmp_path):
    obj = json.loads(race_trace.read_text())
    obj["steps"][2]["action"] = "Enactor[0].pik"
    f = tmp_path / "renamed.json"
    f.write_text(json.dumps(obj))
    code, out, _ = schedule(f, "dns_fix_cas.yaml", tmp_path)
    assert code == 1
    assert "STOPS at step 2 of 11: the spec has no transition named \"Enactor[0].pik\"; " \
           "did you mean 'Enactor[0].pick'" in out


def test_an_alternative_runs_as_the_plain_step_of_another_design(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    t = trace_of(SPECS / "dns_fix_cas.yaml", "newest_applied", tmp_path)
    code, out, _ = schedule(t, "dynamodb_dns_race.yaml", tmp_path)
    assert code == 0 and "ran all" in out
    assert "^ the trace's Enactor[0].write.apply runs here as Enactor[0].write" in out


def test_the_initial_state_is_the_one_that_agrees_else_the_first(race_trace, tmp_path):
    obj = json.loads(race_trace.read_text())
    obj["steps"][0]["state"]["newest"] = 3
    f = tmp_path / "edited.json"
    f.write_text(json.dumps(obj))
    code, out, _ = schedule(f, "dynamodb_dns_race.yaml", tmp_path)
    assert out.splitlines()[1] == ("note: no initial state of the spec agrees with the "
                                   "trace's step 0 on newest, record, empty, deleted, "
                                   "Planner.pc, Enactor.pc, Enactor.plan, Enactor.ep; starting "
                                   "from the spec's first initial state")
    assert code == 1    # the schedule still empties the record from the real initial state


def test_without_schedule_a_trace_on_another_design_diverges(race_trace, tmp_path):
    code, out, _ = run_cli("replay", str(race_trace), "--spec", "specs/dns_fix_cas.yaml")
    assert code == 1 and "DIVERGES at step 8" in out
