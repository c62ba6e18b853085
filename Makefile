# dnsrace: `make run` checks the shipped specs, `make test` runs the whole suite,
# `make bench` runs the benchmarks (`make bench-symbolic`: the Z3 engines against BFS),
# `make plugin-check` the pytest plugin in a fresh virtual environment (minutes, PyPI),
# `make precommit-check` the pre-commit hooks through `pre-commit try-repo` (minutes, PyPI),
# `make fuzz` the long fuzzing run (FUZZ_INPUTS inputs; failures under fuzz-out/failures).
# Each target but plugin-check and precommit-check creates the virtual environment first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench bench-symbolic fuzz lint clean plugin-check precommit-check

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/dnsrace check specs/

# the suite on every core (pytest-xdist); TEST_WORKERS=0 runs it in this one process
TEST_WORKERS ?= auto
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS)

bench: $(STAMP)
	$(PY) benchmarks/bench_explicit.py

bench-symbolic: $(STAMP)
	$(PY) benchmarks/bench_symbolic.py

FUZZ_INPUTS ?= 100000
fuzz: $(STAMP)
	$(PY) -m tests.fuzz --inputs $(FUZZ_INPUTS) --workers 2 --mem-gib 2 --seconds 20 --out fuzz-out

# the pytest plugin in a fresh virtual environment with only dnsrace and pytest (needs PyPI)
plugin-check:
	bash tests/fresh_venv_plugin.sh

# the pre-commit hooks, tried from this checkout on a scratch git repository (needs PyPI)
precommit-check:
	bash tests/precommit_try_repo.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info fuzz-out
