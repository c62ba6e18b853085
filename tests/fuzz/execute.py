"""Running one input and judging what happened.

An input runs as the `dnsrace` console script does (`dnsrace.cli.run()` with `sys.argv` set),
in the worker's process, with stdout and stderr in memory (or stdout failing as a full disk
or a closed pipe does), under an alarm: the time bound.  An input that receives a signal runs
as a subprocess instead.

Verdicts:
    ok            exit status 0-3, no traceback, every exit-2 diagnostic with a position
    traceback     an exception escaped (or stderr shows a traceback)
    hang          past the time bound
    blow-up       MemoryError under the memory cap, or the worker died (killed, a signal)
    bad-exit      an exit status outside 0, 1, 2, 3 (130 and 143 after a signal, 141 after a
                  closed pipe, 74 after a full disk)
    no-position   exit 2 with a diagnostic that names no position (or a position outside
                  the file), or with no diagnostic at all
    bad-report    after exit 0, 1 or 3, a report the input asked for is missing or does not
                  parse as its format (JSON, SARIF, JUnit XML, a whole HTML page, UTF-8)
    unsound       a property the spec violates comes out "holds" (a forged stored proof
                  was believed)
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .corpus import ROOT
from .families import FuzzInput

OK_STATUSES = {0, 1, 2, 3}
OUTPUT_FAILURE = {"pipe": 141, "full": 74}   # a closed pipe, a full disk (dnsrace/terminal.py)
# A signal before the interpreter has run any of dnsrace kills it as the OS default does
# (-2, -15); after that, dnsrace's handler gives 130 or 143.
AFTER_SIGNAL = {"SIGINT": {0, 1, 2, 3, 130, -2}, "SIGTERM": {0, 1, 2, 3, 130, 143, -15}}
HEAD = re.compile(r"^(?P<where>.*?): (?P<severity>error|warning)\[(?P<code>DR\d+)[^\]]*\]: ",
                  re.M)
WHERE = re.compile(r"^(?P<path>.*):(?P<line>\d+):(?P<col>\d+)$")


class Hang(BaseException):
    """The alarm: the input ran past its time bound."""


@dataclass
class Outcome:
    index: int
    family: str
    verdict: str
    status: int | None
    seconds: float
    rss_kib: int
    detail: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


def _alarm(signum, frame):
    raise Hang()


def max_rss_kib() -> int:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children)


# ---------------------------------------------------------------- the input's folder
def stage(inp: FuzzInput, folder: Path) -> None:
    """Write the input's files, FIFOs and sparse files into an empty `folder`."""
    if folder.exists():
        for p in folder.rglob("*"):   # a test may have left a folder without write permission
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in inp.files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    for name in inp.fifos:
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists():
            p.unlink()
        os.mkfifo(p)
    for name, size in inp.sparse.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        with open(folder / name, "wb") as f:
            f.truncate(size)


# ---------------------------------------------------------------- running
class _FailingStream(io.RawIOBase):
    """stdout on a full disk (ENOSPC) or a pipe whose reader has gone (EPIPE)."""

    def __init__(self, err: int):
        self.err = err

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        if len(b):
            raise OSError(self.err, os.strerror(self.err))
        return 0


def _stdout(inp: FuzzInput):
    if inp.stdout == "full":
        raw = io.BufferedWriter(_FailingStream(errno.ENOSPC))
    elif inp.stdout == "pipe":
        raw = io.BufferedWriter(_FailingStream(errno.EPIPE))
    else:
        raw = io.BytesIO()
    return io.TextIOWrapper(raw, encoding=inp.charset, errors="strict")


def run_in_process(inp: FuzzInput, seconds: float, sink: dict | None = None
                   ) -> tuple[str, int | None, str, str]:
    """(verdict so far, exit status, stderr text, detail); what stdout got in sink["stdout"]
    (captured stdout only)."""
    from dnsrace import cli

    err_raw = io.BytesIO()
    stdout = _stdout(inp)
    stderr = io.TextIOWrapper(err_raw, encoding=inp.charset, errors="backslashreplace")
    saved = sys.stdout, sys.stderr, sys.stdin, sys.argv
    sys.stdout, sys.stderr = stdout, stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8")
    sys.argv = ["dnsrace", *inp.argv]
    verdict, status, detail = "ok", None, ""
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            cli.run()
            status = 0
        except SystemExit as exc:
            status = _exit_status(exc.code, stderr)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:   # what the interpreter does at exit: a failure here is "Exception ignored", 120
            sys.stdout.flush()   # click may have replaced it (a broken pipe)
        except Exception as exc:   # noqa: BLE001 - judged, not handled
            verdict, status = "traceback", 120
            detail = f"flushing stdout at exit fails: {exc!r}"
    except Hang:
        verdict, detail = "hang", f"past the {seconds:g} s time bound"
    except MemoryError:
        verdict, detail = "blow-up", "MemoryError under the memory cap\n" + _short_tb()
    except RecursionError:
        verdict, detail = "traceback", traceback.format_exc()
    except BaseException:   # noqa: BLE001 - anything else escaping is what we look for
        verdict, detail = "traceback", traceback.format_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        sys.stdout, sys.stderr, sys.stdin, sys.argv = saved
    try:
        stderr.flush()
    except Exception:   # noqa: BLE001
        pass
    if sink is not None and isinstance(stdout.buffer, io.BytesIO):
        try:
            stdout.flush()
            sink["stdout"] = stdout.buffer.getvalue()
        except (OSError, ValueError):
            pass
    return verdict, status, err_raw.getvalue().decode(inp.charset, "replace"), detail


