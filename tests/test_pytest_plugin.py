"""The pytest plugin (dnsrace/pytest_plugin.py): `pytest specs/` passes and fails exactly the
properties `dnsrace check` passes and fails, shows counterexamples as the text report does,
collects only specs, and only where asked.

Each run is a fresh `python -m pytest` with the plugin named (`-p dnsrace.pytest_plugin`)
and entry points off, so it works whether or not this checkout's entry point is installed.
tests/fresh_venv_plugin.sh (`make plugin-check`) checks the installed entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .helpers import ROOT
from .plugin_outcomes import check_outcomes, pytest_outcomes

GOLDEN = ROOT / "tests" / "golden" / "pytest_plugin_lost_update.txt"

LOST_UPDATE = (ROOT / "tests" / "plugin" / "lost_update.yaml").read_text()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return dict(env, PYTHONPATH=str(ROOT), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")


def run_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`pytest ARGS` in `cwd` with the plugin, every outcome listed (-rA)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "dnsrace.pytest_plugin",
                           "-p", "no:cacheprovider", "-rA", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=300)


def run_check(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dnsrace", "check", "--format", "json",
                           *args], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project of its own: a pytest.ini (so pytest roots here), and lost_update.yaml, a
    spec with one failing property."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "lost_update.yaml").write_text(LOST_UPDATE, encoding="utf-8")
    return tmp_path


def test_pytest_specs_passes_and_fails_what_dnsrace_check_does():
    ran = run_pytest(ROOT, "specs/")
    checked = run_check(ROOT, "specs/")
    want = check_outcomes(checked.stdout)
    assert pytest_outcomes(ran.stdout) == want, ran.stdout
    assert len(want) > 50 and set(want.values()) == {"passed"}
    assert (ran.returncode, checked.returncode) == (0, 0)
    # the built-in checks are items too, as the check report lists them
    assert "specs/dynamodb_dns_race.yaml::type" in want


def test_a_failing_property_fails_its_item_only(project: Path):
    ran = run_pytest(project, "lost_update.yaml")
    checked = run_check(project, "lost_update.yaml")
    got = pytest_outcomes(ran.stdout)
    assert got == check_outcomes(checked.stdout)
    assert got["lost_update.yaml::no_lost_update"] == "failed"
    assert sorted(got) == ["lost_update.yaml::assertion", "lost_update.yaml::both_done",
                           "lost_update.yaml::error", "lost_update.yaml::no_lost_update",
                           "lost_update.yaml::type"]
    assert (ran.returncode, checked.returncode) == (1, 1)


def test_the_failure_shows_the_counterexample_and_how_to_replay_it(project: Path,
                                                                  update_goldens: bool):
    ran = run_pytest(project, "lost_update.yaml")
    failure = _section(ran.stdout, "no_lost_update (invariant)")
    if update_goldens:
        GOLDEN.write_text(failure, encoding="utf-8")
    assert failure == GOLDEN.read_text(encoding="utf-8")


def _section(output: str, head: str) -> str:
    """The text of one failure in pytest's FAILURES section, after its `___ head ___`."""
    m = re.search(rf"^_+ {re.escape(head)} _+\n(.*?)(?=^[_=]{{3,}} )", output, re.M | re.S)
    assert m, output
    return m.group(1)


def test_unknown_fails_with_its_reason(project: Path):
    ran = run_pytest(project, "lost_update.yaml", "--dnsrace-max-states", "2")
    assert set(pytest_outcomes(ran.stdout).values()) == {"failed"}
    assert "both_done (reachable): unknown (expected reachable)\n" \
           "  why: 2 states, 2 transitions, depth 1; INCOMPLETE (--max-states reached)\n" \
           "  an unknown outcome fails:" in ran.stdout


def test_options_reach_the_check(project: Path):
    """A constant, an engine, and the limits from the ini file as from the command line."""
    nothing_added = run_pytest(project, "lost_update.yaml", "--dnsrace-const", "ADD=0")
    assert nothing_added.returncode == 0   # adding 0 loses nothing
    assert pytest_outcomes(nothing_added.stdout)["lost_update.yaml::no_lost_update"] == "passed"
    bmc = run_pytest(project, "lost_update.yaml", "--dnsrace-engine", "bmc",
                     "--dnsrace-const", "ADD=1")
    assert "replay: rerun `dnsrace check lost_update.yaml --const ADD=1 --engine bmc " \
           "--trace-dir DIR`" in bmc.stdout
    (project / "pytest.ini").write_text("[pytest]\ndnsrace_max_states = 2\n", encoding="utf-8")
    ran = run_pytest(project, "lost_update.yaml")
    assert "INCOMPLETE (--max-states reached)" in ran.stdout and ran.returncode == 1


