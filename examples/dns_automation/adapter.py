"""Adapters connecting the DNS race specs to the reference automation on a real DNS server:

    RacyDnsAdapter   specs/dynamodb_dns_race.yaml  (racy Enactors)
    FixedDnsAdapter  specs/dns_fix_cas.yaml        (Enactors writing by compare-and-swap)

The server is read from the environment (DNSRACE_DNS_SERVER, DNSRACE_DNS_TSIG,
DNSRACE_DNS_ZONE: `KnotServer.environment()`).  Each transition is one operation of the
automation: `Planner[0].produce` produces a plan; `Enactor[i].<step>` runs Enactor i's step
(the implementation chooses the alternative itself: the observed `Enactor.pc` shows which
one it took).  `observe` reads back, by real DNS queries, the plan each record holds (its
TXT) and whether it has any address left (`empty`); the plans from the store; and each
Enactor's step, plan and endpoint."""

from __future__ import annotations

from dnsrace.adapters import Action, Adapter

from .automation import Enactor, Planner, PlanStore, set_initial_records
from .dns_zone import DnsConfig, DnsZone


class RacyDnsAdapter(Adapter):
    mode = "racy"
    enactor_class = Enactor

    def __init__(self) -> None:
        self.zone: DnsZone | None = None

    def reset(self, constants: dict[str, int]) -> None:
        if self.zone is None:
            self.zone = DnsZone(DnsConfig.from_environment())
        self.endpoints = constants["ENDPOINTS"]
        self.plans = constants["PLANS"]
        self.store = PlanStore(self.endpoints)
        self.planner = Planner(self.store)
        self.enactors = [self.enactor_class(self.zone, self.store, self.endpoints,
                                            constants["KEEP"], self.mode)
                         for _ in range(constants["ENACTORS"])]
        set_initial_records(self.zone, self.endpoints)

    def step(self, action: Action) -> None:
        if action.process == "Planner":
            self.planner.produce()
        elif action.process == "Enactor":
            getattr(self.enactors[action.instance], action.step)()
        else:
            raise ValueError(f"no operation for {action.name}")

    def notes(self) -> list[str]:
        """The refusals since the last step (the runner shows them under the step)."""
        out = []
        for i, en in enumerate(self.enactors):
            out += [f"Enactor[{i}]: {r}" for r in en.refusals]
            en.refusals.clear()
        return out

    def observe(self) -> dict:
        zone, produced = self.zone, self.planner.produced
        return {
            "newest": produced,
            "record": [zone.generation(e) for e in range(self.endpoints)],
            "empty": [not zone.has_addresses(e) for e in range(self.endpoints)],
            "deleted": [g for g in range(1, produced + 1) if g not in self.store.plans],
            "Enactor.pc": [en.at for en in self.enactors],
            "Enactor.plan": [en.plan for en in self.enactors],
            "Enactor.ep": [en.ep for en in self.enactors],
        }


class FixedDnsAdapter(RacyDnsAdapter):
    mode = "fixed"
