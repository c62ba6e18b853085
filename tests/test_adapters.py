"""Adapters (`replay --adapter`, `dnsrace test`) on the in-memory lease example: a trace
performed on the system, a conformance failure named with its step, variable and values,
a seeded bug found and shrunk by `dnsrace test`, and every bad adapter an exit 2 with one
line."""

from __future__ import annotations

import json

import pytest

from tests.helpers import ROOT, run_cli

LEASE = ROOT / "specs" / "lease_handoff.yaml"
GOOD = "examples.lease_service.adapter:LeaseAdapter"
BUGGY = "tests.lease_variants:CrashKeepsLease"


@pytest.fixture
def traces(tmp_path):
    code, _, err = run_cli("check", str(LEASE), "--trace-dir", str(tmp_path), "-q")
    assert code == 1 or code == 0, err
    return tmp_path


def test_a_trace_is_performed_on_the_system_and_agrees(traces):
    code, out, err = run_cli("replay", str(traces / "lease-handoff.single_holder.json"),
                             "--adapter", GOOD)
    assert code == 0, out + err
    assert out.splitlines()[-2:] == [
        "observed: lease, grants, health, Worker.pc, Worker.seen",
        "the system agrees with the trace on all 4 steps"]


def write_trace(path, spec, names: list[str]):
    """A trace file of the spec's run taking the transitions `names`."""
    from dnsrace.api import compile_spec
    from dnsrace.ir.layout import state_json
    from dnsrace.mbt import Generator, Run

    _, ts, cs = compile_spec(spec)
    gen = Generator(ts, cs)
    by_name = {t.name: t.index for t in ts.transitions}
    states = gen.states(Run("", gen.initial[0], [by_name[n] for n in names]))
    steps = [{"action": a, "state": state_json(ts.layout, cs.packing.unpack(s))}
             for a, s in zip([None] + names, states)]
    path.write_text(json.dumps({"version": 1, "steps": steps}))
    return path


def test_a_conformance_failure_names_the_step_the_variable_and_both_values(tmp_path):
    trace = write_trace(tmp_path / "t.json", LEASE,
                        ["Worker[0].read", "Worker[0].take", "Worker[1].read", "crash(w=0)"])
    code, out, _ = run_cli("replay", str(trace), "--spec", str(LEASE), "--adapter", BUGGY)
    assert code == 1
    assert out.splitlines()[-1] == ("CONFORMANCE FAILURE at step 4: after crash(w=0), lease "
                                    "differs: the trace has -1, the system has 0")


def test_dnsrace_test_passes_a_conforming_system_and_reports_coverage():
    code, out, err = run_cli("test", str(LEASE), "--adapter", GOOD, "--runs", "5")
    assert code == 0, out + err
    assert out.splitlines()[1:] == [
        "  runs: 11 runs performed (6 directed, 5 random), 32 steps on the system",
        "  observed: lease, grants, health, Worker.pc, Worker.seen",
        "  transitions taken: 4 of 4 kinds: Worker.read 8, Worker.take 7, Worker.work 4, "
        "crash 13",
        "  property events reached on the system: 2 of 2",
        "    both_crashed: reached in run 5 (reaches both_crashed) at step 2",
        "    single_holder: the invariant fails (as the spec expects) in run 6 (reaches "
        "single_holder) at step 4",
        "  events the spec never reaches: free_or_granted",
        "PASSED: the system agrees with the spec on every step of 11 runs"]


def test_dnsrace_test_finds_a_seeded_bug_shrinks_it_and_writes_a_replayable_trace(tmp_path):
    trace = tmp_path / "bug.json"
    code, out, _ = run_cli("test", str(LEASE), "--adapter", BUGGY, "--output", str(trace))
    assert code == 1
    tail = out.split("the shortest failing run found: ")[1].splitlines()
    assert tail[0].startswith("3 steps")
    assert tail[-2] == ("CONFORMANCE FAILURE at step 3: after crash(w=1), lease differs: the "
                        "spec has -1, the system has 1")
    code, again, _ = run_cli("replay", str(trace), "--adapter", BUGGY)
    assert code == 1
    assert again.splitlines()[-1] == tail[-2].replace("the spec has", "the trace has")
    code, plain, _ = run_cli("replay", str(trace))     # a faithful trace of the spec
    assert code == 0 and "faithfully" in plain


