"""Focused tests of the front end: expression precedence, YAML 1.2 scalars, positions mapped
back into the file, and that no spec text is ever evaluated."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dnsrace.diagnostics import Pos, Reporter, SourceFile, SpecError
from dnsrace.frontend import syntax as S
from dnsrace.frontend.build import load_model
from dnsrace.frontend.parser import parse_effect, parse_expr
from dnsrace.frontend.yaml_reader import read_yaml


def expr(text: str) -> S.Expr:
    return parse_expr(text, lambda off: Pos(1, off + 1))


def shape(e) -> object:
    """A compact, comparable picture of an expression tree."""
    match e:
        case S.Num(value=v):
            return v
        case S.Name(id=n):
            return n
        case S.BinOp(op=op, left=l, right=r) | S.BoolOp(op=op, left=l, right=r):
            return (op, shape(l), shape(r))
        case S.Unary(op=op, operand=o):
            return (op, shape(o))
        case S.Compare(operands=os, ops=ops):
            out: list = [shape(os[0])]
            for op, x in zip(ops, os[1:]):
                out += [op, shape(x)]
            return ("cmp", *out)
        case S.IfExp(cond=c, then=t, orelse=o):
            return ("if", shape(t), shape(c), shape(o))
        case S.Prime(expr=x):
            return ("'", shape(x))
    raise AssertionError(f"unexpected node {e!r}")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def diagnostics(path: Path, overrides=None):
    with pytest.raises(SpecError) as info:
        load_model(path, overrides or {})
    return info.value.diagnostics


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
    effect: x = x + 1
"""


# ---------------------------------------------------------------- precedence

@pytest.mark.parametrize("text, tree", [
    ("x in 1..N-1", ("cmp", "x", "in", ("..", 1, ("-", "N", 1)))),
    ("a + 1..b * 2", ("..", ("+", "a", 1), ("*", "b", 2))),
    ("0..2 | 4..5", ("|", ("..", 0, 2), ("..", 4, 5))),
    ("s & 1..3", ("&", "s", ("..", 1, 3))),
    ("a => b => c", ("=>", "a", ("=>", "b", "c"))),
    ("a or b => c and d", ("=>", ("or", "a", "b"), ("and", "c", "d"))),
    ("p if c else q => r", ("=>", ("if", "p", "c", "q"), "r")),
    ("not a => b", ("=>", ("not", "a"), "b")),
    ("a < b <= c", ("cmp", "a", "<", "b", "<=", "c")),
    ("a == b != c", ("cmp", "a", "==", "b", "!=", "c")),
    ("x not in s", ("cmp", "x", "not in", "s")),
    ("not x in s", ("not", ("cmp", "x", "in", "s"))),
    ("a - b - c", ("-", ("-", "a", "b"), "c")),
    ("-a * b", ("*", ("-", "a"), "b")),
    ("a // b % c", ("%", ("//", "a", "b"), "c")),
    ("a and b or c and d", ("or", ("and", "a", "b"), ("and", "c", "d"))),
    ("x' >= x", ("cmp", ("'", "x"), ">=", "x")),
])
def test_precedence(text, tree):
    assert shape(expr(text)) == tree


def test_range_is_inclusive_and_looser_than_arithmetic(tmp_path):
    spec = COUNTER + 'invariants:\n  in_range: "x in 0..N"\n'
    model = load_model(write(tmp_path, spec))
    (prop,) = model.properties
    assert shape(prop.expr) == ("cmp", "x", "in", ("..", 0, "N"))


# ---------------------------------------------------------------- YAML 1.2 scalars

def test_yaml_1_2_scalars():
    text = "a: yes\nb: no\nc: on\nd: off\ne: 010\nf: 0o10\ng: true\nh: False\ni: ~\nj: '010'\n"
    rep = Reporter(SourceFile("f.yaml", text))
    root = read_yaml(text, rep)
    assert not rep.diagnostics
    values = {k.value: v.value for k, v in root.items}
    assert values == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": 10, "f": 8,
                      "g": True, "h": False, "i": None, "j": "010"}
    assert all(type(values[k]) is str for k in "abcdj")
    assert type(values["e"]) is int


