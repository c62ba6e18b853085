"""Writing what dnsrace prints, safely: no control character from a spec or a trace reaches
the terminal as is, no text fails to encode, and an output that cannot be written (a closed
pipe, a full disk) is an error with an exit status of its own, never a traceback.

Exit statuses for the output itself: 141 when the reader closed the pipe (128 + SIGPIPE, as
a shell reports `dnsrace check ... | head`), 74 when writing failed otherwise (EX_IOERR: a
full disk, an I/O error).
"""

from __future__ import annotations

import errno
import io
import os
import re
import sys

import click

EXIT_BROKEN_PIPE = 141
EXIT_OUTPUT_ERROR = 74

# C0 controls but newline and tab, DEL, C1 controls, and lone surrogates (from escapes such
# as "\ud800" in a YAML double-quoted scalar, which no encoding can write).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def escape_controls(text: str) -> str:
    """`text` with every control character (but newline and tab) shown as an escape."""
    return _UNSAFE.sub(_escape_one, text)


def escape_controls_json(text: str) -> str:
    """JSON text with the same characters written as JSON's backslash-u escapes (json.dumps
    escapes C0 itself, but not DEL, C1 or lone surrogates), so the JSON stays valid and
    `escape_controls` leaves it unchanged."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _escape_one(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


class OutputError(Exception):
    """The output could not be written; `status` is the exit status to end with."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def output_error(exc: OSError, what: str) -> OutputError:
    if exc.errno == errno.EPIPE:
        return OutputError(f"dnsrace: the reader of {what} closed it early (broken pipe)",
                           EXIT_BROKEN_PIPE)
    return OutputError(f"dnsrace: cannot write {what}: {exc.strerror or exc}",
                       EXIT_OUTPUT_ERROR)


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """click.echo with control characters escaped; a failed write raises OutputError."""
    try:
        click.echo(escape_controls(text), err=err, nl=nl)
    except OSError as exc:
        raise output_error(exc, "the standard error" if err else "the standard output") \
            from None


def protect_streams() -> None:
    """Text that an encoding cannot carry is written as backslash escapes, not an error."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):   # replaced streams (tests) keep theirs
            pass


def finish(status: int) -> int:
    """Flush the standard output before exiting; its failure decides the exit status."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        return fail_output(output_error(exc, "the standard output"))
    return status


def fail_output(failure: OutputError) -> int:
    """Report an output failure on stderr (if it can) and return its exit status."""
    _silence_stdout()
    _say(str(failure))
    return failure.status


def _silence_stdout() -> None:
    """Send what is left for the standard output to /dev/null, so no later flush (the
    interpreter's, at exit) fails again: its file descriptor is pointed there, and the stream
    object is replaced."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass
    sys.stdout = open(os.devnull, "w", encoding="utf-8")


def _say(message: str) -> None:
    try:
        sys.stderr.write(escape_controls(message) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def write_file(path, text: str, what: str) -> None:
    """Write a report or trace file; OutputError (exit 74) when it cannot be written.
    Opened without blocking, so a FIFO put in its place fails at once instead of waiting
    for a reader for ever."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
    except OSError as exc:
        raise output_error(exc, what) from None
