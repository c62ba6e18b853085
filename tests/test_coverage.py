"""Coverage (engines/coverage.py): per step, alternative and action, how often it was enabled
and how many states it found first; a transition never enabled is a warning in the report and
in JSON.  Both explicit engines must count the same, and the counts must add up: `enabled` to
the transitions, `new` to the states less the initial ones.

The coverage table's golden file is tests/coverage/NAME.expected (`dnsrace check --coverage
--no-timing`); rewrite it with `pytest tests/test_coverage.py --update-goldens` and review the
diff.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from dnsrace.api import check
from dnsrace.engines.array_bfs import check_model_array
from dnsrace.engines.bfs import Limits
from dnsrace.frontend.build import load_model
from dnsrace.ir.lower import lower
from tests.helpers import ROOT, run_cli, write_spec
from tests.reference.specgen import specs

DEAD = "tests/coverage/dead_steps.yaml"
CORPUS = sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("tests/models/*.yaml"),
                 *ROOT.glob("tests/contract/*.yaml"), ROOT / DEAD])
SMALL = [p for p in CORPUS if p.parent.name != "specs"]
LIMITS = [Limits(stop_on_first=True), Limits(max_states=1), Limits(max_states=60),
          Limits(max_depth=3), Limits(max_depth=5, stop_on_first=True)]

DEAD_WARNINGS = [
    "step Worker.work.stale is never enabled: its guard is never true in a reachable state, "
    "or its pc is never reached",
    "step Worker.audit is never enabled: its pc is never reached",
    "action restart is never enabled: its guard is never true in a reachable state",
    "fairness unit Helper[1] (weak) is never enabled: its fairness constrains nothing",
]


def coverage_of(result) -> list[tuple[str, int, int]]:
    return [(c.transition, c.enabled, c.new) for c in result.coverage]


def both(path: Path, limits: Limits):
    per_state = check(path, engine="bfs", limits=limits)
    array = check_model_array(load_model(path, {}), limits)
    assert array.engine == "array", array.warnings
    return per_state, array


def assert_sums(path: Path, result) -> None:
    initial = len(lower(load_model(path, {})).initial)
    assert sum(c.enabled for c in result.coverage) == result.stats.transitions, path
    assert sum(c.new for c in result.coverage) == result.stats.states - initial, path


# ---------------------------------------------------------------------- what users read


def test_dead_step_alternative_action_and_fair_instance_are_warned_in_text(monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli("check", DEAD, "--no-timing")
    assert code == 0 and "PASSED" in out
    assert [line[len("  warning: "):] for line in out.splitlines()
            if line.startswith("  warning: ")] == DEAD_WARNINGS
    # the warnings say the spec may be wrong: --quiet keeps them
    code, quiet, _ = run_cli("check", DEAD, "--no-timing", "--quiet")
    assert all(f"  warning: {w}" in quiet.splitlines() for w in DEAD_WARNINGS)


@pytest.mark.parametrize("engine", ["bfs", "array"])
def test_dead_transitions_are_warned_in_json_with_the_coverage(engine, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli("check", DEAD, "--format", "json", "--engine", engine)
    obj = json.loads(out)
    assert code == 0 and obj["passed"] is True and obj["engine"] == engine
    assert obj["warnings"] == DEAD_WARNINGS
    assert obj["coverage"] == [
        {"transition": "Worker.work.up", "enabled": 8, "new": 2},
        {"transition": "Worker.work.stale", "enabled": 0, "new": 0},
        {"transition": "Worker.work.finish", "enabled": 8, "new": 3},
        {"transition": "Worker.audit", "enabled": 0, "new": 0},
        {"transition": "Helper.help", "enabled": 6, "new": 6},
        {"transition": "restart", "enabled": 0, "new": 0},
    ]


def test_the_coverage_table_golden(monkeypatch, update_goldens):
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli("check", DEAD, "--coverage", "--no-timing")
    golden = ROOT / "tests" / "coverage" / "dead_steps.expected"
    if update_goldens:
        golden.write_text(out, encoding="utf-8")
    assert code == 0
    assert golden.exists(), "no golden file: run pytest tests/test_coverage.py --update-goldens"
    assert out == golden.read_text("utf-8")


def test_a_fully_covered_spec_has_no_warning_and_a_table_only_when_asked():
    path = str(ROOT / "tests" / "contract" / "either_turn.yaml")
    code, out, _ = run_cli("check", path, "--no-timing")
    assert "warning" not in out and "  coverage" not in out
    obj = json.loads(run_cli("check", path, "--format", "json")[1])
    assert obj["warnings"] == []
    assert [c["transition"] for c in obj["coverage"]] == ["P.wait.enter", "P.wait.retry",
                                                           "P.critical"]
    assert all(c["enabled"] > 0 for c in obj["coverage"])
    _, table, _ = run_cli("check", path, "--no-timing", "--coverage", "--quiet")
    assert "  coverage:\n    transition    enabled  new\n    P.wait.enter" in table


def test_families_are_listed_in_file_order_actions_before_processes_too(tmp_path):
    spec = write_spec(tmp_path, """
        dnsrace: 1
        name: order
        variables:
          x: {type: "0..3", init: 0}
        actions:
          - name: bump
            params: {k: "1..2"}
            guard: "x + k <= 3"
            effect: "x += k"
        processes:
          P:
            count: 2
            steps:
              - {name: go, guard: "x == 3", next: done}
        """)
    r = check(spec)
    assert [c.transition for c in r.coverage] == ["bump", "P.go"]
    assert r.warnings == []


def test_an_action_without_bindings_is_never_enabled(tmp_path):
    spec = write_spec(tmp_path, """
        dnsrace: 1
        name: unbound
        constants:
          N: 0
        variables:
          x: {type: "0..2", init: 0}
        actions:
          - {name: inc, guard: "x < 2", effect: "x += 1"}
          - {name: put, params: {k: "1..N"}, effect: "x = k"}
        """)
    r = check(spec)
    assert coverage_of(r) == [("inc", 2, 2), ("put", 0, 0)]
    assert r.warnings == ["action put is never enabled: it has no transitions: one of its "
                          "parameters has no values"]


def test_an_incomplete_search_reports_what_it_explored_and_warns_of_nothing(monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli("check", DEAD, "--max-depth", "1", "--format", "json")
    obj = json.loads(out)
    assert code == 3 and obj["complete"] is False
    assert obj["warnings"] == []
    assert sum(c["enabled"] for c in obj["coverage"]) == obj["stats"]["transitions"]
    _, text, _ = run_cli("check", DEAD, "--max-depth", "1", "--coverage", "--no-timing")
    assert "  coverage of the states explored so far (the search is incomplete):" in text
    assert "never enabled" not in text


def test_symbolic_engines_report_no_coverage():
    path = str(ROOT / "tests" / "contract" / "either_turn.yaml")
    obj = json.loads(run_cli("check", path, "--engine", "bmc", "--max-depth", "3",
                             "--format", "json")[1])
    assert "coverage" not in obj and "warnings" in obj
    _, text, _ = run_cli("check", path, "--engine", "bmc", "--max-depth", "3", "--coverage")
    assert "  coverage: none (the bmc engine explores no states)" in text


# ---------------------------------------------------------------------- both engines, sums


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_both_engines_count_the_same_and_the_counts_add_up(path):
    per_state, array = both(path, Limits())
    assert coverage_of(per_state) == coverage_of(array)
    assert per_state.warnings == array.warnings
    assert_sums(path, per_state)


@pytest.mark.parametrize("limits", LIMITS, ids=repr)
def test_both_engines_count_the_same_under_limits(limits):
    for path in SMALL:
        per_state, array = both(path, limits)
        assert coverage_of(per_state) == coverage_of(array), (path.name, limits)
        assert_sums(path, per_state)


GENERATED = settings(max_examples=30, deadline=None, database=None,
                     phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@GENERATED
@given(specs())
def test_both_engines_count_the_same_on_generated_specs(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text)
        for limits in (Limits(), Limits(stop_on_first=True)):
            per_state, array = both(path, limits)
            assert coverage_of(per_state) == coverage_of(array), text
            assert per_state.warnings == array.warnings, text
            assert_sums(path, per_state)


def test_the_search_that_records_the_graph_counts_the_same(tmp_path):
    """A spec with temporal properties is explored by `run_graph` (and by the array engine
    recording its graph): the same counts."""
    text = (ROOT / DEAD).read_text("utf-8")
    spec = write_spec(tmp_path, text + 'temporal:\n  settles: "eventually always x == 2"\n')
    per_state, array = both(spec, Limits())
    assert per_state.property("settles").outcome in ("holds", "violated")
    assert coverage_of(per_state) == coverage_of(array) == coverage_of(check(ROOT / DEAD))
    assert per_state.warnings == array.warnings == DEAD_WARNINGS


def test_the_gpu_code_path_counts_the_same():
    """The array engine through a non-numpy array module (the code paths it takes for CuPy,
    run on the CPU: see tests/test_array_engine.py) counts what the per-state engine does."""
    from tests.test_array_engine import XP

    for path in (ROOT / DEAD, ROOT / "specs" / "dynamodb_dns_race.yaml"):
        for limits in (Limits(), Limits(stop_on_first=True), Limits(max_states=60)):
            per_state, _ = both(path, limits)
            via_xp = check_model_array(load_model(path, {}), limits, xp=XP)
            assert coverage_of(per_state) == coverage_of(via_xp), (path.name, limits)