def test_yes_no_on_off_are_enumeration_symbols(tmp_path):
    model = load_model(write(tmp_path, """
        dnsrace: 1
        name: switch
        constants:
          N: 010
        types:
          Switch: [on, off]
          Answer: [yes, no]
        variables:
          s: {type: Switch, init: off}
          a: {type: Answer, init: no}
          n: {type: "0..N", init: N}
        actions:
          - name: flip
            guard: s == off and a == no
            effect: s = on
        """))
    assert model.enums == {"Switch": ("on", "off"), "Answer": ("yes", "no")}
    assert model.constants["N"].value == 10
    assert [v.inits for v in model.variables] == [["off"], ["no"], [10]]


def test_duplicate_key_is_an_error(tmp_path):
    (d,) = diagnostics(write(tmp_path, COUNTER + "constants:\n  M: 1\n"))
    assert d.code == "DR102" and d.pos == Pos(11, 1)


# ---------------------------------------------------------------- positions

def only(diags):
    assert len(diags) == 1, diags
    return diags[0]


def test_position_in_block_scalar(tmp_path):
    d = only(diagnostics(write(tmp_path, """
        dnsrace: 1
        name: counter
        variables:
          x: {type: "0..3", init: 0}
        actions:
          - name: inc
            effect: |   # x goes up; the header comment holds an x too
              x = x + 1
              if x > 2:
                  x = nope
        """)))
    assert (d.code, d.message, d.pos) == ("DR201", "unknown name 'nope'", Pos(10, 15))


def test_position_in_folded_plain_scalar(tmp_path):
    d = only(diagnostics(write(tmp_path, """
        dnsrace: 1
        name: counter
        variables:
          x: {type: "0..3", init: 0}
        actions:
          - name: inc
            guard: x < 3 and
              nope
            effect: x = x + 1
        """)))
    assert (d.code, d.pos) == ("DR201", Pos(8, 7))


@pytest.mark.parametrize("guard, col", [
    ('"x < 3 and nope"', 23),            # double-quoted
    ("'x < 3 and nope'", 23),            # single-quoted
    ('"\\tx < 3 and nope"', 25),         # an escape: two characters in the file, one in the value
    ("'it''s' == 'x' or nope", None),    # YAML error: text after the closing quote
])
def test_position_in_quoted_scalar(tmp_path, guard, col):
    d = only(diagnostics(write(tmp_path, f"""
        dnsrace: 1
        name: counter
        variables:
          x: {{type: "0..3", init: 0}}
        actions:
          - name: inc
            guard: {guard}
            effect: x = x + 1
        """)))
    if col is None:
        assert d.code == "DR101"
    else:
        assert (d.code, d.pos) == ("DR201", Pos(7, col))


def test_position_of_syntax_error_in_effect(tmp_path):
    d = only(diagnostics(write(tmp_path, """
        dnsrace: 1
        name: counter
        variables:
          x: {type: "0..3", init: 0}
        actions:
          - name: inc
            effect: |
              x = x + 1
              x = x +* 2
        """)))
    assert (d.code, d.pos) == ("DR202", Pos(9, 14))


def test_position_inside_a_type(tmp_path):
    d = only(diagnostics(write(tmp_path, """
        dnsrace: 1
        name: q
        variables:
          q: {type: "seq of 0..LIMIT max 2", init: "[]"}
        """)))
    assert (d.code, d.message, d.pos) == ("DR201", "unknown name 'LIMIT'", Pos(4, 24))


# ---------------------------------------------------------------- nothing is evaluated

PAYLOADS = {  # a line of an action that, evaluated, would create {target}
    "guard": "    guard: \"__import__('os').system('touch {target}')\"\n",
    "effect": "    effect: |\n      x = __import__('os').system('touch {target}')\n",
    "eval": "    guard: \"eval('__import__(\\\"os\\\").system(\\\"touch {target}\\\")')\"\n",
    "method": "    guard: \"x.__class__.__init__.__globals__['os'].system('touch {target}')\"\n",
    "tag": "    guard: !!python/object/apply:os.system ['touch {target}']\n",
}


