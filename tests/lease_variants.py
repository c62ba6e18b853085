"""Adapters for tests/test_adapters.py: the lease example with a seeded bug, and broken
adapters (each bad in one way)."""

from __future__ import annotations

from dnsrace.adapters import Adapter
from examples.lease_service.adapter import LeaseAdapter
from examples.lease_service.service import Worker


class ForgetfulWorker(Worker):
    """The bug: a crashed worker's lease is not released."""

    def crash(self) -> None:
        self.up = False


class CrashKeepsLease(LeaseAdapter):
    def reset(self, constants):
        super().reset(constants)
        self.workers = [ForgetfulWorker(w, self.service) for w in range(len(self.workers))]


class NotAnAdapter:
    def observe(self):
        return {}


class Unfinished(Adapter):
    def observe(self):
        return {}


class RaisesOnReset(LeaseAdapter):
    def reset(self, constants):
        raise ConnectionRefusedError(111, "Connection refused")


class RaisesOnStep(LeaseAdapter):
    def step(self, action):
        if action.action == "crash":
            raise TimeoutError("the service did not answer in 2 s")
        super().step(action)


class ObservesTooMuch(LeaseAdapter):
    def observe(self):
        return dict(super().observe(), leases=1)


class NeedsArguments(LeaseAdapter):
    def __init__(self, url):
        self.url = url


not_a_class = LeaseAdapter()


class CounterAdapter:
    """A counter, for the smallest specs (tests.helpers.COUNTER): no base class needed."""

    def reset(self, constants):
        self.x = 0

    def step(self, action):
        self.x += 1

    def observe(self):
        return {"x": self.x}
