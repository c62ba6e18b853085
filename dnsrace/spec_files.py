"""Which files are dnsrace specs, for the tools that meet a project's files in bulk (the
pytest plugin, the pre-commit hooks): a `*.yaml` or `*.yml` file with a top-level `dnsrace:`
key, the language version every spec starts with.  Other YAML files (CI workflows,
`.pre-commit-config.yaml`, an application's settings) are left alone.  Standard library
only: pytest imports this in every run."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

SPEC_SUFFIXES = (".yaml", ".yml")
# a top-level `dnsrace:` key (quoted or not) at the start of a line
_SPEC_KEY = re.compile(rb"^(dnsrace|\"dnsrace\"|'dnsrace')[ \t]*:", re.M)
_HEAD_BYTES = 256 << 10   # a spec's largest size (input_files.MAX_SPEC_BYTES)


def is_spec(path: str | os.PathLike) -> bool:
    """Whether the file at `path` is a dnsrace spec: a regular `*.yaml`/`*.yml` file with a
    top-level `dnsrace:` key in its first 256 KiB (a larger one is still a spec, for the
    loader to reject as too large).  Never opens a FIFO or a device."""
    if Path(path).suffix not in SPEC_SUFFIXES:
        return False
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as f:
            return _SPEC_KEY.search(f.read(_HEAD_BYTES)) is not None
    except OSError:
        return False
