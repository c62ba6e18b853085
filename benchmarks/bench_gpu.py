"""Benchmark: the array engine on a GPU (CuPy) against numpy on the same machine's CPU.

One prepared run for a machine with an NVIDIA GPU, CuPy and numpy (`pip install -e
'.[gpu]'`): the DNS race model (benchmarks/models/dns_race.yaml) at growing sizes, each
explored completely by the array engine on the GPU (`--device gpu`: the same code, with
CuPy as its array module), and, up to --cpu-max-states, by the same engine with numpy on
the CPU.  Sizes grow until one does not fit (the engine's memory estimate stops it before
the GPU runs out) or the time budget would be overrun.  Printed per size: states,
transitions, depth, seconds (the whole check: compiling the spec and rebuilding the traces
included) and states/s on each device, and the GPU's speed-up; the counts of the two
devices must agree.  Then the GPU's states/s per level against the frontier's size, for
the largest size.

On a machine without CuPy or without a GPU it says "no GPU", why, and exits 0 (so that CI
can run it as a smoke test).

    .venv/bin/python benchmarks/bench_gpu.py                      # up to ~7 minutes
    .venv/bin/python benchmarks/bench_gpu.py --time-budget 120    # a shorter run

Exit status: 0 done (or no GPU); 2 a run failed or the devices disagree.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "models" / "dns_race.yaml"
sys.path.insert(0, str(ROOT))

# growing sizes of the DNS race (3 Enactors, 5 plans, 3 endpoints at its defaults)
SIZES = [
    ("E3 P5 EP3", {}),                                        # 827,275 states
    ("E3 P6 EP3", {"PLANS": 6}),                              # 2,657,196
    ("E3 P6 EP4", {"PLANS": 6, "ENDPOINTS": 4}),              # 8,645,180
    ("E4 P5 EP3", {"ENACTORS": 4}),                           # 47,313,606
    ("E4 P6 EP3", {"ENACTORS": 4, "PLANS": 6}),
    ("E4 P6 EP4", {"ENACTORS": 4, "PLANS": 6, "ENDPOINTS": 4}),
    ("E4 P7 EP4", {"ENACTORS": 4, "PLANS": 7, "ENDPOINTS": 4}),
    ("E4 P8 EP4", {"ENACTORS": 4, "PLANS": 8, "ENDPOINTS": 4}),
]


def run(xp, consts: dict, levels: list | None = None) -> tuple[object, float]:
    from dnsrace.engines.array_bfs import check_model_array
    from dnsrace.frontend.build import load_model

    t0 = time.perf_counter()
    result = check_model_array(load_model(SPEC, consts), xp=xp, levels=levels)
    if hasattr(xp, "cuda"):
        xp.cuda.Device().synchronize()
    return result, time.perf_counter() - t0


def free(xp) -> None:
    if hasattr(xp, "get_default_memory_pool"):
        xp.get_default_memory_pool().free_all_blocks()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-budget", type=float, default=420.0, metavar="SECONDS",
                    help="stop growing once the next size would overrun this (default 420)")
    ap.add_argument("--cpu-max-states", type=int, default=10_000_000,
                    help="run numpy on the CPU only up to this many states (default 10M)")
    args = ap.parse_args(argv)

    from dnsrace.engines.device import (
        DeviceUnavailable,
        array_module,
        device_name,
        numpy,
    )

    try:
        cp = array_module("gpu")
    except DeviceUnavailable as exc:
        print(f"no GPU: {exc}")
        return 0
    start = time.perf_counter()
    print(f"dnsrace array engine, GPU against CPU ({SPEC.relative_to(ROOT)})")
    print(f"gpu: {device_name(cp)}")
    print(f"cpu: {device_name(numpy)}")
    run(cp, SIZES[0][1])       # warm up: CuPy compiles its kernels on first use
    free(cp)

    head = (f"{'size':10} {'states':>14} {'transitions':>15} {'depth':>5} {'gpu s':>8} "
            f"{'gpu states/s':>14} {'cpu s':>8} {'cpu states/s':>13} {'speed-up':>8}")
    print()
    print(head)
    print("-" * len(head))
    last_levels: list = []
    last_label = None
    done: list[tuple[int, float]] = []     # (states, gpu seconds) per size run
    for label, consts in SIZES:
        elapsed = time.perf_counter() - start
        if done:
            growth = done[-1][0] / done[-2][0] if len(done) > 1 else 4.0
            projected = done[-1][1] * max(growth, 2.0)
            if elapsed + projected > args.time_budget:
                print(f"(stopped before {label}: it would take about {projected:.0f} s, over "
                      f"the time budget of {args.time_budget:.0f} s)")
                break
        levels: list = []
        try:
            g, gsec = run(cp, consts, levels)
        except Exception as exc:  # noqa: BLE001 - out of device memory despite the estimate
            print(f"{label}: the GPU run failed: {type(exc).__name__}: {exc}")
            break
        finally:
            free(cp)
        if g.stopped == "memory-limit":
            print(f"{label}: does not fit on the GPU ({'; '.join(g.warnings)})")
            break
        if not g.complete or g.engine != "array":
            print(f"{label}: the GPU run did not complete ({g.stopped}, {g.engine})")
            return 2
        st = g.stats
        cpu_cols = f"{'-':>8} {'-':>13} {'-':>8}"
        if st.states <= args.cpu_max_states:
            c, csec = run(numpy, consts)
            if (c.stats.states, c.stats.transitions, c.stats.depth) != \
                    (st.states, st.transitions, st.depth):
                print(f"{label}: the devices disagree: gpu {st}, cpu {c.stats}")
                return 2
            cpu_cols = f"{csec:>8.2f} {st.states / csec:>13,.0f} {csec / gsec:>7.1f}x"
        print(f"{label:10} {st.states:>14,} {st.transitions:>15,} {st.depth:>5} {gsec:>8.2f} "
              f"{st.states / gsec:>14,.0f} {cpu_cols}", flush=True)
        done.append((st.states, gsec))
        last_levels, last_label = levels, label
    print()
    if last_levels:
        print(f"GPU states/s against the frontier's size ({last_label}; levels of at least "
              "10,000 states)")
        print(f"  {'depth':>5} {'frontier':>13} {'new':>13} {'ms':>9} {'states/s':>14}")
        for d, width, new, secs in last_levels:
            if width >= 10_000:
                rate = width / secs if secs > 0 else float("inf")
                print(f"  {d:>5} {width:>13,} {new:>13,} {secs * 1e3:>9.1f} {rate:>14,.0f}")
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
