#!/usr/bin/env bash
# The pre-commit hooks (.pre-commit-hooks.yaml) where a user meets them: `pre-commit
# try-repo` this repository in a scratch git repository holding one good spec, one invalid
# spec and a YAML file that is no spec.
#   - dnsrace-lint fails (exit 2, the invalid spec's diagnostic), passes the good spec, and
#     never reads the YAML file that is no spec;
#   - dnsrace-lint on the good spec and the other YAML file alone passes;
#   - dnsrace-check runs only on demand (--hook-stage manual) and fails on the invalid spec.
# pre-commit builds the hooks' environment from this checkout (uncommitted changes
# included) with pip, so it needs PyPI; each try-repo builds it anew (about 40 s).
# `make precommit-check`.  PRE_COMMIT picks the pre-commit to run (default: the one on
# PATH, else .venv/bin/pre-commit).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
pre_commit=${PRE_COMMIT:-$(command -v pre-commit || echo "$repo/.venv/bin/pre-commit")}
work=$(mktemp -d "${TMPDIR:-/tmp}/dnsrace-precommit.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q
git config user.email ci@example.invalid
git config user.name ci
cp "$repo/specs/lease_handoff.yaml" good.yaml
cp "$repo/tests/broken/arity_len.yaml" bad.yaml
printf 'name: app\nitems: [1, 2]\n' > settings.yaml
git add . && git commit -qm "specs"

try() {   # try WANT_STATUS HOOK ARGS...: output in $work/out
    local want=$1 status=0
    shift
    "$pre_commit" try-repo "$repo" "$@" > out 2>&1 || status=$?
    if [ "$status" != "$want" ]; then
        cat out
        echo "FAIL: pre-commit try-repo $* exited $status, not $want" >&2
        exit 1
    fi
}
must_show() { grep -qF -- "$1" out || { cat out; echo "FAIL: no '$1'" >&2; exit 1; }; }

try 1 dnsrace-lint --all-files
must_show "bad.yaml:9:12: error[DR206 arity]"
must_show "good.yaml: no problems found"
if grep -q "settings.yaml" out; then cat out; echo "FAIL: settings.yaml was linted" >&2; exit 1; fi

try 0 dnsrace-lint --files good.yaml settings.yaml

try 1 dnsrace-check --all-files          # stage manual: not a hook of a plain commit
must_show 'No hook with id `dnsrace-check` in stage `pre-commit`'
try 1 dnsrace-check --hook-stage manual --all-files
must_show "bad.yaml:9:12: error[DR206 arity]"
must_show "lease-handoff (good.yaml)"
echo "precommit-check: ok"
