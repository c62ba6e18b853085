"""The command line as users and CI rely on it: exit statuses, formats, traces, limits."""

from __future__ import annotations

import json

from tests.helpers import COUNTER, ROOT, run_cli, write_spec

LEASE = str(ROOT / "tests" / "contract" / "lease_handoff.yaml")



def test_passing_spec_exits_0():
    code, out, err = run_cli("check", LEASE, "--no-timing")
    assert code == 0
    assert "556 states, 1,144 transitions, depth 12; complete" in out
    assert "PASSED" in out


def test_unexpected_violation_exits_1(tmp_path):
    spec = write_spec(tmp_path, COUNTER.replace('small: "x <= N"', 'small: "x < N"'))
    code, out, _ = run_cli("check", str(spec), "--no-timing")
    assert code == 1
    assert "FAIL small" in out and "FAILED" in out


def test_expected_violation_that_holds_exits_1(tmp_path):
    spec = write_spec(tmp_path, COUNTER.replace('small: "x <= N"',
                                                'small: {expr: "x <= N", expect: violated}'))
    code, out, _ = run_cli("check", str(spec))
    assert code == 1
    assert "holds (expected violated)" in out


def test_limits_give_exit_3_and_unknown_never_holds():
    code, out, _ = run_cli("check", LEASE, "--max-states", "50", "--format", "json")
    assert code == 3
    obj = json.loads(out)
    assert obj["complete"] is False and obj["passed"] is False
    by = {p["name"]: p for p in obj["properties"]}
    assert by["free_or_granted"]["outcome"] == "unknown"
    assert all(p["outcome"] != "holds" for p in obj["properties"])


def test_max_depth_and_time_limit_are_incomplete():
    assert run_cli("check", LEASE, "--max-depth", "2")[0] == 3
    code, out, _ = run_cli("check", LEASE, "--time-limit", "0", "--format", "json")
    assert code in (0, 3)  # a tiny spec may finish before the first clock check


def test_violation_found_before_a_limit_is_definitive(tmp_path):
    spec = write_spec(tmp_path, COUNTER.replace('small: "x <= N"', 'small: "x < 1"'))
    code, out, _ = run_cli("check", str(spec), "--max-depth", "2", "--format", "json")
    assert code == 1  # 1 takes precedence over 3
    by = {p["name"]: p for p in json.loads(out)["properties"]}
    assert by["small"]["outcome"] == "violated" and by["small"]["trace"]["length"] == 1


def test_stop_on_first_stops_and_is_incomplete(tmp_path):
    spec = write_spec(tmp_path, COUNTER.replace('small: "x <= N"', 'small: "x < 1"'))
    code, out, _ = run_cli("check", str(spec), "--stop-on-first", "--format", "json")
    obj = json.loads(out)
    assert code == 1 and obj["complete"] is False
    assert obj["stats"]["states"] < 4


