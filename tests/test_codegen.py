"""Generated code: what the loader accepts, and what `compile` shows."""

from __future__ import annotations

import pytest

from dnsrace.backends.loader import GeneratedCodeError, comment, load
from dnsrace.backends.python_codegen import generate
from dnsrace.frontend.build import load_model
from dnsrace.ir.lower import lower
from tests.helpers import ROOT


def test_loader_refuses_string_literals_and_limits_builtins():
    with pytest.raises(GeneratedCodeError):
        load("x = 'text'\n", "t", {})
    ns = load("def f(a):\n    return abs(a)\n", "t", {"abs": abs})
    assert ns["f"](-2) == 2
    with pytest.raises(NameError):
        load("def g():\n    return open\n", "t", {})["g"]()


def test_comments_cannot_break_out_of_their_line():
    assert "\n" not in comment("a\nimport os")


@pytest.mark.parametrize("spec", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.name)
def test_generated_source_holds_no_text_from_the_spec(spec):
    src = generate(lower(load_model(spec))).source
    load(src, "check", {"abs": abs, "min": min, "max": max, "bool": bool, "len": len})
    code_lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith("#")]
    assert not any('"' in ln or "'" in ln for ln in code_lines)
