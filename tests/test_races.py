"""Race explanations: stale checks blamed only on another's step that made them false, and
stale reads (a local copied from shared state, used after another changed that state)."""

from __future__ import annotations

import json

from dnsrace.api import check
from tests.helpers import ROOT, checks_of, run_cli, write_spec

LEASE = ROOT / "specs" / "lease_handoff.yaml"


def reads_of(trace) -> list:
    return [r for r in trace.races if r.kind == "read"]


def test_the_read_then_take_race_is_marked_as_a_stale_read():
    p = check(LEASE).property("single_holder")
    assert checks_of(p.trace) == []
    (r,) = reads_of(p.trace)
    assert r.text() == ("stale read: Worker[1] read `seen` = -1 at step 2; step 3 "
                        "(Worker[0].take) changed what it was read from, so it was stale when "
                        "Worker[1] took take at step 4 (reading again gives 0)")


def test_stale_reads_are_in_the_json_trace(tmp_path):
    code, out, _ = run_cli("check", str(LEASE), "--format", "json")
    doc = json.loads(out)
    trace = next(p for p in doc["properties"] if p["name"] == "single_holder")["trace"]
    assert trace["stale_reads"] == [{"step": 4, "read_at": 2, "changed_at": 3,
                                     "instance": "Worker[1]", "local": "seen", "value": -1,
                                     "fresh": 0}]
    assert "stale_checks" not in trace


OWN_WRITE = """
dnsrace: 1
name: own-write
variables:
  x: {type: "0..3", init: 0}
  noise: {type: "0..3", init: 0}
processes:
  P:
    steps:
      - name: check
        guard: x == 0 and noise < 3
      - name: bump
        effect: x = 1
      - name: use
        effect: noise = noise
actions:
  - name: stir
    guard: noise < 3
    effect: noise += 1
reachable:
  used_after_stir: "P.pc[0] == check and noise == 1 and x == 1"
"""


def test_a_check_its_own_step_made_false_is_not_blamed_on_another(tmp_path):
    # P checks `x == 0 and noise < 3`, then makes x 1 itself; `stir` changes noise in
    # between, which the check reads but does not make false: no stale check.
    r = check(write_spec(tmp_path, OWN_WRITE))
    p = r.property("used_after_stir")
    assert p.outcome == "reachable"
    assert p.trace.races == []


MADE_FALSE = """
dnsrace: 1
name: made-false
variables:
  x: {type: "0..3", init: 0}
  used: {type: bool, init: false}
processes:
  P:
    steps:
      - name: check
        guard: x == 0
      - name: use
        guard: x == 2      # it waits for the stir (and acts on its check, now stale)
        effect: used = true
        next: done
actions:
  - name: stir
    guard: x == 0
    effect: x = 2
reachable:
  used_after_stir: "used and x == 2"
"""


def test_a_check_another_made_false_is_blamed_on_that_step(tmp_path):
    r = check(write_spec(tmp_path, MADE_FALSE))
    trace = r.property("used_after_stir").trace
    assert [s.action for s in trace.steps] == [None, "P[0].check", "stir", "P[0].use"]
    (c,) = checks_of(trace)
    assert (c.step, c.checked_at, c.made_false_at, c.check) == (3, 1, 2, "x == 0")


COPY_OWN = """
dnsrace: 1
name: copy-own
variables:
  shared: {type: "0..3", init: 0}
processes:
  P:
    locals:
      mine: {type: "0..3", init: 0}
    steps:
      - name: read
        effect: mine = shared
      - name: write
        effect: shared = 2
      - name: use
        guard: mine == 0
        effect: shared = 3
reachable:
  done_once: "shared == 3"
"""


def test_a_read_only_the_instance_itself_made_stale_is_not_marked(tmp_path):
    r = check(write_spec(tmp_path, COPY_OWN))
    p = r.property("done_once")
    assert p.outcome == "reachable" and reads_of(p.trace) == []
