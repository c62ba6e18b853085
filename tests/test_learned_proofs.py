"""Proofs users can trust: invariants learned from the spec's reachable states
(`symbolic/learn.py`), the user's lemmas (`lemma: true`, `--lemmas`), and proofs stored
between runs (`--proof-dir`), each never a reason to say `holds` wrongly."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from dnsrace.api import check
from dnsrace.frontend.build import load_model
from dnsrace.symbolic import check_kind, check_pdr, learn
from tests.helpers import outcomes, run_cli, write_spec
from tests.reference.specgen import specs as generated_specs

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def by_name(result):
    return {p.name: p for p in result.properties}


# ---------------------------------------------------------------- learned invariants
def test_config_push_fix_is_proved_for_every_generation_count():
    r = check_pdr(load_model(SPECS / "config_push_fix.yaml", {}), time_limit=60)
    props = by_name(r)
    for name in ("idle_pushers_delivered", "converged_when_idle", "never_ahead",
                 "no_rollback", "assertion", "type", "error"):
        assert props[name].outcome == "holds", (name, props[name].message)
        assert "for every GENS" in props[name].message
    assert props["fleet_updated"].outcome == "reachable"


def test_the_race_it_fixes_is_never_proved():
    r = check_pdr(load_model(SPECS / "config_push_race.yaml", {}), time_limit=60)
    props = by_name(r)
    assert props["idle_pushers_delivered"].outcome == "violated"
    assert props["converged_when_idle"].outcome == "violated"
    assert props["no_rollback"].outcome == "violated"
    assert r.passed


def test_lease_design_is_proved_from_learned_invariants():
    # Spacer alone does not find the lease's mutual exclusion; learned from the 1,376
    # reachable states of the spec at its values, it proves the design for every PLANS, KEEP
    r = check_pdr(load_model(SPECS / "dns_fix_lease.yaml", {}), time_limit=60)
    p = by_name(r)["no_empty_record"]
    assert p.outcome == "holds", p.message
    assert "learned from the reachable states" in p.message
    assert "for every PLANS, KEEP" in p.message
    assert "holder == 0" in p.invariant_text           # the mutual exclusion, readable
    assert by_name(r)["repair_trap"].outcome == "unreachable"


def test_candidates_are_the_sampled_states_facts():
    from dnsrace.backends.python_codegen import compile_system
    from dnsrace.ir.lower import lower

    ts = lower(load_model(SPECS / "dns_fix_lease.yaml", {}))
    cs = compile_system(ts)
    smp = learn.sample(ts, cs, None)
    assert smp.complete and smp.states.shape == (1376, len(ts.slots))
    cands = learn.candidates(ts, smp, list(range(len(ts.slots))))
    M = smp.states
    for c in cands:                       # every candidate holds on every sampled state
        rows = np.ones(len(M), dtype=bool)
        for j, v in c.guard:
            rows &= M[:, j] == v
        rhs = M[:, c.b] if c.b is not None else c.c
        atom = {"==": np.equal, "!=": np.not_equal, "<=": np.less_equal,
                ">=": np.greater_equal, "<": np.less}[c.op](M[:, c.a], rhs)
        assert atom[rows].all(), c
    slot = {s.name: s.index for s in ts.slots}
    check = ts.layout.symbols.id("check")
    assert learn.Candidate(((slot["Enactor[1].pc"], check),), "==", slot["holder"], None, 1) \
        in cands


@settings(max_examples=10, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(generated_specs())
def test_a_misleading_sample_never_makes_a_wrong_proof(text):
    # learn from the initial states alone: most candidates are false, and only the checks
    # that follow (Houdini's induction, the final invariant's confirmation) stand between
    # them and a wrong `holds`
    real = learn.sample

    def initial_only(ts, cs, deadline, max_states=learn.MAX_STATES):
        return real(ts, cs, deadline, max_states=1)

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text)
        learn.sample = initial_only
        try:
            r = check_pdr(load_model(path, {}), time_limit=6)
        finally:
            learn.sample = real
        bfs = by_name(check(path))
        for p in r.properties:
            if p.outcome != "unknown":
                assert p.outcome == bfs[p.name].outcome, (p.name, p.outcome, p.message, text)


# ---------------------------------------------------------------- lemmas
COUNTERS = """
dnsrace: 1
name: counters
variables:
  x: {type: int, init: 0}
  y: {type: int, init: 0}
actions:
  - name: step
    guard: x < 5
    effect: |
      x += 1
      y += 1
invariants:
  bounded: "y <= 5"
  same: {expr: "x == y", lemma: LEMMA}
