"""Checkpoints (`check --checkpoint DIR`, `--resume DIR`): a run killed with SIGKILL in the
middle of its search resumes from its last checkpoint and ends with exactly the results an
uninterrupted run gives; a checkpoint belongs to one spec, its constants and its options."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT

MODEL = ROOT / "benchmarks" / "models" / "dns_race.yaml"   # 827,275 states, depth 38


def dnsrace(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dnsrace", "check", *args], check=False,
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def results(stdout: str) -> dict:
    out = json.loads(stdout)
    out["stats"].pop("seconds")
    return out


def checkpoints(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(n for n in os.listdir(folder) if n.startswith("level-")
                  and not n.endswith(".partial"))


def depth(name: str) -> int:
    return int(name.split("-")[1])


def start_and_kill(folder: Path, *args: str) -> str:
    """Start a checkpointed run, SIGKILL it (and its workers) once a checkpoint of depth
    10 or more exists; the name of the checkpoint it left."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dnsrace", "check", str(MODEL), "--format", "json",
         "--checkpoint", str(folder), "--checkpoint-every", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        while proc.poll() is None and not any(depth(n) >= 10 for n in checkpoints(folder)):
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it was killed"
    left = checkpoints(folder)   # the newest, and maybe the one before, not yet removed
    assert 1 <= len(left) <= 2
    return left[-1]


