"""The partitioned search (`engines.partitioned`, `check --workers N`) gives exactly the
single-process array engine's results: counts, completeness, verdicts, messages and traces
(as JSON), with 1, 2 and 4 worker processes and with several owners in one process, on
specs/, the test corpora and generated specs, under every limit that cuts a level."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings

from dnsrace.api import check
from dnsrace.engines.bfs import Limits
from dnsrace.engines.partitioned import ScaleOptions
from tests.helpers import COUNTER, ROOT, run_cli, without_temporal, write_spec
from tests.reference.specgen import specs
from tests.test_array_engine import CORPUS, GENERATED, LIMITS, SMALL, assert_replays, signature

FLAT = Limits(symmetry=False)   # the partitioned search does not reduce by symmetry
SCALES = {
    "1 owner": ScaleOptions(workers=1, in_process=True),
    "3 owners in process": ScaleOptions(workers=3, in_process=True),
    "2 workers": ScaleOptions(workers=2),
    "4 workers": ScaleOptions(workers=4),
}
FELL_BACK = "the search ran in one process"
SCALARSETS = sorted(ROOT.glob("tests/scalarsets/*.yaml"))   # explored whole (FLAT)


def partitioned(path, scale: ScaleOptions, limits: Limits = FLAT, constants=None):
    return check(path, constants, engine="array", limits=limits, scale=scale)


def as_json(result) -> dict:
    """The result as `check --format json` prints it, seconds aside."""
    out = json.loads(json.dumps(result.to_json()))
    out["stats"].pop("seconds")
    return out


def assert_identical(single, spread, where: str) -> None:
    assert not any(FELL_BACK in w for w in spread.warnings), f"{where}: {spread.warnings}"
    assert signature(single) == signature(spread), f"{where}: results differ"
    assert as_json(single) == as_json(spread), f"{where}: JSON differs"
    assert single.exit_code == spread.exit_code


def safety_copy(path: Path, tmp: Path) -> Path:
    """The spec without its temporal properties (which only add time under limits)."""
    text = path.read_text(encoding="utf-8")
    return without_temporal(path, tmp) if "temporal:" in text else path


@pytest.mark.parametrize("path", CORPUS + SCALARSETS, ids=lambda p: p.name)
def test_identical_with_1_2_and_4_workers(path):
    """Temporal properties included: the state graph is recorded across owners."""
    spec = path
    single = check(spec, engine="array", limits=FLAT)
    for name, scale in SCALES.items():
        spread = partitioned(spec, scale)
        assert_identical(single, spread, f"{path.name} with {name}")
    assert_replays(spec, None, spread)


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_identical_under_limits(name, tmp_path):
    """--stop-on-first and --max-states cut a level where one process cuts it."""
    limits = Limits(**{**LIMITS[name].__dict__, "symmetry": False})
    for path in SMALL:
        spec = safety_copy(path, tmp_path)
        single = check(spec, engine="array", limits=limits)
        spread = partitioned(spec, SCALES["3 owners in process"], limits)
        assert_identical(single, spread, f"{path.name} {name}")


def test_identical_under_limits_with_worker_processes(tmp_path):
    spec = safety_copy(ROOT / "specs" / "dynamodb_dns_race.yaml", tmp_path)
    for limits in (Limits(symmetry=False, stop_on_first=True),
                   Limits(symmetry=False, max_states=20_000),
                   Limits(symmetry=False, max_depth=9, stop_on_first=True)):
        single = check(spec, engine="array", limits=limits)
        assert_identical(single, partitioned(spec, SCALES["2 workers"], limits), str(limits))


@settings(parent=GENERATED, max_examples=20)
@given(specs())
def test_identical_on_generated_specs(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "spec.yaml"
        path.write_text(text)
        for limits in (FLAT, Limits(symmetry=False, stop_on_first=True)):
            single = check(path, engine="array", limits=limits)
            for scale in (SCALES["3 owners in process"], SCALES["2 workers"]):
                spread = partitioned(path, scale, limits)
                if single.engine != "array":   # the array engine cannot take it either
                    continue
                assert_identical(single, spread, text)


def test_a_search_reduced_by_symmetry_runs_in_one_process_saying_so():
    spec = ROOT / "tests" / "scalarsets" / "holders.yaml"
    single = check(spec, engine="array")
    assert single.stats.symmetry, "the spec is reduced by symmetry"
    spread = check(spec, engine="array", scale=ScaleOptions(workers=2))
    assert signature(single) == signature(spread)
    assert any(FELL_BACK in w and "symmetry" in w for w in spread.warnings)


def test_cli_workers_gives_the_same_json(tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    code1, out1, _ = run_cli("check", str(spec), "--format", "json")
    code2, out2, err2 = run_cli("check", str(spec), "--format", "json", "--workers", "2")
    assert code1 == code2 == 0
    a, b = json.loads(out1), json.loads(out2)
    a["stats"].pop("seconds"), b["stats"].pop("seconds")
    assert a == b
    assert "dnsrace: owners: worker 0" in err2 and "worker 1" in err2


@pytest.mark.parametrize("args, code", [
    (["--cluster", "head:10001"], "DR904"),
    (["--workers", "2", "--engine", "bfs"], "DR906"),
    (["--resume", "{tmp}/none"], "DR902"),
    (["--checkpoint", "{spec}/ck"], "DR901"),
    (["--workers", "0"], "not a number of workers"),
    # the fuzzer's newer-options family: an OverflowError traceback sizing the owners
    (["--workers", "99999999999999999999"], "more than the 1,024 one search can have"),
    (["--workers", "1025"], "more than the 1,024 one search can have"),
])
def test_bad_scale_options_are_one_line_errors(args, code, tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    args = [a.format(tmp=tmp_path, spec=spec) for a in args]
    status, _, err = run_cli("check", str(spec), *args)
    assert status == 2 and code in err and "Traceback" not in err


def test_workers_auto_moves_a_wide_search_to_worker_processes(monkeypatch):
    """`--workers auto` searches in this process while levels are narrow (no start-up for
    small specs), then moves the owners' parts to one process per usable CPU."""
    from dnsrace.engines import partitioned
    from dnsrace.engines.partitioned import search

    monkeypatch.setattr(search, "GROW_AT", 2000)
    monkeypatch.setattr(partitioned, "usable_cpus", lambda: 2)
    race = ROOT / "specs" / "dynamodb_dns_race.yaml"
    auto = ScaleOptions(auto=True)
    moved = check(race, engine="array", limits=FLAT, scale=auto)
    assert signature(moved) == signature(check(race, engine="array", limits=FLAT))
    assert [o["name"].split(" (")[0] for o in moved.owners] == ["worker 0", "worker 1"]
    small = check(ROOT / "tests" / "models" / "bakery.yaml", engine="array", limits=FLAT,
                  scale=auto)
    assert [o["name"] for o in small.owners] == ["owner 0"]