def _short_tb() -> str:
    return "".join(traceback.format_exc().splitlines(keepends=True)[-12:])


def _exit_status(code, stderr) -> int:
    """What the process would exit with, as `sys.exit(code)` decides."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    stderr.write(f"{code}\n")
    return 1


def run_subprocess(inp: FuzzInput, folder: Path, seconds: float, mem_bytes: int
                   ) -> tuple[str, int | None, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING=inp.charset)

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))

    proc = subprocess.Popen([sys.executable, "-m", "dnsrace", *inp.argv], cwd=folder, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=cap)
    try:
        try:
            proc.wait(timeout=inp.signal_delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(getattr(signal, inp.signal))
        _, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return "hang", None, "", f"no exit {seconds:g} s after {inp.signal}"
    text = err.decode("utf-8", "replace")
    status = proc.returncode
    if status not in AFTER_SIGNAL[inp.signal]:
        return "bad-exit", status, text, f"exit status {status} after {inp.signal}"
    return "ok", status, text, ""


# ---------------------------------------------------------------- judging
def judge(inp: FuzzInput, verdict: str, status: int | None, stderr: str, detail: str
          ) -> tuple[str, str]:
    if verdict != "ok":
        return verdict, detail
    if "Traceback (most recent call last)" in stderr or "Exception ignored" in stderr:
        return "traceback", stderr[-4000:]
    allowed = AFTER_SIGNAL[inp.signal] if inp.signal else OK_STATUSES
    if inp.stdout in OUTPUT_FAILURE:    # its own status when the output itself fails
        allowed = allowed | {OUTPUT_FAILURE[inp.stdout]}
    allowed = allowed | set(inp.also_ok)
    if status not in allowed:
        return "bad-exit", f"exit status {status}\n{stderr[-2000:]}"
    if status == 2 and not inp.signal:
        problem = position_problem(inp, stderr)
        if problem:
            return "no-position", problem
    return "ok", ""


def position_problem(inp: FuzzInput, stderr: str) -> str | None:
    """Why the diagnostics of an exit 2 fall short, or None."""
    heads = list(HEAD.finditer(stderr))
    if not heads:
        if "Error:" in stderr and ("Usage:" in stderr or "Try 'dnsrace" in stderr):
            return None   # click's own command-line errors name the option
        return "exit 2 without a diagnostic: " + (stderr.strip()[-500:] or "(stderr empty)")
    for m in heads:
        line_end = stderr.find("\n", m.start())
        head = stderr[m.start():line_end if line_end >= 0 else None]
        code = m.group("code")
        if code.startswith(("DR4", "DR8", "DR9")) or code in ("DR109", "DR601"):
            continue   # a file, an option or an adapter, not a place in the spec
        where = WHERE.match(m.group("where"))
        if where is None:
            return f"a diagnostic without a position: {head[:500]}"
        data = inp.files.get(where.group("path"))
        if data is not None:
            text = data.decode("utf-8", "replace")
            lines = max(text.count("\n"), len(text.splitlines())) + 1
            line, col = int(where.group("line")), int(where.group("col"))
            if not (1 <= line <= lines and col >= 1):
                return f"a position outside the file ({lines} lines): {head[:500]}"
    return None


# ---------------------------------------------------------------- reports
def report_problem(fmt: str, data: bytes) -> str | None:
    """Why `data` is not a report in `fmt`, or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: {exc}"
    try:
        if fmt in ("json", "sarif"):
            obj = json.loads(text)
            if fmt == "sarif" and not (isinstance(obj, dict) and obj.get("version") == "2.1.0"
                                       and isinstance(obj.get("runs"), list)):
                return "not a SARIF 2.1.0 log (version, runs)"
        elif fmt == "junit":
            root = ET.fromstring(data)
            if root.tag not in ("testsuites", "testsuite"):
                return f"a JUnit report whose root is <{root.tag}>"
        elif fmt == "html" and "</html>" not in text:
            return "an HTML report without </html>"
    except (ValueError, ET.ParseError, RecursionError) as exc:
        return f"does not parse as {fmt}: {exc}"
    return None


