"""`dnsrace lint`'s DR7xx warnings: each spec in tests/lint/ starts with a comment naming the
warning it provokes, and `dnsrace lint` prints exactly its golden NAME.expected (stderr,
exit status 1).  No spec in specs/ gets a warning.  Rewrite the goldens with
`pytest tests/test_lint.py --update-goldens` and review the diff."""

from __future__ import annotations

import re

import pytest

from tests.helpers import ROOT, run_cli

LINT = ROOT / "tests" / "lint"
CASES = sorted(p.stem for p in LINT.glob("*.yaml"))
SPECS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "specs").glob("*.yaml"))


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_every_lint_code_has_a_case():
    codes = {re.match(r"# (DR7\d\d):", (LINT / f"{n}.yaml").read_text("utf-8")).group(1)
             for n in CASES}
    assert codes == {f"DR70{k}" for k in range(1, 8)}


@pytest.mark.parametrize("name", CASES)
def test_lint_warning(name, update_goldens):
    code, out, err = run_cli("lint", f"tests/lint/{name}.yaml")
    golden = LINT / f"{name}.expected"
    if update_goldens:
        golden.write_text(err, encoding="utf-8")
    assert code == 1 and out == ""
    expected = re.match(r"# (DR7\d\d):", (LINT / f"{name}.yaml").read_text("utf-8")).group(1)
    assert re.findall(r"warning\[(DR\d+) ", err) == [expected]
    assert re.search(rf"^tests/lint/{name}\.yaml:\d+:\d+: warning\[{expected} [a-z-]+\]: ",
                     err, re.M)
    assert err == golden.read_text("utf-8")


@pytest.mark.parametrize("spec", SPECS)
def test_no_warning_on_the_specs(spec):
    code, out, err = run_cli("lint", spec)
    assert (code, err) == (0, ""), err
    assert out == f"{spec}: no problems found\n"
