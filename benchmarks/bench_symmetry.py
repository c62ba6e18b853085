"""Benchmark: what symmetry reduction buys on the DNS race, against SPIN.

The model is benchmarks/models/dns_race_scalarset.yaml: benchmarks/models/dns_race.yaml (the
DNS race at 5 plans and 3 endpoints) with its Enactors a scalarset, at ENACTORS = 2..6.
Per number of Enactors, in the same run:

  reduced     dnsrace.api.check, --symmetry on (the default): one state per orbit
  unreduced   dnsrace.api.check, --symmetry off: every state, exactly those of dns_race.yaml
  spin        SPIN on benchmarks/models/dns_race.pml (`spin -DENACTORS=N -a`,
              `gcc -O2 -DNOREDUCE -DSAFETY -DMEMLIM=...`, `./pan -wW`); when spin and gcc exist

Each dnsrace measurement runs in its own fresh subprocess (as in bench_array.py): seconds is
time.perf_counter around the whole check (the process compiles the spec once beforehand, so
that imports are not counted); memory is peak RSS after the search minus RSS before it.
SPIN: seconds is the wall time of `./pan` (compiled once per size, not counted), memory its
peak RSS.  Every run is bounded by --time-limit (default 60 s); a run that does not finish
reports the states it reached, and a larger size is not tried in that column.  A run that
takes more than --repeat-under seconds (default 20) is not repeated; the others are run
--repeat times (default 3) and the table shows medians.

The counts are checked: without reduction dnsrace must reach the pinned states and
transitions of dns_race.yaml (where pinned), SPIN's `states, stored` must equal them, and the
reduced search must give every property the same verdict and trace length as the unreduced
one.  Below the table: how the orbit count grows with the Enactors (unreduced / reduced
states, against N!, the most a reduction by permutations can give).

Exit status: 0 when all agree; 2 when a run fails or the counts or verdicts disagree.

    .venv/bin/python benchmarks/bench_symmetry.py                  # ENACTORS 2..6, a few minutes
    .venv/bin/python benchmarks/bench_symmetry.py --quick          # ENACTORS 2..3, one run
    .venv/bin/python benchmarks/bench_symmetry.py --time-limit 120 --max-enactors 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "models" / "dns_race_scalarset.yaml"
TWIN = HERE / "models" / "dns_race.pml"
SPIN_MEMLIM_MB = 8192
DEFAULT_SIZE = {"PLANS": 5, "ENDPOINTS": 3}
SIZE = dict(DEFAULT_SIZE)   # --plans, --endpoints: the model's other constants

# ENACTORS -> (states, transitions) of dns_race.yaml, unreduced (dnsrace and SPIN agree)
PINNED = {
    2: (11_395, 25_944),
    3: (827_275, 2_567_599),
    4: (47_313_606, 187_538_521),
}
COLUMNS = ("reduced", "unreduced", "spin")

sys.path.insert(0, str(HERE))   # benchmarks/: the script's own folder
from bench_explicit import _peak_rss_kib, _rss_now_kib, machine  # noqa: E402
from common import SpinBuilds  # noqa: E402


def pinned(enactors: int, default=None):
    """The pinned unreduced counts, which hold for the default size only."""
    return PINNED.get(enactors, default) if SIZE == DEFAULT_SIZE else default


# ---------------------------------------------------------------- one measurement (subprocess)


def measure(column: str, enactors: int, time_limit: float) -> dict:
    sys.path.insert(0, str(ROOT))
    from dnsrace.api import compile_spec, engine_and_device, run_engine
    from dnsrace.engines.limits import Limits

    consts = {"ENACTORS": enactors, **SIZE}
    compile_spec(SPEC, consts)   # warm up: imports, grammar, code generators
    engine, xp = engine_and_device("auto", "cpu")
    limits = Limits(time_limit=time_limit, symmetry=(column == "reduced"))
    before = _rss_now_kib()
    t0 = time.perf_counter()
    model, ts, cs = compile_spec(SPEC, consts)
    result = run_engine(engine, model, ts, cs, limits, None, xp)
    seconds = time.perf_counter() - t0
    peak = _peak_rss_kib()
    st = result.stats
    verdicts = {p.name: [p.outcome, p.trace.length if p.trace else None]
                for p in result.properties}
    return {"column": column, "enactors": enactors, "states": st.states,
            "transitions": st.transitions, "seconds": seconds, "complete": result.complete,
            "engine": result.engine, "symmetry": getattr(st, "symmetry", None),
            "memory_mib": (peak - before) / 1024, "verdicts": verdicts}


def run_fresh(column: str, enactors: int, time_limit: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", column,
           str(enactors), str(time_limit), "--plans", str(SIZE["PLANS"]), "--endpoints",
           str(SIZE["ENDPOINTS"])]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: {column} ENACTORS={enactors} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- SPIN

class Spin(SpinBuilds):
    """The Promela twin, compiled once per size in a scratch directory."""

    def __init__(self, workdir: str):
        super().__init__(workdir, TWIN, (f"-DMEMLIM={SPIN_MEMLIM_MB}",))

    def run(self, enactors: int, time_limit: float) -> dict:
        d = self.build(f"e{enactors}", {"ENACTORS": enactors, "PLANS": SIZE["PLANS"],
                                        "ENDPOINTS": SIZE["ENDPOINTS"]})
        states = pinned(enactors, (2 ** 26, 0))[0]
        w = max(18, math.ceil(math.log2(states)) + 1)
        out_path = Path(d) / "pan.out"
        t0 = time.perf_counter()
        with open(out_path, "w") as out_file:
            proc = subprocess.Popen(["./pan", f"-w{w}"], cwd=d, stdout=out_file,
                                    stderr=subprocess.STDOUT)
            finished, usage = wait_within(proc.pid, time_limit)
        seconds = time.perf_counter() - t0
        out = out_path.read_text()
        stored = re.search(r"(\d+) states, stored", out)
        trans = re.search(r"(\d+) transitions \(= stored\+matched\)", out)
        if "reached -DMEMLIM bound" in out:
            finished = False
        if finished and not (stored and trans) or "max search depth too small" in out:
            raise SystemExit(f"spin ENACTORS={enactors}: unexpected pan output:\n{out}")
        return {"column": "spin", "enactors": enactors,
                "states": int(stored.group(1)) if stored else None,
                "transitions": int(trans.group(1)) - 1 if trans else None,
                "seconds": seconds, "complete": finished, "memory_mib": usage.ru_maxrss / 1024,
                "why": None if finished else ("memory" if "MEMLIM" in out else "time")}


def wait_within(pid: int, time_limit: float):
    """Wait for pan; past the time limit, interrupt it (it prints its statistics and
    stops).  Returns (finished in time, its resource usage)."""
    deadline = time.monotonic() + time_limit
    while time.monotonic() < deadline:
        done, _, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return True, usage
        time.sleep(0.05)
    os.kill(pid, signal.SIGINT)
    _, _, usage = os.wait4(pid, 0)
    return False, usage


# ---------------------------------------------------------------- the report

def check_agreement(runs: dict) -> list[str]:
    bad = []
    for (column, n), rs in runs.items():
        r = rs[0]
        if not r["complete"]:
            continue
        want = pinned(n)
        if column in ("unreduced", "spin") and want and \
                (r["states"], r["transitions"]) != want:
            bad.append(f"ENACTORS={n}: {column} counts {r['states']:,} states, "
                       f"{r['transitions']:,} transitions; pinned {want[0]:,}, {want[1]:,}")
        if column == "reduced" and r["symmetry"] != ["Enactor"]:
            bad.append(f"ENACTORS={n}: the reduced search did not reduce ({r['symmetry']})")
        if column == "unreduced" and ("spin", n) in runs and runs[("spin", n)][0]["complete"] \
                and runs[("spin", n)][0]["states"] != r["states"]:
            bad.append(f"ENACTORS={n}: SPIN stores {runs[('spin', n)][0]['states']:,} states, "
                       f"dnsrace {r['states']:,}")
        other = runs.get(("unreduced", n))
        if column == "reduced" and other and other[0]["complete"] and \
                other[0]["verdicts"] != r["verdicts"]:
            bad.append(f"ENACTORS={n}: verdicts or trace lengths differ with and without "
                       "reduction")
        if any(x["states"] != r["states"] for x in rs if x["complete"]):
            bad.append(f"ENACTORS={n}: {column} counts differ between runs")
    return bad


def cell(rs: list[dict] | None) -> str:
    if not rs:
        return f"{'not run':>24}"
    r = rs[0]
    if not r["complete"]:
        reached = f"{r['states']:,}" if r["states"] is not None else "?"
        why = r.get("why") or "time"
        return f"{'>' + reached:>13} {'(' + why + ')':>10}"
    secs = statistics.median(x["seconds"] for x in rs)
    return f"{r['states']:>13,} {secs:>9.2f}s"


def table(runs: dict, sizes: list[int], columns: list[str]) -> None:
    head = f"{'N':>2} " + " ".join(f"{c + ' states':>13} {'seconds':>10}" for c in columns) + \
        f" {'MiB red.':>9} {'MiB unred.':>10} {'spin MiB':>9}"
    print()
    print(head)
    print("-" * len(head))
    for n in sizes:
        mem = []
        for c in ("reduced", "unreduced", "spin"):
            rs = runs.get((c, n))
            mem.append(f"{statistics.median(x['memory_mib'] for x in rs):,.0f}" if rs else "-")
        print(f"{n:>2} " + " ".join(cell(runs.get((c, n))) for c in columns) +
              f" {mem[0]:>9} {mem[1]:>10} {mem[2]:>9}")
    print("(> n (time): stopped at the time limit having stored n states; (memory): at pan's "
          "-DMEMLIM)")
    print()


def growth(runs: dict, sizes: list[int]) -> None:
    print("how the orbits grow: unreduced / reduced states (N! is the most permutations "
          "of N Enactors can give); speed-up: unreduced / reduced seconds")
    for n in sizes:
        red, unred = runs.get(("reduced", n)), runs.get(("unreduced", n))
        if not red or not red[0]["complete"]:
            continue
        parts = [f"orbits {red[0]['states']:,}"]
        if n - 1 in sizes and runs.get(("reduced", n - 1)) and \
                runs[("reduced", n - 1)][0]["complete"]:
            parts.append(f"x{red[0]['states'] / runs[('reduced', n - 1)][0]['states']:.1f} "
                         f"from N={n - 1}")
        if unred and unred[0]["complete"]:
            ratio = unred[0]["states"] / red[0]["states"]
            speed = statistics.median(x["seconds"] for x in unred) / \
                statistics.median(x["seconds"] for x in red)
            parts.append(f"unreduced/reduced {ratio:.2f} (N! = {math.factorial(n)}), "
                         f"speed-up x{speed:.2f}")
        print(f"  N={n}: " + "; ".join(parts))
    print()


def first_unfinished(runs: dict, column: str) -> int:
    return min(n for (c, n), rs in runs.items() if c == column and not rs[0]["complete"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per column and size (default 3)")
    ap.add_argument("--repeat-under", type=float, default=20.0,
                    help="repeat only runs shorter than this many seconds (default 20)")
    ap.add_argument("--time-limit", type=float, default=60.0,
                    help="seconds each run may take (default 60)")
    ap.add_argument("--max-enactors", type=int, default=6, help="largest ENACTORS (default 6)")
    ap.add_argument("--quick", action="store_true", help="smoke run: ENACTORS 2..3, one run")
    ap.add_argument("--no-spin", action="store_true", help="leave SPIN out")
    ap.add_argument("--plans", type=int, default=DEFAULT_SIZE["PLANS"],
                    help="the model's PLANS (default 5; 4 is the incident spec's)")
    ap.add_argument("--endpoints", type=int, default=DEFAULT_SIZE["ENDPOINTS"],
                    help="the model's ENDPOINTS (default 3; 2 is the incident spec's)")
    ap.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    SIZE.update(PLANS=args.plans, ENDPOINTS=args.endpoints)
    if args.measure:
        column, n, limit = args.measure
        print(json.dumps(measure(column, int(n), float(limit))))
        return 0
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    sizes = list(range(2, 4 if args.quick else args.max_enactors + 1))
    repeat = 1 if args.quick else args.repeat
    spin_missing = "left out (--no-spin)" if args.no_spin else Spin.available()
    columns = ["reduced", "unreduced"] + (["spin"] if spin_missing is None else [])

    print(f"symmetry reduction on the DNS race ({SPEC.relative_to(ROOT)}, PLANS={args.plans}, "
          f"ENDPOINTS={args.endpoints})")
    print(machine())
    if spin_missing:
        print(f"spin: {spin_missing}")
    else:
        ver = subprocess.run(["spin", "-V"], check=False, capture_output=True,
                             text=True).stdout.strip()
        print(f"spin: {ver}; twin {TWIN.relative_to(ROOT)}, gcc -O2 -DNOREDUCE -DSAFETY "
              f"-DMEMLIM={SPIN_MEMLIM_MB}")
    print(f"each run at most {args.time_limit:g} s; {repeat} run(s) of those under "
          f"{args.repeat_under:g} s, medians shown; dnsrace runs each in a fresh process.")

    runs: dict[tuple, list[dict]] = {}
    stopped: set[str] = set()   # columns that did not finish at a smaller size
    with tempfile.TemporaryDirectory() as scratch:
        spin = Spin(scratch)
        for n in sizes:
            for column in columns:
                if column in stopped:
                    continue
                for k in range(repeat):
                    r = spin.run(n, args.time_limit) if column == "spin" else \
                        run_fresh(column, n, args.time_limit)
                    runs.setdefault((column, n), []).append(r)
                    print(f"  run {k + 1}/{repeat} ENACTORS={n} {column:9}: "
                          f"{r['states'] or 0:,} states, {r['seconds']:.2f} s, "
                          f"{r['memory_mib']:,.0f} MiB"
                          + ("" if r["complete"] else " (did not finish)"), flush=True)
                    if not r["complete"]:
                        stopped.add(column)
                        break
                    if r["seconds"] > args.repeat_under:
                        break

    disagree = check_agreement(runs)
    table(runs, sizes, columns)
    growth(runs, sizes)
    if stopped:
        print("did not finish within the limit: " + "; ".join(
            f"{c} at ENACTORS={first_unfinished(runs, c)} (larger sizes not run)"
            for c in columns if c in stopped))
    if disagree:
        print("FAIL: the engines disagree:\n  " + "\n  ".join(disagree))
        return 2
    print("OK: without reduction dnsrace reaches the pinned counts of dns_race.yaml"
          + (" and SPIN stores exactly those states" if "spin" in columns else "")
          + "; with reduction every verdict and trace length is the same.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
