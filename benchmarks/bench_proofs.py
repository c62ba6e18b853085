"""Time to a proof, before and after learned invariants (issue #14), and the time to check a
stored proof again.

For each fixed design, each run in a fresh process (imports and compiling included), with
the spec's symbolic constants kept unknown (proofs for every value):

  before   `check --engine pdr` without learning (`learn_share=0`): Spacer alone for a few
           seconds, then Houdini over its own candidates, then Spacer with them: the path
           every proof took before this issue
  after    the default: invariants learned from the reachable states at the constants'
           values, proofs from them alone or Spacer with them assumed
  stored   the same again with `--proof-dir` after a run that filled it: the stored
           invariants checked again against the spec, BMC only for the witnesses

Columns: wall seconds (median of --repeat runs), the properties proved out of those PDR
can decide (the spec's temporal properties are not PDR's), and for `after` how many learned
invariants the proofs kept (summed over the properties).

    .venv/bin/python benchmarks/bench_proofs.py                 # ~5 minutes on 2 cores
    .venv/bin/python benchmarks/bench_proofs.py --designs lease --limit 200

Exit status 0, or 2 when a run says `holds` where another says `violated`.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESIGNS = {
    "cas": "specs/dns_fix_cas.yaml",
    "cleanup_in_use": "specs/dns_fix_cleanup_in_use.yaml",
    "lease": "specs/dns_fix_lease.yaml",
    "config_push": "specs/config_push_fix.yaml",
}

ONE = r"""
import json, sys, time
t0 = time.monotonic()
from dnsrace.frontend.build import load_model
from dnsrace.symbolic import check_pdr
spec, limit, share, store = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
r = check_pdr(load_model(spec, {}), time_limit=limit, learn_share=share,
              proof_dir=store or None)
print(json.dumps({"seconds": time.monotonic() - t0,
                  "properties": [[p.name, p.kind, p.outcome, p.message or ""]
                                 for p in r.properties]}))
"""


def run(spec: str, limit: float, share: float, store: str = "") -> dict:
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", ONE, str(ROOT / spec), str(limit), str(share),
                          store], capture_output=True, text=True, cwd=ROOT,
                         timeout=limit + 120)
    if out.returncode != 0:
        raise SystemExit(f"{spec}: the run failed:\n{out.stderr[-2000:]}")
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    doc["wall"] = time.monotonic() - t0
    return doc


def summary(doc: dict) -> tuple[int, int, int]:
    """(proved, decidable by PDR, learned invariants the proofs kept)."""
    proved = decidable = used = 0
    for name, kind, outcome, message in doc["properties"]:
        if kind == "temporal" or outcome in ("violated", "reachable"):
            continue
        decidable += 1
        if outcome in ("holds", "unreachable"):
            proved += 1
            m = re.search(r"from (\d+) invariants? learned|with (\d+) learned", message)
            if m:
                used += int(m.group(1) or m.group(2))
    return proved, decidable, used


def verdicts(doc: dict) -> dict[str, str]:
    return {name: outcome for name, _, outcome, _ in doc["properties"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", default=",".join(DESIGNS))
    ap.add_argument("--limit", type=float, default=120.0, help="PDR's --time-limit")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    rows, status = [], 0
    print("| design | before s | proved | after s | proved | learned kept | stored s | "
          "from the store | after/before |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in args.designs.split(","):
        spec = DESIGNS[name]
        before = [run(spec, args.limit, 0.0) for _ in range(args.repeat)]
        after = [run(spec, args.limit, 0.15) for _ in range(args.repeat)]
        with tempfile.TemporaryDirectory() as store:
            run(spec, args.limit, 0.15, store)
            stored = [run(spec, args.limit, 0.15, store) for _ in range(args.repeat)]
        for a in (before, after, stored):
            for b in (before, after, stored):
                va, vb = verdicts(a[0]), verdicts(b[0])
                if any({va[k], vb[k]} == {"holds", "violated"} for k in va):
                    print(f"{name}: the runs disagree: {va} / {vb}", file=sys.stderr)
                    status = 2
        tb = statistics.median(d["wall"] for d in before)
        ta = statistics.median(d["wall"] for d in after)
        ts = statistics.median(d["wall"] for d in stored)
        pb, n, _ = summary(before[0])
        pa, _, used = summary(after[0])
        kept = sum("stored inductive invariant" in m for _, _, _, m in stored[0]["properties"])
        rows.append((name, tb, pb, ta, pa, used, ts))
        print(f"| {name} | {tb:.1f} | {pb}/{n} | {ta:.1f} | {pa}/{n} | {used} | {ts:.1f} | "
              f"{kept}/{n} | {ta / tb:.2f} |", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