def reports_problem(inp: FuzzInput, status: int | None, stdout: bytes | None) -> str | None:
    """Why the reports of a run fall short, or None: after exit 0, 1 or 3 every one must be
    there and parse; after exit 2, those that were written must parse."""
    if status not in (0, 1, 2, 3) or inp.signal:
        return None
    if status == 2 and not stdout:   # stopped before any report (a bad option or spec path)
        stdout = None
    if inp.stdout_format and stdout is not None:
        why = report_problem(inp.stdout_format, stdout)
        if why:
            return f"standard output (--format {inp.stdout_format}): {why}\n{stdout[:300]!r}"
    for path, fmt in inp.reports.items():
        p = Path(path)
        if not p.is_file():
            if status == 2:   # the reports are written after a spec that fails, not before
                continue
            return f"--output {fmt}={path}: not written after exit {status}"
        why = report_problem(fmt, p.read_bytes())
        if why:
            return f"--output {fmt}={path}: {why}"
    return None


def json_position_problem(inp: FuzzInput, stdout: bytes | None) -> str | None:
    """Why the diagnostics of `lint --format json` that exited 2 fall short, or None."""
    try:
        results = json.loads(stdout or b"")
    except ValueError:
        return "exit 2 without a diagnostic, and stdout is not JSON"
    results = results if isinstance(results, list) else [results]
    errors = [d for r in results if isinstance(r, dict) for d in r.get("diagnostics", [])
              if isinstance(d, dict) and d.get("severity") == "error"]
    if not errors:
        return "exit 2 without an error among the JSON diagnostics"
    for d in errors:
        code = str(d.get("code"))
        if code.startswith("DR4") or code in ("DR109", "DR601"):
            continue
        line, col = d.get("line"), d.get("col")
        if not (isinstance(line, int) and isinstance(col, int) and line >= 1 and col >= 1):
            return f"a JSON diagnostic without a position: {json.dumps(d)[:500]}"
        data = inp.files.get(str(d.get("path")))
        if data is not None:
            text = data.decode("utf-8", "replace")
            if line > max(text.count("\n"), len(text.splitlines())) + 1:
                return f"a JSON diagnostic past the end of its file: {json.dumps(d)[:500]}"
    return None


def unsound(inp: FuzzInput, status: int | None, stdout: bytes | None) -> str | None:
    """A property the spec violates that the JSON result says holds, or None."""
    if status not in (0, 1, 3) or not stdout:
        return None
    try:
        result = json.loads(stdout)
    except ValueError:
        return None   # reports_problem judges the format
    for p in result.get("properties", []) if isinstance(result, dict) else []:
        if isinstance(p, dict) and p.get("name") in inp.must_not_hold and \
                p.get("outcome") == "holds":
            return f"{p['name']} holds, but the spec violates it: {p.get('message')}"
    return None


def run_one(index: int, inp: FuzzInput, folder: Path, seconds: float, mem_bytes: int
            ) -> Outcome:
    stage(inp, folder)
    here = os.getcwd()
    os.chdir(folder)
    t0 = time.monotonic()
    statuses: list[int | None] = []
    try:
        for run in range(max(1, inp.runs)):
            if run and inp.between is not None:
                inp.between(folder)
            sink: dict = {}
            if inp.signal:
                verdict, status, stderr, detail = run_subprocess(inp, folder, seconds, mem_bytes)
            else:
                verdict, status, stderr, detail = run_in_process(inp, seconds, sink)
            verdict, detail = judge(inp, verdict, status, stderr, detail)
            if verdict == "no-position" and inp.stdout_format == "json" \
                    and inp.argv[:1] == ["lint"]:   # the diagnostics are in the JSON
                why = json_position_problem(inp, sink.get("stdout"))
                verdict, detail = ("no-position", why) if why else ("ok", "")
            if verdict == "ok":
                why = reports_problem(inp, status, sink.get("stdout"))
                if why:
                    verdict, detail = "bad-report", why
            if verdict == "ok" and inp.must_not_hold:
                why = unsound(inp, status, sink.get("stdout"))
                if why:
                    verdict, detail = "unsound", why
            if verdict == "ok" and inp.same_status and statuses and statuses[0] in (0, 1) \
                    and status != statuses[0]:
                verdict, detail = "bad-exit", (f"run {run + 1} exits {status}, run 1 exited "
                                               f"{statuses[0]} (a complete result)\n{stderr[-2000:]}")
            statuses.append(status)
            if verdict != "ok":
                if run:
                    detail = f"(run {run + 1} of {inp.runs}) {detail}"
                break
    finally:
        os.chdir(here)
    elapsed = time.monotonic() - t0
    return Outcome(index, inp.family, verdict, status, elapsed, max_rss_kib(), detail, inp.note)
