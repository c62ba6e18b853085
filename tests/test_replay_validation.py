"""`dnsrace replay` validates everything it reads: a trace whose states leave their types, or
whose fields have the wrong JSON type, is refused with a positioned DR6xx error (exit 2), never
replayed 'faithfully' and never a traceback."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from dnsrace import input_files
from dnsrace.api import compile_spec
from dnsrace.frontend.types import ArrayT, BoolT, IntT, SeqT, SetT, SymT
from dnsrace.replay import Replayer, trace_steps
from dnsrace.trace_file import TraceError
from tests.helpers import ROOT, run_cli, write_spec

RACE = ROOT / "specs" / "dynamodb_dns_race.yaml"

SHAPES = """
    dnsrace: 1
    name: shapes
    constants:
      N: 3
    types:
      Color: [red, green, blue]
    variables:
      color: {type: Color, init: red}
      seen:  {type: "set of 0..N", init: "{}"}
      queue: {type: "seq of 0..N max 2", init: "[]"}
      paint: {type: "[Color]bool", init: false}
      count: {type: int, init: 0}
    processes:
      P:
        count: 2
        locals:
          x: {type: "0..N", init: 0}
        steps:
          - name: go
            guard: len(queue) < 2
            effect: |
              x = N
              queue = append(queue, self)
              seen |= {self, N}
              paint[blue] = true
              color = blue
              count += 1
    reachable:
      busy: {expr: "count == 2"}
