"""Benchmark: the Z3 engines against the explicit BFS (issue #4).

Part 1, time to the first counterexample.  The DNS race (specs/dynamodb_dns_race.yaml) on a
grid of PLANS x ENACTORS (ENDPOINTS=2, KEEP=2): how long until each engine has a shortest
counterexample of `no_empty_record`,
  bfs  the explicit search, stopped at its first counterexample (`stop_on_first`, with the
       property's `expect: violated` turned into `holds` in memory so that finding it is what
       stops the search); BFS finds counterexamples level by level, so its first is shortest;
  bmc  incremental bounded model checking (`symbolic.bmc.Bmc`, the engine behind
       `check --engine bmc`), depth by depth, stopped after the depth where it has one
       (its trace replayed through the explicit semantics, as always).
Both check every property of the spec while they search.  Their lengths must be equal.

Part 2, time to a proof.  Each fixed design (specs/dns_fix_{cas,cleanup_in_use,lease}.yaml)
at a few sizes: BFS's full exploration against PDR (`check --engine pdr`, Spacer), both on
`no_empty_record` and the built-in checks (the spec's other properties are left out in memory;
`--all-properties` keeps them).  PDR may say `unknown`; its message is printed, and where the
spec declares symbolic constants, so is what PDR says about them ("... for every PLANS ...").

Every measurement is end to end: load the spec, lower, compile, search (a warm-up compile first
keeps imports and grammar loading out).  Each engine and size runs in a fresh process, under
the engine's own time limit and a hard kill a little after it; a run under 5 s is repeated and
the median shown.  Machines are noisy: read medians and ratios.

Exit status: 0 when the engines agree everywhere they both decided; 2 when they disagree (the
run says where) or a run fails.

    .venv/bin/python benchmarks/bench_symbolic.py            # both parts, ~6 minutes
    .venv/bin/python benchmarks/bench_symbolic.py --quick    # smoke run, ~1 minute
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_explicit import machine  # benchmarks/bench_explicit.py: the machine line
from common import summarize  # benchmarks/common.py: the table of medians

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RACE = ROOT / "specs" / "dynamodb_dns_race.yaml"
DESIGNS = {
    "cas": ROOT / "specs" / "dns_fix_cas.yaml",
    "cleanup_in_use": ROOT / "specs" / "dns_fix_cleanup_in_use.yaml",
    "lease": ROOT / "specs" / "dns_fix_lease.yaml",
}
TARGET = "no_empty_record"
BUILTINS = ("assertion", "type", "error", "deadlock")
REPEAT_UNDER = 5.0   # a run faster than this is repeated (median of --repeat runs)
HARD_SLACK = 60.0    # seconds past the engine's own limit before the process is killed

FULL = {
    "plans": [4, 6, 8],
    "enactors": [2, 4, 6, 8],
    "sizes": [{}, {"ENACTORS": 4}],
    "race_limit": 60.0,
    "proof_limit": 60.0,
}
QUICK = {
    "plans": [4, 5],
    "enactors": [2, 3],
    "sizes": [{}],
    "race_limit": 20.0,
    "proof_limit": 15.0,
}


# ---------------------------------------------------------------- one measurement (subprocess)

def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _rss_now_mib() -> float | None:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def _load(spec: str, consts: dict, target: str, only_target: bool, stop_at_target: bool):
    from dnsrace.frontend.build import load_model

    model = load_model(spec, consts)
    if only_target:
        model.properties = [p for p in model.properties if p.name == target]
    if stop_at_target:
        # finding the target must be "unexpected", so that stop_on_first stops there
        for p in model.properties:
            if p.name == target:
                p.expected = "holds"
    return model


def _extras(obj, known: set[str]) -> dict:
    """Text-valued attributes a result carries beyond the fields this script knows (so that
    whatever an engine adds, e.g. about symbolic constants, is shown, not dropped)."""
    out = {}
    for k, v in vars(obj).items():
        if k in known or k.startswith("_"):
            continue
        if isinstance(v, str) and v:
            out[k] = v
    return out


PROPERTY_FIELDS = {"name", "kind", "expected", "outcome", "trace", "about", "message", "engine",
                   "invariant_text"}
RESULT_FIELDS = {"spec_name", "spec_path", "spec_sha256", "engine", "stopped"}


def _one_run(job: dict) -> dict:
    """One end-to-end run of one engine; the dict of what it found."""
    from dnsrace.api import check_system
    from dnsrace.backends.python_codegen import compile_system
    from dnsrace.engines.bfs import Limits
    from dnsrace.ir.lower import lower

    engine, task, limit = job["engine"], job["task"], job["limit"]
    target = job["target"]
    only_target = task == "proof" and not job.get("all_properties")
    out: dict = {"states": None, "transitions": None, "length": None, "message": None,
                 "stopped": None, "warnings": [], "extras": {}, "invariant": None,
                 "symbolic": []}
    t0 = time.perf_counter()
    t0_monotonic = time.monotonic()   # the engines' deadlines are on this clock
    model = _load(job["spec"], job["consts"], target, only_target,
                  stop_at_target=(engine == "bfs" and task == "first"))
    ts = lower(model)
    cs = compile_system(ts)
    out["symbolic"] = [c.name for c in model.constants.values() if getattr(c, "symbolic", False)]
    if engine == "bfs":
        result = check_system(model, ts, cs, Limits(time_limit=limit,
                                                     stop_on_first=(task == "first")))
        seconds = time.perf_counter() - t0
        prop = result.property(target)
        out.update(states=result.stats.states, transitions=result.stats.transitions,
                   stopped=result.stopped, complete=result.complete)
        outcome = prop.outcome
        if task == "first" and prop.trace is not None:
            outcome = "violated"
        elif result.stopped == "time-limit":
            outcome = "timeout"
        out["length"] = prop.trace.length if prop.trace else None
    elif engine == "bmc":
        from dnsrace.symbolic.bmc import (
            DEFAULT_MODE,
            DEFAULT_RELATION,
            DEFAULT_SOLVER,
            Bmc,
            SolverUnknown,
        )
        from dnsrace.symbolic.encode import Encoding

        deadline = t0_monotonic + limit   # as check_bmc: the limit counts from the start
        bmc = Bmc(model, ts, cs, Encoding(ts, DEFAULT_MODE, DEFAULT_RELATION), DEFAULT_SOLVER,
                  deadline)
        outcome = None
        try:
            bmc.run(job["max_depth"], per_depth=lambda d: target not in bmc.found)
        except SolverUnknown as exc:
            outcome = "timeout" if exc.timed_out else "unknown"
            out["message"] = exc.reason
        seconds = time.perf_counter() - t0
        found = bmc.found.get(target)
        if found is not None:
            outcome, out["length"] = "violated", found.trace.length
        elif outcome is None:
            outcome = "none"
            out["message"] = f"no violation within {bmc.depth} steps"
        out["depth"] = bmc.depth
    elif engine == "pdr":
        from dnsrace.symbolic import check_pdr

        kwargs = {}
        if job.get("pdr_values"):
            import inspect
            if "symbolic" not in inspect.signature(check_pdr).parameters:
                raise SystemExit("--pdr-values: this check_pdr has no `symbolic` parameter")
            kwargs["symbolic"] = False   # the symbolic constants at their values, like BFS
        result = check_pdr(model, limit, ts=ts, cs=cs, **kwargs)
        seconds = time.perf_counter() - t0
        prop = result.property(target)
        outcome = prop.outcome
        out.update(stopped=result.stopped, message=prop.message,
                   warnings=list(result.warnings),
                   extras={**_extras(prop, PROPERTY_FIELDS), **_extras(result, RESULT_FIELDS)})
        out["length"] = prop.trace.length if prop.trace else None
        inv = getattr(prop, "invariant_text", None)
        if inv:
            out["invariant"] = inv
        m = re.search(r"in ([0-9.]+)\s*s", prop.message or "")
        out["spacer_seconds"] = float(m.group(1)) if m and outcome in ("holds",) else None
        if outcome == "unknown" and result.stopped == "time-limit":
            outcome = "timeout"
        # the other properties, for `--all-properties` and for the record
        out["others"] = {p.name: p.outcome for p in result.properties if p.name != target}
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    out.update(seconds=seconds, outcome=outcome)
    return out


def measure(job: dict) -> dict:
    """Warm up, then run the job once, and `repeat` times in all when that run is quick."""
    import z3

    from dnsrace.backends.python_codegen import compile_system
    from dnsrace.ir.lower import lower

    model = _load(job["spec"], job["consts"], job["target"], False, False)
    compile_system(lower(model))          # imports, grammar, code generation: not timed
    s = z3.Solver()
    s.add(z3.Int("x") > 0)
    s.check()                             # z3's context and solver set-up: not timed
    before = _rss_now_mib()
    runs = [_one_run(job)]
    grown = None if before is None else max(_peak_rss_mib() - before, 0.0)
    while (len(runs) < job["repeat"] and runs[0]["seconds"] < REPEAT_UNDER
           and runs[0]["outcome"] not in ("timeout",)):
        runs.append(_one_run(job))
    return {"job": job, "runs": runs, "peak_mib": _peak_rss_mib(), "grown_mib": grown}


def run_fresh(job: dict) -> dict:
    """`measure` in a fresh Python process, killed if it outlives its limit by HARD_SLACK."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", json.dumps(job)]
    hard = job["limit"] + HARD_SLACK + (job["repeat"] - 1) * REPEAT_UNDER * 1.5
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=hard,
                              cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"job": job, "runs": [{"outcome": "killed", "seconds": hard}], "peak_mib": None,
                "error": f"killed after {hard:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-12:]
        return {"job": job, "runs": [{"outcome": "error", "seconds": float("nan")}],
                "peak_mib": None, "error": "\n".join(tail)}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the report

