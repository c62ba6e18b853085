"""Benchmark: the partitioned search (`check --workers 2`, `--cluster local`) against the
single-process array engine and SPIN, on the DNS race at its three sizes (bench_array.py's
model, sizes and Promela twin).

Engines, in the same run, alternated so that background load hits them all:

  array       the array engine in one process (`--workers 1`, the default)
  workers-2   the partitioned search with 2 worker processes (`--workers 2`)
  auto        (--auto) `--workers auto`: in this process until a level has 200,000 states,
              then one worker process per usable CPU
  ray-2       (--ray) the partitioned search on a local Ray with 2 actors (`--cluster local
              --workers 2`); Ray is started before the clock starts, as a cluster would be
  spin        SPIN on the twin, `gcc -O2 -DNOREDUCE -DSAFETY` (bench_array.py's build)

Each dnsrace measurement runs in its own fresh subprocess: seconds is time.perf_counter
around the whole check (worker start-up included); memory is the peak RSS of the driver
minus its RSS before the check, plus the peak RSS of every owner (forked pages shared with
the driver are counted once per process: an upper bound).  Every engine must reach the
pinned counts, and the dnsrace engines must agree on every verdict and trace length.

    .venv/bin/python benchmarks/bench_workers.py              # three sizes, 3 runs each
    .venv/bin/python benchmarks/bench_workers.py --quick      # smallest size, 1 run
    .venv/bin/python benchmarks/bench_workers.py --ray        # and a local Ray, 2 actors
    .venv/bin/python benchmarks/bench_workers.py --auto       # and --workers auto
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_array import SIZES, SMALLEST, SPEC, Spin, check_agreement  # noqa: E402
from bench_explicit import _peak_rss_kib, _rss_now_kib, machine  # noqa: E402
from common import summarize  # noqa: E402


def measure(engine: str, label: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from dnsrace.api import check
    from dnsrace.engines.bfs import Limits
    from dnsrace.engines.device import SORT_NOTE  # noqa: F401 - numpy as dnsrace loads it
    from dnsrace.engines.partitioned import ScaleOptions

    consts, expected = SIZES[label]
    check(SPEC, consts, max_depth=1)   # warm up: imports, grammar, code generators
    scale = None
    if engine == "workers-2":
        scale = ScaleOptions(workers=2)
    elif engine == "auto":
        scale = ScaleOptions(auto=True)
    elif engine == "ray-2":
        import ray
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        scale = ScaleOptions(workers=2, cluster="local")
    before = _rss_now_kib()
    t0 = time.perf_counter()
    result = check(SPEC, consts, engine="array", limits=Limits(), scale=scale)
    seconds = time.perf_counter() - t0
    peak = (_peak_rss_kib() - before) * 1024
    owners = getattr(result, "owners", None) or []
    peak += sum(o.get("peak_rss_bytes", 0) for o in owners)
    st = result.stats
    if result.engine != "array" or not result.complete:
        raise SystemExit(f"{engine} {label}: not a complete array search: {result.warnings}")
    got = (st.states, st.transitions, st.depth)
    if got != expected:
        raise SystemExit(f"{engine} {label}: got {got}, expected {expected}")
    verdicts = {p.name: [p.outcome, p.trace.length if p.trace else None]
                for p in result.properties}
    return {"engine": engine, "size": label, "states": st.states,
            "transitions": st.transitions, "depth": st.depth, "seconds": seconds,
            "bytes_per_state": peak / st.states, "verdicts": verdicts,
            "owners": [{k: o[k] for k in ("name", "states", "peak_rss_bytes") if k in o}
                       for o in owners]}


def run_fresh(engine: str, label: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", engine, label]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: {engine} {label} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine and size")
    ap.add_argument("--quick", action="store_true", help="smallest size, one run")
    ap.add_argument("--sizes", type=int, default=3, help="how many of the three sizes")
    ap.add_argument("--ray", action="store_true", help="also a local Ray with 2 actors")
    ap.add_argument("--auto", action="store_true", help="also --workers auto")
    ap.add_argument("--no-spin", action="store_true", help="leave SPIN out")
    ap.add_argument("--measure", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    sizes = [SMALLEST] if args.quick else list(SIZES)[:max(args.sizes, 1)]
    repeat = 1 if args.quick else max(args.repeat, 1)
    spin_missing = "left out (--no-spin)" if args.no_spin else Spin.available()
    engines = ["array", "workers-2"] + (["auto"] if args.auto else []) + \
        (["ray-2"] if args.ray else []) + \
        (["spin"] if spin_missing is None else [])
    print(f"dnsrace partitioned search vs one process vs SPIN ({SPEC.relative_to(ROOT)})")
    print(machine())
    print(f"usable CPUs: {len(os.sched_getaffinity(0))}; load average before: "
          f"{os.getloadavg()[0]:.2f}")
    if spin_missing:
        print(f"spin: {spin_missing}")
    print(f"each engine: {repeat} run(s) per size, each dnsrace run in a fresh process; "
          "medians shown.")
    runs: dict[tuple, list[dict]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        spin = Spin(scratch)
        for label in sizes:
            for k in range(repeat):
                for engine in engines:
                    r = spin.run(label) if engine == "spin" else run_fresh(engine, label)
                    runs.setdefault((engine, label), []).append(r)
                    print(f"  run {k + 1}/{repeat} {engine:10} {label:19}: "
                          f"{r['seconds']:.2f} s, {r['bytes_per_state']:.0f} B/state",
                          flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    disagree = check_agreement(runs, sizes, {s: engines for s in sizes})
    summary = summarize(runs, sizes, engines, str)
    print("ratios (states/s; > 1: faster)")
    for label in sizes:
        rate1 = summary[("array", label)][0]
        parts = [f"workers-2 vs array x{summary[('workers-2', label)][0] / rate1:.2f}"]
        for other in ("auto", "ray-2"):
            if other in engines:
                parts.append(f"{other} vs array x{summary[(other, label)][0] / rate1:.2f}")
        if "spin" in engines:
            srate = summary[("spin", label)][0]
            parts += [f"array vs spin x{rate1 / srate:.2f}",
                      f"workers-2 vs spin x{summary[('workers-2', label)][0] / srate:.2f}"]
        print(f"  {label:19} " + "; ".join(parts))
    last = runs[("workers-2", sizes[-1])][-1]
    print("owners (workers-2, last run at the largest size): " + "; ".join(
        f"{o['name'].split(' (')[0]}: {o['states']:,} states, peak RSS "
        f"{o['peak_rss_bytes'] / 2**20:.0f} MiB" for o in last["owners"]))
    if disagree:
        print("FAIL: the engines disagree:\n  " + "\n  ".join(disagree))
        return 2
    print("OK: every engine reaches the pinned counts; the dnsrace engines agree on every "
          "verdict and trace length.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
