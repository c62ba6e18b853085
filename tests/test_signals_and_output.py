"""Interrupts in every phase, and an output that cannot be written: each ends with its own
exit status and a line that says what happened, never a traceback (issue 9)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, run_cli, write_spec

RACE = "specs/dynamodb_dns_race.yaml"
LEASE_FIX = "specs/dns_fix_lease.yaml"
DRIVER = str(ROOT / "tests" / "signal_driver.py")


def dnsrace(*args: str, stdout=subprocess.PIPE, env=None, driver: tuple = ()):
    """Run the console script in a process of its own (signals and streams are real)."""
    cmd = [sys.executable, DRIVER, *driver, "--", *args] if driver else \
        [sys.executable, "-m", "dnsrace", *args]
    proc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                          timeout=120)
    return proc.returncode, proc.stdout or "", proc.stderr


# (the function whose call starts the phase, delay before the signal, extra args, what the
#  summary says).  A search phase names the search loop itself, not the engine's entry point,
#  so a slow set-up on a loaded machine cannot take the delay and put the signal before it.
BIG = ["--const", "ENACTORS=5"]     # a search of millions of states: the signal lands in it
PHASES = {
    "loading": ("dnsrace.frontend.build:build_model", 0, [], None),
    "compiling": ("dnsrace.api:compile_system", 0, [], None),
    "bfs search": ("dnsrace.engines.bfs:explore", 0.5, [*BIG, "--engine", "bfs"],
                   "INCOMPLETE (interrupted)"),
    "array search": ("dnsrace.engines.array_bfs:explore", 0.5, BIG,
                     "INCOMPLETE (interrupted)"),
    "bmc in Z3": ("dnsrace.symbolic.bmc:Bmc.run", 1, [*BIG, "--engine", "bmc", "--max-depth",
                                                    "80"], "INCOMPLETE (interrupted)"),
    "reporting": ("dnsrace.report.text:render", 0, [], None),
}


@pytest.mark.parametrize("signame,status", [("SIGINT", 130), ("SIGTERM", 143)])
@pytest.mark.parametrize("phase", PHASES)
def test_a_signal_in_any_phase_ends_the_run_with_its_status_and_no_traceback(phase, signame,
                                                                              status):
    target, delay, extra, summary = PHASES[phase]
    code, out, err = dnsrace("check", RACE, *extra,
                             driver=(target, str(delay), signame))
    assert code == status, err
    assert "Traceback" not in err
    if summary:
        assert summary in out and "INTERRUPTED" in out
    else:
        assert err.strip().startswith("dnsrace: ") and signame in err


def test_a_signal_stops_spacer_inside_z3_with_the_summary_so_far():
    code, out, err = dnsrace("check", LEASE_FIX, "--engine", "pdr",
                             driver=("dnsrace.symbolic:check_pdr", "1.5", "SIGINT"))
    assert code == 130, err
    assert "INCOMPLETE (interrupted)" in out and "Traceback" not in err


def test_a_closed_pipe_is_its_own_exit_status_not_a_failed_property():
    proc = subprocess.Popen([sys.executable, "-m", "dnsrace", "check", "specs/"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    proc.stdout.readline()
    proc.stdout.close()          # the reader goes away, as `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert "broken pipe" in err and "Traceback" not in err


def test_a_full_disk_is_an_error_message_and_exit_74():
    with open("/dev/full", "w") as full:
        code, _, err = dnsrace("check", "specs/lease_handoff.yaml", stdout=full)
    assert code == 74
    assert "cannot write the standard output: No space left on device" in err
    assert "Traceback" not in err


def test_a_trace_dir_that_cannot_be_a_folder_is_refused_before_any_search():
    code, out, err = run_cli("check", "specs/lease_handoff.yaml", "--trace-dir", "/dev/null")
    assert code == 2 and out == ""
    assert "error[DR402 output-path]: --trace-dir /dev/null: cannot create the folder" in err


@pytest.mark.parametrize("const,message", [
    ("WORKERS=٣", "is not NAME=INTEGER"),               # Arabic-Indic digit three
    ("WORKERS=３", "is not NAME=INTEGER"),              # fullwidth three
    ("WORKERS=1" + "0" * 30, "is not NAME=INTEGER"),
    ("2WORKERS=3", "is not NAME=INTEGER"),
])
def test_const_takes_ascii_decimal_integers_only(const, message):
    code, _, err = run_cli("check", "specs/lease_handoff.yaml", "--const", const)
    assert code == 2 and message in err and "DR401" in err


def test_a_constant_given_twice_is_an_error_not_the_last_one_silently():
    code, _, err = run_cli("check", "specs/lease_handoff.yaml", "--const", "WORKERS=2",
                           "--const", "WORKERS=3")
    assert code == 2
    assert "--const WORKERS is given twice (2 and 3)" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_time_limit_must_be_a_finite_number_of_seconds(value):
    code, _, err = run_cli("check", "specs/lease_handoff.yaml", "--time-limit", value)
    assert code == 2
    assert "is not a number of seconds" in err


ESCAPES = r'''
dnsrace: 1
name: escapes
description: "a \x1b[31mred\x1b[0m title \x07 and a lone \ud800 surrogate"
variables:
  x: {type: "0..3", init: 0}
actions:
  - name: step
    guard: x < 3
    effect: |
      x += 1
      assert x < 2, "x is \u00e9\u2603 \ud800 \x1b[2J"
invariants:
  small: {expr: "x <= 3", about: "\x1b]0;retitled\x07"}
'''


def test_control_characters_from_a_spec_never_reach_the_terminal_raw(tmp_path):
    spec = write_spec(tmp_path, ESCAPES)
    code, out, err = dnsrace("check", str(spec), "--trace-dir", str(tmp_path / "t"),
                             env={"PYTHONIOENCODING": "ascii"})
    assert code == 1 and "Traceback" not in err
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out
    code, out, err = dnsrace("replay", str(tmp_path / "t" / "escapes.assertion.json"))
    assert code == 0 and "faithfully" in out and "\x1b" not in out


def test_an_assertion_message_keeps_its_non_ascii_characters(tmp_path):
    spec = write_spec(tmp_path, ESCAPES)
    code, out, _ = run_cli("check", str(spec))
    assert "x is é☃ \ufffd \\x1b[2J" in out


def test_json_output_escapes_control_characters_and_stays_valid_json(tmp_path):
    import json
    spec = write_spec(tmp_path, ESCAPES.replace("[2J", "[2J\\u009b"))
    code, out, _ = run_cli("check", str(spec), "--format", "json")
    assert code == 1
    assert not any(ch in out for ch in "\x1b\x07\x9b")
    data = json.loads(out)          # valid JSON, and the text survives as escapes
    trace = next(p for p in data["properties"] if p["name"] == "assertion")["trace"]
    assert trace["steps"][-1]["message"] == "x is é☃ \ufffd \x1b[2J\x9b"


FINALIZER = """
import os, signal, sys, time
from dnsrace import interrupts
interrupts.install()

