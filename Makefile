# dnsrace: `make run` checks the shipped specs, `make test` runs the whole suite,
# `make bench` runs the benchmarks (`make bench-symbolic`: the Z3 engines against BFS).
# Each target creates the virtual environment first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench bench-symbolic lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/dnsrace check specs/

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/bench_explicit.py

bench-symbolic: $(STAMP)
	$(PY) benchmarks/bench_symbolic.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
