"""The owners of a partitioned search as Ray actors (`--cluster local` or
`--cluster ray://HOST:PORT`; an optional extra: pip install 'dnsrace[ray]').

One actor per owner, each compiling the generated array source it is sent (no spec text
travels, and no file: see `owner.OwnerSetup`).  An actor puts each bucket of candidate
successors into Ray's object store itself (`ray.put`, numpy arrays: zero-copy reads on
the node that holds them) and returns only the references; the driver hands each owner the
references routed to it, so buckets go from node to node, never through the driver.  The
driver moves codes (8 bytes per new state), global indices (8 bytes per new state) and
events.  An actor that dies ends the search as `worker-lost`: every property not already
decided by a trace that can still be rebuilt (its links on the actors still there) is
`unknown`, and a warning names the actor.
"""

from __future__ import annotations

import os
import re

from ...diagnostics import Diagnostic, SpecError
from .local import OwnerLost
from .owner import Owner

RAY_EXTRA = "pip install 'dnsrace[ray]'"
ACTOR_PREFIX = "dnsrace-owner-"   # actors are named dnsrace-owner-RUN-K
_ADDRESS = re.compile(r"^(local|ray://[A-Za-z0-9._\-]+:[0-9]{1,5}|auto)$")


def check_address(address: str) -> None:
    """DR904 for an address that is not `local`, `auto` or ray://HOST:PORT; DR905 when Ray
    is not installed."""
    if not _ADDRESS.match(address):
        raise SpecError([Diagnostic(
            "DR904", f"--cluster {address!r} is not local, auto or ray://HOST:PORT", None,
            None, "for example --cluster local, or --cluster ray://head-node:10001")])
    _ray()


def _ray():
    try:
        import ray
    except ImportError:
        raise SpecError([Diagnostic(
            "DR905", "--cluster needs Ray, which is not installed", None, None,
            RAY_EXTRA)]) from None
    return ray


class _OwnerActor:
    """An owner with its buckets in the object store."""

    def __init__(self, index: int, setup):
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.owner = Owner(index, setup)

    def pid(self) -> int:
        import os
        return os.getpid()

    def do(self, method: str, args: tuple):
        import ray
        if method == "receive":
            refs = [r for r in args[0] if r is not None]
            args = (list(ray.get(refs)),) + tuple(args[1:])
        out = getattr(self.owner, method)(*args)
        if method == "expand":
            report, buckets = out
            out = report, [ray.put(b) if b[0].shape[0] else None for b in buckets]
        return out


class RayGroup:
    kind = "ray"

    def __init__(self, address: str, workers: int | None, setup_for):
        ray = _ray()
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            try:
                if address == "local":
                    ray.init(num_cpus=workers or None, include_dashboard=False,
                             log_to_driver=False, configure_logging=False)
                else:
                    ray.init(address=address, include_dashboard=False, log_to_driver=False,
                             configure_logging=False)
            except Exception as exc:   # noqa: BLE001 - any failure to connect is one line
                raise SpecError([Diagnostic(
                    "DR905", f"cannot start or reach the Ray cluster {address}: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", None,
                    None, "check the address (ray status on the head node)")]) from None
            self.started = True
        n = workers or max(int(ray.cluster_resources().get("CPU", 1)), 1)
        self.size = n
        setup = setup_for(n)
        actor = ray.remote(num_cpus=1, max_restarts=0)(_OwnerActor)
        run = os.urandom(4).hex()
        self.actors = [actor.options(name=f"{ACTOR_PREFIX}{run}-{o}").remote(o, setup)
                       for o in range(n)]
        self.ids = [a._actor_id.hex()[:12] for a in self.actors]
        self.pending: list = []

    def name(self, o: int) -> str:
        return f"Ray actor {o} (actor id {self.ids[o]})"

    def _get(self, refs: list, owners: list[int]) -> list:
        ray = self.ray
        out = []
        for o, ref in zip(owners, refs):
            try:
                out.append(ray.get(ref))
            except ray.exceptions.RayActorError as exc:
                raise OwnerLost(f"{self.name(o)} died: "
                                f"{str(exc).splitlines()[0] if str(exc) else 'lost'}") \
                    from None
            except ray.exceptions.RayError as exc:
                raise OwnerLost(f"{self.name(o)} failed: {str(exc).splitlines()[0]}") \
                    from None
        return out

    def call(self, method: str, args: list[tuple]) -> list:
        refs = [a.do.remote(method, tuple(x)) for a, x in zip(self.actors, args)]
        return self._get(refs, list(range(self.size)))

    def call_one(self, o: int, method: str, *args):
        return self._get([self.actors[o].do.remote(method, args)], [o])[0]

    def kill(self, o: int) -> None:
        """Kill one actor (what a crashed node does; for tests)."""
        self.ray.kill(self.actors[o], no_restart=True)

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a, no_restart=True)
            except Exception:   # noqa: BLE001 - already gone
                pass
        self.actors = []
        if self.started:
            self.ray.shutdown()
