"""What the benchmark scripts share: the table of medians."""

from __future__ import annotations

import statistics


def summarize(runs: dict, sizes, engines, label) -> dict:
    """Print one row per (size, engine) that ran, with medians over the runs; return
    {(engine, size): (states/s, bytes/state)}.  `label(size)` names a size."""
    width = max(len(label(s)) for s in sizes)
    ew = max(len(e) for e in engines)
    head = (f"{'engine':{ew}} {'size':{width}} {'states':>10} {'transitions':>11} "
            f"{'median s':>9} {'states/s':>11} {'bytes/state':>11}")
    print()
    print(head)
    print("-" * len(head))
    summary: dict[tuple, tuple[float, float]] = {}
    for size in sizes:
        for engine in engines:
            rs = runs.get((engine, size))
            if not rs:
                continue
            secs = statistics.median(r["seconds"] for r in rs)
            bps = statistics.median(r["bytes_per_state"] for r in rs)
            rate = rs[0]["states"] / secs
            summary[(engine, size)] = (rate, bps)
            print(f"{engine:{ew}} {label(size):{width}} {rs[0]['states']:>10,} "
                  f"{rs[0]['transitions']:>11,} {secs:>9.2f} {rate:>11,.0f} {bps:>11.0f}")
    print()
    return summary
