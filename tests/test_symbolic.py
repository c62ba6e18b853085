"""The Z3 engines (dnsrace.symbolic) against the explicit engine.

* Every IR term op, encoded in Z3 (bit-vector and Int encodings), gives the value the
  generated Python gives, on random terms and states.
* BMC finds, for every spec under specs/, tests/models/ and tests/contract/, a trace of
  exactly BFS's length for every property BFS finds violated or reachable (assertion, type,
  error and deadlock included), and nothing else; to BFS's full depth on specs that BFS
  explores completely.  Every trace replays through `dnsrace replay`'s Replayer too.
* k-induction never proves what BFS finds violated, proves no_empty_record of the fixed DNS
  designs (one directly, one with a helper invariant as a lemma), and shows a labelled
  counterexample to induction for a true invariant that is not k-inductive.
* Random specs (tests.reference.specgen): BMC and k-induction agree with BFS.
"""

from __future__ import annotations

import re

import json
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from dnsrace.api import check
from dnsrace.backends.python_codegen import compile_predicates, compile_system, packing
from dnsrace.cli import field_kinds
from dnsrace.frontend.build import load_model
from dnsrace.ir import terms as T
from dnsrace.ir.layout import Slot
from dnsrace.ir.lower import lower
from dnsrace.replay import Replayer
from dnsrace.symbolic import (
    CTI_LABEL,
    SymbolicInternalError,
    check_bmc,
    check_kind,
    check_pdr,
    check_spec,
)
from dnsrace.symbolic.bmc import DEFAULT_SOLVER, Bmc
from dnsrace.symbolic.encode import Encoding, Intervals, Translator
from dnsrace.symbolic.kind import StepCase, Target
from tests.helpers import ROOT, checks_of, run_cli, without_temporal

try:
    from tests.reference.specgen import specs as generated_specs
except ModuleNotFoundError:  # pragma: no cover - run with tests/ on sys.path
    from reference.specgen import specs as generated_specs

CORPUS = sorted((ROOT / "specs").glob("*.yaml")) \
    + sorted((ROOT / "tests" / "models").glob("*.yaml")) \
    + sorted((ROOT / "tests" / "contract").glob("*.yaml"))
# Smaller constants where the default ones make BMC slow (bakery's deepest witness is 31).
SMALL = {"bakery.yaml": {"N": 2, "MAX": 2}}
FIX_CAS = ROOT / "specs" / "dns_fix_cas.yaml"
FIX_CLEANUP = ROOT / "specs" / "dns_fix_cleanup_in_use.yaml"
PETERSON2 = ROOT / "tests" / "models" / "peterson2.yaml"


def lengths(result) -> dict[str, int]:
    return {p.name: p.trace.length for p in result.properties if p.trace is not None}


def replays(path, constants, result) -> None:
    """Every trace of `result` replays faithfully with the project's own Replayer."""
    model = load_model(path, constants)
    ts = lower(model)
    cs = compile_system(ts)
    rp = Replayer(model, ts, cs, field_kinds(ts))
    for p in result.properties:
        if p.trace is not None:
            report = rp.replay([s.to_json() for s in p.trace.steps])
            assert report.faithful, (p.name, report)


# ---------------------------------------------------------------------- terms


