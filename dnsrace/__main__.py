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
    except Exception:
        # Python may wrap the KeyboardInterrupt of a signal that lands while a module is
        # being imported (a RuntimeError from a class body's __set_name__, for one): once a
        # signal has arrived, whatever stopped the import is that signal.
        if not interrupts.received():
            raise
        _stopped_while_starting(interrupts)
    except KeyboardInterrupt:
        _stopped_while_starting(interrupts)
    run()


def _stopped_while_starting(interrupts) -> None:
    sys.stderr.write(f"dnsrace: {interrupts.signal_name()} while starting\n")
    interrupts.exit_now(interrupts.exit_status())


if __name__ == "__main__":
    main()
