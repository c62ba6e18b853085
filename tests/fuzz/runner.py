"""The worker pool: each worker is a forked process under a memory cap (RLIMIT_AS) that runs
inputs one at a time and is replaced after `recycle` inputs (dnsrace keeps global tables) or
after a hang or a blow-up.  The parent hands out input numbers, kills a worker that overruns
the time bound by more than a grace period (a C call the alarm cannot interrupt), and records
a worker that dies as a blow-up.  Failures are saved under OUT/failures/VERDICT/FAMILY-INDEX/
with the files, a script that reproduces the run, and what happened."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shlex
import signal
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from .corpus import Corpus
from .execute import Outcome, run_one
from .families import FuzzInput, make_input

GRACE_S = 10.0


@dataclass
class Config:
    inputs: int = 300
    workers: int = 2
    mem_gib: float = 2.0
    seconds: float = 20.0
    seed: int = 0
    recycle: int = 300
    out: Path | None = None
    subprocesses: bool = False      # the interrupt family (subprocesses)
    families: list[str] | None = None
    start: int = 0                  # the first input number (to resume or to rerun one)

    @property
    def mem_bytes(self) -> int:
        return int(self.mem_gib * (1 << 30))


@dataclass
class Summary:
    config: Config
    per_family: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    seconds: Counter = field(default_factory=Counter)       # per family, all inputs
    statuses: Counter = field(default_factory=Counter)
    failures: list[Outcome] = field(default_factory=list)
    slowest: Outcome | None = None
    peak_rss_kib: int = 0
    peak_rss_input: int | None = None
    wall_s: float = 0.0
    total: int = 0

    def add(self, o: Outcome) -> None:
        self.total += 1
        self.per_family[o.family][o.verdict] += 1
        self.seconds[o.family] += o.seconds
        self.statuses[str(o.status)] += 1
        if not o.ok:
            self.failures.append(o)
        if self.slowest is None or o.seconds > self.slowest.seconds:
            self.slowest = o
        if o.rss_kib > self.peak_rss_kib:
            self.peak_rss_kib, self.peak_rss_input = o.rss_kib, o.index

    @property
    def verdicts(self) -> Counter:
        total = Counter()
        for c in self.per_family.values():
            total.update(c)
        return total


# ---------------------------------------------------------------- the worker
_CORPUS: Corpus | None = None
_CYCLE: list[str] = []


def _worker(conn, cfg: Config, folder: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the parent decides when to stop
    resource.setrlimit(resource.RLIMIT_AS, (cfg.mem_bytes, cfg.mem_bytes))
    work = Path(folder)
    while True:
        index = conn.recv()
        if index is None:
            return
        try:
            inp = make_input(_CORPUS, cfg.seed, index, _CYCLE)
        except Exception:   # noqa: BLE001 - a bug of the fuzzer, reported as one
            conn.send(Outcome(index, _CYCLE[index % len(_CYCLE)], "fuzzer-error", None, 0.0, 0,
                              traceback.format_exc()))
            continue
        outcome = run_one(index, inp, work / "input", cfg.seconds, cfg.mem_bytes)
        if not outcome.ok and cfg.out is not None:
            save_failure(cfg.out, inp, outcome)
        conn.send(outcome)


@dataclass
class _Slot:
    folder: str
    proc: multiprocessing.Process | None = None
    conn: object = None
    index: int | None = None
    started: float = 0.0
    done: int = 0


def _spawn(ctx, slot: _Slot, cfg: Config) -> None:
    parent, child = ctx.Pipe()
    slot.proc = ctx.Process(target=_worker, args=(child, cfg, slot.folder), daemon=True)
    slot.proc.start()
    child.close()
    slot.conn, slot.index, slot.done = parent, None, 0


def _retire(slot: _Slot, kill: bool = False) -> None:
    if slot.proc is None:
        return
    if kill and slot.proc.is_alive():
        slot.proc.kill()
    else:
        try:
            slot.conn.send(None)
        except OSError:
            pass
    slot.proc.join(5)
    if slot.proc.is_alive():
        slot.proc.kill()
        slot.proc.join()
    slot.conn.close()
    slot.proc = None


def _death(slot: _Slot) -> str:
    slot.proc.join(5)
    code = slot.proc.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        why = " (the kernel's OOM killer?)" if name == "SIGKILL" else ""
        return f"the worker died of {name}{why}"
    return f"the worker exited with status {code}"


def run(corpus: Corpus, cycle: list[str], cfg: Config, progress=None) -> Summary:
    """Run inputs start..start+inputs-1 and return the summary."""
    global _CORPUS, _CYCLE
    _CORPUS, _CYCLE = corpus, cycle
    _preload()
    ctx = multiprocessing.get_context("fork")
    summary = Summary(cfg)
    t0 = time.monotonic()
    todo = iter(range(cfg.start, cfg.start + cfg.inputs))
    with tempfile.TemporaryDirectory(prefix="dnsrace-fuzz-") as tmp:
        slots = [_Slot(os.path.join(tmp, f"w{k}")) for k in range(max(1, cfg.workers))]
        for s in slots:
            os.makedirs(s.folder)
        pending = True
        try:
            while True:
                for s in slots:
                    if s.index is None and pending:
                        if s.proc is None or s.done >= cfg.recycle:
                            _retire(s)
                            _spawn(ctx, s, cfg)
                        nxt = next(todo, None)
                        if nxt is None:
                            pending = False
                            break
                        s.conn.send(nxt)
                        s.index, s.started = nxt, time.monotonic()
                busy = [s for s in slots if s.index is not None]
                if not busy:
                    break
                limit = min(s.started for s in busy) + cfg.seconds + GRACE_S - time.monotonic()
                ready = wait([s.conn for s in busy], timeout=max(0.0, limit))
                for s in busy:
                    outcome = None
                    if s.conn in ready:
                        try:
                            outcome = s.conn.recv()
                        except (EOFError, OSError):
                            outcome = _lost(corpus, cycle, cfg, s, "blow-up", _death(s))
                            _retire(s, kill=True)
                    elif time.monotonic() - s.started > cfg.seconds + GRACE_S:
                        _retire(s, kill=True)
                        outcome = _lost(corpus, cycle, cfg, s, "hang",
                                        f"killed {cfg.seconds + GRACE_S:g} s after it started "
                                        "(the alarm could not stop it)")
                    if outcome is None:
                        continue
                    summary.add(outcome)
                    s.index, s.done = None, s.done + 1
                    if outcome.verdict in ("hang", "blow-up") and s.proc is not None:
                        _retire(s)   # a fresh worker: the old one's state is suspect
                    if progress:
                        progress(summary, outcome)
        finally:
            for s in slots:
                _retire(s, kill=True)
    summary.wall_s = time.monotonic() - t0
    return summary


def _lost(corpus, cycle, cfg, slot: _Slot, verdict: str, detail: str) -> Outcome:
    """The outcome of an input whose worker died or was killed (saved from here)."""
    inp = make_input(corpus, cfg.seed, slot.index, cycle)
    o = Outcome(slot.index, inp.family, verdict, None, time.monotonic() - slot.started, 0,
                detail, inp.note)
    if cfg.out is not None:
        save_failure(cfg.out, inp, o)
    return o


def _preload() -> None:
    """Import what inputs use before forking, so that workers start warm."""
    import dnsrace.api  # noqa: F401
    import dnsrace.backends.python_codegen  # noqa: F401
    import dnsrace.cli  # noqa: F401
    import dnsrace.engines.array_bfs  # noqa: F401
    import dnsrace.ir.dump  # noqa: F401
    import dnsrace.lint  # noqa: F401
    import dnsrace.replay  # noqa: F401
    import dnsrace.symbolic  # noqa: F401


# ---------------------------------------------------------------- failures on disk
def reproducer(inp: FuzzInput) -> str:
    """A shell script that rebuilds the FIFOs and sparse files and runs the input."""
    lines = ["#!/bin/sh", "# reproduces the input: sh run.sh, with dnsrace on PATH",
             'cd "$(dirname "$0")/files"']
    lines += [f"[ -p {shlex.quote(n)} ] || mkfifo {shlex.quote(n)}" for n in inp.fifos]
    lines += [f"truncate -s {size} {shlex.quote(n)}" for n, size in inp.sparse.items()]
    env = f"PYTHONIOENCODING={inp.charset} " if inp.charset != "utf-8" else ""
    cmd = env + "dnsrace " + " ".join(shlex.quote(a) for a in inp.argv)
    if inp.stdout == "full":
        cmd += " > /dev/full"
    elif inp.stdout == "pipe":
        cmd += " | true"
    if inp.signal:
        cmd = (f"{cmd} & sleep {inp.signal_delay:.2f}; kill -{inp.signal[3:]} $!; wait $!; "
               "echo exit $?")
    lines.append(cmd)
    for _ in range(1, inp.runs):   # the cache read back (a corruption between runs: see note)
        lines += ["# again" + (" (the fuzzer changed the folder first)" if inp.between else ""),
                  cmd]
    return "\n".join(lines) + "\n"


def save_failure(out: Path, inp: FuzzInput, o: Outcome) -> Path:
    folder = Path(out) / "failures" / o.verdict / f"{o.family}-{o.index}"
    files = folder / "files"
    files.mkdir(parents=True, exist_ok=True)
    for name, data in inp.files.items():
        if name in inp.sparse:
            continue
        p = files / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    script = folder / "run.sh"
    script.write_text(reproducer(inp), encoding="utf-8")
    script.chmod(0o755)
    record = {**asdict(o), "argv": inp.argv, "stdout": inp.stdout, "charset": inp.charset,
              "signal": inp.signal, "fifos": inp.fifos, "sparse": inp.sparse}
    (folder / "outcome.json").write_text(json.dumps(record, indent=1, ensure_ascii=True),
                                         encoding="utf-8")
    (folder / "detail.txt").write_text(o.detail, encoding="utf-8", errors="backslashreplace")
    return folder


# ---------------------------------------------------------------- the table
def last_line(detail: str) -> str:
    lines = [ln for ln in detail.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def table(summary: Summary) -> str:
    verdicts = ["ok", "traceback", "hang", "blow-up", "bad-exit", "no-position", "bad-report",
                "unsound"]
    if summary.verdicts["fuzzer-error"]:
        verdicts.append("fuzzer-error")
    width = max([len(f) for f in summary.per_family] + [len("family"), len("all")])
    head = (f"{'family':<{width}}  {'inputs':>7}  " + "  ".join(f"{v:>11}" for v in verdicts)
            + f"  {'mean s':>7}")
    rows = [head, "-" * len(head)]
    for fam in sorted(summary.per_family):
        c = summary.per_family[fam]
        n = sum(c.values())
        rows.append(f"{fam:<{width}}  {n:>7}  " + "  ".join(f"{c[v]:>11}" for v in verdicts)
                    + f"  {summary.seconds[fam] / n:>7.3f}")
    total = summary.verdicts
    rows.append("-" * len(head))
    mean = sum(summary.seconds.values()) / max(1, summary.total)
    rows.append(f"{'all':<{width}}  {summary.total:>7}  "
                + "  ".join(f"{total[v]:>11}" for v in verdicts) + f"  {mean:>7.3f}")
    cfg = summary.config
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(summary.statuses.items()))
    rows += ["", f"exit statuses: {statuses}"]
    if summary.slowest:
        s = summary.slowest
        rows.append(f"slowest input: #{s.index} ({s.family}, {s.note[:60]}) {s.seconds:.2f} s")
    rows.append(f"peak RSS: {summary.peak_rss_kib / 1024:.0f} MiB (a worker, by input "
                f"#{summary.peak_rss_input}); memory cap {cfg.mem_gib:g} GiB per worker")
    rate = summary.total / summary.wall_s if summary.wall_s else 0
    rows.append(f"wall time: {summary.wall_s:.1f} s for {summary.total} inputs on "
                f"{cfg.workers} workers ({rate:.1f} inputs/s); time bound {cfg.seconds:g} s "
                f"per input; seed {cfg.seed}")
    if summary.failures:
        rows += ["", "failures (first 40):"]
        for o in summary.failures[:40]:
            rows.append(f"  #{o.index} {o.verdict} {o.family} [{o.note[:50]}]: "
                        f"{last_line(o.detail)[:140]}")
    return "\n".join(rows) + "\n"
