"""The AwsDNSRace model (tests/scalarsets/dns_race.yaml, its enactors a scalarset) against
TLC's numbers (issue #13): states, transitions and depth with and without `--symmetry`, on
both explicit engines.  TLC counts the initial state as generated and at depth 1, so
transitions = TLC generated - 1 and depth = TLC depth - 1.  A reduced run finds violation
traces as short as the unreduced run's, and they replay as they are on the unreduced spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnsrace.api import check, replay_trace
from dnsrace.engines.limits import Limits
from tests.helpers import ROOT

SPEC = ROOT / "tests" / "scalarsets" / "dns_race.yaml"
ENGINES = ("bfs", "array")

# (ENACTORS, MAX_PLAN): TLC's (distinct, generated, depth), from the research note of issue #13
WITH_SYMMETRY = {
    (2, 5): (266, 602, 21),
    (3, 5): (722, 2082, 20),
    (4, 5): (1234, 4169, 20),
    (5, 5): (1483, 5533, 19),
    (6, 5): (1483, 5916, 19),     # saturated: the sixth enactor is always idle
    (2, 8): (950, 2411, 32),
    (3, 8): (4273, 14258, 31),
    (4, 8): (12933, 52873, 30),
    (3, 10): (9672, 33638, 39),
}
WITHOUT_SYMMETRY = {
    (2, 5): (495, 1131, 21),
    (3, 5): (3640, 10757, 20),
    (4, 5): (20553, 72898, 20),
    (2, 8): (1806, 4605, 32),
    (3, 8): (23089, 77840, 31),
}
# the shortest NeverDeleteActive violation: TLC depth 12 with two enactors, 10 with more
SHORTEST = {2: 11}
SHORTEST_FROM_THREE = 9
PROPERTY = "never_delete_active"


def run(size: tuple[int, int], engine: str, symmetry: bool):
    enactors, max_plan = size
    return check(SPEC, {"ENACTORS": enactors, "MAX_PLAN": max_plan}, engine=engine,
                 limits=Limits(symmetry=symmetry))


def dnsrace_counts(tlc: tuple[int, int, int]) -> tuple[int, int, int]:
    distinct, generated, depth = tlc
    return distinct, generated - 1, depth - 1


def violation(result):
    (p,) = [p for p in result.properties if p.name == PROPERTY]
    assert p.outcome == "violated"
    return p


def shortest(size: tuple[int, int]) -> int:
    return SHORTEST.get(size[0], SHORTEST_FROM_THREE)


def write_result(result, directory: Path) -> Path:
    path = directory / "result.json"
    path.write_text(json.dumps(result.to_json()), encoding="utf-8")
    return path


def assert_replays(result, size: tuple[int, int], directory: Path) -> None:
    """The result's trace, read back from `check --format json` output, replays as it is on
    the spec (which a replay runs step by step, unreduced) and is as long as it says."""
    enactors, max_plan = size
    replay = replay_trace(write_result(result, directory), SPEC,
                          {"ENACTORS": enactors, "MAX_PLAN": max_plan}, prop=PROPERTY)
    assert replay.report.faithful, replay.report
    assert len(replay.report.steps) == violation(result).trace.length + 1   # with step 0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size", sorted(WITH_SYMMETRY), ids=str)
def test_the_reduced_counts_are_tlcs(size, engine, tmp_path):
    result = run(size, engine, symmetry=True)
    assert result.complete
    stats = result.stats
    assert (stats.states, stats.transitions, stats.depth) == dnsrace_counts(WITH_SYMMETRY[size])
    assert stats.symmetry == ["Enactor"]
    assert stats.to_json()["symmetry"] == ["Enactor"]
    assert violation(result).trace.length == shortest(size)
    assert_replays(result, size, tmp_path)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size", sorted(WITHOUT_SYMMETRY), ids=str)
def test_the_unreduced_counts_are_tlcs(size, engine):
    result = run(size, engine, symmetry=False)
    assert result.complete
    stats = result.stats
    assert (stats.states, stats.transitions, stats.depth) == \
        dnsrace_counts(WITHOUT_SYMMETRY[size])
    assert not stats.symmetry
    assert "symmetry" not in stats.to_json()
    assert violation(result).trace.length == shortest(size)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size", [(2, 5), (3, 5), (4, 5)], ids=str)
def test_a_reduced_trace_is_as_short_as_the_unreduced_one(size, engine):
    reduced = violation(run(size, engine, symmetry=True))
    full = violation(run(size, engine, symmetry=False))
    assert reduced.trace.length == full.trace.length == shortest(size)


def test_the_figure_the_issue_quotes_four_enactors_and_twelve_plans():
    """1,881,669 states fall to 87,667 orbits under TLC's SYMMETRY (388,055 generated, depth
    46): the reduced count, on the default engine (the unreduced one is pinned by the
    research reference and by the sizes above)."""
    result = run((4, 12), "auto", True)
    assert (result.stats.states, result.stats.transitions, result.stats.depth) == \
        dnsrace_counts((87_667, 388_055, 46))
    assert result.stats.symmetry == ["Enactor"]
    assert violation(result).trace.length == SHORTEST_FROM_THREE
