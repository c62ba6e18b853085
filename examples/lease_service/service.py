"""A tiny in-memory lease service and its workers: the system under test of the adapter
example (docs/ADAPTERS.md).  It has the bug of specs/lease_handoff.yaml on purpose: a worker
reads the lease and later takes it, with no compare-and-swap in between."""

from __future__ import annotations


class LeaseService:
    """One lease: who holds it (None: free), and every grant in order."""

    def __init__(self) -> None:
        self.holder: int | None = None
        self.grants: list[int] = []

    def get(self) -> int | None:
        return self.holder

    def put(self, worker: int) -> None:
        """Grant the lease to `worker`, whoever holds it now (the race)."""
        self.holder = worker
        self.grants.append(worker)

    def release(self, worker: int) -> None:
        if self.holder == worker:
            self.holder = None


class Worker:
    """A client of the service: read the lease, take it if it looked free, work, release."""

    def __init__(self, number: int, service: LeaseService) -> None:
        self.number, self.service = number, service
        self.at = "read"          # the step it takes next
        self.seen: int | None = None
        self.up = True

    def read(self) -> None:
        self.seen = self.service.get()
        self.at = "take"

    def take(self) -> None:
        self.service.put(self.number)
        self.at = "work"

    def work(self) -> None:
        self.service.release(self.number)
        self.at = "read"

    def crash(self) -> None:
        self.up = False
        self.service.release(self.number)   # the service expires a crashed worker's lease
