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


class SpinBuilds:
    """A Promela twin compiled once per size (a name and its -D defines) in a scratch
    folder: `spin -a`, then `gcc -O2 -DNOREDUCE -DSAFETY` plus any extra flags."""

    def __init__(self, workdir: str, twin, gcc_flags: tuple[str, ...] = ()):
        self.workdir, self.twin, self.gcc_flags = workdir, twin, tuple(gcc_flags)
        self.built: dict[str, str] = {}

    @staticmethod
    def available() -> str | None:
        """None when spin and gcc are installed, else what is missing."""
        import shutil
        missing = [t for t in ("spin", "gcc") if shutil.which(t) is None]
        return None if not missing else f"{' and '.join(missing)} not found " \
                                         "(apt-get install -y spin gcc)"

    def build(self, name: str, defines: dict) -> str:
        """The folder holding `pan` for this size."""
        import re
        import subprocess
        from pathlib import Path

        if name in self.built:
            return self.built[name]
        d = Path(self.workdir) / re.sub(r"\W+", "_", name)
        d.mkdir()
        subprocess.run(["spin", *[f"-D{k}={v}" for k, v in defines.items()], "-a",
                        str(self.twin)], cwd=d, check=True, capture_output=True, text=True)
        subprocess.run(["gcc", "-O2", "-DNOREDUCE", "-DSAFETY", *self.gcc_flags, "-o", "pan",
                        "pan.c"], cwd=d, check=True, capture_output=True, text=True)
        self.built[name] = str(d)
        return str(d)
