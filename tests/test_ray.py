"""The partitioned search on a local Ray with 2 actors (`check --cluster local --workers
2`): the single-process results, exactly; and an actor that dies mid-search ends the run
as `worker-lost`, every undecided property `unknown`, with a warning naming the actor,
never a wrong verdict."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings

from tests.helpers import import_or_skip

ray = import_or_skip("ray", "pip install 'dnsrace[ray]'")   # in the test extra: CI has it

from dnsrace.api import check  # noqa: E402
from dnsrace.engines.bfs import Limits  # noqa: E402
from dnsrace.engines.partitioned import ScaleOptions, search  # noqa: E402
from dnsrace.engines.partitioned.ray_cluster import ACTOR_PREFIX  # noqa: E402
from tests.helpers import ROOT, without_temporal  # noqa: E402
from tests.reference.specgen import specs  # noqa: E402
from tests.test_array_engine import GENERATED, signature  # noqa: E402

RAY2 = ScaleOptions(workers=2, cluster="local")
FLAT = Limits(symmetry=False)
SPECS = sorted(ROOT.glob("specs/*.yaml")) + [ROOT / "tests" / "models" / "bakery.yaml"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


def assert_identical(spec, limits) -> None:
    single = check(spec, engine="array", limits=limits)
    spread = check(spec, engine="array", limits=limits, scale=RAY2)
    assert signature(single) == signature(spread), f"{spec} {limits}"
    assert single.warnings == spread.warnings
    assert [o["name"].startswith("Ray actor") for o in spread.owners] == [True, True]
    assert all(o["peak_rss_bytes"] > 0 for o in spread.owners)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_identical_on_a_local_ray_with_2_actors(path):
    """Temporal properties included."""
    assert_identical(path, FLAT)


def test_identical_under_limits_on_a_local_ray(tmp_path):
    spec = without_temporal(ROOT / "specs" / "dynamodb_dns_race.yaml", tmp_path)
    for limits in (Limits(symmetry=False, stop_on_first=True),
                   Limits(symmetry=False, max_states=20_000)):
        assert_identical(spec, limits)


@settings(parent=GENERATED, max_examples=4)
@given(specs())
def test_identical_on_generated_specs_on_a_local_ray(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text)
        if check(path, engine="array", limits=FLAT).engine == "array":
            assert_identical(path, FLAT)


def test_an_actor_killed_mid_search_ends_the_run_unknown_naming_it(monkeypatch, tmp_path):
    clock = iter(range(10**6))
    monkeypatch.setattr(search, "_now", lambda: float(next(clock)))   # progress every level
    killed = []

    def kill_one(progress):
        if progress.depth == 5 and not killed:
            names = [n["name"] for n in ray.util.list_named_actors(all_namespaces=True)
                     if n["name"].startswith(ACTOR_PREFIX) and n["name"].endswith("-1")]
            ray.kill(ray.get_actor(names[0]), no_restart=True)
            killed.append(names[0])

    spec = without_temporal(ROOT / "specs" / "dns_fix_cas.yaml", tmp_path)
    single = check(spec, engine="array", limits=FLAT)
    lost = check(spec, engine="array", limits=FLAT, scale=RAY2, progress=kill_one)
    assert killed
    assert lost.stopped == "worker-lost" and not lost.complete
    assert any("Ray actor 1" in w and "died" in w for w in lost.warnings), lost.warnings
    verdicts = {p.name: p.outcome for p in single.properties}
    for p in lost.properties:   # unknown, or what the whole search says (a replayed trace)
        assert p.outcome in ("unknown", verdicts[p.name]), p.name
    assert any(p.outcome == "unknown" for p in lost.properties)