def test_a_killed_run_resumes_to_the_uninterrupted_results(tmp_path):
    whole = dnsrace(str(MODEL), "--format", "json")
    assert whole.returncode == 0, whole.stderr
    folder = tmp_path / "ck"
    left = start_and_kill(folder, "--workers", "2")
    assert 10 <= depth(left) < 38     # killed mid-search
    # resumed with another number of workers: each owner takes the keys it owns
    resumed = dnsrace(str(MODEL), "--format", "json", "--resume", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert results(resumed.stdout) == results(whole.stdout)


def test_a_checkpoint_belongs_to_its_spec_constants_and_options(tmp_path):
    folder = tmp_path / "ck"
    start_and_kill(folder)
    for args, what in ((["--const", "PLANS=4"], "other constants"),
                       (["--max-depth", "30"], "other options"),
                       (["--stop-on-first"], "other options")):
        out = dnsrace(str(MODEL), "--resume", str(folder), *args)
        assert out.returncode == 2, out.stderr
        assert "DR903" in out.stderr and what in out.stderr and "Traceback" not in out.stderr
    other = ROOT / "specs" / "lease_handoff.yaml"
    out = dnsrace(str(other), "--resume", str(folder))
    assert out.returncode == 2 and "another spec" in out.stderr


def test_resuming_keeps_the_state_graph_of_temporal_properties(tmp_path):
    """A checkpoint after every level; the last one (the level before the search ends) is
    resumed with another number of owners: the temporal verdicts and lassos are the
    uninterrupted run's."""
    from dnsrace.api import check
    from dnsrace.engines.bfs import Limits
    from dnsrace.engines.partitioned import ScaleOptions
    from tests.test_array_engine import signature

    race = ROOT / "specs" / "dynamodb_dns_race.yaml"
    limits = Limits(symmetry=False)
    whole = check(race, engine="array", limits=limits)
    assert any(p.kind == "temporal" for p in whole.properties)
    folder = tmp_path / "ck"
    check(race, engine="array", limits=limits,
          scale=ScaleOptions(workers=2, checkpoint=str(folder), checkpoint_every=0))
    assert depth(checkpoints(folder)[-1]) == whole.stats.depth
    resumed = check(race, engine="array", limits=limits,
                    scale=ScaleOptions(workers=3, in_process=True, resume=str(folder)))
    assert signature(resumed) == signature(whole)


def test_a_damaged_checkpoint_is_refused_before_the_search(tmp_path):
    folder = tmp_path / "ck"
    spec = ROOT / "specs" / "dns_fix_cas.yaml"
    made = dnsrace(str(spec), "--symmetry", "off", "--checkpoint", str(folder),
                   "--checkpoint-every", "0", "--quiet")
    assert made.returncode in (0, 1), made.stderr
    (folder / checkpoints(folder)[-1] / "owner-0.npz").write_text("not arrays")
    out = dnsrace(str(spec), "--symmetry", "off", "--resume", str(folder))
    assert out.returncode == 2 and "DR902" in out.stderr and "damaged" in out.stderr
    assert "Traceback" not in out.stderr


def _tamper(ck: Path, how: str) -> None:
    """Damage a copy of a checkpoint the way a hostile or broken file would."""
    import numpy as np

    meta_file = ck / "meta.json"
    meta = json.loads(meta_file.read_text())
    if how == "meta a FIFO":
        meta_file.unlink()
        os.mkfifo(meta_file)
    elif how == "meta a list":
        meta_file.write_text("[1]")
    elif how == "meta nested deep":
        meta_file.write_text("[" * 100_000 + "]" * 100_000)
    elif how == "a field missing":
        del meta["driver"]["sizes"]
        meta_file.write_text(json.dumps(meta))
    elif how == "a field of the wrong type":
        meta["driver"]["initial"] = "abc"
        meta_file.write_text(json.dumps(meta))
    elif how == "a trace end elsewhere":
        meta["search"]["best"] = {"x": [3, ["state", [10 ** 6, 0], ["sp", 0, 0]], None]}
        meta_file.write_text(json.dumps(meta))
    elif how == "an owner file a FIFO":
        (ck / "owner-0.npz").unlink()
        os.mkfifo(ck / "owner-0.npz")
    elif how == "owner arrays of floats":
        with np.load(ck / "owner-0.npz") as z:
            arrays = {k: z[k] for k in z.files}
        arrays["visited"] = arrays["visited"].astype(np.float64)
        np.savez(ck / "owner-0.npz", **arrays)


def test_a_hostile_checkpoint_is_refused_without_hanging_or_a_traceback(tmp_path):
    import shutil

    spec = ROOT / "specs" / "dns_fix_cas.yaml"
    made = tmp_path / "made"
    done = dnsrace(str(spec), "--symmetry", "off", "--checkpoint", str(made),
                   "--checkpoint-every", "0", "--quiet")
    assert done.returncode in (0, 1), done.stderr
    for how in ("meta a FIFO", "meta a list", "meta nested deep", "a field missing",
                "a field of the wrong type", "a trace end elsewhere", "an owner file a FIFO",
                "owner arrays of floats"):
        folder = tmp_path / how.replace(" ", "-")
        shutil.copytree(made, folder)
        _tamper(folder / checkpoints(folder)[-1], how)
        out = dnsrace(str(spec), "--symmetry", "off", "--resume", str(folder))
        assert out.returncode == 2 and "DR902" in out.stderr, (how, out.stderr)
        assert "Traceback" not in out.stderr, how


@pytest.mark.parametrize("temporal", [True, False])
def test_a_checkpoint_that_cannot_be_written_does_not_stop_the_search(tmp_path, monkeypatch,
                                                                      temporal):
    """A full disk under the checkpoint folder (the driver's graph, or an owner's part):
    the search goes on to the uninterrupted results, and the warnings say that no
    checkpoint was written from that depth."""
    from dnsrace.api import check
    from dnsrace.engines.bfs import Limits
    from dnsrace.engines.partitioned import ScaleOptions, checkpoint
    from tests.helpers import without_temporal
    from tests.test_array_engine import signature

    def full(path, **arrays):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(checkpoint, "write_arrays", full)
    race = ROOT / "specs" / "dynamodb_dns_race.yaml"
    if not temporal:
        race = without_temporal(race, tmp_path)
    limits = Limits(symmetry=False)
    whole = check(race, engine="array", limits=limits)
    kept = check(race, engine="array", limits=limits,
                 scale=ScaleOptions(workers=2, in_process=True, checkpoint=str(tmp_path / "ck"),
                                    checkpoint_every=0))
    assert signature(kept) == signature(whole)
    first = "graph.npz" if temporal else "owner-0.npz"
    assert [w for w in kept.warnings if w.startswith("no checkpoint")] == [
        "no checkpoint could be written at depth 1 (" + str(tmp_path / "ck" /
        "level-000001.partial" / first) + ": No space left on device); the search "
        "went on without checkpoints"]
    assert checkpoints(tmp_path / "ck") == []
