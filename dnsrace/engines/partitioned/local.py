"""The owners of a partitioned search on one machine: in this process (one owner, or for
tests), or one process per owner (`--workers N`).

Worker processes are forked (the generated code is loaded again from its source in each)
and answer the driver's calls over a pipe.  Buckets of candidate successors do not pass
through the driver: an owner writes each bucket to a file in a folder in shared memory
(/dev/shm where it exists) and returns its path; the owner it is routed to reads it and
removes it.  Workers ignore SIGINT: Ctrl-C reaches the driver, which keeps the levels
already finished, as the single-process engine does.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile
import traceback

from ... import interrupts
from ..device import numpy as np
from .owner import Owner, OwnerSetup


class OwnerLost(RuntimeError):
    """An owner died or failed: the message names it."""


class InProcessGroup:
    """Owners as objects of this process: the calls are plain method calls."""

    kind = "in-process"

    def __init__(self, setup: OwnerSetup, arr=None):
        self.owners = [Owner(o, setup, arr) for o in range(setup.owners)]
        self.size = setup.owners

    def name(self, o: int) -> str:
        return f"owner {o}"

    def call(self, method: str, args: list[tuple]) -> list:
        return [getattr(w, method)(*a) for w, a in zip(self.owners, args)]

    def call_one(self, o: int, method: str, *args):
        return getattr(self.owners[o], method)(*args)

    def close(self) -> None:
        self.owners = []


def _shm_root() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
        else tempfile.gettempdir()


def _worker(index: int, setup: OwnerSetup, conn, folder: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the driver's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    owner = Owner(index, setup)
    level = 0
    own: dict = {}   # the bucket an owner routes to itself: kept in memory, not in a file
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        method, args = msg
        try:
            if method == "receive":
                args = (_read_buckets(args[0], own),) + tuple(args[1:])
            out = getattr(owner, method)(*args)
            if method == "expand":
                report, buckets = out
                own["bucket"] = buckets[index]
                out = report, _write_buckets(folder, index, level, buckets)
                level += 1
            conn.send(("ok", out))
        except BaseException:   # noqa: BLE001 - the driver reports it, naming the owner
            conn.send(("error", traceback.format_exc(limit=8)))


def _write_buckets(folder: str, index: int, level: int, buckets: list) -> list:
    out = []
    for p, (keys, codes) in enumerate(buckets):
        if not keys.shape[0]:
            out.append(None)
            continue
        if p == index:
            out.append("own")
            continue
        path = os.path.join(folder, f"l{level}-from{index}-to{p}.npy")
        with open(path, "wb") as f:
            np.save(f, np.stack([keys, codes.view(np.uint64)]))
        out.append(path)
    return out


def _read_buckets(paths: list, own: dict) -> list:
    out = []
    for path in paths:
        if path is None:
            continue
        if path == "own":
            out.append(own.pop("bucket"))
            continue
        pair = np.load(path)
        os.unlink(path)
        out.append((pair[0], pair[1]))
    return out


class ProcessGroup:
    """One forked process per owner."""

    kind = "processes"

    def __init__(self, setup: OwnerSetup):
        self.size = setup.owners
        self.folder = tempfile.mkdtemp(prefix="dnsrace-buckets-", dir=_shm_root())
        ctx = multiprocessing.get_context("fork")
        self.conns, self.procs = [], []
        self.waiting = [0] * self.size   # replies not read yet
        self.broken = False   # a call was cut by a signal: the pipes may hold half a reply
        try:
            for o in range(self.size):
                mine, theirs = ctx.Pipe()
                p = ctx.Process(target=_worker, args=(o, setup, theirs, self.folder),
                                daemon=True, name=f"dnsrace-owner-{o}")
                p.start()
                theirs.close()
                self.conns.append(mine)
                self.procs.append(p)
        except BaseException:
            self.close()
            raise

    def name(self, o: int) -> str:
        return f"worker {o} (pid {self.procs[o].pid})"

    def _drain(self, o: int) -> None:
        while self.waiting[o]:
            self._recv(o)

    def _recv(self, o: int):
        try:
            status, out = self.conns[o].recv()
        except (EOFError, OSError):
            self.procs[o].join(timeout=1)
            code = self.procs[o].exitcode
            raise OwnerLost(f"{self.name(o)} died"
                            + (f" (exit status {code})" if code is not None else "")) \
                from None
        self.waiting[o] -= 1
        if status != "ok":
            raise OwnerLost(f"{self.name(o)} failed:\n{out}")
        return out

    def _send(self, o: int, method: str, args: tuple) -> None:
        if self.broken:
            raise OwnerLost(f"{self.name(o)} cannot be asked: a signal cut a call to it")
        self._drain(o)
        try:
            self.conns[o].send((method, args))
        except (BrokenPipeError, OSError):
            raise OwnerLost(f"{self.name(o)} died") from None
        self.waiting[o] += 1

    def call(self, method: str, args: list[tuple]) -> list:
        try:   # a signal waits for the answers (it would cut a reply in two)
            with interrupts.deferred():
                for o, a in enumerate(args):
                    self._send(o, method, a)
                return [self._recv(o) for o in range(self.size)]
        except KeyboardInterrupt:
            self.broken = self.broken or any(self.waiting)
            raise

    def call_one(self, o: int, method: str, *args):
        return self.call_some(o, method, args)

    def call_some(self, o: int, method: str, args: tuple):
        try:
            with interrupts.deferred():
                self._send(o, method, args)
                return self._recv(o)
        except KeyboardInterrupt:
            self.broken = self.broken or any(self.waiting)
            raise

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(None)
                conn.close()
            except OSError:
                pass
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()
        self.conns, self.procs = [], []
        shutil.rmtree(self.folder, ignore_errors=True)
