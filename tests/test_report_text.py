"""Details of the report: counts in the singular, columns under --quiet and every engine,
the PDR header, and sets of enumeration values in the enumeration's order."""

from __future__ import annotations

import json

from tests.helpers import ROOT, run_cli, write_spec

ONE_STATE = """
    dnsrace: 1
    name: one
    variables:
      x: {type: bool, init: false}
    invariants:
      never_set: "not x"
    """

FAILING = """
    dnsrace: 1
    name: q
    variables:
      x: {type: "0..3", init: 0}
    actions:
      - name: bump
        guard: "x < 3"
        effect: x += 1
    invariants:
      small: "x < 2"
      a_much_longer_name: "x < 3"
    reachable:
      r: "x == 9"
    """


def test_one_state_is_singular(tmp_path):
    out = run_cli("check", str(write_spec(tmp_path, ONE_STATE)), "--no-timing", "-q")[1]
    assert "  1 state, 0 transitions, depth 0; complete" in out.splitlines()


def test_quiet_keeps_the_columns(tmp_path):
    spec = str(write_spec(tmp_path, FAILING))
    for engine in ("bfs", "bmc", "kind"):
        out = run_cli("check", spec, "--no-timing", "-q", "--engine", engine)[1]
        lines = out.splitlines()
        assert "  FAIL small               invariant  violated, trace of 2 steps (expected " \
               "holds)" in lines, (engine, out)
        assert "  FAIL a_much_longer_name  invariant  violated, trace of 3 steps (expected " \
               "holds)" in lines, (engine, out)


def test_pdr_header_has_no_proof_depth(tmp_path):
    out = run_cli("check", str(write_spec(tmp_path, ONE_STATE)), "--no-timing",
                  "--engine", "pdr")[1]
    assert "  IC3/PDR (Z3), traces by BMC to depth " in out
    assert "IC3/PDR (Z3) to depth" not in out


ENUM_SET = """
    dnsrace: 1
    name: enumset
    types:
      Color: [red, green, blue]
    variables:
      seen: {type: "set of Color", init: "{}"}
    actions:
      - name: add
        params: {c: Color}
        effect: seen = seen | {c}
    invariants:
      not_all: "len(seen) < 3"
    """


def test_sets_of_enumeration_values_keep_the_enumerations_order(tmp_path):
    spec = str(write_spec(tmp_path, ENUM_SET))
    out = run_cli("check", spec, "--no-timing")[1]
    assert "seen=[red, green, blue]" in out
    js = json.loads(run_cli("check", spec, "--format", "json")[1])
    trace = next(p for p in js["properties"] if p["name"] == "not_all")["trace"]
    assert trace["steps"][-1]["state"]["seen"] == ["red", "green", "blue"]


SYMBOLIC = """
    dnsrace: 1
    name: sym
    constants:
      N: {value: 2, symbolic: true, assume: "N >= 1"}
    variables:
      x: {type: "0..N", init: 0}
    actions:
      - name: bump
        guard: "x < N"
        effect: x += 1
    invariants:
      bounded: "x <= N"
    """


def test_symbolic_constant_warning_names_the_engine(tmp_path):
    spec = str(write_spec(tmp_path, SYMBOLIC))
    for engine, name in (("bmc", "bmc"), ("kind", "k-induction")):
        out = run_cli("check", spec, "--no-timing", "--engine", engine)[1]
        assert f"  warning: constant N is symbolic; {name} checks it at its value 2 only " \
               "(PDR keeps it unknown)" in out.splitlines(), out


def test_max_states_keeps_that_many_states():
    for engine in ("bfs", "array"):
        out = run_cli("check", str(ROOT / "specs" / "lease_handoff.yaml"), "--max-states", "50", "--no-timing",
                      "-q", "--engine", engine)[1]
        assert "  50 states, 71 transitions, depth 4; INCOMPLETE (--max-states reached)" in \
            out.splitlines(), (engine, out)
