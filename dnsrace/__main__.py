"""`python -m dnsrace` and the `dnsrace` console script.

SIGINT and SIGTERM are routed through dnsrace's handler before anything heavy is imported,
so a signal at any moment ends the process with its exit status and a line, never a
traceback (dnsrace/interrupts.py)."""

import sys


def main() -> None:
    from . import interrupts
    interrupts.install()
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.stderr.write(f"dnsrace: {interrupts.signal_name()} while starting\n")
        interrupts.exit_now(interrupts.exit_status())
    run()


if __name__ == "__main__":
    main()