def median_seconds(m: dict) -> float:
    return statistics.median(r["seconds"] for r in m["runs"])


def time_cell(m: dict) -> str:
    r = m["runs"][0]
    if r["outcome"] in ("timeout", "killed", "error"):
        return r["outcome"]
    n = len(m["runs"])
    return f"{median_seconds(m):.2f}" + ("" if n > 1 else "*")


def secs_text(m: dict) -> str:
    """The progress line's seconds (empty when the run did not finish)."""
    cell = time_cell(m)
    return "" if cell in ("timeout", "killed", "error") else f"{cell} s, "


def decided(m: dict) -> bool:
    return m["runs"][0]["outcome"] not in ("timeout", "killed", "error", "unknown")


def ratio_cell(a: dict, b: dict) -> str:
    """a's seconds / b's seconds, when both finished."""
    if not (decided(a) and decided(b)):
        return "-"
    return f"{median_seconds(a) / median_seconds(b):.2f}"


def consts_label(c: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in c.items()) or "defaults"


def run_and_say(label: str, job: dict) -> dict:
    """Run one job in a fresh process and print its one-line outcome."""
    m = run_fresh(job)
    r = m["runs"][0]
    print(f"  {label}: {secs_text(m)}{r['outcome']}"
          + (f", {r['length']} steps" if r.get("length") is not None else "")
          + (f", {r['states']:,} states" if r.get("states") else "")
          + (f" [{m['error']}]" if m.get("error") else ""), flush=True)
    return m