class Z3Like:
    def __del__(self):          # a signal handled in here would raise into nowhere
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))

try:
    obj = Z3Like()
    del obj
    time.sleep(5)
    print("lost")
except KeyboardInterrupt:
    print("delivered")
"""


def test_a_signal_that_lands_in_a_finalizer_is_delivered_after_it():
    proc = subprocess.run([sys.executable, "-c", FINALIZER], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert proc.stdout.strip() == "delivered", proc.stderr
    assert "Exception ignored" not in proc.stderr


WEAKREF_CALLBACK = """
import os, signal, sys, time, weakref
from dnsrace import interrupts
interrupts.install()

class Lock:
    pass

def callback(ref):              # as importlib's module locks: an exception here is dropped
    os.kill(os.getpid(), signal.SIGTERM)
    sum(range(1000))

try:
    lock = Lock()
    ref = weakref.ref(lock, callback)
    del lock
    time.sleep(5)
    print("lost")
except KeyboardInterrupt:
    print("delivered")
"""


def test_a_signal_that_lands_in_a_weakref_callback_is_delivered_after_it():
    """A SIGTERM 0.6 s into start-up landed in importlib's module-lock callback: Python
    printed "Exception ignored" with dnsrace's handler in the traceback."""
    proc = subprocess.run([sys.executable, "-c", WEAKREF_CALLBACK], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=60)
    assert proc.stdout.strip() == "delivered", proc.stderr
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("signame,status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_at_any_moment_of_starting_up_gives_its_status(signame, status):
    """Swept over dnsrace's start-up (imports of numpy, z3, lark: a KeyboardInterrupt
    that passes through an extension's loading once made CPython exit by SIGINT, -2)."""
    import signal
    import time
    seen = set()
    for delay in (0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8):   # past the interpreter's own
        proc = subprocess.Popen([sys.executable, "-m", "dnsrace", "check", RACE], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        time.sleep(delay)
        proc.send_signal(getattr(signal, signame))
        err = proc.communicate(timeout=60)[1]
        # A signal while the interpreter itself starts (importing `signal` before dnsrace's
        # handler exists) gets Python's own KeyboardInterrupt; none may come from dnsrace.
        assert "Traceback" not in err or "/dnsrace/" not in err, (delay, err)
        # before the interpreter has run any of dnsrace, the OS default ends it
        assert proc.returncode in (status, -getattr(signal, signame), 0), (delay, err)
        seen.add(proc.returncode)
    assert status in seen


def test_a_signal_inside_a_z3_calls_arguments_is_an_interrupt_not_a_traceback(monkeypatch):
    """ctypes wraps a KeyboardInterrupt raised while it converts a C call's arguments in a
    ctypes.ArgumentError ("argument 3: KeyboardInterrupt"): the fuzzer's SIGINT 1.7 s into
    `--engine pdr` got one out of BMC's encoding as a traceback."""
    import ctypes
    import signal

    from dnsrace import interrupts
    from dnsrace.api import check
    from dnsrace.symbolic import encode

    def interrupted_call(self, *args, **kw):
        monkeypatch.setattr(interrupts, "_received", [signal.SIGINT])
        raise ctypes.ArgumentError("argument 3: <class 'KeyboardInterrupt'>: ")

    monkeypatch.setattr(encode.Encoding, "ranges", interrupted_call)
    for engine in ("bmc", "kind", "pdr"):
        result = check(ROOT / "specs" / "lease_handoff.yaml", engine=engine, max_depth=5)
        assert result.stopped == "interrupted", engine
    def wrong_argument(self, *args, **kw):
        raise ctypes.ArgumentError("argument 3: <class 'TypeError'>: wrong type")

    monkeypatch.setattr(interrupts, "_received", [])   # not a signal: a real error
    monkeypatch.setattr(encode.Encoding, "ranges", wrong_argument)
    with pytest.raises(ctypes.ArgumentError):
        check(ROOT / "specs" / "lease_handoff.yaml", engine="bmc", max_depth=5)


WRAPPED_AT_START = """
import signal, sys
from dnsrace import interrupts
interrupts.install()
interrupts._received.append(signal.SIGTERM)      # a signal has arrived...
interrupts.install = lambda: None
sys.modules["dnsrace.cli"] = None                # ...and the import it cut fails otherwise
from dnsrace.__main__ import main
main()
"""


def test_a_signal_that_python_wraps_while_starting_ends_with_its_status():
    """A SIGTERM 0.14 s into start-up landed in a dataclass's __set_name__, which Python
    wraps in a RuntimeError: it printed a traceback (the fuzzer's interrupt family)."""
    proc = subprocess.run([sys.executable, "-c", WRAPPED_AT_START], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=60)
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr == "dnsrace: SIGTERM while starting\n"


def test_a_finalizers_error_after_a_signal_is_its_echo_and_not_printed(monkeypatch):
    # The fuzzer's interrupt family: a SIGINT cut z3.Context.__init__ short, and the half-built
    # context's __del__ then raised AttributeError ('Context' object has no attribute 'owner'),
    # which Python printed as "Exception ignored in ..." with a traceback.
    import signal
    from types import SimpleNamespace

    from dnsrace import interrupts

    printed = []
    hook = interrupts._unraisable_hook(printed.append)
    error = SimpleNamespace(exc_value=AttributeError("'Context' object has no attribute 'owner'"))
    hook(error)
    assert printed == [error]                   # without a signal: Python's usual report
    monkeypatch.setattr(interrupts, "_received", [signal.SIGINT])
    printed.clear()
    hook(error)
    assert printed == []                        # after one: dropped