"""


def test_a_lemma_makes_k_induction_prove_what_it_cannot_alone(tmp_path):
    alone = check_kind(load_model(write_spec(tmp_path, COUNTERS.replace("LEMMA", "false"),
                                             "alone.yaml"), {}), 5, 30)
    assert outcomes(alone)["bounded"] == "unknown"   # y <= 5 is not k-inductive for any k
    path = write_spec(tmp_path, COUNTERS.replace("LEMMA", "true"))
    for engine in ("kind", "pdr"):
        r = check(path, engine=engine, time_limit=30)
        assert outcomes(r)["bounded"] == "holds", (engine, by_name(r)["bounded"].message)
        assert outcomes(r)["same"] == "holds"
    code, out, _ = run_cli("check", str(write_spec(tmp_path, COUNTERS.replace("LEMMA", "false"),
                                                    "flag.yaml")),
                           "--engine", "kind", "--lemmas", "--time-limit", "30")
    assert code == 0, out                                # --lemmas: every invariant is one


def test_a_false_lemma_is_reported_violated_and_assumes_nothing(tmp_path):
    text = COUNTERS.replace('"x == y"', '"x == 0"').replace("LEMMA", "true")
    path = write_spec(tmp_path, text)
    for engine in ("kind", "pdr"):
        r = check(path, engine=engine, time_limit=30)
        o = outcomes(r)
        assert o["same"] == "violated", engine
        assert o["bounded"] != "violated"
        assert by_name(r)["same"].trace.length == 1


def test_lemma_is_for_invariants_expected_to_hold(tmp_path):
    bad = {"on a reachable property": COUNTERS.replace(
               "invariants:", "reachable:\n  r: {expr: \"x == 1\", lemma: true}\ninvariants:"),
           "expected violated": COUNTERS.replace("lemma: LEMMA", "lemma: true, expect: violated"),
           "not a bool": COUNTERS.replace("LEMMA", "yes")}
    for what, text in bad.items():
        code, _, err = run_cli("lint", str(write_spec(tmp_path, text, "bad.yaml")))
        assert code == 2, what
        assert "DR305" in err and "bad.yaml:" in err, (what, err)


# ---------------------------------------------------------------- stored proofs
def test_a_stored_proof_is_checked_again_and_a_broken_one_falls_back(tmp_path):
    spec = tmp_path / "fix.yaml"
    spec.write_text((SPECS / "config_push_fix.yaml").read_text())
    store = tmp_path / "proofs"
    args = ("check", str(spec), "--engine", "pdr", "--time-limit", "60", "--format", "json",
            "--proof-dir", str(store))
    code, out, _ = run_cli(*args)
    assert code == 0, out
    files = list(store.glob("*.json"))
    assert len(files) == 1
    kept = json.loads(files[0].read_text())
    assert kept["spec"]["sha256"] == json.loads(out)["spec"]["sha256"]
    assert "idle_pushers_delivered" in kept["properties"]

    code, out, _ = run_cli(*args)
    assert code == 0, out
    props = {p["name"]: p for p in json.loads(out)["properties"]}
    assert "stored inductive invariant, checked again" in props["idle_pushers_delivered"][
        "message"]

    # the fix undone: the stored invariant no longer fits, PDR runs and finds the race
    spec.write_text(spec.read_text().replace(
        "          if gen > host[h]:                  # the fix: an older generation is refused\n"
        "              host[h] = gen\n", "          host[h] = gen\n"))
    code, out, _ = run_cli(*args)
    assert code == 1, out
    props = {p["name"]: p for p in json.loads(out)["properties"]}
    assert props["idle_pushers_delivered"]["outcome"] == "violated"
    assert props["never_ahead"]["outcome"] == "holds"


def test_a_stored_invariant_that_no_longer_holds_says_so(tmp_path):
    spec = tmp_path / "c.yaml"
    spec.write_text(COUNTERS.replace("LEMMA", "false"))
    store = tmp_path / "proofs"
    code, out, _ = run_cli("check", str(spec), "--engine", "pdr", "--time-limit", "30",
                           "--proof-dir", str(store))
    assert code == 0, out
    # `bounded` still holds, but not for the stored reason (x == y): PDR proves it again
    spec.write_text(COUNTERS.replace("LEMMA", "false").replace("guard: x < 5", "guard: x < 9 and y < 5")
                    .replace("x += 1", "x += 2").replace('"x == y"', '"x >= y"'))
    code, out, _ = run_cli("check", str(spec), "--engine", "pdr", "--time-limit", "30",
                           "--proof-dir", str(store), "--format", "json")
    assert code == 0, out
    props = {p["name"]: p for p in json.loads(out)["properties"]}
    assert props["bounded"]["outcome"] == "holds"
    assert "the stored proof no longer holds" in props["bounded"]["message"]
    assert "PDR searched again" in props["bounded"]["message"]


def _hostile(kind: str, f) -> None:
    """Put something that is not a proof dnsrace wrote at the stored proof's path `f`."""
    f.unlink()
    if kind == "not json":
        f.write_text("{not json")
    elif kind == "a FIFO":          # reading it would block the run for ever
        os.mkfifo(f)
    elif kind == "too large":      # a sparse file past the 16 MiB a proof file may have
        with open(f, "wb") as fh:
            fh.truncate((16 << 20) + 1)
    elif kind == "nested deep":
        f.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "a list":
        f.write_text("[1, 2]")
    elif kind == "a folder":
        f.mkdir()
        (f / "x.json").write_text("{}")
    else:
        f.symlink_to(f.parent / "nowhere.json")


