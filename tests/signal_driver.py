"""Run the dnsrace console script with a signal sent while one chosen phase runs.

    python tests/signal_driver.py MODULE:FUNCTION DELAY SIGNAL -- ARGS...

FUNCTION may be CLASS.METHOD.  When it is first called, a timer sends SIGNAL to this process
DELAY seconds later (0: before the function's first line), so the signal lands inside that
phase however fast or slow the machine is.  Used by tests/test_signals_and_output.py.
"""

import importlib
import os
import signal
import sys
import threading


def main() -> None:
    target, delay, signame = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    args = sys.argv[sys.argv.index("--") + 1:]
    module_name, path = target.split(":")
    owner = importlib.import_module(module_name)
    *outer, func_name = path.split(".")
    for name in outer:
        owner = getattr(owner, name)
    real = getattr(owner, func_name)
    sig = getattr(signal, signame)

    def wrapped(*a, **kw):
        setattr(owner, func_name, real)   # once
        if delay <= 0:
            os.kill(os.getpid(), sig)
        else:
            threading.Timer(delay, os.kill, (os.getpid(), sig)).start()
        return real(*a, **kw)

    setattr(owner, func_name, wrapped)
    sys.argv = ["dnsrace", *args]
    from dnsrace.cli import run
    run()


if __name__ == "__main__":
    main()
