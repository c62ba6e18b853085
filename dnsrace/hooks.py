"""The pre-commit hooks of .pre-commit-hooks.yaml: `python -m dnsrace.hooks lint|check
[OPTION...] FILE...` runs `dnsrace lint` or `dnsrace check` on the files that are dnsrace
specs (spec_files.is_spec) and skips the other YAML files pre-commit hands it.

An argument naming an existing file is a file; every other argument (the hook's `args`,
e.g. `--const N=3`) is passed to dnsrace as given.  The exit status is dnsrace's (the worst
of them): 0 clean, 1 lint warnings or a property not as expected, 2 an invalid spec, 3 an
incomplete check."""

from __future__ import annotations

import os
import subprocess
import sys

from .spec_files import is_spec

USAGE = "usage: python -m dnsrace.hooks lint|check [OPTION...] FILE..."


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    """(options, specs): files that are specs, options as given; other files dropped."""
    options, specs = [], []
    for a in args:
        if os.path.isfile(a) or os.path.islink(a):
            if is_spec(a):
                specs.append(a)
        else:
            options.append(a)
    return options, specs


def dnsrace(*args: str) -> int:
    return subprocess.run([sys.executable, "-m", "dnsrace", *args]).returncode


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("lint", "check"):
        print(USAGE, file=sys.stderr)
        return 2
    command, (options, specs) = argv[0], split_args(argv[1:])
    if not specs:
        return 0
    return dnsrace(command, *options, *specs)


if __name__ == "__main__":
    sys.exit(main())
