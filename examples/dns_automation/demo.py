"""The README's demonstration: the DNS race's counterexample replayed on a real knotd.

    python -m examples.dns_automation.demo [racy|fixed]

Starts knotd on a free loopback port (a temporary zone and TSIG key), writes the race's
counterexample with `dnsrace check`, performs it on the server through the racy (or
fixed) adapter with `dnsrace replay --adapter`, then asks the server for the regional
name with `kdig`, and stops knotd."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .dns_zone import endpoint_name
from .knot_server import ZONE, KnotError, KnotServer

ADAPTERS = {"racy": "RacyDnsAdapter", "fixed": "FixedDnsAdapter"}
ROOT = Path(__file__).resolve().parents[2]
SPEC = "specs/dynamodb_dns_race.yaml"


def show(words: list[str], env: dict, cwd: Path) -> None:
    """Print `$ words` and what it prints (a `dnsrace` command runs this checkout's)."""
    print("$ " + " ".join(words))
    args = [sys.executable, "-m", "dnsrace", *words[1:]] if words[0] == "dnsrace" else words
    if shutil.which(args[0]) is None:
        print(f"({args[0]} is not installed: apt-get install knot-dnsutils)")
        return
    done = subprocess.run(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    print(done.stdout, end="")


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "racy"
    if mode not in ADAPTERS:
        print("usage: python -m examples.dns_automation.demo [racy|fixed]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="dnsrace-demo-") as name:
        folder = Path(name)
        try:
            server = KnotServer.start(folder / "knot")
        except KnotError as exc:
            print(f"demo: {exc}", file=sys.stderr)
            return 2
        with server:
            env = dict(os.environ, **server.environment(),
                       PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
            (folder / "specs").mkdir()
            shutil.copy(ROOT / SPEC, folder / SPEC)
            subprocess.run([sys.executable, "-m", "dnsrace", "check", SPEC, "--quiet",
                            "--trace-dir", "traces"], env=env, cwd=folder,
                           stdout=subprocess.DEVNULL, timeout=120)
            show(["dnsrace", "replay", "traces/dynamodb-dns-race.no_empty_record.json",
                  "--adapter", f"examples.dns_automation.adapter:{ADAPTERS[mode]}"],
                 env, folder)
            show(["kdig", "@127.0.0.1", "-p", str(server.port), f"{endpoint_name(0)}.{ZONE}",
                  "A"], env, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
