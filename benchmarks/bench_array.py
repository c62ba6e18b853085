"""Benchmark: the array engine against the per-state engine (and SPIN) on the DNS race.

The model is specs/dynamodb_dns_race.yaml at three sizes: its defaults (66,436 states),
--const PLANS=5 (260,906 states) and --const ENACTORS=4 (2,118,825 states).  Engines:

  per-state   dnsrace.api.check: the explicit engine (engines/bfs.py, generated Python)
  array       dnsrace.engines.array_bfs.check_model_array: numpy over whole frontiers
  array-avx2  the same, with numpy's AVX-512 code paths off (NPY_DISABLE_CPU_FEATURES);
              only on a CPU where numpy uses them: its AVX-512 sort can be slower than its
              AVX2 sort (PERF-NOTES.md), so both are shown
  spin        SPIN on benchmarks/dynamodb_dns_race.pml, the Promela twin (one d_step per
              dnsrace transition), `gcc -O2 -DNOREDUCE -DSAFETY`; when spin and gcc exist

Each dnsrace measurement runs in its own fresh subprocess:
  seconds      time.perf_counter around the whole check (loading and compiling the spec
               included; the process compiles it once beforehand so that imports and
               grammar loading are not counted)
  bytes/state  (peak RSS after the search - RSS just before it) / states
SPIN: seconds is the wall time of `./pan` (compiled once per size, not counted); bytes/state
is pan's peak RSS / states, its fixed allocations included (they dominate at the smallest
size); pan is given a hash table of about 2 slots per state (-w).

Every engine must reach exactly the pinned counts; the dnsrace engines must also agree on
every verdict and trace length, and SPIN's `states, stored` must equal dnsrace's states (its
`transitions` is dnsrace's + 1: it counts the root).  Exit status: 0 when all agree and the
array engine is faster than the per-state engine at every size; 1 when it is not; 2 when a
run fails or the engines disagree.

    .venv/bin/python benchmarks/bench_array.py             # three sizes, 3 runs each
    .venv/bin/python benchmarks/bench_array.py --quick     # default size, 1 run (smoke test)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = ROOT / "specs" / "dynamodb_dns_race.yaml"
TWIN = HERE / "dynamodb_dns_race.pml"
NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"

# label -> (constants, (states, transitions, depth))
SIZES = {
    "defaults": ({}, (66_436, 206_550, 30)),
    "PLANS=5": ({"PLANS": 5}, (260_906, 823_891, 31)),
    "ENACTORS=4": ({"ENACTORS": 4}, (2_118_825, 8_503_106, 36)),
}

sys.path.insert(0, str(HERE))
from bench_explicit import _peak_rss_kib, _rss_now_kib, machine  # noqa: E402
from common import summarize  # noqa: E402

# ---------------------------------------------------------------- one measurement (subprocess)

def measure(engine: str, label: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from dnsrace.backends.numpy_codegen import compile_array_system
    from dnsrace.backends.python_codegen import compile_system
    from dnsrace.frontend.build import load_model
    from dnsrace.ir.lower import lower

    consts, expected = SIZES[label]
    ts = lower(load_model(SPEC, consts))   # warm up: imports, grammar, both code generators
    compile_system(ts)
    compile_array_system(ts)
    before = _rss_now_kib()
    t0 = time.perf_counter()
    if engine == "per-state":
        from dnsrace.api import check
        result = check(SPEC, consts)
    else:
        from dnsrace.engines.array_bfs import check_model_array
        result = check_model_array(load_model(SPEC, consts))
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
            "bytes_per_state": (peak - before) * 1024 / st.states, "verdicts": verdicts}


def run_fresh(engine: str, label: str) -> dict:
    env = dict(os.environ)
    if engine == "array-avx2":
        env["NPY_DISABLE_CPU_FEATURES"] = NO_AVX512
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", engine, label]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: {engine} {label} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def numpy_uses_avx512() -> bool:
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:
        return False
    return bool(feats.get("AVX512F")) or bool(feats.get("AVX512_SKX"))


# ---------------------------------------------------------------- SPIN

class Spin:
    """The Promela twin, compiled once per size in a scratch directory."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.built: dict[str, str] = {}

    @staticmethod
    def available() -> str | None:
        missing = [t for t in ("spin", "gcc") if shutil.which(t) is None]
        return None if not missing else f"{' and '.join(missing)} not found " \
                                         "(apt-get install -y spin gcc)"

    def build(self, label: str) -> str:
        if label in self.built:
            return self.built[label]
        d = Path(self.workdir) / label.replace("=", "_")
        d.mkdir()
        defines = [f"-D{k}={v}" for k, v in SIZES[label][0].items()]
        subprocess.run(["spin", *defines, "-a", str(TWIN)], cwd=d, check=True,
                       capture_output=True, text=True)
        subprocess.run(["gcc", "-O2", "-DNOREDUCE", "-DSAFETY", "-o", "pan", "pan.c"], cwd=d,
                       check=True, capture_output=True, text=True)
        self.built[label] = str(d)
        return str(d)

    def run(self, label: str) -> dict:
        d = self.build(label)
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
        peak_kib = usage.ru_maxrss
        n = int(stored.group(1))
        return {"engine": "spin", "size": label, "states": n,
                "transitions": int(trans.group(1)) - 1, "depth": None,
                "errors": int(errors.group(1)), "seconds": seconds,
                "bytes_per_state": peak_kib * 1024 / n, "verdicts": None}


