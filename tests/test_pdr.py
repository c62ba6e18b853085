"""IC3/PDR through Z3's Spacer (`dnsrace.symbolic.pdr`): proofs of the fixed designs, with
the inductive invariant, and agreement with the explicit engine (never `holds` where BFS
finds a violation)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from dnsrace.api import check
from dnsrace.frontend.build import load_model
from dnsrace.symbolic import PdrResult, check_pdr, check_spec

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 20.0


def pdr(path: Path, **kw):
    # the encodings at the constants' values (tests/test_parametric.py: kept symbolic)
    kw.setdefault("symbolic", False)
    return check_pdr(load_model(path, {}), time_limit=LIMIT, **kw)


def by_name(result):
    return {p.name: p for p in result.properties}


def agrees_with_bfs(path: Path, result) -> None:
    """Every verdict PDR gives is BFS's; a violation's trace is as short as BFS's."""
    bfs = by_name(check(path))
    assert bfs and all(p.outcome != "unknown" for p in bfs.values())
    for p in result.properties:
        if p.outcome == "unknown":
            continue
        assert p.outcome == bfs[p.name].outcome, (path.name, p.name, p.outcome, p.message)
        if p.outcome in ("violated", "reachable") and bfs[p.name].trace is not None:
            assert p.trace is not None
            assert p.trace.length == bfs[p.name].trace.length, (path.name, p.name)


@pytest.mark.parametrize("spec", ["dns_fix_cleanup_in_use.yaml", "dns_fix_cas.yaml"])
def test_proves_the_fixed_designs(spec):
    r = pdr(ROOT / "specs" / spec)
    assert r.engine == "pdr"
    props = by_name(r)
    p = props["no_empty_record"]
    assert isinstance(p, PdrResult)
    assert p.outcome == "holds", p.message
    assert p.engine == "pdr"
    assert p.invariant_text and "empty[0]" in p.invariant_text
    assert p.to_json()["invariant"] == p.invariant_text
    assert props["repair_trap"].outcome == "unreachable"
    agrees_with_bfs(ROOT / "specs" / spec, r)


def test_bit_vector_encoding_proves_too():
    r = pdr(ROOT / "specs" / "dns_fix_cleanup_in_use.yaml", mode="bv")
    assert by_name(r)["no_empty_record"].outcome == "holds"


def test_the_race_is_never_proved():
    path = ROOT / "specs" / "dynamodb_dns_race.yaml"
    r = pdr(path)
    p = by_name(r)["no_empty_record"]
    assert p.outcome == "violated" and p.trace is not None and p.invariant_text is None
    agrees_with_bfs(path, r)


@pytest.mark.parametrize("spec", ["lost_update.yaml", "peterson2.yaml"])
@pytest.mark.parametrize("prepass", [0, 20])
def test_agrees_with_bfs_on_small_models(spec, prepass):
    # prepass 0: every counterexample is Spacer's own, its trace from BMC afterwards
    path = ROOT / "tests" / "models" / spec
    r = pdr(path, prepass_depth=prepass)
    agrees_with_bfs(path, r)
    assert r.complete


def test_lease_handoff_contract_example():
    path = ROOT / "tests" / "contract" / "lease_handoff.yaml"
    r = check_spec(path, engine="pdr", time_limit=LIMIT)
    assert r.complete
    agrees_with_bfs(path, r)
    bfs = by_name(check(path))
    assert {p.name: p.outcome for p in r.properties} == \
        {n: p.outcome for n, p in bfs.items()}


def test_time_out_is_unknown_never_holds():
    # no time to speak of: nothing may be claimed without Spacer's proof
    r = check_pdr(load_model(ROOT / "specs" / "dns_fix_cas.yaml", {}), time_limit=0.001)
    for p in r.properties:
        assert p.outcome in ("unknown", "reachable", "violated"), (p.name, p.outcome)
    assert not r.complete


# ---------------------------------------------------------------------- generated specs
try:
    from tests.reference.specgen import specs as generated_specs
except ImportError:  # pragma: no cover - run from inside tests/
    from reference.specgen import specs as generated_specs


@settings(max_examples=12, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(generated_specs())
def test_pdr_is_never_wrong_on_generated_specs(text):
    # every verdict PDR gives is BFS's, and a violation's trace is as short
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text)
        r = check_pdr(load_model(path, {}), time_limit=6)
        agrees_with_bfs(path, r)
