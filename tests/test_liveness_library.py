"""The liveness library: the temporal properties of specs/ against SPIN's LTL checks.

tests/models/liveness_expected.json pins, for every temporal property of the DNS specs and
the cascade (DWFM, NLB), the verdict the spec expects and the verdict SPIN gave on the
Promela twin (tests/models/promela/check_spin_liveness.py re-runs SPIN; check_recoverable.py
the `recoverable` verdicts LTL cannot state).  These tests hold the three together: the
specs, the pinned SPIN answers, and dnsrace's own verdicts.
"""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from dnsrace.api import check
from tests.helpers import ROOT

PINNED = json.loads((ROOT / "tests" / "models" / "liveness_expected.json").read_text())
ENTRIES = {k: v for k, v in PINNED.items() if not k.startswith("_")}
SPECS = sorted({e["spec"] for e in ENTRIES.values()})


def spec_yaml(spec: str) -> dict:
    return YAML(typ="safe").load((ROOT / spec).read_text(encoding="utf-8"))


def overrides(name: str, entry: dict) -> dict[str, int]:
    """The --const overrides of an entry: what differs from the spec's own constants."""
    own = spec_yaml(entry["spec"])["constants"]
    value = lambda c: c["value"] if isinstance(c, dict) else c   # noqa: E731
    return {k: v for k, v in entry["constants"].items() if value(own[k]) != v}


def temporal_entry(prop) -> dict:
    return {"expr": prop} if isinstance(prop, str) else prop


@pytest.mark.parametrize("spec", SPECS)
def test_every_temporal_property_is_pinned_as_the_spec_expects(spec):
    d = spec_yaml(spec)
    at_own_constants = {e["property"]: e for k, e in ENTRIES.items()
                        if e["spec"] == spec and "[" not in k}
    assert set(at_own_constants) == set(d["temporal"])
    for name, prop in d["temporal"].items():
        prop = temporal_entry(prop)
        e = at_own_constants[name]
        assert e["expr"] == prop["expr"]
        assert e["expected"] == prop.get("expect", "holds")
        assert e["fairness"] == d.get("fairness")


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_spin_gave_the_expected_verdict_on_a_twin_with_dnsrace_counts(name):
    e = ENTRIES[name]
    if e["twin"] is None:       # recoverable: CTL, checked by check_recoverable.py
        assert e["expr"].startswith("recoverable")
        return
    assert e["spin_verdict"] == e["expected"]
    assert (e["spin_states_stored"], e["spin_transitions"]) == \
        (e["dnsrace_states"], e["dnsrace_transitions"] + 1)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_the_pinned_counts_are_dnsraces_for_the_specs_safety_part(name, tmp_path):
    """The counts SPIN's twin must match are dnsrace's: checked on the spec without its
    `temporal:` and `fairness:` sections (the last two of every spec here)."""
    e = ENTRIES[name]
    text = (ROOT / e["spec"]).read_text(encoding="utf-8")
    safety = tmp_path / "safety.yaml"
    safety.write_text(text[:text.index("\ntemporal:") + 1], encoding="utf-8")
    r = check(safety, overrides(name, e), symmetry=False)   # SPIN stores every state
    assert r.complete and r.passed
    assert (r.stats.states, r.stats.transitions) == (e["dnsrace_states"], e["dnsrace_transitions"])
    if "trace_length" in e:     # a trap of `recoverable not any(empty ...)` is an empty record
        assert r.property("no_empty_record").trace.length == e["trace_length"]


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_dnsrace_gives_spins_verdict(name):
    """Needs the liveness engine (issue 10): until it lands, dnsrace refuses `temporal:`."""
    e = ENTRIES[name]
    r = check(ROOT / e["spec"], overrides(name, e))
    assert r.complete
    assert (r.stats.states, r.stats.transitions) == (e["dnsrace_states"], e["dnsrace_transitions"])
    p = r.property(e["property"])
    assert p.outcome == e["expected"]
    if e["twin"] is not None:
        assert p.outcome == e["spin_verdict"]
    if "trace_length" in e:
        assert p.trace.length == e["trace_length"]
