"""Benchmark: the cost of liveness, dnsrace against SPIN's acceptance-cycle search, on the DNS race.

The model is benchmarks/models/dns_race.yaml, the DNS race at 3 Enactors, 5 plans and 3
endpoints (827,275 states, 2,567,599 transitions), and one liveness property of
specs/dynamodb_dns_race.yaml, under the spec's weak fairness:

  catches_up: always eventually (record[0] == newest or any(empty[e] for e in 0..ENDPOINTS-1))
  fairness:   weak: [Planner, Enactor]

It holds (until a record is emptied, the regional record keeps catching up with the latest
plan), so every search below explores everything and none stops at a first counterexample.
In one run, side by side:

  bfs                the per-state engine on models/dns_race.yaml as it is: invariants,
                     witnesses (safety only)
  bfs + liveness     the same engine on the same spec with the `temporal:` and `fairness:`
                     sections above added (written to a scratch file): the state graph is
                     recorded while searching, then decided (SCCs, fairness)
  array              the array engine (numpy, whole frontiers), safety only
  array + liveness   the array engine with the liveness property: it records the same
                     graph per level and decides it with the same code
  spin safety        SPIN on the twin tests/models/promela/dns_designs.pml at the same
                     constants (one proctype per fairness unit), gcc -O2 -DNOREDUCE -DSAFETY
                     -DNOCLAIM: `states, stored` must equal dnsrace's states
  spin -a -f         the same twin, gcc -O2 -DNOREDUCE -DNFAIR=3, `./pan -a -f -N catches_up`:
                     the nested-DFS acceptance-cycle search on the product with the never
                     claim of the LTL formula, under SPIN's weak fairness per process

Columns: seconds (median), states, transitions, bytes per transition, and the verdict.  For
dnsrace, seconds is time.perf_counter around the whole check in a fresh process (the spec is
loaded and compiled once beforehand, so imports are not counted) and bytes/transition is
(peak RSS after - RSS before) / transitions.  For SPIN, seconds is the wall time of `./pan`
(compiled once, not counted) and bytes/transition its peak RSS / transitions.  SPIN's
liveness `states` are the stored states of the product (state x claim state x fairness copy)
and its `transitions` what pan prints ("visited+matched"), so they count a bigger graph than
the model's; that is the cost the acceptance-cycle search pays.  `B/model tr.` divides the
same bytes by the model's own 2,567,599 transitions, so that the rows compare memory for
the same model.  The last lines give the
cost of liveness: liveness against safety, for dnsrace and for SPIN, in time and in bytes
per transition.

Exit status: 0 when every search that ran agrees (the pinned counts, SPIN's stored states
equal to dnsrace's, both liveness verdicts `holds`); 2 when a run fails or they disagree.
There is no speed mark: this measures the cost of liveness, it does not gate it.

    .venv/bin/python benchmarks/bench_liveness.py             # 3 runs each, about 2 minutes
    .venv/bin/python benchmarks/bench_liveness.py --quick     # 1 run each
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "models" / "dns_race.yaml"
TWIN = ROOT / "tests" / "models" / "promela" / "dns_designs.pml"
TWIN_DEFINES = ["-DENACTORS=3", "-DPLANS=5", "-DENDPOINTS=3", "-DKEEP=2"]
PROPERTY = "catches_up"
LIVENESS = f"""
temporal:
  {PROPERTY}:
    expr: "always eventually (record[0] == newest or any(empty[e] for e in 0..ENDPOINTS-1))"
    about: Until a record is emptied, the regional record keeps catching up.
fairness:
  weak: [Planner, Enactor]