@pytest.mark.parametrize("kind", ["not json", "a FIFO", "too large", "nested deep", "a list",
                                  "a folder", "a dangling link"])
def test_an_unreadable_proof_file_is_ignored_with_a_note(tmp_path, kind):
    # a proof folder arrives with the specs, in pull requests: whatever is at the stored
    # proof's name, the run proves again, says why, and never hangs, crashes or fills memory
    spec = tmp_path / "c.yaml"
    spec.write_text(COUNTERS.replace("LEMMA", "false"))
    store = tmp_path / "proofs"
    run_cli("check", str(spec), "--engine", "pdr", "--time-limit", "30", "--proof-dir",
            str(store))
    (f,) = store.glob("*.json")
    _hostile(kind, f)
    code, out, err = run_cli("check", str(spec), "--engine", "pdr", "--time-limit", "30",
                             "--proof-dir", str(store), "--format", "json")
    assert code == 0, out + err
    props = {p["name"]: p for p in json.loads(out)["properties"]}
    assert props["same"]["outcome"] == "holds"
    assert "could not be read" in props["same"]["message"]
    if kind == "a folder":      # it stays, and the run says the proofs were not kept
        assert any("could not be stored" in w for w in json.loads(out)["warnings"])
    else:                       # written again, whole
        assert json.loads(f.read_text())["dnsrace_proofs"] == 1


FOREIGN = {
    "a number past 2^63": ("(declare-fun y () Int)\n(assert (<= y 1" + "0" * 5000 + "))",
                           "holds the number 10000000000000000000... (5,001 digits)"),
    "a quantifier": ("(declare-fun x () Int)\n(declare-fun y () Int)\n(assert (and (= x y) "
                     "(<= y 5) (forall ((i Int)) (=> (> i x) (> i y)))))", "holds a quantifier"),
    "a function": ("(declare-fun x () Int)\n(declare-fun y () Int)\n(declare-fun g (Int) Int)"
                   "\n(assert (and (= x y) (<= y 5) (<= (g y) (+ (g y) 1))))",
                   "holds a function of its own (g)"),
    # Z3's parser skips a command it does not know, printing a warning on stderr
    "a command": ("(setstatus unknown)\n(declare-fun y () Int)\n(assert (<= y 5))",
                  "has the command (setstatus ...), which dnsrace never writes"),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_stored_invariant_no_spec_could_give_is_refused(tmp_path, kind):
    # the fuzzer's stored-proofs family: `y <= 10^5000` is inductive, so the stored check
    # passed it, and printing it read the numeral as an int past Python's 4,300 digits; a
    # quantifier or a function of its own may be inductive too, but prints as no spec
    # expression: each is refused, and PDR proves the property again
    spec = tmp_path / "c.yaml"
    spec.write_text(COUNTERS.replace("LEMMA", "false"))
    store = tmp_path / "proofs"
    args = ("check", str(spec), "--engine", "pdr", "--time-limit", "30", "--proof-dir",
            str(store), "--format", "json")
    assert run_cli(*args)[0] == 0
    (f,) = store.glob("*.json")
    doc = json.loads(f.read_text())
    smt, why = FOREIGN[kind]
    doc["properties"]["bounded"]["invariant"] = smt
    f.write_text(json.dumps(doc))
    code, out, err = run_cli(*args)
    assert code == 0, out + err
    bounded = {p["name"]: p for p in json.loads(out)["properties"]}["bounded"]
    assert bounded["outcome"] == "holds"
    assert f"the stored invariant {why}" in bounded["message"]
    assert "setstatus line" not in err
    assert "PDR searched again" in bounded["message"]


def test_the_committed_proofs_of_the_fixed_designs_check_again(tmp_path):
    # specs/proofs holds the fixed designs' proofs, as CI would keep them: each is checked
    # again against its spec (no search), for every value of the symbolic constants
    import shutil

    store = tmp_path / "proofs"
    shutil.copytree(SPECS / "proofs", store)
    for name in ("dns_fix_cas", "dns_fix_cleanup_in_use", "dns_fix_lease", "config_push_fix"):
        r = check_pdr(load_model(SPECS / f"{name}.yaml", {}), time_limit=60,
                      proof_dir=str(store))
        for p in r.properties:
            if p.kind in ("invariant", "transition", "assertion", "type", "error") or \
                    p.outcome == "unreachable":
                assert p.outcome in ("holds", "unreachable"), (name, p.name, p.message)
                assert "stored inductive invariant, checked again" in p.message, \
                    (name, p.name, p.message)
