"""The adapter connecting specs/lease_handoff.yaml to the in-memory lease service.

    dnsrace test specs/lease_handoff.yaml --adapter examples.lease_service.adapter:LeaseAdapter

Each transition of the spec is one call on the service or a worker; `observe` reads the
service and the workers back as the spec's variables.  Copy it to start your own."""

from __future__ import annotations

from dnsrace.adapters import Action, Adapter

from .service import LeaseService, Worker


class LeaseAdapter(Adapter):
    def reset(self, constants: dict[str, int]) -> None:
        self.service = LeaseService()
        self.workers = [Worker(w, self.service) for w in range(constants["WORKERS"])]

    def step(self, action: Action) -> None:
        if action.process == "Worker":             # Worker[i].read / take / work
            worker = self.workers[action.instance]
            getattr(worker, action.step)()
        elif action.action == "crash":             # crash(w=i)
            self.workers[action.params["w"]].crash()
        else:
            raise ValueError(f"no operation for {action.name}")

    def observe(self) -> dict:
        holder = self.service.get()
        return {
            "lease": -1 if holder is None else holder,
            "grants": list(self.service.grants),
            "health": ["up" if w.up else "down" for w in self.workers],
            "Worker.pc": [w.at for w in self.workers],
            "Worker.seen": [-1 if w.seen is None else w.seen for w in self.workers],
        }
