"""The short fuzzing run (tests/fuzz): a fixed seed, a few hundred inputs across every input
class of the hardening issue, in two workers under a 2 GiB memory cap.  Every input must exit
0, 1, 2 or 3, without a traceback, within its time bound and the memory cap, and every
diagnostic of an exit 2 must name a position.  The long run is `make fuzz`.

Also here: the fuzzer's own judgement, on inputs whose verdict is known."""

from __future__ import annotations

from tests.fuzz.corpus import build_corpus
from tests.fuzz.execute import judge, position_problem, run_one
from tests.fuzz.families import FAMILIES, FuzzInput, base_spec, schedule
from tests.fuzz.runner import Config, run, table

SEED = 20251020
SHORT_INPUTS = 200


def test_short_fuzz_run_finds_nothing(tmp_path):
    corpus = build_corpus(generated=15, seed=SEED)
    cycle = schedule(SEED, subprocesses=False)
    cfg = Config(inputs=SHORT_INPUTS, workers=2, mem_gib=2.0, seconds=15.0, seed=SEED,
                 out=tmp_path)
    summary = run(corpus, cycle, cfg)
    short = {name for name, (_, _, in_short) in FAMILIES.items() if in_short}
    assert set(summary.per_family) == short
    assert summary.total == SHORT_INPUTS
    assert summary.failures == [], table(summary)


# ---------------------------------------------------------------- the fuzzer's judgement
def _spec_input(text: str, *argv: str) -> FuzzInput:
    return FuzzInput("test", list(argv), {"spec.yaml": text.encode()})


def test_a_valid_spec_is_ok(tmp_path):
    inp = _spec_input(base_spec(), "check", "spec.yaml", "--max-states", "500", "--no-timing")
    o = run_one(0, inp, tmp_path / "in", 30.0, 2 << 30)
    assert (o.verdict, o.status) == ("ok", 0), o.detail


def test_an_invalid_spec_with_a_position_is_ok(tmp_path):
    inp = _spec_input(base_spec(GUARD="x < nosuch"), "check", "spec.yaml")
    o = run_one(0, inp, tmp_path / "in", 30.0, 2 << 30)
    assert (o.verdict, o.status) == ("ok", 2), o.detail


def test_diagnostics_without_a_position():
    inp = _spec_input("dnsrace: 1\n")
    assert position_problem(inp, "spec.yaml: error[DR201 unknown-name]: x\n1 error\n")
    assert position_problem(inp, "spec.yaml:9:1: error[DR201 unknown-name]: x\n")  # past the end
    assert position_problem(inp, "") == "exit 2 without a diagnostic: (stderr empty)"
    assert position_problem(inp, "spec.yaml:1:3: error[DR201 unknown-name]: x\n") is None
    assert position_problem(inp, "spec.yaml: error[DR109 file]: cannot read\n") is None
    assert position_problem(inp, "<command line>: error[DR401 bad-option]: --const\n") is None
    assert position_problem(inp, "Usage: dnsrace check\nError: No such option: --x\n") is None


def test_verdicts_of_what_escapes():
    inp = _spec_input("")
    assert judge(inp, "ok", 0, "", "") == ("ok", "")
    assert judge(inp, "ok", 5, "", "")[0] == "bad-exit"
    assert judge(inp, "ok", 1, "Traceback (most recent call last):\n  ...", "")[0] == "traceback"
    assert judge(inp, "hang", None, "", "past the bound") == ("hang", "past the bound")
