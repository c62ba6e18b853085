"""Benchmark: dnsrace's explicit engine against a plain hand-written Python BFS of the same model.

The model is the contract's example spec, tests/contract/lease_handoff.yaml, at two sizes:
WORKERS=3 GRANTS=6 (395,872 states) and WORKERS=4 GRANTS=4 (924,832 states, the ~10^6 one).
The baseline is benchmarks/baseline_lease.py (tuples in a dict, a deque, successor code by hand).

Each measurement runs in its own fresh subprocess, so its peak memory is its own:
  seconds      time.perf_counter around the whole search (dnsrace: the whole `check` call,
               which also loads and compiles the tiny spec)
  bytes/state  (peak RSS after the search - RSS just before it) / states
Both engines must reach exactly the same counts and verdicts, or the run fails.

Exit status: 0 when dnsrace is faster than the baseline and stores at most 300 bytes per state
at every size measured; 1 otherwise; 2 when a run fails or the engines disagree.

    .venv/bin/python benchmarks/bench_explicit.py            # both sizes, 3 runs each
    .venv/bin/python benchmarks/bench_explicit.py --quick    # small size, 1 run (smoke test)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import summarize  # benchmarks/common.py (the script's own folder)

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "tests" / "contract" / "lease_handoff.yaml"
MAX_BYTES_PER_STATE = 300

# (WORKERS, GRANTS) -> (states, transitions, depth), as the contract's spec gives them
SIZES = {
    (3, 6): (395_872, 1_137_612, 23),
    (4, 4): (924_832, 3_152_096, 19),
}
ENGINES = ("dnsrace", "baseline")


# ---------------------------------------------------------------- one measurement (subprocess)

def _rss_now_kib() -> int:
    """The current resident set size, in KiB."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return _peak_rss_kib()  # no /proc: the best available lower bound


def _peak_rss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux


def measure(engine: str, workers: int, grants: int) -> dict:
    """Run one search in this (fresh) process and return what was measured."""
    if engine == "dnsrace":
        from dnsrace.api import check
        from dnsrace.backends.python_codegen import compile_system
        from dnsrace.frontend.build import load_model
        from dnsrace.ir.lower import lower

        consts = {"WORKERS": workers, "GRANTS": grants}
        compile_system(lower(load_model(SPEC, consts)))  # warm up: imports, grammar, codegen
        before = _rss_now_kib()
        t0 = time.perf_counter()
        result = check(SPEC, consts)
        seconds = time.perf_counter() - t0
        peak = _peak_rss_kib()
        st = result.stats
        states, transitions, depth = st.states, st.transitions, st.depth
        verdicts = {p.name: [p.outcome, p.trace.length if p.trace else None]
                    for p in result.properties
                    if p.name not in ("assertion", "type", "error", "deadlock")}
        if not result.complete:
            raise SystemExit("dnsrace: the search was not complete")
    elif engine == "baseline":
        import baseline_lease

        before = _rss_now_kib()
        t0 = time.perf_counter()
        result = baseline_lease.bfs(workers, grants)
        seconds = time.perf_counter() - t0
        peak = _peak_rss_kib()
        states, transitions, depth = result["states"], result["transitions"], result["depth"]
        verdicts = {k: list(v) for k, v in baseline_lease.verdicts(result).items()}
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    expected = SIZES.get((workers, grants))
    if expected is not None and (states, transitions, depth) != expected:
        raise SystemExit(f"{engine} WORKERS={workers} GRANTS={grants}: got "
                         f"{(states, transitions, depth)} (states, transitions, depth), "
                         f"expected {expected}")
    return {"engine": engine, "workers": workers, "grants": grants, "states": states,
            "transitions": transitions, "depth": depth, "seconds": seconds,
            "rss_before_kib": before, "peak_rss_kib": peak,
            "bytes_per_state": (peak - before) * 1024 / states, "verdicts": verdicts}


def run_fresh(engine: str, workers: int, grants: int) -> dict:
    """`measure` in a fresh Python process; its JSON is the last line of its output."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", engine,
           str(workers), str(grants)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: {engine} WORKERS={workers} GRANTS={grants} failed "
                         f"(exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the report

def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = "n/a"
    if hasattr(os, "getloadavg"):
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: nproc={usable} ({cpu}), Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}, "
            f"load average {load}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine and size (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: the small size only, one run each")
    ap.add_argument("--measure", nargs=3, metavar=("ENGINE", "WORKERS", "GRANTS"),
                    help=argparse.SUPPRESS)  # internal: one measurement in this process
    args = ap.parse_args(argv)

    if args.measure:
        engine, w, g = args.measure
        print(json.dumps(measure(engine, int(w), int(g))))
        return 0

    sizes = [(3, 6)] if args.quick else list(SIZES)
    repeat = 1 if args.quick else args.repeat
    if repeat < 1:
        ap.error("--repeat must be at least 1")
    print(f"dnsrace explicit engine vs a plain hand-written Python BFS "
          f"({SPEC.relative_to(HERE.parent)})")
    print(machine())
    print(f"each engine: {repeat} run(s) per size, each in a fresh process; medians shown. "
          f"Machines are noisy: read the medians and the ratios, not single runs.")

    runs: dict[tuple, list[dict]] = {}
    for size in sizes:
        for k in range(repeat):
            for engine in ENGINES:  # alternate the engines so background load hits both
                r = run_fresh(engine, *size)
                runs.setdefault((engine, size), []).append(r)
                print(f"  run {k + 1}/{repeat} {engine:8} WORKERS={size[0]} GRANTS={size[1]}: "
                      f"{r['seconds']:.2f} s, {r['bytes_per_state']:.0f} B/state", flush=True)

    disagree = []
    for size in sizes:
        ref = runs[("baseline", size)][0]
        for r in runs[("dnsrace", size)] + runs[("baseline", size)]:
            for key in ("states", "transitions", "depth", "verdicts"):
                if r[key] != ref[key]:
                    disagree.append(f"WORKERS={size[0]} GRANTS={size[1]} {key}: "
                                    f"{r['engine']} {r[key]} != baseline {ref[key]}")

    summary = summarize(runs, sizes, ENGINES,
                        lambda size: f"WORKERS={size[0]} GRANTS={size[1]}")
    print("dnsrace / baseline (speed: states/s ratio, > 1 is faster; "
          "memory: bytes/state ratio, < 1 is smaller)")
    failures = []
    for size in sizes:
        (d_rate, d_bps), (b_rate, b_bps) = summary[("dnsrace", size)], summary[("baseline", size)]
        label = f"WORKERS={size[0]} GRANTS={size[1]}"
        print(f"  {label:20} speed x{d_rate / b_rate:.2f}   memory x{d_bps / b_bps:.2f}")
        if d_rate <= b_rate:
            failures.append(f"{label}: dnsrace ({d_rate:,.0f} states/s) is not faster than the "
                            f"plain Python BFS ({b_rate:,.0f} states/s)")
        if d_bps > MAX_BYTES_PER_STATE:
            failures.append(f"{label}: dnsrace stores {d_bps:.0f} bytes per state, more than "
                            f"the {MAX_BYTES_PER_STATE} allowed")
    print()
    if disagree:
        print("FAIL: the engines disagree:\n  " + "\n  ".join(disagree))
        return 2
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"OK: dnsrace is faster than the plain Python BFS and stores at most "
          f"{MAX_BYTES_PER_STATE} bytes per state at every size measured.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
