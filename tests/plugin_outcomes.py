"""Outcomes of `pytest SPECS -rA` (the dnsrace plugin) and of `dnsrace check SPECS --format
json`, by node id (`specs/spec.yaml::property`), to compare them.

Standard library only: tests/fresh_venv_plugin.sh runs it as a script with the Python of a
fresh virtual environment, where tests/ is not importable:

    python tests/plugin_outcomes.py PYTEST_OUTPUT CHECK_JSON
exits 0 when every property passes in pytest exactly when it is as expected in the check,
else prints the differences and exits 1.
"""

from __future__ import annotations

import json
import re
import sys

# the short test summary of `pytest -rA`: `PASSED specs/x.yaml::p`, `FAILED ... - why`
_SUMMARY = re.compile(r"^(PASSED|FAILED|ERROR) (\S+)", re.M)


def pytest_outcomes(output: str) -> dict[str, str]:
    """Node id -> "passed", "failed" or "error" (a collection error has the file's id)."""
    return {m.group(2): m.group(1).lower() for m in _SUMMARY.finditer(output)}


def check_outcomes(report: str) -> dict[str, str]:
    """Node id -> "passed" (as expected) or "failed" (not as expected, or unknown), from
    the JSON report of `dnsrace check`; a spec that could not be checked -> "error"."""
    specs = json.loads(report)
    out = {}
    for spec in specs if isinstance(specs, list) else [specs]:
        path = spec["spec"]["path"]
        if "errors" in spec:
            out[path] = "error"
        for p in spec.get("properties", []):
            ok = p["outcome"] != "unknown" and p["outcome"] == p["expected"]
            out[f"{path}::{p['name']}"] = "passed" if ok else "failed"
    return out


def differences(pytest_output: str, check_report: str) -> list[str]:
    got, want = pytest_outcomes(pytest_output), check_outcomes(check_report)
    return [f"{k}: pytest {got.get(k, 'not run')}, dnsrace check {want.get(k, 'not run')}"
            for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as a, open(argv[1], encoding="utf-8") as b:
        pytest_output, check_report = a.read(), b.read()
    diff = differences(pytest_output, check_report)
    for line in diff:
        print(line)
    if not pytest_outcomes(pytest_output):
        print("pytest reported no outcome (was it run with -rA?)")
        return 1
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
