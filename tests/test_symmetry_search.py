"""The explicit search under scalarset symmetry (issue #13), on specs whose instances are
interchangeable, with the scalarsets described by hand until lowering builds them: the
reduced search stores exactly the orbits of the unreduced one, counts the transitions of one
state per orbit, keeps the depth, and its traces are real paths that replay as they are."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from dnsrace.api import compile_spec
from dnsrace.engines import bfs
from dnsrace.engines.limits import Limits
from dnsrace.engines.symmetry import canonical
from dnsrace.ir.symmetry import Scalarset
from tests.helpers import ROOT

WORKERS = """\
dnsrace: 1
name: workers
constants:
  N: 3
variables:
  done_count: {type: "0..3", init: 0}
processes:
  Worker:
    count: N
    locals:
      x: {type: "0..2", init: 0}
    steps:
      - name: bump
        guard: x < 2
        effect: x = x + 1
      - name: finish
        effect: done_count = min(done_count + 1, 3)
invariants:
  not_all_two:
    expr: "not all(Worker.x[w] == 2 for w in 0..N-1)"
    expect: violated
"""


def workers(tmp_path: Path):
    spec = tmp_path / "workers.yaml"
    spec.write_text(WORKERS, encoding="utf-8")
    _, ts, cs = compile_spec(spec)
    # slots: done_count, Worker[0..2].pc, Worker[0..2].x: a worker's block is (pc, x)
    return ts, cs, (Scalarset("Worker", 3, ((1, 4), (2, 5), (3, 6))),)


def two_phase_commit(_tmp_path: Path):
    _, ts, cs = compile_spec(ROOT / "tests" / "models" / "two_phase_commit.yaml")
    # slots: rm_state[0..2], tm_state, tm_prepared, msg_prepared (sets of RMs), two flags
    return ts, cs, (Scalarset("RM", 3, ((0,), (1,), (2,)), masks=(4, 5)),)


SYSTEMS = {"workers": workers, "two_phase_commit": two_phase_commit}


def successors(ts, cs, packed: int) -> list[tuple[int, int]]:
    return [(t, n) for t, n in cs.expand(packed, []) if n >= 0]


def explore(ts, cs, scalarsets, symmetry: bool):
    ts.scalarsets = scalarsets
    return bfs.explore(ts, cs, Limits(symmetry=symmetry))


@pytest.fixture(params=sorted(SYSTEMS))
def system(request, tmp_path):
    return SYSTEMS[request.param](tmp_path)


def test_the_permutations_are_symmetries_of_the_spec(system):
    """What the hand-written descriptions claim: the reachable states and each state's
    number of transitions are the same up to every permutation."""
    ts, cs, (s,) = system
    full = explore(ts, cs, (s,), symmetry=False)
    pk = cs.packing
    reachable = set(full.states)
    for packed in full.states:
        state = pk.unpack(packed)
        for p in itertools.permutations(range(s.size)):
            image = pk.pack(s.apply(p, state))
            assert image in reachable
            assert len(successors(ts, cs, image)) == len(successors(ts, cs, packed))


def test_the_reduced_search_stores_one_state_per_orbit(system):
    ts, cs, scalarsets = system
    full = explore(ts, cs, scalarsets, symmetry=False)
    reduced = explore(ts, cs, scalarsets, symmetry=True)
    pk = cs.packing
    orbits = {canonical(pk.unpack(n), scalarsets)[0] for n in full.states}
    assert reduced.stats.states == len(orbits) < full.stats.states
    assert reduced.stats.transitions == sum(len(successors(ts, cs, n)) for n in reduced.states)
    assert reduced.stats.depth == full.stats.depth
    assert reduced.stats.symmetry == ["Worker" if "Worker" in scalarsets[0].name else "RM"]
    assert full.stats.symmetry is None
    assert "symmetry" not in full.stats.to_json()


def orbit_size(scalarsets, state) -> int:
    (s,) = scalarsets
    return len({s.apply(p, state) for p in itertools.permutations(range(s.size))})


def test_the_orbits_add_up_to_the_unreduced_counts(system):
    """The orbit-sum identity: each stored state stands for its orbit's states, and for
    their transitions (every state of an orbit has as many)."""
    ts, cs, scalarsets = system
    full = explore(ts, cs, scalarsets, symmetry=False)
    reduced = explore(ts, cs, scalarsets, symmetry=True)
    sizes = [orbit_size(scalarsets, cs.packing.unpack(n)) for n in reduced.states]
    degrees = [len(successors(ts, cs, n)) for n in reduced.states]
    assert sum(sizes) == full.stats.states
    assert sum(k * d for k, d in zip(sizes, degrees)) == full.stats.transitions


def test_the_counts_of_the_reduced_two_phase_commit(tmp_path):
    ts, cs, scalarsets = two_phase_commit(tmp_path)
    full = explore(ts, cs, scalarsets, symmetry=False)
    reduced = explore(ts, cs, scalarsets, symmetry=True)
    assert (full.stats.states, full.stats.transitions, full.stats.depth) == (288, 1145, 10)
    assert (reduced.stats.states, reduced.stats.transitions, reduced.stats.depth) == (80, 317, 10)
    assert reduced.stats.to_json()["symmetry"] == ["RM"]


def test_a_reduced_trace_is_a_real_shortest_path(tmp_path):
    ts, cs, scalarsets = workers(tmp_path)
    full = explore(ts, cs, scalarsets, symmetry=False)
    reduced = explore(ts, cs, scalarsets, symmetry=True)
    path = reduced.trace_path(reduced.best["not_all_two"].end)
    assert len(path) == len(full.trace_path(full.best["not_all_two"].end))
    assert cs.packing.pack(ts.initial[0]) == path[0][1]
    for (_, before), (tid, after) in itertools.pairwise(path):
        assert (tid, after) in successors(ts, cs, before)
    assert all(x == 2 for x in cs.packing.unpack(path[-1][1])[4:])


def test_symmetry_off_or_no_scalarset_explores_every_state(tmp_path):
    ts, cs, scalarsets = workers(tmp_path)
    full = explore(ts, cs, (), symmetry=True)
    assert full.stats.symmetry is None
    assert full.stats.states == explore(ts, cs, scalarsets, symmetry=False).stats.states
    single = (Scalarset("One", 1, ((1, 4),)),)
    assert explore(ts, cs, single, symmetry=True).stats.symmetry is None


def test_the_array_engine_reduces_as_the_explicit_engine_does(system):
    from dnsrace.engines import array_bfs

    ts, cs, scalarsets = system
    per_state = explore(ts, cs, scalarsets, symmetry=True)
    ts.scalarsets = scalarsets
    whole = array_bfs.explore(ts, Limits(symmetry=True), cs=cs)
    assert whole.stats.to_json() | {"seconds": 0} == per_state.stats.to_json() | {"seconds": 0}
    assert whole.enabled == per_state.enabled
    for name, b in per_state.best.items():
        assert whole.trace_path(whole.best[name].end) == per_state.trace_path(b.end)


def test_the_array_engine_refuses_a_reduction_its_packing_cannot_hold(tmp_path):
    from dnsrace.backends.numpy_codegen import ArrayUnsupported, compile_array_system
    from dnsrace.engines import array_bfs

    ts, _, _ = workers(tmp_path)
    arr = compile_array_system(ts)
    # done_count (slot 0, 0..3) "holds a worker": fine; a pc slot as a set of 3 workers is
    # 2 bits wide, too narrow for bit 2
    assert array_bfs.reducible(ts, Limits(), arr) == ()
    ts.scalarsets = (Scalarset("Worker", 3, ((4,), (5,), (6,)), masks=(1,)),)
    with pytest.raises(ArrayUnsupported, match="packed narrower"):
        array_bfs.reducible(ts, Limits(), arr)
    assert array_bfs.reducible(ts, Limits(symmetry=False), arr) == ()


def test_the_json_result_keeps_the_scalarsets_reduced():
    from dnsrace.results import Stats
    from dnsrace.results_json import _stats

    stats = Stats(80, 317, 10, 0.5, 0, ["RM"])
    assert _stats(stats.to_json(), 0.5, 0).symmetry == ["RM"]
    assert _stats(Stats(1, 0, 0, 0.5).to_json(), 0.5, 0).symmetry is None


def test_symmetry_off_is_another_cache_key():
    from dnsrace.cache import key

    on, off = (key(b"spec", {}, "bfs", Limits(symmetry=flag)) for flag in (True, False))
    assert on != off


def test_the_command_line_takes_symmetry_on_or_off():
    from tests.helpers import run_cli

    spec = str(ROOT / "tests" / "models" / "two_phase_commit.yaml")
    for flag in ("on", "off"):
        code, out, err = run_cli("check", spec, "--symmetry", flag, "-q", "--no-timing")
        assert code == 0, out + err
    code, _, err = run_cli("check", spec, "--symmetry", "maybe")
    assert code == 2 and "--symmetry" in err


def test_the_dns_race_reduced_by_its_enactors():
    """specs/dynamodb_dns_race.yaml, its temporal properties left out (a spec with them is
    explored whole): the Enactors (pc, plan, ep) are interchangeable, an index-only
    scalarset; the reduced search stores its exact orbits and finds traces as short."""
    from dnsrace.engines import array_bfs

    _, ts, cs = compile_spec(ROOT / "specs" / "dynamodb_dns_race.yaml")
    names = [s.name for s in ts.slots]
    enactors = (Scalarset("Enactor", 3, tuple(
        tuple(names.index(f"Enactor[{i}].{f}") for f in ("pc", "plan", "ep"))
        for i in range(3))),)
    ts.temporal = []
    full = explore(ts, cs, enactors, symmetry=False)
    reduced = explore(ts, cs, enactors, symmetry=True)
    pk = cs.packing
    assert {pk.pack(enactors[0].apply(p, pk.unpack(n)))
            for n in full.states for p in itertools.permutations(range(3))} == set(full.states)
    orbits = {canonical(pk.unpack(n), enactors)[0] for n in full.states}
    assert (full.stats.states, reduced.stats.states, len(orbits)) == (66436, 12498, 12498)
    assert (reduced.stats.transitions, reduced.stats.depth) == (38900, full.stats.depth)
    assert array_bfs.explore(ts, Limits(), cs=cs).stats.to_json() | {"seconds": 0} == \
        reduced.stats.to_json() | {"seconds": 0}
    assert {k: b.length for k, b in reduced.best.items()} == \
        {k: b.length for k, b in full.best.items()}
    for b in reduced.best.values():
        path = reduced.trace_path(b.end)
        for (_, before), (tid, after) in itertools.pairwise(path):
            assert after is None or (tid, after) in successors(ts, cs, before)
