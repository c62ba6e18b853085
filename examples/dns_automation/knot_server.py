"""Start and stop a real Knot DNS server (Debian's `knotd`) for the DNS automation example:
a temporary zone on a free loopback port, dynamic updates allowed with one TSIG key.

    with KnotServer.start(folder) as server:
        os.environ.update(server.environment())   # what the adapter reads
        ...

knotd runs as a child process (not a daemon), its configuration, zone, storage, run
folder and log all in `folder`; `stop` ends it.  Only 127.0.0.1 is used."""

from __future__ import annotations

import base64
import grp
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ZONE = "dnsrace.test."
KEY_NAME = "dnsrace-key"
ALGORITHM = "hmac-sha256"
START_TRIES = 3          # free ports tried, one after the other
WAIT_TRIES = 100         # queries while knotd starts, POLL seconds apart
POLL = 0.05
INSTALL = "install Knot DNS: apt-get install knot knot-dnsutils"


class KnotError(Exception):
    """knotd is missing, or did not start (the message has the end of its log)."""


def knotd_path() -> str | None:
    return shutil.which("knotd") or next(
        (p for p in ("/usr/sbin/knotd", "/sbin/knotd") if os.access(p, os.X_OK)), None)


def free_port() -> int:
    """A port free for UDP and TCP on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", port))
    return port


def zone_text() -> str:
    return (f"$ORIGIN {ZONE}\n$TTL 60\n"
            f"@ SOA ns.{ZONE} hostmaster.{ZONE} 1 3600 600 86400 60\n"
            "@ NS ns\nns A 127.0.0.1\n")


def config_text(folder: Path, port: int, secret: str) -> str:
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return f"""server:
    rundir: "{folder / 'run'}"
    user: {user}:{group}
    listen: 127.0.0.1@{port}
log:
  - target: stderr
    any: info
database:
    storage: "{folder / 'storage'}"
key:
  - id: {KEY_NAME}
    algorithm: {ALGORITHM}
    secret: {secret}
acl:
  - id: updates
    key: {KEY_NAME}
    action: update
template:
  - id: default
    storage: "{folder / 'zones'}"
    file: "%s.zone"
    zonefile-sync: -1
zone:
  - domain: {ZONE}
    acl: updates
"""


@dataclass
class KnotServer:
    folder: Path
    port: int
    secret: str
    process: subprocess.Popen

    @classmethod
    def start(cls, folder: str | Path) -> KnotServer:
        """knotd on a free port with a fresh zone in `folder`; KnotError if it cannot."""
        knotd = knotd_path()
        if knotd is None:
            raise KnotError(f"knotd is not installed; {INSTALL}")
        folder = Path(folder)
        for sub in ("run", "storage", "zones"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / "zones" / f"{ZONE.rstrip('.')}.zone").write_text(zone_text())
        secret = base64.b64encode(secrets.token_bytes(32)).decode()
        problem = ""
        for _ in range(START_TRIES):
            port = free_port()
            (folder / "knot.conf").write_text(config_text(folder, port, secret))
            log = open(folder / "knotd.log", "wb")
            process = subprocess.Popen([knotd, "-c", str(folder / "knot.conf")],
                                       stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
            log.close()
            server = cls(folder, port, secret, process)
            problem = server.wait_until_answering()
            if not problem:
                return server
            server.stop()
        raise KnotError(problem)

    def wait_until_answering(self) -> str:
        """'' once the zone answers a query; else why not (the end of knotd's log)."""
        import dns.exception
        import dns.message
        import dns.query
        import dns.rcode

        query = dns.message.make_query(ZONE, "SOA")
        for _ in range(WAIT_TRIES):
            if self.process.poll() is not None:
                return f"knotd exited with status {self.process.returncode}: {self.log_tail()}"
            try:
                answer = dns.query.udp(query, "127.0.0.1", port=self.port, timeout=POLL)
                if answer.rcode() == dns.rcode.NOERROR and answer.answer:
                    return ""
            except (dns.exception.Timeout, OSError):
                pass
            time.sleep(POLL)
        return f"knotd did not answer on 127.0.0.1@{self.port}: {self.log_tail()}"

    def log_tail(self) -> str:
        try:
            lines = (self.folder / "knotd.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:]) or "(empty log)"

    def environment(self) -> dict[str, str]:
        """What the adapter reads to find the server (see adapter.DnsConfig)."""
        return {"DNSRACE_DNS_SERVER": f"127.0.0.1:{self.port}",
                "DNSRACE_DNS_TSIG": f"{ALGORITHM}:{KEY_NAME}:{self.secret}",
                "DNSRACE_DNS_ZONE": ZONE}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> KnotServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