"""
STATES, TRANSITIONS = 827_275, 2_567_599     # the model's, pinned by bench_array.py too
ENGINES = ["bfs", "bfs + liveness", "array", "array + liveness", "spin safety", "spin -a -f"]
DNSRACE = [e for e in ENGINES if not e.startswith("spin")]

sys.path.insert(0, str(HERE))   # bench_explicit.py: the script's own folder
from bench_explicit import _peak_rss_kib, _rss_now_kib, machine  # noqa: E402


# ---------------------------------------------------------------- one dnsrace measurement (subprocess)

def liveness_spec(scratch: str) -> Path:
    path = Path(scratch) / "dns_race_liveness.yaml"
    path.write_text(SPEC.read_text(encoding="utf-8").rstrip("\n") + "\n" + LIVENESS,
                    encoding="utf-8")
    return path


def measure(engine: str, spec: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    from dnsrace.api import check
    from dnsrace.backends.numpy_codegen import compile_array_system
    from dnsrace.backends.python_codegen import compile_system
    from dnsrace.engines.array_bfs import check_model_array
    from dnsrace.frontend.build import load_model
    from dnsrace.ir.lower import lower

    ts = lower(load_model(spec, {}))   # warm up: imports, grammar, code generators
    compile_system(ts)
    compile_array_system(ts)
    before = _rss_now_kib()
    t0 = time.perf_counter()
    if engine.startswith("array"):
        result = check_model_array(load_model(spec, {}))
    else:
        result = check(spec)
    seconds = time.perf_counter() - t0
    peak = _peak_rss_kib()
    st = result.stats
    verdict = None
    if engine.endswith("liveness"):
        verdict = next((p.outcome for p in result.properties if p.name == PROPERTY), "missing")
    return {"engine": engine, "states": st.states, "transitions": st.transitions,
            "seconds": seconds, "complete": result.complete, "passed": result.passed,
            "bytes_per_transition": (peak - before) * 1024 / max(st.transitions, 1),
            "verdict": verdict, "used": result.engine}


def run_fresh(engine: str, spec: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", engine, str(spec)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: {engine} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- SPIN

def spin_missing() -> str | None:
    missing = [t for t in ("spin", "gcc") if shutil.which(t) is None]
    return None if not missing else f"{' and '.join(missing)} not found (apt-get install -y spin gcc)"


def spin_build(workdir: str) -> None:
    run = lambda args: subprocess.run(args, cwd=workdir, check=True, capture_output=True,  # noqa: E731
                                      text=True)
    run(["spin", *TWIN_DEFINES, "-a", str(TWIN)])
    run(["gcc", "-O2", "-DNOREDUCE", "-DSAFETY", "-DNOCLAIM", "-o", "pan_safety", "pan.c"])
    run(["gcc", "-O2", "-DNOREDUCE", "-DNFAIR=3", "-o", "pan", "pan.c"])


def spin_run(engine: str, workdir: str) -> dict:
    # -w: about two hash slots per stored state (the product is ~1.4 M states); -m: the DFS
    # stack, deeper than either search goes
    args = (["./pan_safety", "-w21", "-m100000"] if engine == "spin safety"
            else ["./pan", "-a", "-f", "-w22", "-m100000", "-N", PROPERTY])
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    out = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    stored = re.search(r"(\d+) states, stored", out)
    trans = re.search(r"(\d+) transitions \(= \w+\+matched\)", out)
    errors = re.search(r"errors: (\d+)", out)
    if not (stored and trans and errors) or "max search depth too small" in out:
        raise SystemExit(f"{engine}: unexpected pan output:\n{out}")
    transitions = int(trans.group(1))
    return {"engine": engine, "states": int(stored.group(1)), "transitions": transitions,
            "seconds": seconds, "bytes_per_transition": usage.ru_maxrss * 1024 / transitions,
            "verdict": None if engine == "spin safety" else
            ("holds" if errors.group(1) == "0" else "violated"),
            "errors": int(errors.group(1)), "used": "spin"}


# ---------------------------------------------------------------- the report

def disagreements(runs: dict) -> list[str]:
    bad = []
    for engine in (*DNSRACE, "spin safety"):
        for r in runs.get(engine, []):
            got = (r["states"], r["transitions"] - (1 if engine == "spin safety" else 0))
            if got != (STATES, TRANSITIONS):
                bad.append(f"{engine}: {got[0]:,} states, {got[1]:,} transitions; "
                           f"pinned {STATES:,}, {TRANSITIONS:,}")
            if engine in DNSRACE and not r["complete"]:
                bad.append(f"{engine}: the search was not complete")
    for engine in ("bfs + liveness", "array + liveness", "spin -a -f"):
        for r in runs.get(engine, []):
            if r["verdict"] != "holds":
                bad.append(f"{engine}: {PROPERTY} is {r['verdict']}, expected holds")
    return bad


def table(runs: dict) -> dict:
    head = (f"{'engine':16} {'states':>10} {'transitions':>12} {'median s':>9} "
            f"{'B/transition':>12} {'B/model tr.':>11} {'verdict':>8}")
    print()
    print(head)
    print("-" * len(head))
    medians = {}   # engine -> (seconds, bytes per own transition, bytes per model transition)
    for engine in ENGINES:
        rs = runs.get(engine)
        if not rs:
            continue
        secs = statistics.median(r["seconds"] for r in rs)
        bpt = statistics.median(r["bytes_per_transition"] for r in rs)
        per_model = bpt * rs[0]["transitions"] / TRANSITIONS
        medians[engine] = (secs, bpt, per_model)
        print(f"{engine:17} {rs[0]['states']:>10,} {rs[0]['transitions']:>12,} {secs:>9.2f} "
              f"{bpt:>12.1f} {per_model:>11.1f} {rs[0]['verdict'] or '-':>8}")
    print()
    return medians


def cost_lines(medians: dict) -> None:
    print("cost of liveness (liveness / safety, medians):")
    for tool, live, safe in (("bfs", "bfs + liveness", "bfs"),
                             ("array", "array + liveness", "array"),
                             ("spin", "spin -a -f", "spin safety")):
        if live in medians and safe in medians:
            (ls, lb, lm), (ss, sb, sm) = medians[live], medians[safe]
            print(f"  {tool:8} time x{ls / ss:.2f}, bytes per transition x{lb / sb:.2f}, "
                  f"bytes per model transition x{lm / sm:.2f}")
        else:
            print(f"  {tool:8} n/a ({live} did not run)")
    for live in ("bfs + liveness", "array + liveness"):
        if live in medians and "spin -a -f" in medians:
            (ds, _, dm), (ss, _, sm) = medians[live], medians["spin -a -f"]
            print(f"  {live} / spin -a -f: time x{ds / ss:.2f}, "
                  f"bytes per model transition x{dm / sm:.2f}")
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine (default 3)")
    ap.add_argument("--quick", action="store_true", help="one run per engine")
    ap.add_argument("--no-spin", action="store_true", help="leave SPIN out")
    ap.add_argument("--measure", nargs=2, metavar=("ENGINE", "SPEC"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return 0
    repeat = 1 if args.quick else args.repeat
    if repeat < 1:
        ap.error("--repeat must be at least 1")
    missing = "left out (--no-spin)" if args.no_spin else spin_missing()

    print(f"the cost of liveness: dnsrace vs SPIN ({SPEC.relative_to(ROOT)}, "
          f"property {PROPERTY}, weak fairness [Planner, Enactor])")
    print(machine())
    if missing:
        print(f"spin: {missing}")
    else:
        ver = subprocess.run(["spin", "-V"], check=False, capture_output=True,
                             text=True).stdout.strip()
        print(f"spin: {ver}; twin {TWIN.relative_to(ROOT)} {' '.join(TWIN_DEFINES)}")
    print(f"each engine: {repeat} run(s); dnsrace runs each in a fresh process; medians shown.")

    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        live = liveness_spec(scratch)
        if not missing:
            spin_build(scratch)
        for k in range(repeat):
            for engine in ENGINES:      # alternate, so that background load hits all
                if engine.startswith("spin"):
                    if missing:
                        continue
                    r = spin_run(engine, scratch)
                else:
                    r = run_fresh(engine, live if engine.endswith("liveness") else SPEC)
                runs.setdefault(engine, []).append(r)
                print(f"  run {k + 1}/{repeat} {engine:16}: {r['seconds']:.2f} s, "
                      f"{r['bytes_per_transition']:.1f} B/transition", flush=True)

    medians = table(runs)
    cost_lines(medians)
    bad = disagreements(runs)
    if bad:
        print("FAIL: the searches disagree:\n  " + "\n  ".join(bad))
        return 2
    print("OK: every search that ran reaches the pinned counts"
          + ("" if missing else ", SPIN stores exactly dnsrace's states")
          + " and every liveness verdict is `holds`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
