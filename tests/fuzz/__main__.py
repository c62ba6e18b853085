"""`python -m tests.fuzz`: the long fuzzing run (see tests/fuzz/__init__.py).

    python -m tests.fuzz --inputs 100000 --workers 2 --mem-gib 2 --seconds 20 --out DIR
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .corpus import build_corpus
from .families import FAMILIES, schedule
from .runner import Config, run, table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=1000, help="how many inputs (default 1000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mem-gib", type=float, default=2.0, help="memory cap per worker")
    ap.add_argument("--seconds", type=float, default=20.0, help="time bound per input")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first input number (to rerun one: "
                    "--start N --inputs 1)")
    ap.add_argument("--recycle", type=int, default=300, help="inputs per worker before a "
                    "fresh one")
    ap.add_argument("--generated", type=int, default=40, help="specgen specs in the corpus")
    ap.add_argument("--family", action="append", choices=sorted(FAMILIES),
                    help="only these families (repeatable)")
    ap.add_argument("--no-subprocesses", action="store_true",
                    help="leave out the interrupt family (signals to subprocesses)")
    ap.add_argument("--out", type=Path, default=Path("fuzz-out"),
                    help="failures are saved under OUT/failures (default ./fuzz-out)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = Config(args.inputs, args.workers, args.mem_gib, args.seconds, args.seed, args.recycle,
                 args.out.resolve(), not args.no_subprocesses, args.family, args.start)
    t0 = time.monotonic()
    corpus = build_corpus(args.generated, args.seed)
    print(f"corpus: {len(corpus.specs)} specs, {len(corpus.traces)} traces "
          f"({time.monotonic() - t0:.1f} s)", flush=True)
    cycle = schedule(args.seed, cfg.subprocesses, args.family)
    step = max(1, args.inputs // 20)

    def progress(summary, outcome):
        if summary.total % step == 0:
            bad = len(summary.failures)
            print(f"  {summary.total:>7} inputs, {bad} failures, "
                  f"{time.monotonic() - t0:.0f} s", flush=True)

    summary = run(corpus, cycle, cfg, progress)
    text = table(summary)
    (args.out / "summary.txt").write_text(text, encoding="utf-8")
    print(text, end="")
    print(f"failures saved under {args.out / 'failures'}" if summary.failures else
          "no failures")
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