def table_head(head: str) -> None:
    print()
    print(head)
    print("-" * len(head))


def part1(args, cfg, problems: list[str]) -> None:
    limit = cfg["race_limit"]
    print(f"\n== Part 1: time to the first counterexample of {TARGET} ({RACE.name}, "
          f"ENDPOINTS=2 KEEP=2; limit {limit:.0f} s per run) ==")
    rows = []
    for e in cfg["enactors"]:
        for p in cfg["plans"]:
            consts = {"PLANS": p, "ENACTORS": e}
            got = {}
            for engine in ("bfs", "bmc"):
                job = {"engine": engine, "task": "first", "spec": str(RACE), "consts": consts,
                       "limit": limit, "repeat": args.repeat, "target": TARGET,
                       "max_depth": args.max_depth}
                got[engine] = run_and_say(f"PLANS={p} ENACTORS={e} {engine}", job)
            rows.append((p, e, got))
            check_first(p, e, got, problems)

    table_head(f"{'PLANS':>5} {'ENACT':>5} | {'BFS s':>8} {'BFS states':>11} {'len':>4} "
               f"{'MiB':>6} | {'BMC s':>8} {'len':>4} {'MiB':>6} | {'BMC/BFS':>7}")
    for p, e, got in rows:
        b, s = got["bfs"], got["bmc"]
        rb, rs = b["runs"][0], s["runs"][0]
        print(f"{p:>5} {e:>5} | {time_cell(b):>8} {fmt_int(rb.get('states')):>11} "
              f"{fmt_len(rb):>4} {fmt_mib(b):>6} | {time_cell(s):>8} {fmt_len(rs):>4} "
              f"{fmt_mib(s):>6} | {ratio_cell(s, b):>7}")
    print("seconds: median of the runs (* one run: it took 5 s or more, or --repeat 1); BFS "
          "states: states discovered before it\nstopped; MiB: the process's peak RSS (imports and warm-up "
          "included); BMC/BFS > 1: BFS was faster.")


