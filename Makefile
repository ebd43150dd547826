# The two commands a new user needs: `make sample` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Test workers: most tests wait on servers, browsers and subprocesses, so three keep two cores busy.
TEST_WORKERS ?= 3

.PHONY: sample test lint golden bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install, then run the whole pipeline on the bundled sample content (offline).
sample: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/newsletter run 2020-10

# Install with the test extras (and what the tests need from the system), run the suite.
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	./scripts/install-test-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

lint: $(BIN)/python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy newsletter benchmarks tests

# Regenerate the golden files after an intended rendering change; review the diff.
golden: $(BIN)/python
	$(BIN)/python -m pytest tests/test_golden.py --update-golden

# Time every workload against its baseline (see benchmarks/README.md); writes benchmarks/results.json.
bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks --json benchmarks/results.json

# The same on small sizes, in under two minutes: CI's smoke test that the benchmarks still run.
bench-quick: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf build dist .newsletter .pytest_cache .mypy_cache .ruff_cache