class _Slots:
    """Just enough of a TransitionSystem for the encoder and the code generator."""

    def __init__(self, bounds):
        self.name = "terms"
        self.slots = [Slot(i, f"s{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]


def _random_term(rnd: random.Random, leaves, depth: int) -> T.Term:
    if depth == 0 or rnd.random() < 0.2:
        return rnd.choice(leaves)
    op = rnd.choice(["add", "sub", "mul", "div", "mod", "min", "max", "eq", "ne", "lt", "le",
                     "neg", "abs", "not", "and", "or", "ite", "select", "bor", "band",
                     "bdiff", "bit", "setbit", "shl", "popcount", "lowbit", "highbit"])
    sub = lambda: _random_term(rnd, leaves, depth - 1)
    # bitmask operands are non-negative, as sets are (the IR's own term intervals assume
    # it: bor/bdiff of a negative value can be negative; the encoder's intervals do not)
    mask = lambda: T.mk("abs", sub())
    if op in ("popcount", "lowbit", "highbit"):
        return T.mk(op, mask())
    if op in ("bor", "band", "bdiff"):
        return T.mk(op, mask(), mask())
    if op in ("neg", "abs"):
        return T.mk(op, sub())
    if op == "not":
        return T.mk(op, T.mk("ne", sub(), T.ZERO))
    if op in ("and", "or"):   # on 0/1 values, as the op table says
        return T.mk(op, *(T.mk("le", sub(), sub()) for _ in range(rnd.randint(2, 3))))
    if op == "setbit":
        k = sub()
        return T.mk(op, k) if k.hi is not None and k.hi < 40 else T.mk(op, T.const(5))
    if op == "shl":
        return T.mk(op, sub(), T.const(rnd.randint(-3, 3)))
    if op == "ite":
        return T.mk(op, sub(), sub(), sub())
    if op == "select":
        return T.mk(op, sub(), *(sub() for _ in range(rnd.randint(1, 4))))
    return T.mk(op, sub(), sub())


@pytest.mark.parametrize("mode", ["bv", "int"])
def test_every_term_op_matches_the_generated_python(mode):
    bounds = [(-5, 7), (0, 15), (-3, 3), (0, 1), (0, 255)]
    ts = _Slots(bounds)
    leaves = [T.slot(i, lo, hi) for i, (lo, hi) in enumerate(bounds)] + \
        [T.const(c) for c in (-2, -1, 0, 1, 2, 3)]
    rnd = random.Random(7)
    terms = [_random_term(rnd, leaves, 4) for _ in range(300)]
    # division and modulo by zero, negative operands, indices out of range, negative bits
    s0, s2 = leaves[0], leaves[2]
    terms += [T.mk("div", s0, s2), T.mk("mod", s0, s2), T.mk("select", s2, s0, s0, s0),
              T.mk("bit", s0, s2), T.mk("setbit", s2), T.mk("popcount", s0),
              T.mk("highbit", s0), T.mk("lowbit", s0)]
    pk = packing(ts)
    fns = compile_predicates(ts, pk, terms)
    iv = Intervals(ts)
    enc = Encoding.__new__(Encoding)   # only the translator is needed
    enc.mode, enc.X, enc.Y = mode, None, None
    enc.bounds = [iv.slot_bounds(i) for i in range(len(bounds))]
    enc.X = enc._vars("x")
    enc.tr = Translator(mode, iv, enc.X, None)
    for k, (t, fn) in enumerate(zip(terms, fns)):
        for _ in range(4):
            state = tuple(rnd.randint(lo, hi) for lo, hi in bounds)
            want = int(fn(pk.pack(state)))
            assert enc.eval_term(t, state) == want, (t, state)
            lo, hi = iv.of(t)
            assert lo <= want <= hi, (t, state, want, (lo, hi))


# ---------------------------------------------------------------------- BMC against BFS


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_bmc_shortest_traces_equal_bfs(path, tmp_path):
    consts = SMALL.get(path.name, {})
    path = without_temporal(path, tmp_path)   # lassos: tests/test_symbolic_liveness.py
    bfs = check(path, constants=consts)
    want = lengths(bfs)
    depth = max(want.values(), default=3)
    r = check_bmc(load_model(path, consts), max_depth=depth)
    assert r.engine == "bmc" and r.stats.states == 0 and r.stats.depth == depth
    assert lengths(r) == want
    for p in r.properties:
        ref = bfs.property(p.name)
        if p.name in want:
            assert p.outcome == ref.outcome and p.engine == "bmc"
            if ref.message is not None:
                assert p.message == ref.message
        else:
            assert p.outcome == "unknown" and "within" in p.message   # never `holds`
    replays(path, consts, r)


SAFE_TO_FULL_DEPTH = [
    ("peterson2.yaml", {}), ("lease_handoff.yaml", {}), ("two_phase_commit.yaml", {}),
    ("dining_philosophers_ordered.yaml", {}), ("alternating_bit.yaml", {}),
    ("either_turn.yaml", {}), ("dns_fix_cas.yaml", {"PLANS": 3}),
    ("dns_fix_cleanup_in_use.yaml", {"PLANS": 3, "ENACTORS": 2}),
]


@pytest.mark.parametrize("name,consts", SAFE_TO_FULL_DEPTH, ids=lambda x: str(x))
def test_bmc_finds_nothing_more_than_bfs_to_its_full_depth(name, consts, tmp_path):
    path = without_temporal(next(p for p in CORPUS if p.name == name), tmp_path)
    bfs = check(path, constants=consts)
    assert bfs.complete
    d = bfs.stats.depth
    r = check_bmc(load_model(path, consts), max_depth=d)
    assert lengths(r) == {k: v for k, v in lengths(bfs).items() if v <= d}


def test_bmc_trace_equals_a_bfs_trace_for_the_incident():
    race = ROOT / "specs" / "dynamodb_dns_race.yaml"
    r = check_bmc(load_model(race), max_depth=11)
    p = r.property("no_empty_record")
    assert p.outcome == "violated" and p.trace.length == 11
    assert p.trace.steps[-1].state["empty"][0] is True
    assert checks_of(p.trace)   # the explanation works on BMC traces too
    assert r.property("repair_trap").outcome == "unknown"     # needs 13 steps
    assert r.exit_code == 3 and not r.complete and r.stopped == "max-depth"
    js = r.to_json()
    assert js["engine"] == "bmc" and js["properties"][0]["trace"]["length"] == 11


@pytest.mark.parametrize("mode,solver,relation", [
    ("bv", "QF_FD", "onehot"), ("bv", "QF_BV", "selector"), ("bv", "default", "disjunctive"),
    ("int", "default", "onehot")])
def test_every_encoding_and_solver_gives_the_same_lengths(mode, solver, relation):
    path = ROOT / "tests" / "contract" / "either_turn.yaml"
    want = lengths(check(path))
    r = check_bmc(load_model(path), max_depth=4, mode=mode, solver=solver, relation=relation)
    assert lengths(r) == want


def test_a_trace_that_does_not_replay_is_an_internal_error():
    """Encode a wrong transition system and replay on the right one: here the initial
    state holds the lease already."""
    path = ROOT / "specs" / "lease_handoff.yaml"
    model = load_model(path)
    ts, cs = lower(model), compile_system(lower(model))
    bad = lower(model)
    lease = next(s.index for s in bad.slots if s.name == "lease")
    bad.initial = [tuple(0 if j == lease else v for j, v in enumerate(bad.initial[0]))]
    bmc = Bmc(model, ts, cs, Encoding(bad), DEFAULT_SOLVER, None)
    with pytest.raises(SymbolicInternalError, match="does not replay.*not an initial state"):
        bmc.run(4)
    assert lengths(check_bmc(model, max_depth=4, ts=ts, cs=cs)) == lengths(check(path))


def test_time_limit_gives_unknown_with_the_reason(tmp_path):
    race = without_temporal(ROOT / "specs" / "dynamodb_dns_race.yaml", tmp_path)
    r = check_bmc(load_model(race), max_depth=30, time_limit=0.3)
    assert r.stopped == "time-limit" and r.exit_code == 3
    assert all(p.outcome in ("unknown", "violated", "reachable") for p in r.properties)
    open_ = [p for p in r.properties if p.outcome == "unknown"]
    assert open_ and all("Z3 could not decide" in p.message for p in open_)


# ---------------------------------------------------------------------- k-induction


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_kind_never_contradicts_bfs(path):
    consts = SMALL.get(path.name, {})
    bfs = check(path, constants=consts)
    r = check_kind(load_model(path, consts), max_k=5, time_limit=60)
    assert r.engine == "kind"
    for p in r.properties:
        ref = bfs.property(p.name)
        if p.outcome != "unknown":
            assert p.outcome == ref.outcome, p.name
        if p.trace is not None:
            assert p.trace.length == ref.trace.length
        if p.outcome in ("holds", "unreachable"):
            assert p.message.startswith("proved by")


@pytest.mark.parametrize("consts", [{}, {"PLANS": 6}, {"ENACTORS": 4, "ENDPOINTS": 3}],
                         ids=str)
def test_kind_proves_the_in_use_aware_cleanup_fix(consts):
    r = check_kind(load_model(FIX_CLEANUP, consts), max_k=2)
    p = r.property("no_empty_record")
    assert p.outcome == "holds" and p.message == "proved by 1-induction"
    for name in ("assertion", "error"):
        assert r.property(name).outcome == "holds"


CAS_HELPER = """\
  records_cover_plan:
    expr: >-
      all((Enactor.pc[i] == write =>
             all(record[e] >= Enactor.plan[i] for e in 0..Enactor.ep[i]-1))
          and (Enactor.pc[i] == cleanup =>
             all(record[e] >= Enactor.plan[i] for e in 0..ENDPOINTS-1))
          for i in Enactor)
    about: An Enactor writing or cleaning up never holds a plan newer than what it wrote.
reachable:"""


def test_kind_proves_the_cas_fix_with_a_helper_invariant(tmp_path):
    """no_empty_record of dns_fix_cas is not k-inductive for small k on its own; with the
    helper invariant as a lemma the two are 1-inductive together."""
    spec = tmp_path / "dns_fix_cas_helper.yaml"
    spec.write_text(FIX_CAS.read_text().replace("reachable:", CAS_HELPER, 1))
    assert check(spec).property("records_cover_plan").outcome == "holds"
    r = check_kind(load_model(spec), max_k=3,
                   lemmas={"no_empty_record": ["records_cover_plan"]})
    p = r.property("no_empty_record")
    assert p.outcome == "holds"
    assert p.message == "proved by 1-induction together with records_cover_plan"
    assert r.property("records_cover_plan").outcome == "holds"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_well_typedness_is_one_inductive(path):
    """Every target of k-induction includes well-typedness (values within their declared
    types, unused sequence positions 0); it holds initially and every successful step keeps
    it, which also checks the type failures of the lowering."""
    enc = Encoding(lower(load_model(path, SMALL.get(path.name, {}))))
    assert well_typed_is_inductive(enc)


def well_typed_is_inductive(enc: Encoding) -> bool:
    import z3
    target = Target("typed", "invariant", ["typed"], [("untyped", None)], z3.Not(enc.typed),
                    z3.BoolVal(False))
    init = z3.Solver()
    s0 = enc.state("i")
    init.add(enc.initial(s0), z3.Not(enc.at(enc.typed, s0)))
    return init.check() == z3.unsat and \
        StepCase(enc, target, DEFAULT_SOLVER, None, "typed").check(1) is None


def test_kind_shows_a_labelled_counterexample_to_induction():
    r = check_kind(load_model(FIX_CAS), max_k=3)
    p = r.property("no_empty_record")
    assert p.outcome == "unknown" and p.trace is None     # a CTI is not a counterexample
    assert "not 4-inductive" in p.message and CTI_LABEL in p.message
    assert p.cti is not None and p.cti.length == 4 and p.k == 4
    # the path keeps the invariant until its last state, where a record is empty
    assert any(p.cti.steps[-1].state["empty"])
    assert all(not any(s.state["empty"]) for s in p.cti.steps[:-1])
    js = p.to_json()
    assert js["trace"] is None
    cti = js["counterexample_to_induction"]
    assert cti["label"] == CTI_LABEL and cti["k"] == 4 and cti["length"] == 4
    assert cti["steps"][0]["action"] is None
    from dnsrace.symbolic.report import cti_text
    text = cti_text(r, field_kinds(lower(load_model(FIX_CAS))))
    assert "no_empty_record: not proved; counterexample to induction" in text
    # a counterexample to induction starts from any state, maybe an unreachable one
    assert re.search(r"^ +0  any state +", text, re.M) and "initial state" not in text


def test_kind_with_lemmas_proves_peterson_mutual_exclusion():
    r = check_kind(load_model(PETERSON2), max_k=3)
    assert r.property("mutual_exclusion").outcome == "unknown"
    assert r.property("mutual_exclusion").cti is not None
    r = check_kind(load_model(PETERSON2), max_k=3,
                   lemmas={"mutual_exclusion": ["flag_tracks_pc"]})
    p = r.property("mutual_exclusion")
    assert p.outcome == "holds" and p.cti is None
    assert p.message == "proved by 2-induction together with flag_tracks_pc"


def test_kind_decides_a_whole_spec_and_passes():
    r = check_spec(ROOT / "specs" / "lease_handoff.yaml", engine="kind", max_depth=6)
    assert r.complete and r.passed and r.exit_code == 0
    assert {p.name: p.outcome for p in r.properties} == \
        {p.name: p.outcome for p in check(ROOT / "specs" / "lease_handoff.yaml").properties}


def test_unknown_lemma_is_rejected():
    with pytest.raises(ValueError, match="not a property"):
        check_kind(load_model(FIX_CAS), max_k=1, lemmas=["nope"])


# ---------------------------------------------------------------------- generated specs

GENERATED = settings(max_examples=25, deadline=None, database=None,
                     phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@GENERATED
@given(generated_specs())
def test_bmc_and_kind_agree_with_bfs_on_generated_specs(text):
    depth = 4
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text)
        bfs = check(path)
        r = check_bmc(load_model(path), max_depth=depth)
        assert lengths(r) == {k: v for k, v in lengths(bfs).items() if v <= depth}, text
        assert well_typed_is_inductive(Encoding(lower(load_model(path)))), text
        k = check_kind(load_model(path), max_k=3)
        for p in k.properties:
            if p.outcome != "unknown":
                assert p.outcome == bfs.property(p.name).outcome, (text, p.name)


def test_results_are_json_serialisable():
    r = check_kind(load_model(FIX_CAS), max_k=2)
    json.dumps(r.to_json())


# ---------------------------------------------------------------------- the command line


def test_cli_engine_bmc_finds_the_incident():
    code, out, _ = run_cli("check", str(ROOT / "specs" / "dynamodb_dns_race.yaml"),
                           "--engine", "bmc", "--max-depth", "13", "--format", "json")
    assert code == 3    # as expected, but BMC cannot prove the built-ins: incomplete
    r = json.loads(out)
    assert r["engine"] == "bmc" and r["stats"]["depth"] == 13 and not r["complete"]
    got = {p["name"]: (p["outcome"], p["trace"]["length"] if p["trace"] else None)
           for p in r["properties"]}
    assert got["no_empty_record"] == ("violated", 11)
    assert got["repair_trap"] == ("reachable", 13)
    assert got["error"] == ("unknown", None)


def test_cli_engine_kind_passes_a_spec_it_proves(tmp_path):
    code, out, _ = run_cli("check", str(ROOT / "specs" / "lease_handoff.yaml"), "--engine",
                           "kind", "--max-depth", "5", "--no-timing")
    assert code == 0, out
    assert "PASSED" in out and "complete" in out


def test_cli_engine_kind_shows_counterexamples_to_induction():
    code, out, _ = run_cli("check", str(FIX_CAS), "--engine", "kind", "--max-depth", "2",
                           "--no-timing")
    assert code == 3
    assert "no_empty_record: not proved; counterexample to induction: NOT a counterexample" \
        in out


def test_z3_engines_report_progress():
    # what the live line shows: the depth reached, k, or the property PDR works on
    model = load_model(ROOT / "specs" / "lease_handoff.yaml")
    heard: list[str] = []
    check_bmc(model, max_depth=3, progress=heard.append)
    assert heard[-1] == "BMC depth 3 of 3"
    heard.clear()
    check_kind(model, max_k=2, progress=heard.append)
    assert heard and heard[0].startswith("k-induction, k = 1")
    heard.clear()
    check_pdr(model, time_limit=20, progress=heard.append)
    assert any(h.startswith("PDR on ") for h in heard)
