"""The DNS automation example on a real Knot DNS server: the race's counterexample empties
the regional record; the compare-and-swap Enactor refuses the stale write and passes
`dnsrace test`; `dnsrace test` finds the empty record, and a seeded bug, by itself."""

from __future__ import annotations

import json

import pytest

from tests.helpers import import_or_skip

import_or_skip("dns", "pip install 'dnsrace[test]'")

import dns.message
import dns.query
import dns.rcode

from examples.dns_automation import knot_server
from examples.dns_automation.adapter import FixedDnsAdapter
from examples.dns_automation.dns_zone import endpoint_name
from examples.dns_automation.knot_server import ZONE, KnotError, KnotServer
from tests.helpers import ROOT, run_cli

RACE = ROOT / "specs" / "dynamodb_dns_race.yaml"
FIX = ROOT / "specs" / "dns_fix_cas.yaml"
ADAPTERS = "examples.dns_automation.adapter"
RACY, FIXED = f"{ADAPTERS}:RacyDnsAdapter", f"{ADAPTERS}:FixedDnsAdapter"


@pytest.fixture
def race_trace(tmp_path):
    code, _, err = run_cli("check", str(RACE), "--trace-dir", str(tmp_path), "-q")
    assert code == 0, err
    return tmp_path / "dynamodb-dns-race.no_empty_record.json"


def regional_a(server):
    """A real query for the regional name's A records: (rcode, addresses)."""
    q = dns.message.make_query(f"{endpoint_name(0)}.{ZONE}", "A")
    answer = dns.query.udp(q, "127.0.0.1", port=server.port, timeout=2)
    return dns.rcode.to_text(answer.rcode()), sorted(rd.to_text() for rrset in answer.answer
                                                     for rd in rrset)


def test_the_race_replayed_on_knotd_leaves_the_regional_name_with_no_address(knot_env,
                                                                            race_trace):
    code, out, err = run_cli("replay", str(race_trace), "--adapter", RACY)
    assert code == 0, out + err
    assert out.splitlines()[-1] == "the system agrees with the trace on all 11 steps"
    assert "11  Enactor[1].cleanup      empty[0]=true, deleted=[1, 2]" in out
    assert regional_a(knot_env) == ("NOERROR", [])


def test_the_fixed_enactor_makes_the_server_refuse_the_stale_write(knot_env, race_trace):
    code, out, _ = run_cli("replay", str(race_trace), "--adapter", FIXED)
    assert code == 1
    lines = out.splitlines()
    assert lines[-2:] == [
        "observed: newest, record, empty, deleted, Enactor.pc, Enactor.plan, Enactor.ep",
        "CONFORMANCE FAILURE at step 9: after Enactor[0].write, record[0] differs: the trace "
        "has 2, the system has 4"]
    assert (f"^ system: Enactor[0]: the server refused the UPDATE writing plan 2 to "
            f"{endpoint_name(0)}.{ZONE} (NXRRSET: it no longer holds plan 1)") in out


def test_the_whole_schedule_on_the_fixed_enactor_never_empties_a_record(knot_env, race_trace):
    from dnsrace.api import compile_spec
    from dnsrace.conformance import action_of

    _, ts, _ = compile_spec(RACE)
    by_name = {t.name: t for t in ts.transitions}
    steps = json.loads(race_trace.read_text())["steps"]
    adapter = FixedDnsAdapter()
    adapter.reset({"ENACTORS": 3, "PLANS": 4, "ENDPOINTS": 2, "KEEP": 2})
    notes = []
    for step in steps[1:]:
        adapter.step(action_of(by_name[step["action"]]))
        notes += adapter.notes()
        assert adapter.observe()["empty"] == [False, False]
    assert [n.split(" (")[1] for n in notes] == ["NXRRSET: it no longer holds plan 1)"]
    assert adapter.observe()["record"] == [4, 4]
    assert regional_a(knot_env) == ("NOERROR", ["10.0.4.1", "10.0.4.2"])


def test_dnsrace_test_passes_on_the_fixed_design(knot_env):
    code, out, err = run_cli("test", str(FIX), "--adapter", FIXED, "--runs", "10")
    assert code == 0, out + err
    assert "transitions taken: 8 of 8 kinds" in out
    assert out.splitlines()[-1] == ("PASSED: the system agrees with the spec on every step "
                                    "of 20 runs")


def test_dnsrace_test_finds_the_empty_record_on_the_racy_implementation(knot_env):
    code, out, err = run_cli("test", str(RACE), "--adapter", RACY, "--runs", "5")
    assert code == 0, out + err
    assert ("    no_empty_record: the invariant fails (as the spec expects) in run 9 "
            "(reaches no_empty_record) at step 11") in out


