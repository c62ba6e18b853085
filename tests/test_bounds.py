"""Resource bounds (dnsrace/bounds.py): inputs too large to read or compile are refused with a
positioned diagnostic (exit 2), never a traceback, a hang or a blown memory; `--time-limit`
covers compiling.  Small broken specs live in tests/broken/ (golden files); the ones here are
made by code because they are large or deep."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dnsrace.cli import main

ROOT = Path(__file__).resolve().parent.parent
HEAD = "dnsrace: 1\nname: t\n"


def _long_chain() -> str:
    return (HEAD + "variables:\n  x: {type: '0..3', init: 0}\ninvariants:\n  p: \""
            + " + ".join(["x"] * 30_000) + " >= 0\"\n")


def _deep_parens() -> str:
    return (HEAD + "variables:\n  x: {type: '0..3', init: 0}\ninvariants:\n  p: \""
            + "(" * 1000 + "x" + ")" * 1000 + " >= 0\"\n")


def _deep_yaml() -> str:
    return HEAD + "variables: " + "[" * 1000 + "]" * 1000 + "\n"


def _huge_literal() -> str:
    return HEAD + "constants:\n  N: " + "9" * 5000 + "\n"


def _huge_expr_literal() -> str:
    return HEAD + "variables:\n  x: {type: int, init: 0}\ninvariants:\n  p: x < " + "9" * 5000 + "\n"


def _exponential_defines() -> str:
    defs = "define:\n  d0: x\n" + "".join(f"  d{i}: \"d{i - 1} + d{i - 1}\"\n"
                                         for i in range(1, 41))
    return HEAD + "variables:\n  x: {type: '0..3', init: 0}\n" + defs + \
        "invariants:\n  p: \"d40 >= 0\"\n"


def _nested_loops() -> str:
    loops = "".join(" " * (4 * k) + f"for i{k} in 0..99:\n" for k in range(5))
    body = "".join("      " + line + "\n" for line in (loops + " " * 20 + "x = 1").splitlines())
    return HEAD + "variables:\n  x: {type: '0..3', init: 0}\nactions:\n  - name: a\n" \
        "    effect: |\n" + body


def _define_chain() -> str:
    defs = "define:\n  d0: x\n" + "".join(
        f"  d{i}: \"(((((d{i - 1} + 1) + 1) + 1) + 1) + 1)\"\n" for i in range(1, 300))
    return HEAD + "variables:\n  x: {type: int, init: 0}\n" + defs + \
        "invariants:\n  p: \"d299 >= 0\"\n"


def _long_effect() -> str:
    return (HEAD + "variables:\n  x: {type: int, init: 0}\nactions:\n  - name: a\n"
            "    effect: |\n" + "      x = x + 1\n" * 5000)


GENERATED = {
    "long_chain": (_long_chain, "DR211"),
    "deep_yaml": (_deep_yaml, "DR110"),
    "huge_literal": (_huge_literal, "DR111"),
    "huge_expr_literal": (_huge_expr_literal, "DR212"),
    "exponential_defines": (_exponential_defines, "DR503"),
    "define_chain": (_define_chain, "DR504"),
    "nested_loops": (_nested_loops, "DR503"),   # 100^5 iterations: refused before unrolling
    "long_effect": (_long_effect, "DR211"),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_input_is_refused_with_a_position(name, tmp_path, monkeypatch):
    make, code = GENERATED[name]
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(make(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", spec.name], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    assert re.search(rf"^{name}\.yaml:\d+:\d+: error\[{code} [a-z-]+\]: ", result.stderr,
                     re.M), result.stderr[:2000]
    assert re.search(r"^  hint: \S", result.stderr, re.M)


def test_zero_written_with_thousands_of_digits_is_zero(tmp_path, monkeypatch):
    """0000...0 is small, so the literal check lets it through; reading it must not trip
    Python's 4,300-digit limit (the fuzzer's mutate-spec family: a traceback)."""
    spec = tmp_path / "zeros.yaml"
    spec.write_text(HEAD + "variables:\n  x: {type: '0..3', init: 0}\ninvariants:\n  p: x == "
                    + "0" * 5000 + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", spec.name, "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_deep_parentheses_work(tmp_path, monkeypatch):
    """Parentheses add no nesting to the parse tree: a thousand of them are fine."""
    spec = tmp_path / "parens.yaml"
    spec.write_text(_deep_parens(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", spec.name, "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_time_limit_covers_compiling(fmt, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["check", "specs/lease_handoff.yaml", "--time-limit", "0",
                                       "--format", fmt], catch_exceptions=False)
    assert result.exit_code == 3
    assert "Traceback" not in result.stderr
    assert result.stderr == ("specs/lease_handoff.yaml: the time limit ran out while "
                             "compiling; nothing was checked\n")
    if fmt == "json":
        assert json.loads(result.stdout) == {"spec": {"path": "specs/lease_handoff.yaml"},
                                             "complete": False, "stopped": "time-limit",
                                             "properties": []}


WIDE_SETS = """
dnsrace: 1
name: wide
variables:
  st: {type: "set of 0..1", init: "{1}"}
actions:
  - name: a
    effect: |
        st -= {1000000000000000000}
        st = st & {1000000000000000000}
"""


def test_sets_far_apart_never_blow_up(tmp_path):
    # the fuzzer's `st -= {1000000000000000000}` on a set of 0..1 built a bitmask of 10**18
    # bits (MemoryError): `-` and `&` keep the left set's universe, so far elements drop out
    spec = tmp_path / "wide.yaml"
    spec.write_text(WIDE_SETS)
    result = CliRunner().invoke(main, ["check", str(spec), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["stats"]["states"] == 2      # {1}, then {}
    # a union with them would need a universe of 10**18 values: refused, with its position
    spec.write_text(WIDE_SETS + "  - name: b\n    effect: st |= {1000000000000000000}\n")
    result = CliRunner().invoke(main, ["check", str(spec)])
    assert result.exit_code == 2
    assert "wide.yaml:12:13: error[DR501" in result.output
    assert "more than the 65,536 dnsrace holds" in result.output


def test_the_ir_listing_of_a_deeply_unrolled_loop_never_overflows(tmp_path):
    # the fuzzer's mutate-spec family: `compile --emit ir` of the DNS race with PLANS: 255
    # (the clean-up loop unrolled into terms thousands deep) hit Python's recursion limit;
    # the listing now names deep and long shared parts once (`let tN = ...`)
    race = str(ROOT / "specs" / "dynamodb_dns_race.yaml")
    result = CliRunner().invoke(main, ["compile", race, "--const", "PLANS=255", "--emit", "ir"])
    assert result.exit_code == 0, result.output[-2000:]
    assert "  let t0 = " in result.output
    lease = str(ROOT / "specs" / "dns_fix_lease.yaml")
    small = CliRunner().invoke(main, ["compile", lease, "--emit", "ir"])
    assert small.exit_code == 0 and "let t" not in small.output   # ordinary specs: inline
