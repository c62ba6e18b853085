"""Small helpers shared by the tests."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from dnsrace.api import check
from dnsrace.cli import main

ROOT = Path(__file__).resolve().parent.parent

# the smallest spec with a state, an action, an invariant and a reachable (for CLI tests)
COUNTER = """
    dnsrace: 1
    name: counter
    constants:
      N: 3
    variables:
      x: {type: "0..N", init: 0}
    actions:
      - name: inc
        guard: x < N
        effect: x += 1
    invariants:
      small: "x <= N"
    reachable:
      top: "x == N"
    """


def write_spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def check_text(tmp_path: Path, text: str, **kw):
    return check(write_spec(tmp_path, text), **kw)


def run_cli(*args: str):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    runner = CliRunner()
    res = runner.invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def outcomes(result) -> dict[str, str]:
    return {p.name: p.outcome for p in result.properties}


def trace_lengths(result) -> dict[str, int | None]:
    return {p.name: (p.trace.length if p.trace else None) for p in result.properties}


def load_json(text: str):
    return json.loads(text)


def without_temporal(path: Path, tmp_path: Path) -> Path:
    """A copy of the spec at `path` without its `temporal:` and `fairness:` sections: for
    the tests of the safety engines, where a liveness search would only add time."""
    kept, skipping = [], False
    for line in Path(path).read_text(encoding="utf-8").splitlines(keepends=True):
        if line[:1].strip() and not line.startswith("#"):     # a top-level key
            skipping = line.startswith(("temporal:", "fairness:"))
        if not skipping:
            kept.append(line)
    out = tmp_path / Path(path).name
    out.write_text("".join(kept), encoding="utf-8")
    return out


def checks_of(trace) -> list:
    """The stale checks a trace's explanation found (its stale reads left out)."""
    return [r for r in trace.races if r.kind == "check"]


def import_or_skip(module: str, install: str):
    """The module, or a skip that says how to install it; in CI (CI=true) a missing module
    fails instead: CI installs the test extra, so a skip there would hide a gap."""
    import importlib
    import os

    import pytest

    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is missing in CI ({install})", pytrace=False)
        pytest.skip(f"{module} is not installed: {install}", allow_module_level=True)
