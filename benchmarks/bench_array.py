"""Benchmark: the array engine against SPIN (and the per-state engine) on the DNS race.

The model is benchmarks/models/dns_race.yaml, the DNS race at 3 Enactors, 5 plans and 3
endpoints (one atomic step per endpoint write), at three sizes:

  E3 P5 EP3             its constants                       827,275 states
  PLANS=6               --const PLANS=6                   2,657,196 states
  PLANS=6 ENDPOINTS=4   --const PLANS=6 --const ENDPOINTS=4  8,645,180 states

Engines, in the same run:

  array       dnsrace.engines.array_bfs.check_model_array: numpy over whole frontiers
              (numpy loaded as dnsrace loads it: see engines/device.py for AVX-512)
  spin        SPIN on benchmarks/models/dns_race.pml, the Promela twin (one d_step per
              dnsrace transition), `gcc -O2 -DNOREDUCE -DSAFETY`; when spin and gcc exist
  bfs         dnsrace.api.check, the per-state engine (generated Python); smallest size only
  array-avx512  (--with-avx512) the array engine with numpy's default CPU features

Each dnsrace measurement runs in its own fresh subprocess:
  seconds      time.perf_counter around the whole check (loading and compiling the spec
               included; the process compiles it once beforehand so that imports and
               grammar loading are not counted)
  bytes/state  (peak RSS after the search - RSS just before it) / states
SPIN: seconds is the wall time of `./pan` (compiled once per size, not counted); bytes/state
is pan's peak RSS / states; pan is given a hash table of about 2 slots per state (-w).

The counts are pinned: every engine must reach exactly these states, transitions and depth,
the dnsrace engines must agree on every verdict and trace length, and SPIN's `states,
stored` must equal dnsrace's states (its `transitions` is dnsrace's + 1: it counts the
root).  After the table: the ratios, and the scaling of the array engine's states/s with
the frontier's size, level by level, in the last run at the largest size.

Exit status: 0 when all agree and, at every size, the array engine is at least as fast as
SPIN and stores at most 64 bytes per state (the issue's mark); 1 when it is not; 2 when a
run fails or the engines disagree.

    .venv/bin/python benchmarks/bench_array.py             # three sizes, 3 runs each
    .venv/bin/python benchmarks/bench_array.py --quick     # smallest size, 1 run (smoke test)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "models" / "dns_race.yaml"
TWIN = HERE / "models" / "dns_race.pml"
MAX_BYTES_PER_STATE = 64

# label -> (constants, (states, transitions, depth))
SIZES = {
    "E3 P5 EP3": ({}, (827_275, 2_567_599, 38)),
    "PLANS=6": ({"PLANS": 6}, (2_657_196, 8_348_368, 39)),
    "PLANS=6 ENDPOINTS=4": ({"PLANS": 6, "ENDPOINTS": 4}, (8_645_180, 26_799_616, 46)),
}
SMALLEST = "E3 P5 EP3"

sys.path.insert(0, str(HERE))   # bench_explicit.py: the script's own folder
from common import SpinBuilds, summarize  # noqa: E402  (benchmarks/common.py)
from bench_explicit import _peak_rss_kib, _rss_now_kib, machine

# ---------------------------------------------------------------- one measurement (subprocess)


def measure(engine: str, label: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from dnsrace.backends.numpy_codegen import compile_array_system
    from dnsrace.backends.python_codegen import compile_system
    from dnsrace.engines.device import (
        SORT_NOTE,  # first: numpy loads as dnsrace loads it
    )
    from dnsrace.frontend.build import load_model
    from dnsrace.ir.lower import lower

    consts, expected = SIZES[label]
    ts = lower(load_model(SPEC, consts))   # warm up: imports, grammar, both code generators
    compile_system(ts)
    compile_array_system(ts)
    levels: list = []
    before = _rss_now_kib()
    t0 = time.perf_counter()
    if engine == "bfs":
        from dnsrace.api import check
        result = check(SPEC, consts)
    else:
        from dnsrace.engines.array_bfs import check_model_array
        result = check_model_array(load_model(SPEC, consts), levels=levels)
        if result.engine != "array":
            raise SystemExit(f"{engine}: the array engine did not run: {result.warnings}")
    seconds = time.perf_counter() - t0
    peak = _peak_rss_kib()
    st = result.stats
    if not result.complete:
        raise SystemExit(f"{engine} {label}: the search was not complete")
    got = (st.states, st.transitions, st.depth)
    if got != expected:
        raise SystemExit(f"{engine} {label}: got {got} (states, transitions, depth), "
                         f"expected {expected}")
    verdicts = {p.name: [p.outcome, p.trace.length if p.trace else None]
                for p in result.properties}
    return {"engine": engine, "size": label, "states": st.states,
            "transitions": st.transitions, "depth": st.depth, "seconds": seconds,
            "bytes_per_state": (peak - before) * 1024 / st.states, "verdicts": verdicts,
            "levels": levels, "numpy": SORT_NOTE}


def run_fresh(engine: str, label: str) -> dict:
    env = dict(os.environ)
    if engine == "array-avx512":
        env["NPY_DISABLE_CPU_FEATURES"] = ""   # set, so dnsrace leaves numpy's defaults
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", engine, label]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: {engine} {label} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- SPIN

class Spin(SpinBuilds):
    """The Promela twin, compiled once per size in a scratch directory."""

    def __init__(self, workdir: str):
        super().__init__(workdir, TWIN)

    def run(self, label: str) -> dict:
        d = self.build(label, SIZES[label][0])
        states = SIZES[label][1][0]
        w = max(18, math.ceil(math.log2(states)) + 1)
        t0 = time.perf_counter()
        proc = subprocess.Popen(["./pan", f"-w{w}"], cwd=d, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stored = re.search(r"(\d+) states, stored", out)
        trans = re.search(r"(\d+) transitions \(= stored\+matched\)", out)
        errors = re.search(r"errors: (\d+)", out)
        if not (stored and trans and errors) or "max search depth too small" in out:
            raise SystemExit(f"spin {label}: unexpected pan output:\n{out}")
        n = int(stored.group(1))
        return {"engine": "spin", "size": label, "states": n,
                "transitions": int(trans.group(1)) - 1, "depth": None,
                "errors": int(errors.group(1)), "seconds": seconds,
                "bytes_per_state": usage.ru_maxrss * 1024 / n, "verdicts": None}


# ---------------------------------------------------------------- the report

def check_agreement(runs: dict, sizes: list[str], engines: dict[str, list[str]]) -> list[str]:
    """What differs between the engines: counts against the pins, SPIN's stored states
    against dnsrace's states, verdicts and trace lengths between the dnsrace engines."""
    bad = []
    for label in sizes:
        states, transitions, depth = SIZES[label][1]
        ref = runs[("array", label)][0]
        for engine in engines[label]:
            for r in runs[(engine, label)]:
                if (r["states"], r["transitions"]) != (states, transitions):
                    bad.append(f"{label}: {engine} counts {r['states']:,} states, "
                               f"{r['transitions']:,} transitions; pinned {states:,}, "
                               f"{transitions:,}")
                if engine == "spin":
                    if r["errors"]:
                        bad.append(f"{label}: spin reports {r['errors']} errors")
                    continue
                if r["depth"] != depth or r["verdicts"] != ref["verdicts"]:
                    bad.append(f"{label}: {engine} depth or verdicts differ from array's")
    return bad