@pytest.mark.parametrize("where", sorted(PAYLOADS))
def test_spec_text_is_never_evaluated(tmp_path, where):
    target = tmp_path / "pwned"
    line = PAYLOADS[where]
    spec = write(tmp_path, "dnsrace: 1\nname: evil\nvariables:\n  x: {type: \"0..3\", init: 0}\n"
                           "actions:\n  - name: inc\n" + line.format(target=target))
    diags = diagnostics(spec)
    assert diags and all(d.pos is not None for d in diags)
    assert diags[0].code in ("DR204", "DR106"), diags
    assert not target.exists()


def test_pwned_guard_from_the_brief(tmp_path):
    target = Path("/tmp/pwned")
    existed = target.exists()
    spec = write(tmp_path, COUNTER.replace(
        "guard: x < N", "guard: __import__('os').system('touch /tmp/pwned') == 0"))
    d = only(diagnostics(spec))
    assert d.code == "DR204" and "__import__" in d.message
    assert d.pos == Pos(9, 12)
    assert target.exists() == existed


@pytest.mark.parametrize("text", ["import os", "lambda: 1", "exec('x')"])
def test_code_words_are_refused(text):
    with pytest.raises(SpecError) as info:
        expr(text)
    assert info.value.diagnostics[0].code == "DR204"


def test_words_of_python_are_fine_in_comments_strings_and_names(tmp_path):
    """`from`, `import` and `open` are refused only as code, never in comments or messages,
    and `open` is an ordinary name."""
    model = load_model(write(tmp_path, """
        dnsrace: 1
        name: door
        variables:
          open: {type: bool, init: false}
        actions:
          - name: toggle
            effect: |
              # from the runbook: import the state, then flip it
              assert open or not open, "never import twice"
              open = not open
        """))
    assert [v.name for v in model.variables] == ["open"]
    stmts = parse_effect("x = 1  # from here\n", lambda off: Pos(1, off + 1))
    assert len(stmts) == 1


# ---------------------------------------------------------------- one mistake, one error

def test_a_bad_variable_is_not_also_an_unknown_name(tmp_path):
    d = only(diagnostics(write(tmp_path, COUNTER.replace('"0..N", init: 0', '"0..N", init: 9'))))
    assert d.code == "DR303"


def test_a_misspelt_section_is_still_read(tmp_path):
    d = only(diagnostics(write(tmp_path, COUNTER.replace("variables:", "varaibles:"))))
    assert (d.code, d.hint) == ("DR103", "did you mean 'variables'?")


def test_double_prime(tmp_path):
    d = only(diagnostics(write(tmp_path, COUNTER + "transitions:\n  up: \"(x')' >= x\"\n")))
    assert d.code == "DR209" and "again" in d.message


def test_unknown_const_override_points_at_constants(tmp_path):
    d = only(diagnostics(write(tmp_path, COUNTER), {"NN": 2}))
    assert (d.code, d.pos, d.hint) == ("DR401", Pos(3, 1), "did you mean 'N'?")
    assert d.message == "--const NN=2: the spec has no constant 'NN'"


@pytest.mark.parametrize("text, code, pos", [
    ("%YAML 1.1\n---\na: yes\n", "DR101", Pos(1, 1)),      # would make `yes` a boolean
    ("a: &x 1\nb: *x\n", "DR106", Pos(2, 4)),              # aliases (and billion laughs)
    ("a: &x [1, *x]\n", "DR106", Pos(1, 11)),              # a cyclic alias
    ("a: !!set {x, y}\n", "DR106", Pos(1, 4)),             # a tag beyond the core schema
    ('a: "x\n  b: "c"\n', "DR101", Pos(1, 4)),             # a quote closed a line too late
])
def test_yaml_features_a_spec_refuses(text, code, pos):
    rep = Reporter(SourceFile("f.yaml", text))
    assert read_yaml(text, rep) is None or rep.diagnostics
    (d,) = rep.diagnostics
    assert (d.code, d.pos) == (code, pos) and d.hint