def test_const_overrides_and_bad_const(tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    code, out, _ = run_cli("check", str(spec), "--const", "N=5", "--format", "json")
    assert code == 0 and json.loads(out)["stats"]["states"] == 6
    assert json.loads(out)["constants"] == {"N": 5}
    code, _, err = run_cli("check", str(spec), "--const", "n=5")
    assert code == 2 and "no constant 'n'" in err and "did you mean 'N'" in err
    code, _, err = run_cli("check", str(spec), "--const", "N=five")
    assert code == 2 and "NAME=INTEGER" in err


def test_folder_checks_every_spec_and_exits_with_the_worst(tmp_path):
    write_spec(tmp_path, COUNTER, "a.yaml")
    write_spec(tmp_path, COUNTER.replace('small: "x <= N"', 'small: "x < N"'), "b.yaml")
    code, out, _ = run_cli("check", str(tmp_path), "--format", "json")
    assert code == 1
    arr = json.loads(out)
    assert [o["spec"]["name"] for o in arr] == ["counter", "counter"]
    (tmp_path / "c.yaml").write_text("dnsrace: 1\nname: [\n")
    code, _, err = run_cli("check", str(tmp_path))
    assert code == 2 and "c.yaml:3:1: error[DR101 yaml-syntax]" in err


def test_missing_file_is_exit_2():
    code, _, err = run_cli("check", "no/such/spec.yaml")
    assert code == 2 and "no such file" in err


def test_trace_dir_writes_contract_shaped_trace_files(tmp_path):
    code, out, _ = run_cli("check", LEASE, "--trace-dir", str(tmp_path / "t"))
    assert code == 0
    f = tmp_path / "t" / "lease-handoff.single_holder.json"
    obj = json.loads(f.read_text())
    assert obj["spec"]["name"] == "lease-handoff" and obj["constants"]["WORKERS"] == 2
    assert obj["length"] == 4 and obj["steps"][0]["action"] is None
    assert f"replay: dnsrace replay {f}" in out
    assert (tmp_path / "t" / "lease-handoff.both_crashed.json").exists()


def test_a_spec_name_too_long_for_a_file_name_still_gets_its_trace_files(tmp_path):
    # the fuzzer's mutate-spec family: a 3,000-character `name:` made every trace file's
    # name too long for the file system (exit 74, no trace)
    text = (ROOT / LEASE).read_text().replace("name: lease-handoff", "name: " + "x" * 3000)
    spec = write_spec(tmp_path, text, "long.yaml")
    code, out, err = run_cli("check", str(spec), "--trace-dir", str(tmp_path / "t"))
    assert code == 0, err
    files = sorted((tmp_path / "t").glob("*.json"))
    assert len(files) == 2 and all(len(f.name.encode()) <= 200 for f in files)
    assert len({f.name for f in files}) == 2
    assert all(f.name.startswith("x" * 100) for f in files)
    assert any(f"replay: dnsrace replay {f}" in out for f in files)
    for f in files:
        code, _, err = run_cli("replay", str(f))
        assert code == 0, err


def test_output_is_deterministic(tmp_path):
    a = run_cli("check", LEASE, "--no-timing", "--full")[1]
    b = run_cli("check", LEASE, "--no-timing", "--full")[1]
    assert a == b
    ja = json.loads(run_cli("check", LEASE, "--format", "json")[1])
    jb = json.loads(run_cli("check", LEASE, "--format", "json")[1])
    ja["stats"].pop("seconds"), jb["stats"].pop("seconds")
    assert ja == jb


def test_trace_table_shows_only_changes_and_how_to_replay():
    out = run_cli("check", LEASE, "--no-timing")[1]
    assert "     1  Worker[0].read  Worker.pc[0]=take" in out
    assert "rerun with --trace-dir DIR" in out


def test_quiet_keeps_every_counterexample_and_drops_the_rest():
    out = run_cli("check", LEASE, "-q", "--no-timing")[1]
    assert "PASSED" in out
    assert "single_holder: invariant violated in 4 steps (as expected)" in out
    assert "     4  Worker[1].take" in out
    race = run_cli("check", "specs/dynamodb_dns_race.yaml", "-q", "--no-timing")[1]
    full = run_cli("check", "specs/dynamodb_dns_race.yaml", "--no-timing", "--witnesses")[1]
    rows = [line for line in race.splitlines() if line.startswith("  ok ")]
    assert [r.split()[1] for r in rows] == ["no_empty_record", "record_recoverable",
                                            "regional_heals", "endpoints_settle"]
    assert "repair_trap: reachable in" in full and "repair_trap: reachable" not in race
    assert race.count("  step  transition") == 4 < full.count("  step  transition")


def test_compile_shows_generated_python_and_ir():
    code, out, _ = run_cli("compile", LEASE)
    assert code == 0 and "def expand(s, guard_errors):" in out
    code, out, _ = run_cli("compile", LEASE, "--emit", "ir")
    assert code == 0 and "transition 0: Worker[0].read" in out


def test_lint_warns_on_read_after_write_unused_param_and_unreachable_step(tmp_path):
    spec = write_spec(tmp_path, """
        dnsrace: 1
        name: sloppy
        variables:
          x: {type: "0..3", init: 0}
          y: {type: "0..3", init: 0}
        processes:
          P:
            steps:
              - name: a
                effect: |
                  x = 1
                  y = x
                next: a
              - name: orphan
        actions:
          - name: poke
            params: {k: "0..1"}
            effect: x = 0
        """)
    code, _, err = run_cli("lint", str(spec))
    assert code == 1
    assert "reads 'x' after writing it" in err
    assert "parameter 'k' of action poke is never used" in err
    assert "step P.orphan is never the target of a `next`" in err
    assert run_cli("lint", LEASE)[0] == 0


def test_spec_error_has_position_caret_and_hint(tmp_path):
    spec = write_spec(tmp_path, COUNTER.replace("guard: x < N", "guard: x < n"))
    code, out, err = run_cli("check", str(spec))
    assert code == 2 and out == ""
    assert f"{spec}:9:16: error[DR201 unknown-name]: unknown name 'n'" in err
    assert "^" in err and "hint: did you mean 'N'?" in err
    assert "Traceback" not in err


def test_ctrl_c_prints_the_summary_so_far_and_exits_130():
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "dnsrace", "check", LEASE, "--const", "WORKERS=5",
         "--const", "GRANTS=8", "--no-timing"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(6)  # past start-up, into the search (a slow machine may still be loading)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    if "interrupted before the search started" not in err:
        assert "INCOMPLETE (interrupted)" in out and "INTERRUPTED" in out


def test_lint_counts_a_step_an_action_sends_an_instance_to_as_reachable(tmp_path):
    spec = write_spec(tmp_path, """
        dnsrace: 1
        name: l
        variables:
          x: {type: "0..1", init: 0}
        processes:
          W:
            steps:
              - {name: a, next: a}
              - {name: recover, effect: x = 1, next: a}
              - {name: orphan, next: a}
        actions:
          - name: fail
            guard: W.pc[0] == a
            effect: W.pc[0] = recover
        """)
    code, _, err = run_cli("lint", str(spec))
    assert code == 1
    assert "step W.orphan is never the target of a `next` and no action sends an instance " \
        "there, so it can never run" in err
    assert "W.recover" not in err