# ---------------------------------------------------------------- the report

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine and size (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: defaults only, one run")
    ap.add_argument("--no-spin", action="store_true", help="leave SPIN out")
    ap.add_argument("--measure", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0

    sizes = ["defaults"] if args.quick else list(SIZES)
    repeat = 1 if args.quick else args.repeat
    if repeat < 1:
        ap.error("--repeat must be at least 1")
    engines = ["per-state", "array"]
    if numpy_uses_avx512():
        engines.append("array-avx2")
    spin_missing = "left out (--no-spin)" if args.no_spin else Spin.available()
    if spin_missing is None:
        engines.append("spin")
    print(f"dnsrace array engine vs per-state engine ({SPEC.relative_to(ROOT)})")
    print(machine())
    import numpy
    print(f"numpy {numpy.__version__}; array-avx2 = NPY_DISABLE_CPU_FEATURES=\"{NO_AVX512}\""
          if "array-avx2" in engines else f"numpy {numpy.__version__}")
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
                for engine in engines:   # alternate, so that background load hits all
                    r = spin.run(label) if engine == "spin" else run_fresh(engine, label)
                    runs.setdefault((engine, label), []).append(r)
                    print(f"  run {k + 1}/{repeat} {engine:10} {label:10}: "
                          f"{r['seconds']:.2f} s, {r['bytes_per_state']:.0f} B/state",
                          flush=True)

    disagree = []
    for label in sizes:
        ref = runs[("per-state", label)][0]
        for engine in engines:
            for r in runs[(engine, label)]:
                keys = ("states", "transitions") if engine == "spin" else \
                    ("states", "transitions", "depth", "verdicts")
                for key in keys:
                    if r[key] != ref[key]:
                        disagree.append(f"{label} {key}: {engine} {r[key]} != per-state "
                                        f"{ref[key]}")
                if engine == "spin" and r["errors"]:
                    disagree.append(f"{label}: spin reports {r['errors']} errors")

    summary = summarize(runs, sizes, engines, lambda label: label)
    print("ratios against the per-state engine (speed: states/s ratio, > 1 is faster; "
          "memory: bytes/state ratio, < 1 is smaller)")
    failures = []
    for label in sizes:
        base_rate, base_bps = summary[("per-state", label)]
        parts = []
        for engine in engines[1:]:
            rate, bps = summary[(engine, label)]
            parts.append(f"{engine} speed x{rate / base_rate:.2f} memory x{bps / base_bps:.2f}")
        print(f"  {label:10} " + "; ".join(parts))
        if summary[("array", label)][0] <= base_rate:
            failures.append(f"{label}: the array engine is not faster than the per-state engine")
    if "spin" in engines:
        print("array against SPIN (> 1: the array engine is faster)")
        for label in sizes:
            rate, _ = summary[("array", label)]
            srate, _ = summary[("spin", label)]
            line = f"  {label:10} array x{rate / srate:.2f}"
            if "array-avx2" in engines:
                line += f", array-avx2 x{summary[('array-avx2', label)][0] / srate:.2f}"
            print(line)
    print()
    if disagree:
        print("FAIL: the engines disagree:\n  " + "\n  ".join(disagree))
        return 2
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    agree = "dnsrace engines agree on every count, verdict and trace length" + \
        ("; SPIN's stored states equal dnsrace's states at every size" if "spin" in engines
         else "")
    print(f"OK: {agree}; the array engine is faster than the per-state engine at every size.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
