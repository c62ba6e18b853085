"""SIGINT and SIGTERM end any phase of any engine within a second, with the summary so far.

Python runs a signal handler only between bytecodes, so a search in Python code stops at once
(the handler raises KeyboardInterrupt, which every engine catches to report what it has), but
a long call into Z3's C code would not notice until it returns.  So the signal also wakes a
watcher thread (through `signal.set_wakeup_fd`), which asks Z3 to give up (`Z3_interrupt` is
safe from another thread); the engine's call returns, and the KeyboardInterrupt follows.  Z3's
own Ctrl-C handling is switched off, or it would swallow SIGINT and answer "unknown".

A second signal while the first is being handled ends the process at once.
"""

from __future__ import annotations

import _thread
import ctypes
import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

_cancellers: list[Callable[[], None]] = []
_received: list[int] = []
_deferring: list[bool] = []     # one entry per open `deferred()` block
_pending: list[int] = []
_redelivering: list[bool] = []   # the next call of the handler is our own re-delivery


_installed: list[bool] = []


def install() -> None:
    """Route SIGINT and SIGTERM through dnsrace's handler (main thread only; once per
    process, however often the command line runs in it)."""
    if threading.current_thread() is not threading.main_thread():
        return
    _received.clear()
    _pending.clear()
    _redelivering.clear()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _handle)
    if _installed:
        return
    _installed.append(True)
    sys.unraisablehook = _unraisable_hook(sys.unraisablehook)
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    threading.Thread(target=_watch, args=(read_fd,), name="dnsrace-interrupts",
                     daemon=True).start()


def _handle(signum, frame) -> None:
    if _redelivering:
        _redelivering.clear()
    elif _received:
        sys.stderr.write(f"dnsrace: {signal.Signals(signum).name} again; stopping now\n")
        os._exit(128 + signum)
    else:
        _received.append(signum)
    if _deferring:
        _pending.append(signum)
        return
    if _in_finalizer(frame):
        # An exception raised in a finalizer (a Z3 object's __del__) is printed and lost, and
        # the watcher's Z3 interrupt may have come before the next Z3 call: deliver the
        # signal again in a moment, from outside the finalizer.
        _redeliver(signum)
        return
    raise KeyboardInterrupt


def _unraisable_hook(previous):
    """The interrupt raised where Python can only print an exception and drop it (a weakref
    callback while a module loads, a finalizer): delivered again from outside, never printed
    as a traceback.  Once a signal has arrived, any other such exception is its echo (a Z3
    context whose __init__ the signal cut short fails in its __del__) and is dropped too."""
    def hook(unraisable) -> None:
        if _received:
            if isinstance(unraisable.exc_value, KeyboardInterrupt):
                _redeliver(_received[0])
            return
        previous(unraisable)
    return hook


def _redeliver(signum: int) -> None:
    _redelivering.append(True)
    threading.Timer(0.02, _thread.interrupt_main, (signum,)).start()


def _in_finalizer(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


@contextmanager
def deferred() -> Iterator[None]:
    """A block that a signal does not cut in two: the interrupt is raised at its end.

    For the few places that update several structures that must stay consistent (an
    engine committing a level), so the summary after an interrupt is always well formed."""
    _deferring.append(True)
    try:
        yield
    finally:
        _deferring.pop()
        if not _deferring and _pending:
            _pending.clear()
            raise KeyboardInterrupt


def _watch(read_fd: int) -> None:
    while True:
        try:
            if not os.read(read_fd, 64):
                return
        except OSError:
            return
        for cancel in list(_cancellers):
            try:
                cancel()
            except Exception:   # a canceller must never take the watcher down
                pass


def on_signal(cancel: Callable[[], None]) -> None:
    """Call `cancel` (from another thread) when a signal arrives: for C code that blocks."""
    _cancellers.append(cancel)


# A signal raised while ctypes converts the arguments of a C call (Z3's API) reaches the
# caller as a ctypes.ArgumentError that wraps the KeyboardInterrupt: catch both, then
# `signalled(exc)` tells a signal from a real argument error (which is re-raised).
SIGNAL_ERRORS = (KeyboardInterrupt, ctypes.ArgumentError)


def signalled(exc: BaseException) -> bool:
    """Whether `exc` (one of SIGNAL_ERRORS) is an interrupt."""
    return isinstance(exc, KeyboardInterrupt) or \
        (bool(_received) and "KeyboardInterrupt" in str(exc))


def received() -> bool:
    """Whether SIGINT or SIGTERM arrived since `install`."""
    return bool(_received)


def exit_now(status: int) -> None:
    """End an interrupted process at once with `status`, its output flushed.

    Not `sys.exit`: when a KeyboardInterrupt passed through code that an extension ran with
    `PyRun_*` (numpy and z3 do, while they load), CPython remembers it as unhandled and, at
    exit, kills the process with SIGINT whatever the exit status was (-2 instead of 143)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def exit_status() -> int:
    """The exit status of an interrupted run: 128 + the signal (130 SIGINT, 143 SIGTERM)."""
    return 128 + (_received[0] if _received else signal.SIGINT)


def signal_name() -> str:
    return signal.Signals(_received[0]).name if _received else "SIGINT"
