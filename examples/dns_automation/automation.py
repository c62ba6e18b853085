"""A reference implementation of DynamoDB's DNS automation (the Planner, the Enactors and
the clean-up), writing to a real DNS server; see specs/dynamodb_dns_race.yaml.

The plans live in a `PlanStore` (DynamoDB's table of plans, in memory here); the records in
the DNS zone (`DnsZone`).  Each Enactor has the spec's steps as methods (pick, check, write,
cleanup) and `at`, the step it takes next.  Every endpoint write is ONE dynamic UPDATE:

  racy   the Enactor checks once (plan newer than the regional record's) and then writes
         each endpoint, replacing its values (the UPDATE's only prerequisite is that the
         record has addresses to replace, as a Route 53 transaction needs: an emptied record
         refuses it, NXRRSET, and the Enactor retries for ever);
  fixed  the check is inside each UPDATE: a prerequisite that the record still holds the
         generation the Enactor saw (a compare-and-swap).  A stale write is refused by the
         server (NXRRSET); the Enactor reads the record again and abandons an older plan.

The clean-up deletes every stored plan at least KEEP generations older than its own: from
the store, and its IP addresses from every record, in one UPDATE per plan (a record holding
that plan is left with no address: the incident)."""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT

from .dns_zone import DnsError, DnsZone, addresses

CAS_TRIES = 8     # compare-and-swap attempts for one endpoint write, at most


class PlanStore:
    """The plans by generation (DynamoDB's table of plans)."""

    def __init__(self, endpoints: int):
        self.endpoints = endpoints
        self.plans: dict[int, list[list[str]]] = {}
        self.add(1)

    def add(self, generation: int) -> None:
        self.plans[generation] = [addresses(e, generation) for e in range(self.endpoints)]

    def newest(self) -> int:
        return max(self.plans) if self.plans else 0

    def delete(self, generation: int) -> None:
        del self.plans[generation]


class Planner:
    def __init__(self, store: PlanStore):
        self.store = store
        self.produced = store.newest()

    def produce(self) -> None:
        """A new generation of the plan (from load-balancer health, in DynamoDB)."""
        self.produced += 1
        self.store.add(self.produced)


def write_plan(zone: DnsZone, update, e: int, generation: int) -> None:
    """Add to `update`: endpoint e's record now holds plan `generation`."""
    name = zone.name(e)
    update.replace(name, 60, "A", *addresses(e, generation))
    update.replace(name, 60, "TXT", f'"plan={generation}"')


def set_initial_records(zone: DnsZone, endpoints: int) -> None:
    """Every endpoint holds plan 1 (the spec's initial state), whatever was there."""
    update = zone.new_update()
    for e in range(endpoints):
        write_plan(zone, update, e, 1)
    if zone.send(update) != dns.rcode.NOERROR:
        raise DnsError("the server refused to set the initial records")


@dataclass
class Enactor:
    zone: DnsZone
    store: PlanStore
    endpoints: int
    keep: int
    mode: str = "racy"                       # racy | fixed
    at: str = "pick"
    plan: int = 1
    ep: int = 0
    seen: list = field(default_factory=list)    # fixed: each record's generation at the check
    refusals: list = field(default_factory=list)   # the UPDATEs the server refused, why

    def pick(self) -> None:
        self.plan = self.store.newest()
        self.at = "check"

    def check(self) -> None:
        """The one-time check: is the plan newer than the regional record's?"""
        self.seen = [self.zone.generation(e) for e in range(self.endpoints)]
        applied = self.seen[0]
        if applied is not None and self.plan > applied:
            self.ep = 0
            self.at = "write"
        else:
            self.at = "pick"

    def write(self) -> None:
        if self.mode == "fixed":
            self.write_checked()
            return
        update = self.zone.new_update()
        name = self.zone.name(self.ep)
        update.present(name, "A")            # there are values to replace
        write_plan(self.zone, update, self.ep, self.plan)
        rcode = self.zone.send(update)
        if rcode == dns.rcode.NOERROR:
            self.advance()
        else:                                 # the record is empty: retry, for ever
            self.refused(rcode, "it has no address left to replace")

    def write_checked(self) -> None:
        """A compare-and-swap: the UPDATE holds only if the record still holds the generation
        last seen (for the plan it already holds, the prerequisite alone: nothing to change);
        refused, the Enactor reads the record again and decides again."""
        expected = self.seen[self.ep]
        for _ in range(CAS_TRIES):
            if expected is not None and self.plan < expected:
                self.at = "pick"              # abandon: a newer plan is there already
                return
            update = self.zone.new_update()
            update.present(self.zone.name(self.ep), dns.rdtypes.ANY.TXT.TXT(
                dns.rdataclass.IN, dns.rdatatype.TXT, [f"plan={expected}".encode()]))
            if expected != self.plan:
                write_plan(self.zone, update, self.ep, self.plan)
            rcode = self.zone.send(update)
            if rcode == dns.rcode.NOERROR:
                self.advance()
                return
            self.refused(rcode, f"it no longer holds plan {expected}")
            expected = self.zone.generation(self.ep)   # stale: read it again
        raise DnsError(f"endpoint {self.ep}: the compare-and-swap did not settle in "
                       f"{CAS_TRIES} tries")

    def refused(self, rcode: int, why: str) -> None:
        self.refusals.append(f"the server refused the UPDATE writing plan {self.plan} to "
                             f"{self.zone.name(self.ep)} ({dns.rcode.to_text(rcode)}: {why})")

    def advance(self) -> None:
        self.ep += 1
        self.at = "write" if self.ep < self.endpoints else "cleanup"

    def cleanup_bound(self) -> int:
        """Plans of this generation and older are deleted."""
        return self.plan - self.keep

    def cleanup(self) -> None:
        for g in sorted(self.store.plans):
            if g <= self.cleanup_bound():
                self.delete_plan(g)
        self.at = "pick"

    def delete_plan(self, generation: int) -> None:
        """Delete a plan: from the store, and its IP addresses from every record."""
        self.store.delete(generation)
        update = self.zone.new_update()
        for e in range(self.endpoints):
            for address in addresses(e, generation):
                update.delete(self.zone.name(e), "A", address)
        if self.zone.send(update) != dns.rcode.NOERROR:
            raise DnsError(f"the server refused to delete plan {generation}'s records")