def test_a_worker_killed_mid_search_ends_the_run_unknown_naming_it(monkeypatch):
    import multiprocessing
    import os
    import signal

    from dnsrace.engines.partitioned import search

    clock = iter(range(10**6))
    monkeypatch.setattr(search, "_now", lambda: float(next(clock)))   # progress every level
    killed = []

    def kill_one(progress):
        if progress.depth == 5 and not killed:
            worker = next(p for p in multiprocessing.active_children()
                          if p.name == "dnsrace-owner-1")
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(worker.pid)

    race = ROOT / "specs" / "dynamodb_dns_race.yaml"
    single = check(race, engine="array", limits=FLAT)
    lost = check(race, engine="array", limits=FLAT, scale=SCALES["2 workers"],
                 progress=kill_one)
    assert killed
    assert lost.stopped == "worker-lost" and not lost.complete and lost.exit_code == 3
    assert any(f"worker 1 (pid {killed[0]}) died" in w for w in lost.warnings), lost.warnings
    verdicts = {p.name: p.outcome for p in single.properties}
    for p in lost.properties:   # unknown, or what the whole search says (a replayed trace)
        assert p.outcome in ("unknown", verdicts[p.name]), p.name
    assert any(p.outcome == "unknown" for p in lost.properties)


def test_spreading_a_search_on_a_gpu_is_refused():
    from dnsrace.cli import scale_options
    from dnsrace.diagnostics import SpecError

    with pytest.raises(SpecError) as info:
        scale_options(2, None, None, 300.0, None, "auto", 1, "gpu")
    assert info.value.diagnostics[0].code == "DR906"
