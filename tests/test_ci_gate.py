"""The CI gate as a team wires it in: one library API reaching every engine, several
report files from one run, logs that keep what went wrong, folders, lint over many specs,
replay of check's own JSON output, progress in CI logs, exit statuses in --help."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import dnsrace
from dnsrace.engines.bfs import Progress
from dnsrace.engines.registry import ENGINES
from dnsrace.results import CheckResult, Location
from tests.helpers import COUNTER, ROOT, run_cli, write_spec

LEASE = ROOT / "tests" / "contract" / "lease_handoff.yaml"



@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_engine_is_reachable_from_the_library(engine, tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    result = dnsrace.check(spec, engine=engine, max_depth=6)
    assert isinstance(result, CheckResult)
    small = result.property("small")
    if engine == "bmc":   # a bound, not a proof: says why it stopped
        assert small.outcome == "unknown" and small.message
    else:
        assert small.outcome == "holds"
    expected_engine = {"auto": "array"}.get(engine, engine)
    assert result.engine == expected_engine
    # what reports need travels with the result, whichever engine made it
    assert result.field_kinds == {"x": "value"}
    assert result.spec_map.properties["small"] == Location(12, 3)
    assert result.spec_map.transitions["inc"].family == "inc"
    assert result.spec_map.transitions["inc"].location == Location(8, 5)


def test_engine_extras_are_declared_fields(tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    proved = dnsrace.check(spec, engine="pdr").property("small")
    assert proved.engine == "pdr" and proved.invariant_text
    assert dnsrace.check(spec, engine="bfs").property("small").invariant_text is None


def test_the_library_refuses_what_cannot_run(tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    with pytest.raises(dnsrace.SpecError, match="no engine 'fast'"):
        dnsrace.check(spec, engine="fast")
    with pytest.raises(dnsrace.SpecError, match="runs the array engine, not pdr"):
        dnsrace.check(spec, engine="pdr", device="gpu")


def test_progress_reaches_the_library_caller_from_every_kind_of_engine(tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    seen: list[Progress] = []
    dnsrace.check(spec, engine="bmc", max_depth=3, progress=seen.append)
    assert seen and all(p.note and p.note.startswith("BMC depth") for p in seen)


def test_no_engine_dispatch_is_left_in_the_command_line():
    cli = (ROOT / "dnsrace" / "cli.py").read_text()
    for name in ("check_bmc", "check_kind", "check_pdr", "check_system_array",
                 "prove_what_held", "array_bfs", "symbolic"):
        assert name not in cli, name


def test_replay_and_render_are_library_functions(tmp_path):
    out = tmp_path / "out.json"
    code, text, _ = run_cli("check", str(LEASE), "--format", "json")
    out.write_text(text)
    import dnsrace.replay   # the module of that name does not hide the function
    done = dnsrace.replay_trace(out, spec=LEASE, prop="single_holder")
    assert done.ok and done.report.faithful and not done.spec_changed
    result = dnsrace.check(LEASE)
    assert json.loads(dnsrace.render("json", [result]))["properties"][0]["name"] == \
        "single_holder"


def test_outputs_write_several_formats_from_one_run(tmp_path):
    log = tmp_path / "log.txt"
    data = tmp_path / "result.json"
    code, out, _ = run_cli("check", str(LEASE), "--no-timing", "--output", f"text={log}",
                           "--output", f"json={data}")
    assert code == 0
    assert log.read_text() == out   # the file holds what the terminal shows
    assert json.loads(data.read_text())["passed"] is True


def test_bad_outputs_are_refused_before_any_search(tmp_path):
    code, _, err = run_cli("check", str(LEASE), "--output", "yaml=x.yaml")
    assert code == 2 and "DR401" in err and "FORMAT one of text, json" in err
    (tmp_path / "file").write_text("")
    code, _, err = run_cli("check", str(LEASE), "--output", f"json={tmp_path}/file/x.json")
    assert code == 2 and "DR402" in err and "cannot create the folder" in err
    code, _, err = run_cli("check", str(LEASE), "--output", f"json={tmp_path}")
    assert code == 2 and "DR402" in err and "it is a folder" in err
    code, _, _ = run_cli("check", str(LEASE), "--output", f"json={tmp_path}/new/x.json")
    assert code == 0 and json.loads((tmp_path / "new" / "x.json").read_text())["passed"]


def test_unknown_reasons_are_in_the_text_report(tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    code, out, _ = run_cli("check", str(spec), "--engine", "bmc", "--max-depth", "1",
                           "--quiet")
    assert code == 3
    rows = out.splitlines()
    i = next(k for k, line in enumerate(rows) if " small " in line)
    assert rows[i].split()[0] == "?" and rows[i + 1].strip().startswith("(")


def test_a_folder_means_yaml_and_yml_recursively_in_sorted_order(tmp_path):
    write_spec(tmp_path / "b", COUNTER.replace("counter", "two"), "two.yml") \
        if (tmp_path / "b").mkdir() is None else None
    write_spec(tmp_path, COUNTER.replace("counter", "one"), "one.yaml")
    (tmp_path / "b" / "notes.txt").write_text("not a spec")
    code, out, _ = run_cli("check", str(tmp_path), "--format", "json")
    assert code == 0
    assert [r["spec"]["name"] for r in json.loads(out)] == ["two", "one"] \
        if str(tmp_path / "b" / "two.yml") < str(tmp_path / "one.yaml") else ["one", "two"]
    code, _, err = run_cli("check", str(tmp_path / "b" / "notes.txt").rsplit("/", 1)[0] +
                           "/../b/notes.txt")
    assert code == 2


def test_an_empty_folder_is_an_error_that_says_what_was_looked_for(tmp_path):
    code, _, err = run_cli("check", str(tmp_path))
    assert code == 2 and "DR109" in err and "*.yaml or *.yml" in err


def test_lint_takes_many_specs_and_folders_and_has_json(tmp_path):
    write_spec(tmp_path, COUNTER, "clean.yaml")
    write_spec(tmp_path, COUNTER.replace("x <= N", "y <= N"), "broken.yml")
    code, out, err = run_cli("lint", str(tmp_path), str(LEASE), "--format", "json")
    assert code == 2
    reports = json.loads(out)
    assert [Path(r["spec"]["path"]).name for r in reports] == \
        ["broken.yml", "clean.yaml", "lease_handoff.yaml"]
    broken = reports[0]["diagnostics"][0]
    assert broken["code"] == "DR201" and broken["line"] == 12 and broken["severity"] == "error"
    assert reports[1] == {"spec": {"path": str(tmp_path / "clean.yaml")}, "errors": 0,
                          "warnings": 0, "diagnostics": []}
    code, out, err = run_cli("lint", str(tmp_path / "clean.yaml"), str(LEASE))
    assert code == 0 and out.count("no problems found") == 2


def test_help_lists_the_exit_statuses():
    for args in (["--help"], ["check", "--help"]):
        code, out, _ = run_cli(*args)
        assert code == 0
        statuses = re.findall(r"^\s+(\d+)\s{2,}", out.split("Exit statuses:")[1], re.M)
        assert statuses == ["0", "1", "2", "3", "130", "143", "141"], args


def test_replay_reads_checks_json_output_and_nested_traces(tmp_path):
    # as CI runs it, from the repository's root, with the spec's path relative to it
    code, text, _ = run_cli("check", "specs/dynamodb_dns_race.yaml", "--format", "json")
    out = tmp_path / "check.json"
    out.write_text(text)
    code, _, err = run_cli("replay", str(out))
    assert code == 2 and "DR603" in err and "--property NAME: no_empty_record" in err
    code, shown, _ = run_cli("replay", str(out), "--property", "no_empty_record")
    assert code == 0 and "replayed 11 steps faithfully" in shown
    prop = next(p for p in json.loads(text)["properties"] if p["name"] == "no_empty_record")
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"spec": json.loads(text)["spec"], "trace": prop["trace"],
                                  "constants": json.loads(text)["constants"]}))
    code, shown, _ = run_cli("replay", str(nested), "--spec",
                             str(ROOT / "specs" / "dynamodb_dns_race.yaml"))
    assert code == 0 and "replayed 11 steps faithfully" in shown


def test_a_bad_state_inside_check_output_is_located_in_that_file(tmp_path):
    code, text, _ = run_cli("check", str(LEASE), "--format", "json")
    obj = json.loads(text)
    obj["properties"][0]["trace"]["steps"][2]["state"]["lease"] = 99
    out = tmp_path / "check.json"
    out.write_text(json.dumps(obj, indent=2))
    code, _, err = run_cli("replay", str(out), "--spec", str(LEASE), "--property",
                           "single_holder")
    assert code == 2 and "DR606" in err
    line = next(k for k, row in enumerate(out.read_text().splitlines(), 1)
                if '"lease": 99' in row)
    assert f"check.json:{line}:" in err


def test_progress_lines_in_ci_logs_come_every_few_seconds(monkeypatch):
    from dnsrace import cli

    lines: list[str] = []
    monkeypatch.setattr(cli, "echo", lambda text, err=False: lines.append(text))
    clock = iter([1.0, 4.0, 6.0, 8.0, 12.0])
    line = cli._ProgressLine("spec", live=True)   # stderr is not a terminal under pytest
    line.clock = lambda: next(clock)
    line.last = 0.0
    for states in (10, 20, 30, 40, 50):
        line(Progress(states, 0, 1, 0, 1.0))
    assert [x.split(": ")[2].split()[0] for x in lines] == ["30", "50"]


def test_the_cache_reports_an_unchanged_spec_without_exploring_it_again(tmp_path):
    spec = write_spec(tmp_path, COUNTER)
    cache = str(tmp_path / "cache")
    first = run_cli("check", str(spec), "--no-timing", "--cache", cache)
    again = run_cli("check", str(spec), "--no-timing", "--cache", cache)
    assert first[0] == again[0] == 0
    assert "cached" not in first[1]
    assert again[1] == first[1].replace("; complete", "; complete; cached (an earlier run's "
                                        "result: the spec, constants, engine and limits are "
                                        "unchanged)")
    other = run_cli("check", str(spec), "--no-timing", "--cache", cache, "--const", "N=2")
    assert "cached" not in other[1] and "N=2" in other[1]
    code, out, _ = run_cli("check", str(spec), "--cache", cache, "--format", "json")
    assert json.loads(out)["cached"] is True


def test_an_unusable_cache_folder_is_refused_before_any_search(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli("check", str(LEASE), "--cache", str(blocker / "sub"))
    assert code == 2 and "DR402" in err and "--cache" in err


def test_one_run_writes_junit_sarif_markdown_and_html(tmp_path):
    files = {fmt: tmp_path / f"report.{fmt}" for fmt in ("junit", "sarif", "markdown",
                                                         "html", "github")}
    args = [f"--output={fmt}={path}" for fmt, path in files.items()]
    code, out, _ = run_cli("check", str(LEASE), "--no-timing", *args)
    assert code == 0 and "PASSED" in out
    assert files["junit"].read_text().startswith("<?xml")
    assert json.loads(files["sarif"].read_text())["version"] == "2.1.0"
    assert "sequenceDiagram" in files["markdown"].read_text()
    assert "<html" in files["html"].read_text()
    code, out, _ = run_cli("check", str(LEASE), "--no-timing", "--format", "github")
    assert out == files["github"].read_text()