def scaling_table(levels: list, label: str) -> None:
    """Per level of one array run: frontier width, new states, seconds, states/s."""
    print(f"scaling of the array engine with the frontier ({label}, last run; levels of "
          "at least 1,000 states; states/s = frontier states expanded per second)")
    print(f"  {'depth':>5} {'frontier':>10} {'new':>10} {'ms':>8} {'states/s':>12}")
    for d, width, new, secs in levels:
        if width < 1000:
            continue
        rate = width / secs if secs > 0 else float("inf")
        print(f"  {d:>5} {width:>10,} {new:>10,} {secs * 1e3:>8.1f} {rate:>12,.0f}")
    buckets: dict[int, list] = {}
    for _, width, _, secs in levels:
        if width >= 1000:
            b = int(math.log10(width))
            buckets.setdefault(b, []).append((width, secs))
    print("  by frontier size: " + "; ".join(
        f"10^{b}..10^{b + 1}: {sum(w for w, _ in v) / sum(s for _, s in v):,.0f} states/s"
        for b, v in sorted(buckets.items()) if sum(s for _, s in v) > 0))
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine and size (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: smallest size, one run")
    ap.add_argument("--no-spin", action="store_true", help="leave SPIN out")
    ap.add_argument("--no-bfs", action="store_true", help="leave the per-state engine out")
    ap.add_argument("--with-avx512", action="store_true",
                    help="also run the array engine with numpy's default CPU features")
    ap.add_argument("--measure", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0

    sizes = [SMALLEST] if args.quick else list(SIZES)
    repeat = 1 if args.quick else args.repeat
    if repeat < 1:
        ap.error("--repeat must be at least 1")
    spin_missing = "left out (--no-spin)" if args.no_spin else Spin.available()
    engines = {}
    for label in sizes:
        engines[label] = ["array"] + (["array-avx512"] if args.with_avx512 else []) + \
            (["spin"] if spin_missing is None else []) + \
            (["bfs"] if label == SMALLEST and not args.no_bfs else [])
    print(f"dnsrace array engine vs SPIN ({SPEC.relative_to(ROOT)})")
    print(machine())
    if spin_missing:
        print(f"spin: {spin_missing}")
    else:
        ver = subprocess.run(["spin", "-V"], check=False, capture_output=True,
                             text=True).stdout.strip()
        print(f"spin: {ver}; twin {TWIN.relative_to(ROOT)}, gcc -O2 -DNOREDUCE -DSAFETY")
    print(f"each engine: {repeat} run(s) per size, dnsrace runs each in a fresh process; "
          "medians shown.")

    runs: dict[tuple, list[dict]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        spin = Spin(scratch)
        for label in sizes:
            for k in range(repeat):
                for engine in engines[label]:   # alternate, so that background load hits all
                    r = spin.run(label) if engine == "spin" else run_fresh(engine, label)
                    runs.setdefault((engine, label), []).append(r)
                    print(f"  run {k + 1}/{repeat} {engine:12} {label:19}: "
                          f"{r['seconds']:.2f} s, {r['bytes_per_state']:.0f} B/state",
                          flush=True)
    print(f"numpy: {runs[('array', sizes[0])][0]['numpy']}")

    disagree = check_agreement(runs, sizes, engines)
    all_engines = [e for e in ("array", "array-avx512", "spin", "bfs")
                   if any(e in engines[s] for s in sizes)]
    summary = summarize(runs, sizes, all_engines, str)
    failures = []
    print("ratios (speed: states/s against the other engine, > 1: the array engine is faster; "
          "memory: bytes/state ratio, < 1: it stores less)")
    for label in sizes:
        rate, bps = summary[("array", label)]
        parts = [f"array {rate:,.0f} states/s, {bps:.0f} B/state"]
        for other in engines[label][1:]:
            orate, obps = summary[(other, label)]
            parts.append(f"vs {other}: speed x{rate / orate:.2f}, memory x{bps / obps:.2f}")
        print(f"  {label:19} " + "; ".join(parts))
        if "spin" in engines[label] and rate < summary[("spin", label)][0]:
            failures.append(f"{label}: the array engine is slower than SPIN")
        if bps > MAX_BYTES_PER_STATE:
            failures.append(f"{label}: the array engine stores {bps:.0f} bytes per state, "
                            f"over {MAX_BYTES_PER_STATE}")
    print()
    largest = sizes[-1]
    scaling_table(runs[("array", largest)][-1]["levels"], largest)
    if disagree:
        print("FAIL: the engines disagree:\n  " + "\n  ".join(disagree))
        return 2
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    spin_ok = all("spin" in engines[s] for s in sizes)
    print("OK: every engine reaches the pinned counts"
          + ("; SPIN's stored states equal dnsrace's states at every size" if spin_ok else "")
          + "; the array engine stores at most "
          f"{MAX_BYTES_PER_STATE} bytes per state"
          + (" and is at least as fast as SPIN at every size." if spin_ok else "."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
