"""`dnsrace replay`: every trace written by `check` replays; tampered ones diverge where they
were changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

CORPUS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "models").glob("*.yaml")) \
    + sorted((ROOT / "tests" / "contract").glob("*.yaml"))
RACE = ROOT / "specs" / "dynamodb_dns_race.yaml"


def write_traces(spec: Path, out: Path, *extra: str) -> list[Path]:
    code, _, err = run_cli("check", str(spec), "--trace-dir", str(out), "-q", *extra)
    assert code in (0, 1), err
    return sorted(out.glob("*.json"))


@pytest.mark.parametrize("spec", CORPUS, ids=lambda p: p.name)
def test_every_trace_replays_faithfully(spec, tmp_path):
    for f in write_traces(spec, tmp_path):
        code, out, err = run_cli("replay", str(f))
        assert code == 0, out + err
        assert "faithfully" in out


@pytest.fixture
def race_trace(tmp_path) -> dict:
    f = tmp_path / "dynamodb-dns-race.no_empty_record.json"
    write_traces(RACE, tmp_path)
    return json.loads(f.read_text())


def replay_obj(tmp_path, obj, *extra):
    f = tmp_path / "edited.json"
    f.write_text(json.dumps(obj))
    return run_cli("replay", str(f), *extra)


def test_replay_tells_the_story_with_the_stale_check_and_the_failing_invariant(tmp_path,
                                                                            race_trace):
    code, out, _ = replay_obj(tmp_path, race_trace)
    assert code == 0
    assert "^ stale check: Enactor[0] checked `plan > applied` at step 5" in out
    assert "^ invariant no_empty_record fails here" in out


def test_a_step_that_is_not_enabled_is_named_with_its_false_guard(tmp_path, race_trace):
    race_trace["steps"][5]["action"] = "Enactor[0].check.not_newer"
    code, out, _ = replay_obj(tmp_path, race_trace)
    assert code == 1
    assert out.splitlines()[-1] == ("DIVERGES at step 5: Enactor[0].check.not_newer is not "
                                    "enabled: its guard `plan <= applied` is false (plan=2, "
                                    "record=[1, 1])")


def test_a_step_of_an_instance_at_another_step_is_named(tmp_path, race_trace):
    race_trace["steps"][9]["action"] = "Enactor[2].write"
    code, out, _ = replay_obj(tmp_path, race_trace)
    assert code == 1
    assert "DIVERGES at step 9: Enactor[2].write is not enabled: Enactor[2] is at pick" in out


def test_a_changed_state_is_named_with_the_differing_variables(tmp_path, race_trace):
    race_trace["steps"][10]["state"]["record"][1] = 3
    code, out, _ = replay_obj(tmp_path, race_trace)
    assert code == 1
    assert out.splitlines()[-1] == ("DIVERGES at step 10: after Enactor[1].write the state "
                                    "differs from the recorded one: the trace has record[1]=3, "
                                    "the spec gives record[1]=4")


def test_an_unknown_transition_and_a_bad_initial_state(tmp_path, race_trace):
    t = json.loads(json.dumps(race_trace))
    t["steps"][2]["action"] = "Enactor[0].pik"
    code, out, _ = replay_obj(tmp_path, t)
    assert code == 1 and "DIVERGES at step 2: the spec has no transition named" in out
    t = json.loads(json.dumps(race_trace))
    t["steps"][0]["state"]["newest"] = 3
    code, out, _ = replay_obj(tmp_path, t)
    assert code == 1 and "DIVERGES at step 0: step 0 is not an initial state" in out


def test_a_trace_of_an_older_spec_replays_with_a_warning(tmp_path, race_trace):
    race_trace["spec"]["sha256"] = "0" * 64
    code, out, err = replay_obj(tmp_path, race_trace)
    assert code == 0 and "has changed since this trace was written" in err


def test_a_bare_trace_from_another_tool_replays_with_spec(tmp_path, race_trace):
    bare = {"length": race_trace["length"], "steps": race_trace["steps"]}
    code, out, err = replay_obj(tmp_path, bare)
    assert code == 2 and "give it with --spec SPEC" in err
    code, out, _ = replay_obj(tmp_path, bare, "--spec", str(RACE))
    assert code == 0 and "faithfully" in out


def test_a_failing_last_step_replays(tmp_path):
    traces = write_traces(ROOT / "tests" / "contract" / "either_turn.yaml", tmp_path)
    f = next(t for t in traces if t.name.endswith(".type.json"))
    code, out, _ = run_cli("replay", str(f))
    assert code == 0 and "FAILS: the value written to 'tries'" in out


def test_unreadable_traces_exit_2(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"steps": [')
    code, _, err = run_cli("replay", str(f))
    assert code == 2 and f"{f}:1:" in err
    f.write_text('{"steps": []}')
    code, _, err = run_cli("replay", str(f))
    assert code == 2 and "DR603 trace-shape]: `steps` must be a non-empty list" in err
