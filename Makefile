# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create (or reuse) .venv and install the project with what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast test-slow lint typecheck bench bench-quick clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch is pinned to the CPU build that lies on this kind of machine; the range in
# pyproject.toml is then satisfied and pip downloads no CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/nbt demo

lint: $(STAMP)
	$(BIN)/ruff check nasbench_tools predictors tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite, plus every docstring example in the library (numpydoc "Examples" must run).
test: lint typecheck
	$(BIN)/python -m pytest -n 2 -q -m "not slow" --doctest-modules tests nasbench_tools predictors

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow" -x

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# Every speed suite, then benchmarks/results/SUMMARY.md (30-40 min on 2 shared cores).
bench: $(STAMP)
	$(BIN)/pip install -q -e ".[bench]"
	nice -n 10 $(BIN)/python benchmarks/run_all.py

# The same suites with short settings; results and summary under $TMPDIR/nbt_bench/quick.
bench-quick: $(STAMP)
	$(BIN)/pip install -q -e ".[bench]"
	nice -n 10 $(BIN)/python benchmarks/run_all.py --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