def test_the_racy_implementation_parts_from_the_fixed_design_at_its_stale_write(knot_env,
                                                                               tmp_path):
    trace = tmp_path / "racy.json"
    code, out, _ = run_cli("test", str(FIX), "--adapter", RACY, "--output", str(trace))
    assert code == 1
    assert ("CONFORMANCE FAILURE at step 8: after Enactor[0].write.abandon, record[0] "
            "differs: the spec has 3, the system has 2") in out
    code, again, _ = run_cli("replay", str(trace), "--adapter", RACY)
    assert code == 1
    assert again.splitlines()[-1] == ("CONFORMANCE FAILURE at step 8: after "
                                      "Enactor[0].write.abandon, record[0] differs: the trace "
                                      "has 3, the system has 2")


def test_a_seeded_bug_in_the_clean_up_is_found_with_the_first_step_that_parts(knot_env,
                                                                              tmp_path):
    trace = tmp_path / "bug.json"
    code, out, _ = run_cli("test", str(FIX), "--adapter",
                           "tests.dns_variants:GreedyCleanupAdapter", "--output", str(trace))
    assert code == 1
    assert "FAILED: run 6 (takes Enactor.cleanup) parts from the spec at step 6" in out
    assert "the shortest failing run found: 6 steps" in out
    failure = ("CONFORMANCE FAILURE at step 6: after Enactor[0].cleanup, deleted differs: the "
               "spec has [], the system has [1]")
    assert failure in out
    code, again, _ = run_cli("replay", str(trace), "--adapter",
                             "tests.dns_variants:GreedyCleanupAdapter")
    assert code == 1
    assert again.splitlines()[-1] == failure.replace("the spec has", "the trace has")
    assert json.loads(trace.read_text())["conformance"] == {
        "step": 6, "variable": "deleted", "spec": [], "observed": [1]}


def test_an_adapter_with_no_server_configured_exits_2_saying_what_to_set(monkeypatch,
                                                                         race_trace):
    for name in ("DNSRACE_DNS_SERVER", "DNSRACE_DNS_TSIG"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run_cli("replay", str(race_trace), "--adapter", RACY)
    assert code == 2 and out == ""
    assert err.startswith("<command line>: error[DR805 adapter-raised]: resetting the system: "
                          "the adapter raised DnsError: no DNS server configured")


def test_the_schedule_on_the_fixed_spec_is_performed_until_the_spec_blocks_it(knot_env,
                                                                             race_trace):
    code, out, _ = run_cli("replay", str(race_trace), "--schedule", "--spec", str(FIX),
                           "--adapter", FIXED)
    assert code == 0
    lines = out.splitlines()
    assert "^ the trace's Enactor[1].write runs here as Enactor[1].write.apply" in out
    assert "the system agrees with the spec on all 8 steps" in lines
    assert lines[-2].startswith("BLOCKED at step 9 of 11: no alternative of Enactor[0].write "
                                "makes the change the trace recorded")


def test_a_knotd_that_cannot_start_is_one_line_naming_its_log(tmp_path, monkeypatch):
    if knot_server.knotd_path() is None:
        pytest.skip(f"knotd is not installed: {knot_server.INSTALL}")
    monkeypatch.setattr(knot_server, "config_text", lambda *args: "server: [not a map\n")
    with pytest.raises(KnotError, match=r"^knotd exited with status \d+: .*"):
        KnotServer.start(tmp_path)


def test_without_knotd_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(knot_server, "knotd_path", lambda: None)
    with pytest.raises(KnotError) as info:
        KnotServer.start(tmp_path)
    assert str(info.value) == ("knotd is not installed; install Knot DNS: apt-get install "
                               "knot knot-dnsutils")


def test_a_server_that_does_not_answer_is_one_line_and_exit_2(monkeypatch, race_trace):
    monkeypatch.setenv("DNSRACE_DNS_SERVER", f"127.0.0.1:{knot_server.free_port()}")
    monkeypatch.setenv("DNSRACE_DNS_TSIG", "hmac-sha256:dnsrace-key:c2VjcmV0")
    code, out, err = run_cli("replay", str(race_trace), "--adapter", RACY)
    assert code == 2 and out == ""
    assert err.startswith("<command line>: error[DR805 adapter-raised]: resetting the system: "
                          "the adapter raised DnsError: UPDATE to 127.0.0.1:")
    assert "Connection refused" in err and "Traceback" not in err