@pytest.mark.parametrize("args, message", [
    (["--dnsrace-const", "ADD"], "--const 'ADD' is not NAME=INTEGER"),
    (["--dnsrace-const", "NOPE=1"], "the spec has no constant 'NOPE'"),
    (["--dnsrace-engine", "nope"], "nope"),
])
def test_a_bad_option_is_a_collection_error_with_its_diagnostic(project: Path, args, message):
    ran = run_pytest(project, "lost_update.yaml", *args)
    assert "error[DR401 bad-option]" in ran.stdout and message in ran.stdout
    assert pytest_outcomes(ran.stdout) == {"lost_update.yaml": "error"}


def test_a_bad_limit_is_a_usage_error(project: Path):
    ran = run_pytest(project, "lost_update.yaml", "--dnsrace-max-states", "0")
    assert ran.returncode == 4   # pytest's usage error
    assert "'0' is not a number of states" in ran.stderr


def test_an_invalid_spec_is_one_collection_error_with_file_line_col(project: Path):
    broken = ROOT / "tests" / "broken" / "arity_len.yaml"
    (project / "arity_len.yaml").write_text(broken.read_text(encoding="utf-8"),
                                            encoding="utf-8")
    ran = run_pytest(project, "arity_len.yaml")
    assert ran.returncode == 2 and pytest_outcomes(ran.stdout) == {"arity_len.yaml": "error"}
    assert "arity_len.yaml:9:12: error[DR206 arity]: len() takes 1 argument, not 2\n" \
           "   9 |     guard: len(a, b) < 2\n" \
           "     |            ^\n" in ran.stdout


def test_only_specs_are_collected_and_only_where_asked(project: Path):
    """A YAML file without a top-level `dnsrace:` key is no spec; with no `dnsrace_specs`,
    specs come from folders named on the command line, never from testpaths alone."""
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n", encoding="utf-8")
    tests = project / "tests"
    tests.mkdir()
    (tests / "test_nothing.py").write_text("def test_nothing():\n    pass\n",
                                           encoding="utf-8")
    (tests / "lost_update.yml").write_text(LOST_UPDATE, encoding="utf-8")
    (tests / "settings.yaml").write_text("name: app\ndnsrace_version: 1\n", encoding="utf-8")
    assert set(pytest_outcomes(run_pytest(project).stdout)) == {
        "tests/test_nothing.py::test_nothing"}
    named = set(pytest_outcomes(run_pytest(project, "tests").stdout))
    assert "tests/lost_update.yml::no_lost_update" in named
    assert not any("settings" in n for n in named)


def test_dnsrace_specs_limits_the_folders_specs_come_from(project: Path):
    (project / "pytest.ini").write_text("[pytest]\ndnsrace_specs = specs\n", encoding="utf-8")
    for folder in ("specs", "tests"):
        (project / folder).mkdir()
        (project / folder / "lost_update.yaml").write_text(LOST_UPDATE, encoding="utf-8")
    assert not pytest_outcomes(run_pytest(project, "tests").stdout)
    assert "specs/lost_update.yaml::both_done" in pytest_outcomes(
        run_pytest(project, ".").stdout)
    # a spec named on the command line is collected wherever it is
    assert "tests/lost_update.yaml::both_done" in pytest_outcomes(
        run_pytest(project, "tests/lost_update.yaml").stdout)


def test_this_repository_collects_no_spec_under_tests():
    """`pytest` here runs tests/ (testpaths), full of broken specs on purpose: with
    dnsrace_specs = ["specs"] in pyproject.toml, naming a folder of them collects none."""
    folders = sorted({p.parent.relative_to(ROOT).as_posix()
                      for p in (ROOT / "tests").rglob("*.yaml")})
    assert "tests/broken" in folders
    ran = run_pytest(ROOT, "--collect-only", *folders)
    assert ran.returncode == 5, ran.stdout   # no tests collected


def test_the_plugin_costs_nothing_where_no_spec_is_collected(tmp_path: Path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_light.py").write_text(textwrap.dedent("""\
        import sys

        def test_no_checker_was_imported():
            heavy = ("dnsrace.api", "dnsrace.cli", "dnsrace.frontend", "numpy", "z3", "lark")
            assert not [m for m in sys.modules if m.startswith(heavy)]
        """), encoding="utf-8")
    ran = run_pytest(tmp_path)
    assert pytest_outcomes(ran.stdout) == {
        "test_light.py::test_no_checker_was_imported": "passed"}, ran.stdout
