"""Variants of the DNS automation example with a seeded bug, for tests/test_knot_dns.py."""

from __future__ import annotations

from examples.dns_automation.adapter import FixedDnsAdapter
from examples.dns_automation.automation import Enactor


class GreedyCleanupEnactor(Enactor):
    """The bug: the clean-up deletes one generation too many."""

    def cleanup_bound(self) -> int:
        return self.plan - self.keep + 1


class GreedyCleanupAdapter(FixedDnsAdapter):
    enactor_class = GreedyCleanupEnactor
