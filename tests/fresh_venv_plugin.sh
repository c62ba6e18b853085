#!/usr/bin/env bash
# The pytest plugin where a user meets it: a fresh virtual environment with only dnsrace
# (`pip install .`) and pytest, and a project that is not this repository.  In a scratch
# copy of specs/ (plus a spec with one failing property and a YAML file that is no spec):
#   - `pytest specs/` passes and fails exactly the properties `dnsrace check specs/` does;
#   - `pytest extra/` fails the one failing property, and leaves the other YAML file alone;
#   - `pytest -p no:dnsrace specs/` collects nothing (the plugin is the entry point's).
# Needs PyPI (or a pip configured with a mirror); takes a few minutes.  `make plugin-check`.
# PYTHON picks the interpreter of the environment (default python3); KEEP=1 keeps it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dnsrace-plugin.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi

"${PYTHON:-python3}" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check "$repo" pytest

project="$work/project"
mkdir -p "$project/extra"
cp -r "$repo/specs" "$project/specs"
cp "$repo/tests/plugin/lost_update.yaml" "$project/extra/lost_update.yaml"
printf 'name: not-a-spec\nitems: [1, 2]\n' > "$project/extra/settings.yaml"
cd "$project"

expect_status() {   # expect_status WANT COMMAND...: run it, fail unless it exits WANT
    local want=$1 status=0
    shift
    "$@" > "$work/out" 2> "$work/err" || status=$?
    if [ "$status" != "$want" ]; then
        cat "$work/out" "$work/err"
        echo "FAIL: \`$*\` exited $status, not $want" >&2
        exit 1
    fi
}

# 1. specs/: the same verdicts as dnsrace check
expect_status 0 "$work/venv/bin/pytest" -p no:cacheprovider -rA specs/
cp "$work/out" pytest-specs.out
expect_status 0 "$work/venv/bin/dnsrace" check specs/ --format json
cp "$work/out" check-specs.json
"$py" "$repo/tests/plugin_outcomes.py" pytest-specs.out check-specs.json

# 2. one failing property; the YAML file that is no spec is not collected
expect_status 1 "$work/venv/bin/pytest" -p no:cacheprovider -rA extra/
cp "$work/out" pytest-extra.out
grep -q "^FAILED extra/lost_update.yaml::no_lost_update" pytest-extra.out
grep -q "stale read: Worker\[1\] read" pytest-extra.out
if grep -q "settings.yaml" pytest-extra.out; then
    echo "FAIL: extra/settings.yaml was collected" >&2; exit 1
fi
expect_status 1 "$work/venv/bin/dnsrace" check extra/lost_update.yaml --format json
cp "$work/out" check-extra.json
"$py" "$repo/tests/plugin_outcomes.py" pytest-extra.out check-extra.json

# 3. the plugin is the `dnsrace` entry point: -p no:dnsrace turns it off (5: nothing collected)
expect_status 5 "$work/venv/bin/pytest" -p no:cacheprovider -p no:dnsrace specs/

echo "plugin-check: ok ($(grep -c '^PASSED' pytest-specs.out) properties of specs/ pass in" \
     "pytest as in dnsrace check; extra/ fails its one failing property)"
