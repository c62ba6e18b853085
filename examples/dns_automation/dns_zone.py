"""The DNS zone the automation writes, over RFC 2136 dynamic updates signed with TSIG
(dnspython), and reads back with ordinary queries.

Endpoint e's record is two RRsets at its name: the A records of the plan it holds, and a
TXT record `plan=G` naming that plan's generation (so its state can be read back, as Route
53 shows which plan a record points at)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update

TIMEOUT = 2.0            # seconds for one query or update
ENV_HINT = ("start knotd with examples/dns_automation/knot_server.py and export its "
            "environment() (DNSRACE_DNS_SERVER, DNSRACE_DNS_TSIG, DNSRACE_DNS_ZONE)")


class DnsError(Exception):
    """The server cannot be reached, or answered what the automation cannot go on from."""


def endpoint_name(e: int) -> str:
    """Endpoint 0 is the regional endpoint; the others are the IPv6, FIPS, ... endpoints."""
    return "dynamodb.us-east-1" if e == 0 else f"ep{e}.dynamodb.us-east-1"


def addresses(e: int, generation: int) -> list[str]:
    """The IP addresses plan `generation` gives endpoint e."""
    return [f"10.{e}.{generation}.1", f"10.{e}.{generation}.2"]


@dataclass(frozen=True)
class DnsConfig:
    host: str
    port: int
    zone: str
    algorithm: str
    key_name: str
    secret: str

    @classmethod
    def from_environment(cls) -> DnsConfig:
        server = os.environ.get("DNSRACE_DNS_SERVER", "")
        tsig = os.environ.get("DNSRACE_DNS_TSIG", "")
        host, _, port = server.rpartition(":")
        parts = tsig.split(":", 2)
        if not host or not port.isdigit() or len(parts) != 3:
            raise DnsError(f"no DNS server configured: {ENV_HINT}")
        return cls(host, int(port), os.environ.get("DNSRACE_DNS_ZONE", "dnsrace.test."),
                   *parts)


class DnsZone:
    def __init__(self, config: DnsConfig):
        self.config = config
        self.origin = dns.name.from_text(config.zone)
        self.keyring = dns.tsigkeyring.from_text({config.key_name: config.secret})

    def name(self, e: int) -> dns.name.Name:
        return dns.name.from_text(endpoint_name(e), self.origin)

    def new_update(self) -> dns.update.UpdateMessage:
        return dns.update.UpdateMessage(self.origin, keyring=self.keyring,
                                        keyname=self.config.key_name,
                                        keyalgorithm=self.config.algorithm)

    def send(self, update: dns.update.UpdateMessage) -> int:
        """Send one UPDATE; its rcode (NOERROR, or the prerequisite that failed: NXRRSET,
        YXRRSET, ...).  DnsError if the server does not take it at all."""
        try:
            answer = dns.query.tcp(update, self.config.host, port=self.config.port,
                                   timeout=TIMEOUT)
        except Exception as exc:   # a timeout, a refused connection, a bad TSIG answer
            raise DnsError(f"UPDATE to {self.config.host}:{self.config.port} failed: "
                           f"{type(exc).__name__}: {exc}") from None
        rcode = answer.rcode()
        if rcode in (dns.rcode.REFUSED, dns.rcode.NOTAUTH, dns.rcode.SERVFAIL,
                     dns.rcode.NOTZONE, dns.rcode.FORMERR):
            raise DnsError(f"the server answered {dns.rcode.to_text(rcode)} to an UPDATE")
        return rcode

    def query(self, e: int, rdtype: str) -> list[str]:
        """The values of endpoint e's `rdtype` records ([] on NOERROR with no answer or
        NXDOMAIN)."""
        q = dns.message.make_query(self.name(e), rdtype)
        try:
            answer = dns.query.udp(q, self.config.host, port=self.config.port,
                                   timeout=TIMEOUT)
        except Exception as exc:
            raise DnsError(f"query to {self.config.host}:{self.config.port} failed: "
                           f"{type(exc).__name__}: {exc}") from None
        if answer.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            raise DnsError(f"the server answered {dns.rcode.to_text(answer.rcode())} to a "
                           f"query for {self.name(e)} {rdtype}")
        want = dns.rdatatype.from_text(rdtype)
        return sorted(rd.to_text() for rrset in answer.answer if rrset.rdtype == want
                      for rd in rrset)

    def generation(self, e: int) -> int | None:
        """The plan endpoint e's record holds (its TXT `plan=G`), None if it has none."""
        for text in self.query(e, "TXT"):
            if text.startswith('"plan=') and text[6:-1].isdigit():
                return int(text[6:-1])
        return None

    def has_addresses(self, e: int) -> bool:
        return bool(self.query(e, "A"))