def check_first(p, e, got, problems: list[str]) -> None:
    rb, rs = got["bfs"]["runs"][0], got["bmc"]["runs"][0]
    where = f"{RACE.name} PLANS={p} ENACTORS={e}"
    for engine, m in got.items():
        if m.get("error") and m["runs"][0]["outcome"] == "error":
            problems.append(f"{where}: the {engine} run failed:\n    "
                            + m["error"].replace("\n", "\n    "))
    for m in (got["bfs"], got["bmc"]):
        lengths = {r.get("length") for r in m["runs"]}
        if len(lengths) > 1:
            problems.append(f"{where}: {m['job']['engine']} gave different lengths across "
                            f"runs: {sorted(lengths, key=str)}")
    if rb["outcome"] == "violated" and rs["outcome"] == "violated":
        if rb["length"] != rs["length"]:
            problems.append(f"{where}: BFS's shortest counterexample has {rb['length']} steps, "
                            f"BMC's {rs['length']}")
    elif rb["outcome"] == "holds" and rs["outcome"] == "violated":
        problems.append(f"{where}: BFS explored every state and found no violation; BMC found "
                        f"one of {rs['length']} steps")
    elif rb["outcome"] == "violated" and rs["outcome"] == "none" \
            and rs.get("depth", -1) >= rb["length"]:
        problems.append(f"{where}: BFS found a violation of {rb['length']} steps; BMC none "
                        f"within {rs['depth']} steps")


def part2(args, cfg, problems: list[str]) -> None:
    limit = cfg["proof_limit"]
    scope = "every property" if args.all_properties else f"{TARGET} and the built-in checks"
    if args.pdr_values:
        scope += "; PDR with the symbolic constants at their values"
    print(f"\n== Part 2: BFS's full exploration against a PDR proof ({scope}; limit "
          f"{limit:.0f} s per run) ==")
    rows = []
    for name in cfg["designs"]:
        spec = DESIGNS[name]
        for consts in cfg["sizes"]:
            got = {}
            for engine in ("bfs", "pdr"):
                job = {"engine": engine, "task": "proof", "spec": str(spec), "consts": consts,
                       "limit": limit, "repeat": args.repeat, "target": TARGET,
                       "all_properties": args.all_properties, "pdr_values": args.pdr_values}
                got[engine] = run_and_say(f"{name} {consts_label(consts)} {engine}", job)
            rows.append((name, consts, got))
            check_proof(name, consts, got, problems)

    table_head(f"{'design':<15} {'constants':<11} | {'BFS s':>8} {'states':>10} "
               f"{'outcome':>8} | {'PDR s':>8} {'Spacer s':>8} {'outcome':>8} {'inv':>4} | "
               f"{'PDR/BFS':>7}")
    for name, consts, got in rows:
        b, q = got["bfs"], got["pdr"]
        rb, rq = b["runs"][0], q["runs"][0]
        sp = rq.get("spacer_seconds")
        inv = rq.get("invariant")
        print(f"{name:<15} {consts_label(consts):<11} | {time_cell(b):>8} "
              f"{fmt_int(rb.get('states')):>10} {rb['outcome']:>8} | {time_cell(q):>8} "
              f"{'-' if sp is None else f'{sp:.2f}':>8} {rq['outcome']:>8} "
              f"{'-' if not inv else len(inv.splitlines()):>4} | {ratio_cell(q, b):>7}")
    print("PDR s: the whole `check --engine pdr` run (BMC pre-pass, Spacer on each property, "
          "the independent check of the invariant);\nSpacer s: Spacer's own time on "
          f"{TARGET}, from its message; inv: lines (conjuncts) of the invariant found; "
          "PDR/BFS > 1: BFS was faster.")

    print("\nWhat PDR said about each design (its message; the symbolic constants; warnings):")
    for name, consts, got in rows:
        rq = got["pdr"]["runs"][0]
        sym = rq.get("symbolic") or []
        print(f"  {name} {consts_label(consts)}: {rq['outcome']}: {rq.get('message')}"
              + (f"  [symbolic: {', '.join(sym)}]" if sym else ""))
        for k, v in (rq.get("extras") or {}).items():
            print(f"      {k}: {v}")
        for w in rq.get("warnings") or []:
            print(f"      warning: {w}")
        if args.all_properties and rq.get("others"):
            print("      others: " + ", ".join(f"{k} {v}" for k, v in rq["others"].items()))
        if args.show_invariants and rq.get("invariant"):
            print("      invariant:\n        " + rq["invariant"].replace("\n", "\n        "))

    # the BFS runs through the shared table of medians (states/s; bytes/state not measured)
    runs, sizes = {}, []
    for name, consts, got in rows:
        key = (name, consts_label(consts))
        ok = [r for r in got["bfs"]["runs"] if r.get("states") and r["outcome"] != "error"]
        if ok and got["bfs"]["runs"][0]["outcome"] != "timeout":
            sizes.append(key)
            grown = got["bfs"].get("grown_mib")
            bps = float("nan") if grown is None else grown * 1024 * 1024 / ok[0]["states"]
            runs[("bfs", key)] = [dict(r, bytes_per_state=bps) for r in ok]
    if sizes:
        print("\nBFS's full explorations (the shared table; bytes/state: the first run's peak "
              "RSS growth over its states):", end="")
        summarize(runs, sizes, ["bfs"], lambda k: f"{k[0]} {k[1]}")