"""


def write_trace(spec: Path, folder: Path, prop: str) -> Path:
    code, _, err = run_cli("check", str(spec), "--trace-dir", str(folder), "-q")
    assert code in (0, 1), err
    return next(folder.glob(f"*.{prop}.json"))


@pytest.fixture
def race(tmp_path) -> dict:
    return json.loads(write_trace(RACE, tmp_path, "no_empty_record").read_text())


@pytest.fixture
def shapes(tmp_path) -> dict:
    spec = write_spec(tmp_path, SHAPES)
    return json.loads(write_trace(spec, tmp_path, "busy").read_text())


def replay(tmp_path: Path, obj, *extra: str, indent: int | None = None):
    f = tmp_path / "edited.json"
    f.write_text(json.dumps(obj, indent=indent))
    return run_cli("replay", str(f), *extra)


def refused(result, code: str, *words: str) -> str:
    """Assert a clean refusal (exit 2, the code, every word, nothing replayed); the stderr."""
    status, out, err = result
    assert status == 2, out + err
    assert out == ""
    assert f"error[{code} " in err, err
    for w in words:
        assert w in err, err
    assert "Traceback" not in err
    return err


def last(obj) -> dict:
    return obj["steps"][-1]["state"]


# ---------------------------------------------------------------- values outside their types
@pytest.mark.parametrize("value", [0, 5, 8, -1, 1 << 40])
def test_a_forged_final_state_past_a_range_is_refused_naming_step_and_value(tmp_path, race,
                                                                          value):
    last(race)["record"][0] = value
    refused(replay(tmp_path, race), "DR606",
            f"step 11: record[0]: {value} is not a value of its type 1..4")


def test_a_forged_initial_state_is_refused(tmp_path, race):
    race["steps"][0]["state"]["newest"] = 0
    refused(replay(tmp_path, race), "DR606", "step 0: newest: 0 is not a value of its type 1..4")


def test_the_error_points_at_the_value_in_the_file(tmp_path, race):
    last(race)["record"][0] = 5
    err = refused(replay(tmp_path, race, indent=2), "DR606")
    head, quoted, caret = err.splitlines()[:3]
    f = tmp_path / "edited.json"
    line = int(head.split(":")[1])
    assert f.read_text().splitlines()[line - 1] == quoted.split("| ", 1)[1] == "          5,"
    assert caret.endswith("|           ^")


def test_an_enumeration_value_outside_is_refused(tmp_path, shapes):
    last(shapes)["color"] = "purple"
    refused(replay(tmp_path, shapes), "DR606",
            'step 2: color: "purple" is not a value of its type Color (red, green, blue)')


def test_a_program_counter_outside_its_steps_is_refused(tmp_path, race):
    race["steps"][3]["state"]["Enactor.pc"][1] = "nap"
    refused(replay(tmp_path, race), "DR606", 'step 3: Enactor.pc[1]: "nap" is not a value')


def test_a_set_element_outside_or_twice_is_refused(tmp_path, shapes):
    bad = copy.deepcopy(shapes)
    last(bad)["seen"] = [0, 4]
    refused(replay(tmp_path, bad), "DR606",
            "step 2: seen (element 1): 4 is not a value of its type 0..3")
    last(shapes)["seen"] = [0, 3, 0]
    refused(replay(tmp_path, shapes), "DR606", "step 2: seen: 0 appears twice in the set")


def test_a_sequence_too_long_or_with_an_element_outside_is_refused(tmp_path, shapes):
    bad = copy.deepcopy(shapes)
    last(bad)["queue"] = [0, 1, 2]
    refused(replay(tmp_path, bad), "DR606", "step 2: queue: a sequence of 3 values is longer "
            "than its type seq of 0..3 max 2 allows")
    last(shapes)["queue"] = [0, 9]
    refused(replay(tmp_path, shapes), "DR606", "step 2: queue[1]: 9 is not a value")


def test_an_array_of_the_wrong_length_is_refused(tmp_path, race):
    last(race)["record"] = [4, 4, 4]
    refused(replay(tmp_path, race), "DR606",
            "step 11: record: an array of 3 values, but its type [0..1]1..4 has 2")


def test_an_array_indexed_by_an_enumeration_needs_exactly_its_keys(tmp_path, shapes):
    bad = copy.deepcopy(shapes)
    del last(bad)["paint"]["blue"]
    last(bad)["paint"]["purple"] = True
    refused(replay(tmp_path, bad), "DR606", "step 2: paint: its keys are not the index's "
            'values (missing "blue"; unknown "purple")')
    last(shapes)["paint"] = [False, False, True]
    refused(replay(tmp_path, shapes), "DR606", "step 2: paint: [false, false, true] is not a "
            "value of its type [Color]bool")


def test_a_per_instance_list_of_the_wrong_length_is_refused(tmp_path, race):
    last(race)["Enactor.plan"] = [1, 1]
    refused(replay(tmp_path, race), "DR606",
            "step 11: Enactor.plan: 2 values, but Enactor has 3 instances: one value each")


def test_a_bool_given_as_0_or_1_is_refused(tmp_path, race):
    race["steps"][4]["state"]["empty"][0] = 0
    refused(replay(tmp_path, race), "DR606", "step 4: empty[0]: 0 is not a value of its type bool")


def test_an_int_given_as_a_bool_is_refused(tmp_path, race):
    race["steps"][4]["state"]["newest"] = True
    refused(replay(tmp_path, race), "DR606", "step 4: newest: true is not a value of its type")


def test_an_unbounded_int_past_the_engines_limit_is_refused(tmp_path, shapes):
    last(shapes)["count"] = 1 << 63
    refused(replay(tmp_path, shapes), "DR606",
            f"step 2: count: {1 << 63} is not a value of its type int (held within +-2^62)")


def test_a_huge_integer_is_refused_briefly(tmp_path, race):
    last(race)["newest"] = 10 ** 100
    err = refused(replay(tmp_path, race), "DR606", "step 11: newest: an integer of 101 digits")
    assert "0000000000" not in err


def test_an_integer_with_too_many_digits_to_read_is_refused(tmp_path, race):
    f = tmp_path / "edited.json"
    f.write_text(json.dumps(race).replace('"newest": 1', '"newest": 1' + "0" * 5000, 1))
    refused(run_cli("replay", str(f)), "DR602", "an integer of more than 4300 digits")


def test_a_state_with_other_variables_is_refused(tmp_path, race):
    state = race["steps"][2]["state"]
    state["newest_plan"] = state.pop("newest")
    refused(replay(tmp_path, race), "DR605", "step 2: the state's variables differ from the "
            'spec\'s: missing "newest"; unknown "newest_plan"')


def test_a_trace_for_an_older_spec_whose_range_narrowed_is_refused(tmp_path):
    spec = tmp_path / "race.yaml"
    spec.write_text(RACE.read_text())
    trace = write_trace(spec, tmp_path, "no_empty_record")
    spec.write_text(RACE.read_text().replace('newest:  {type: "1..PLANS"',
                                             'newest:  {type: "1..PLANS-1"'))
    err = refused(run_cli("replay", str(trace)), "DR606",
                  "newest: 4 is not a value of its type 1..3", "the spec has changed")
    assert "has changed since this trace was written" in err


def test_constants_that_narrow_a_range_refuse_the_trace(tmp_path, race):
    refused(replay(tmp_path, race, "--const", "PLANS=3"), "DR606",
            "step 4: newest: 4 is not a value of its type 1..3")


def test_every_state_leaving_its_types_is_refused_at_its_step(race):
    """For every step and every variable of the DNS race trace, a value just outside the
    variable's type is refused, naming that step, before anything is replayed."""
    model, ts, cs = compile_spec(RACE)
    replayer = Replayer(model, ts, cs, {})
    steps = trace_steps(race)
    assert replayer.replay(steps).faithful
    for k in range(len(steps)):
        for f in ts.layout.fields:
            forged = copy.deepcopy(steps)
            bad = outside(f.type)
            forged[k]["state"][f.key] = [bad] * len(f.reps) if f.per_instance else bad
            with pytest.raises(TraceError) as exc:
                replayer.replay(forged)
            assert exc.value.code == "DR606" and exc.value.message.startswith(f"step {k}: ")


