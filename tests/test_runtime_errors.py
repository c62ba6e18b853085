"""Run-time errors explained: a trace that ends in a failing step (or in a state where a
guard fails to evaluate) names the failing expression with its position in the spec
(file:line:col, the source line, a caret) and the values it read, in the text report, the
JSON report, trace files and replay (tests/runtime/NAME.yaml, golden reports in
NAME.expected)."""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import ROOT, run_cli

RUNTIME = ROOT / "tests" / "runtime"
# spec -> (the failing property, the JSON `error` of its last step)
CASES = {
    "index": ("error", {"line": 11, "col": 13, "message": "array index out of range: record[e] "
                        "with e = 2, record has 2 elements",
                        "values": {"e": 2, "record": [0, 0], "len(record)": 2}}),
    "type": ("type", {"line": 7, "col": 13, "message": "the value written to 'q' is outside "
                      "its type 0..3: q += 1 writes 4, with q = 3",
                      "values": {"written": 4, "q": 3}}),
    "division": ("error", {"line": 11, "col": 17, "message": "division by zero: 4 // n with "
                           "n = 0", "values": {"n": 0}}),
    "assertion": ("assertion", {"line": 11, "col": 7, "message": "assertion failed: assert "
                                "a + b < 2 with a = 2, b = 0", "values": {"a": 2, "b": 0}}),
    # a guard that fails to evaluate: the trace ends in the state where it does
    "guard_index": ("error", {"line": 11, "col": 17, "message": "array index out of range: "
                              "slots[e] with e = 3, slots has 3 elements",
                              "values": {"e": 3, "slots": [False, False, False],
                                         "len(slots)": 3}}),
}


def spec(name: str) -> str:
    return os.path.relpath(RUNTIME / f"{name}.yaml")


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", CASES)
def test_text_report(name, update_goldens):
    code, out, _ = run_cli("check", f"tests/runtime/{name}.yaml", "--no-timing")
    golden = RUNTIME / f"{name}.expected"
    if update_goldens:
        golden.write_text(out, encoding="utf-8")
    assert code == 1
    assert out == golden.read_text("utf-8")


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("engine", ["bfs", "array", "bmc"])
def test_json_error(name, engine):
    code, out, _ = run_cli("check", f"tests/runtime/{name}.yaml", "--format", "json",
                           "--engine", engine)
    prop, error = CASES[name]
    p = next(p for p in json.loads(out)["properties"] if p["name"] == prop)
    last = p["trace"]["steps"][-1]
    if name == "guard_index":
        assert last["state"] == {"slots": [False, False, False], "e": 3}
    else:
        assert last["state"] is None and error["message"].startswith(last["message"])
    assert last["error"] == error


def test_trace_file_and_replay(tmp_path):
    code, _, _ = run_cli("check", "tests/runtime/index.yaml", "--trace-dir", str(tmp_path))
    assert code == 1
    path = tmp_path / "index.error.json"
    last = json.loads(path.read_text("utf-8"))["steps"][-1]
    assert last["error"] == CASES["index"][1]
    code, out, _ = run_cli("replay", str(path))
    assert code == 0, out
    assert "tests/runtime/index.yaml:11:13: array index out of range: record[e] with e = 2, " \
           "record has 2 elements" in out
    assert "  11 |     effect: record[e] = 1" in out
