"""Reading the files a user hands dnsrace (specs and traces): untrusted input.

Only regular files are read (a FIFO, a device such as /dev/zero or a folder never is), and
never more than a size limit, so no input can hang the reader or fill the memory.
"""

from __future__ import annotations

import os
import stat

MAX_SPEC_BYTES = 256 << 10      # 256 KiB: the largest shipped spec is under 8 KiB, and YAML
                                # is read at about 100 KiB/s
MAX_TRACE_BYTES = 64 << 20      # 64 MiB: a trace of thousands of steps of large states


class InputFileError(Exception):
    """The file cannot be read as an input; the message says why and ends without a period."""


def read_input_bytes(path: str | os.PathLike, what: str, limit: int) -> bytes:
    """The bytes of the regular file at `path` (at most `limit` of them), or InputFileError.

    `what` names the file's role in messages ("spec", "trace")."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputFileError(f"cannot read the {what}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"the {what} is not a regular file "
                                 f"({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise InputFileError(f"the {what} is {info.st_size:,} bytes, more than the "
                                 f"{limit:,} a {what} may have")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:   # the file grew while we read it
                raise InputFileError(f"the {what} is more than the {limit:,} bytes a {what} "
                                     "may have")
        return b"".join(chunks)
    except OSError as exc:
        raise InputFileError(f"cannot read the {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"