def check_proof(name, consts, got, problems: list[str]) -> None:
    where = f"{DESIGNS[name].name} {consts_label(consts)}"
    for engine, m in got.items():
        if m.get("error") and m["runs"][0]["outcome"] == "error":
            problems.append(f"{where}: the {engine} run failed:\n    "
                            + m["error"].replace("\n", "\n    "))
    rb, rq = got["bfs"]["runs"][0], got["pdr"]["runs"][0]
    if rb["outcome"] in ("holds", "violated") and rq["outcome"] in ("holds", "violated") \
            and rb["outcome"] != rq["outcome"]:
        problems.append(f"{where}: {TARGET}: BFS says {rb['outcome']}, PDR says "
                        f"{rq['outcome']} ({rq.get('message')})")


def fmt_int(v) -> str:
    return "-" if v is None else f"{v:,}"


def fmt_len(r: dict) -> str:
    return "-" if r.get("length") is None else str(r["length"])


def fmt_mib(m: dict) -> str:
    return "-" if m.get("peak_mib") is None else f"{m['peak_mib']:.0f}"


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: a small grid, the default sizes only, one run each")
    ap.add_argument("--part", type=int, choices=(1, 2), help="run only part 1 or part 2")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per engine and size when a run takes under 5 s (default 3)")
    ap.add_argument("--plans", type=int_list, help="part 1: PLANS values, e.g. 4,6,8")
    ap.add_argument("--enactors", type=int_list, help="part 1: ENACTORS values, e.g. 2,4,6")
    ap.add_argument("--time-limit", type=float, metavar="SECONDS",
                    help="part 1: each engine's limit per run (default 60; --quick 20)")
    ap.add_argument("--proof-limit", type=float, metavar="SECONDS",
                    help="part 2: each engine's limit per run (default 60; --quick 15)")
    ap.add_argument("--max-depth", type=int, default=30,
                    help="part 1: BMC's bound (default 30; the race needs 11)")
    ap.add_argument("--designs", type=lambda t: [x for x in t.split(",") if x],
                    help=f"part 2: which fixed designs (default {','.join(DESIGNS)})")
    ap.add_argument("--all-properties", action="store_true",
                    help="part 2: check every property of the designs, not just " + TARGET)
    ap.add_argument("--pdr-values", action="store_true",
                    help="part 2: PDR with the symbolic constants fixed at their values (the "
                    "same finite instance as BFS), not kept unknown")
    ap.add_argument("--show-invariants", action="store_true",
                    help="part 2: print the invariants PDR found")
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one job, this process
    args = ap.parse_args(argv)

    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return 0

    cfg = dict(QUICK if args.quick else FULL)
    if args.quick:
        args.repeat = 1
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    cfg["designs"] = args.designs or list(DESIGNS)
    unknown = [d for d in cfg["designs"] if d not in DESIGNS]
    if unknown:
        ap.error(f"--designs: no design {', '.join(unknown)}; choose from {', '.join(DESIGNS)}")
    if args.plans:
        cfg["plans"] = args.plans
    if args.enactors:
        cfg["enactors"] = args.enactors
    if args.time_limit is not None:
        cfg["race_limit"] = args.time_limit
    if args.proof_limit is not None:
        cfg["proof_limit"] = args.proof_limit

    import z3
    print("dnsrace: the Z3 engines (BMC, PDR) against the explicit BFS")
    print(machine() + f", z3 {z3.get_version_string()}")
    print(f"each engine and size in a fresh process; a run under {REPEAT_UNDER:.0f} s is "
          f"repeated ({args.repeat} run{'s' if args.repeat != 1 else ''} in all, median shown). "
          "Machines are noisy: read the ratios.")
    t0 = time.monotonic()
    problems: list[str] = []
    if args.part in (None, 1):
        part1(args, cfg, problems)
    if args.part in (None, 2):
        part2(args, cfg, problems)
    print(f"\ntotal {time.monotonic() - t0:.0f} s")
    if problems:
        print("FAIL: the engines disagree, or a run failed:\n  " + "\n  ".join(problems))
        return 2
    print("OK: wherever both engines decided, they agree (equal shortest lengths; the same "
          "verdicts).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