def test_the_same_seed_gives_the_same_runs_and_another_seed_others():
    first = run_cli("test", str(LEASE), "--adapter", GOOD, "--format", "json", "--seed", "7")
    again = run_cli("test", str(LEASE), "--adapter", GOOD, "--format", "json", "--seed", "7")
    other = run_cli("test", str(LEASE), "--adapter", GOOD, "--format", "json", "--seed", "8")
    assert first == again
    assert json.loads(first[1])["steps"] != json.loads(other[1])["steps"]


@pytest.mark.parametrize("adapter, message", [
    ("no-colon", "error[DR801 adapter-name]: --adapter 'no-colon' is not MODULE:CLASS"),
    ("no_such_module:X", "error[DR802 adapter-module]: no module named 'no_such_module'"),
    ("examples.lease_service.adapter:LeaseAdaptor",
     "error[DR803 adapter-class]: module 'examples.lease_service.adapter' has no class "
     "'LeaseAdaptor'"),
    ("tests.lease_variants:NotAnAdapter",
     "error[DR804 not-an-adapter]: tests.lease_variants:NotAnAdapter is not an adapter: it "
     "has no method reset, step"),
    ("tests.lease_variants:Unfinished",
     "error[DR804 not-an-adapter]: tests.lease_variants:Unfinished is not an adapter: it "
     "has no method reset, step"),
    ("tests.lease_variants:not_a_class",
     "error[DR804 not-an-adapter]: tests.lease_variants:not_a_class is not an adapter: it "
     "is not a class"),
    ("tests.lease_variants:NeedsArguments",
     "error[DR804 not-an-adapter]: tests.lease_variants:NeedsArguments() raised TypeError"),
    ("tests.lease_variants:RaisesOnReset",
     "error[DR805 adapter-raised]: run 1 (takes Worker.read), resetting the system: the "
     "adapter raised ConnectionRefusedError: [Errno 111] Connection refused"),
    ("tests.lease_variants:RaisesOnStep",
     "error[DR805 adapter-raised]: run 2 (takes crash), at step 1 (crash(w=0)): the "
     "adapter raised TimeoutError: the service did not answer in 2 s"),
    ("tests.lease_variants:ObservesTooMuch",
     "error[DR806 adapter-observation]: run 1 (takes Worker.read), the adapter observes "
     "'leases', which is not a variable of the spec\n  hint: did you mean 'lease'?"),
])
def test_a_bad_adapter_exits_2_with_one_line_and_no_traceback(adapter, message):
    for args in (("test", str(LEASE)), ):
        code, out, err = run_cli(*args, "--adapter", adapter)
        assert code == 2 and out == ""
        assert err.startswith("<command line>: " + message), err
        assert "Traceback" not in err


def test_replay_with_a_bad_adapter_exits_2_before_reading_the_system(traces):
    code, out, err = run_cli("replay", str(traces / "lease-handoff.single_holder.json"),
                             "--adapter", "no_such_module:X")
    assert code == 2 and out == ""
    assert "DR802" in err


def test_the_json_report_and_the_trace_dir_carry_the_failing_run(tmp_path):
    code, out, _ = run_cli("test", str(LEASE), "--adapter", BUGGY, "--format", "json",
                           "--trace-dir", str(tmp_path / "traces"))
    assert code == 1
    report = json.loads(out)
    written = tmp_path / "traces" / "lease-handoff.conformance.json"
    assert report["passed"] is False
    assert report["failure"]["mismatch"] == {"step": 3, "action": "crash(w=1)",
                                             "variable": "lease", "spec": -1, "observed": 1}
    assert report["failure"]["trace_file"] == str(written)
    assert report["coverage"]["transitions"] == {"Worker.read": 8, "Worker.take": 7,
                                                 "Worker.work": 3, "crash": 11}
    assert json.loads(written.read_text())["steps"] == report["failure"]["trace"]["steps"]


def test_an_invariant_that_should_hold_but_fails_on_the_system_fails_the_test(tmp_path):
    from tests.helpers import COUNTER, write_spec

    spec = write_spec(tmp_path, COUNTER.replace('small: "x <= N"', 'small: "x < 2"'))
    code, out, _ = run_cli("test", str(spec), "--adapter", "tests.lease_variants:CounterAdapter",
                           "--runs", "1")
    assert code == 1
    assert out.splitlines()[-2:] == [
        "the system agrees with the spec on every step of 4 runs",
        "FAILED: invariant small fails on the system, as it does in the spec (see `dnsrace "
        "check`)"]
