"""The broken-spec corpus: every spec in tests/broken/ is rejected with exit status 2 and the
exact diagnostics of its golden file NAME.expected (the stderr of `dnsrace check`).

Each NAME.yaml starts with a comment saying what is wrong.  A sibling NAME.args holds extra
command-line arguments, one per line.  After changing a message on purpose, rewrite the
goldens with `pytest tests/test_diagnostics.py --update-goldens` and review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dnsrace.cli import main

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "tests" / "broken"
CASES = sorted(p.stem for p in BROKEN.glob("*.yaml"))
CARET = re.compile(r"^ +\| [ \t]*\^$", re.M)


def spec_args(name: str) -> list[str]:
    """The spec's path relative to the repository root, then its extra arguments."""
    extra = BROKEN / f"{name}.args"
    args = [a for a in extra.read_text("utf-8").splitlines() if a] if extra.exists() else []
    return [f"tests/broken/{name}.yaml", *args]


def run(command: str, name: str, monkeypatch):
    monkeypatch.chdir(ROOT)
    return CliRunner().invoke(main, [command, *spec_args(name)], catch_exceptions=False)


def test_corpus_is_big_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", CASES)
def test_case_says_what_is_wrong(name):
    first = (BROKEN / f"{name}.yaml").read_text("utf-8").splitlines()[0]
    assert first.startswith("# ") and len(first) > 10, "start with a comment saying what is wrong"


@pytest.mark.parametrize("name", CASES)
def test_check_reports(name, monkeypatch, update_goldens):
    result = run("check", name, monkeypatch)
    golden = BROKEN / f"{name}.expected"
    if update_goldens:
        golden.write_text(result.stderr, encoding="utf-8")
    assert result.exit_code == 2
    assert result.stdout == ""
    err = result.stderr
    assert "Traceback" not in err
    assert re.search(rf"^tests/broken/{name}\.yaml:\d+:\d+: error\[DR\d{{3}} [a-z-]+\]: ", err,
                     re.M), err
    assert CARET.search(err), err
    assert re.search(r"^  hint: \S", err, re.M), err
    assert golden.exists(), f"no golden file: run pytest {__file__} --update-goldens"
    assert err == golden.read_text("utf-8")


@pytest.mark.parametrize("name", CASES)
def test_every_error_has_a_position_and_a_hint(name, monkeypatch):
    """Not only the first: each diagnostic in the output points into the file and has a hint."""
    err = run("check", name, monkeypatch).stderr
    heads = re.findall(r"^\S.*error\[DR\d{3}", err, re.M)
    located = re.findall(rf"^tests/broken/{name}\.yaml:\d+:\d+: error\[", err, re.M)
    assert heads and len(located) == len(heads), err
    assert len(CARET.findall(err)) == len(heads), err
    assert len(re.findall(r"^  hint: \S", err, re.M)) == len(heads), err


@pytest.mark.parametrize("name", CASES)
def test_lint_rejects(name, monkeypatch):
    result = run("lint", name, monkeypatch)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert f"tests/broken/{name}.yaml:" in result.stderr