def outside(t):
    """A JSON value just outside declared type t."""
    if isinstance(t, IntT):
        return t.hi + 1
    if isinstance(t, BoolT):
        return 1
    if isinstance(t, SymT):
        return "nowhere"
    if isinstance(t, SetT):
        return [outside(t.elem)]
    if isinstance(t, SeqT):
        return [0] * (t.max + 1)
    assert isinstance(t, ArrayT)
    return [outside(t.elem)] * len(t.keys)


# ---------------------------------------------------------------- fields of the wrong JSON type
@pytest.mark.parametrize("edit, words", [
    (lambda t: t["steps"][3].update(action=["Enactor[0].pick"]),
     "step 3's `action` must be the name of a transition (a string), not a list"),
    (lambda t: t["steps"][0].update(action="Enactor[0].pick"),
     "step 0's `action` must be null (step 0 is an initial state), not a string"),
    (lambda t: t.update(constants="PLANS=4"),
     '`constants` must be an object of NAME: integer, not a string ("PLANS=4")'),
    (lambda t: t["constants"].update(PLANS=True), "constant \"PLANS\" must be an integer"),
    (lambda t: t["constants"].update(PLANS=10 ** 30), "within +-2^62"),
    (lambda t: t["spec"].update(path=7), "`spec.path` must be a string, not an integer (7)"),
    (lambda t: t.update(spec="dns.yaml"), "`spec` must be an object, not a string"),
    (lambda t: t["steps"][2].update(state=None),
     "step 2's `state` is null, which only a failing last step may have"),
    (lambda t: t["steps"][2].update(state=[1, 2]), "step 2's `state` must be an object"),
    (lambda t: t["steps"][2].pop("state"), "step 2 has no `state`"),
    (lambda t: t["steps"][11].update(message=3), "step 11's `message` must be a string"),
    (lambda t: t["steps"].insert(4, "step"), "step 4 must be an object, not a string"),
    (lambda t: t.update(length=99), "`length` is 99, but the trace has 11 transitions"),
    (lambda t: t.update(length="11"), "`length` must be an integer, not a string"),
    (lambda t: t.update(loop_start=12), "`loop_start` is 12, not the index of a step (0..11)"),
    (lambda t: t.update(loop_start=None), "`loop_start` must be an integer, not null"),
    (lambda t: t.update(version=2), "this dnsrace reads trace files of version 1, not 2"),
    (lambda t: t.update(steps={}), "`steps` must be a non-empty list, not an object"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_a_field_of_the_wrong_json_type_is_refused(tmp_path, race, edit, words):
    edit(race)
    refused(replay(tmp_path, race), "DR603", words)


def test_a_trace_that_is_not_an_object_is_refused(tmp_path, race):
    refused(replay(tmp_path, race["steps"]), "DR603", "a trace must be a JSON object, not a list")


def test_a_valid_loop_start_is_accepted_and_its_loop_is_checked(tmp_path, race):
    race["loop_start"] = 11      # in range, so well formed; but the race's end is no lasso
    code, out, _ = replay(tmp_path, race)
    assert code == 1
    assert out.splitlines()[-1] == ("DIVERGES at step 11: the last state repeats forever in "
                                    "the trace, but a transition leaves it")


def test_an_unknown_transition_stays_a_divergence(tmp_path, race):
    race["steps"][2]["action"] = "Enactor[0].pik"
    code, out, _ = replay(tmp_path, race)
    assert code == 1
    assert ('DIVERGES at step 2: the spec has no transition named "Enactor[0].pik"; did you '
            "mean 'Enactor[0].pick'") in out


# ---------------------------------------------------------------- the JSON itself
def test_deeply_nested_json_is_refused(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text('{"steps": ' + "[" * 100_000 + "]" * 100_000 + "}")
    refused(run_cli("replay", str(f)), "DR602", "nested too deeply")


def test_a_duplicate_key_is_refused(tmp_path, race):
    f = tmp_path / "dup.json"
    text = json.dumps(race)
    f.write_text(text[:-1] + ', "steps": []}')
    refused(run_cli("replay", str(f)), "DR602", 'the key "steps" twice')


def test_nan_is_refused(tmp_path, race):
    f = tmp_path / "nan.json"
    f.write_text(json.dumps(race).replace('"newest": 1', '"newest": NaN', 1))
    refused(run_cli("replay", str(f)), "DR602", "NaN, which is not a JSON number")


# ---------------------------------------------------------------- the file
def test_a_fifo_or_a_device_is_refused(tmp_path):
    fifo = tmp_path / "trace.json"
    os.mkfifo(fifo)
    refused(run_cli("replay", str(fifo)), "DR601", "the trace is not a regular file (a FIFO)")
    refused(run_cli("replay", "/dev/zero"), "DR601", "a character device")


def test_a_trace_over_the_size_limit_is_refused(tmp_path, race, monkeypatch):
    monkeypatch.setattr(input_files, "MAX_TRACE_BYTES", 100)
    refused(replay(tmp_path, race), "DR601", "more than the 100 a trace may have")


# ---------------------------------------------------------------- the spec a trace names
@pytest.mark.parametrize("path, words", [
    ("/etc/passwd", "is not a relative path"),
    ("/tmp/spec.yaml", "is not a relative path"),
    ("~/spec.yaml", "is not a relative path"),
    ("secret.txt", "does not name a .yaml or .yml file"),
    ("secret", "does not name a .yaml or .yml file"),
    ("", "does not name its spec"),
    ("missing.yaml", "is not a file in the trace's folder"),
    ("folder.yaml", "is not a file in the trace's folder"),
])
def test_a_spec_path_that_is_not_a_relative_yaml_file_is_refused(tmp_path, race, path, words):
    (tmp_path / "secret.txt").write_text("TOP-SECRET-LINE\n")
    (tmp_path / "secret").write_text("TOP-SECRET-LINE\n")
    (tmp_path / "folder.yaml").mkdir()
    race["spec"]["path"] = path
    err = refused(replay(tmp_path, race), "DR604", words, "--spec")
    assert "TOP-SECRET" not in err


def test_a_spec_path_is_read_relative_to_the_trace(tmp_path, race, monkeypatch):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "race.yaml").write_text(RACE.read_text())
    (tmp_path / "traces").mkdir()
    race["spec"]["path"] = "../specs/race.yaml"
    trace = tmp_path / "traces" / "t.json"
    trace.write_text(json.dumps(race))
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli("replay", str(trace))
    assert code == 0 and "faithfully" in out


def test_a_spec_path_relative_to_the_current_folder_is_still_accepted(tmp_path, race,
                                                                      monkeypatch):
    race["spec"]["path"] = "specs/dynamodb_dns_race.yaml"
    monkeypatch.chdir(ROOT)
    code, out, _ = replay(tmp_path, race)
    assert code == 0 and "faithfully" in out


def test_trace_files_name_their_spec_relative_to_their_folder(tmp_path, race):
    assert not Path(race["spec"]["path"]).is_absolute()
    assert (tmp_path / race["spec"]["path"]).resolve() == RACE.resolve()


def test_a_trace_that_is_not_utf8_is_refused(tmp_path):
    f = tmp_path / "latin1.json"
    f.write_bytes(b'{"steps": "\xe9"}')
    refused(run_cli("replay", str(f)), "DR601", "the trace is not UTF-8 text (byte 11)")
