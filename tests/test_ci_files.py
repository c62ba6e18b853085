"""The files other tools read to run dnsrace in CI: action.yml (a composite GitHub Action)
and .pre-commit-hooks.yaml, with dnsrace.hooks behind the hooks.  What this machine can
check without GitHub or PyPI: the files' shape, that every input the action reads is
declared, that its scripts are bash, and what the hooks run.  tests/precommit_try_repo.sh
(`make precommit-check`) runs the hooks through pre-commit itself."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from ruamel.yaml import YAML

from dnsrace import hooks

from .helpers import ROOT

ACTION = ROOT / "action.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def load(path: Path):
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_the_action_is_a_composite_action_with_described_inputs():
    action = load(ACTION)
    assert action["name"] and action["description"]
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"specs", "engine", "args", "python-version", "sarif"}
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
        assert "default" in spec, name   # every input is optional
    for step in action["runs"]["steps"]:
        assert ("uses" in step) != ("run" in step), step
        if "run" in step:
            assert step["shell"] == "bash", step


def test_every_input_the_action_reads_is_declared_and_used():
    text = ACTION.read_text(encoding="utf-8")
    declared = set(load(ACTION)["inputs"])
    used = set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text))
    assert used == declared


def test_the_action_installs_its_own_checkout_and_writes_sarif_and_the_summary():
    steps = load(ACTION)["runs"]["steps"]
    install = next(s for s in steps if s.get("name") == "Install dnsrace")
    assert install["env"]["DNSRACE_SOURCE"] == "${{ github.action_path }}"
    assert "pip install" in install["run"] and '"$DNSRACE_SOURCE"' in install["run"]
    check = next(s for s in steps if s.get("id") == "check")
    assert "dnsrace check" in check["run"]
    assert '--output sarif=dnsrace.sarif --output "markdown=$GITHUB_STEP_SUMMARY"' \
        in check["run"]
    assert check["run"].rstrip().endswith('exit "$status"')   # the step fails as dnsrace does
    assert "${{" not in check["run"]   # inputs come through env, never pasted into the script
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "dnsrace.sarif"
    assert "always()" in upload["if"] and "inputs.sarif == 'true'" in upload["if"]


def test_the_action_scripts_are_bash(tmp_path: Path):
    for k, step in enumerate(load(ACTION)["runs"]["steps"]):
        if "run" in step:
            script = tmp_path / f"step{k}.sh"
            script.write_text(step["run"], encoding="utf-8")
            ran = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
            assert ran.returncode == 0, ran.stderr


def test_the_hooks_lint_changed_specs_and_check_on_demand():
    by_id = {h["id"]: h for h in load(HOOKS)}
    assert set(by_id) == {"dnsrace-lint", "dnsrace-check"}
    for hook_id, command in (("dnsrace-lint", "lint"), ("dnsrace-check", "check")):
        hook = by_id[hook_id]
        assert hook["entry"] == f"python -m dnsrace.hooks {command}"
        assert hook["language"] == "python" and hook["pass_filenames"] is True
        assert re.search(hook["files"], "specs/a.yaml") and re.search(hook["files"], "b.yml")
        assert not re.search(hook["files"], "README.md")
    assert "stages" not in by_id["dnsrace-lint"]
    assert by_id["dnsrace-check"]["stages"] == ["manual"]


def test_the_hooks_take_specs_and_skip_other_yaml(tmp_path: Path):
    spec = tmp_path / "good.yaml"
    spec.write_text((ROOT / "specs" / "lease_handoff.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    other = tmp_path / ".pre-commit-config.yaml"
    other.write_text("repos: []\n", encoding="utf-8")
    options, specs = hooks.split_args(["--const", "WORKERS=3", str(spec), str(other)])
    assert (options, specs) == (["--const", "WORKERS=3"], [str(spec)])
    assert hooks.main(["lint", str(other)]) == 0   # nothing to lint


def test_the_lint_hook_exits_as_dnsrace_lint_does(tmp_path: Path, capfd):
    good = ROOT / "specs" / "lease_handoff.yaml"
    bad = ROOT / "tests" / "broken" / "arity_len.yaml"
    assert hooks.main(["lint", str(good)]) == 0
    assert hooks.main(["lint", str(good), str(bad)]) == 2
    out, err = capfd.readouterr()
    assert "arity_len.yaml:9:12: error[DR206 arity]" in out + err


def test_the_hooks_module_says_how_to_call_it(capsys):
    assert hooks.main(["format"]) == 2
    assert "usage: python -m dnsrace.hooks lint|check" in capsys.readouterr().err
