# Everything runs in .venv, made on first use from the Python on PATH (3.11 or newer).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# Extra options for `make bench`, e.g. BENCH_ARGS="--sizes 100,10000 --duration 3", or
# BENCH_ARGS="--against e908b52" to measure that revision beside the working tree.
BENCH_ARGS ?=

.PHONY: install serve test test-fast test-deep bench lint format clean

SERVE_STAMP := $(VENV)/.installed-serve

# Serving needs the package alone; the tests and the tools come with `make install`.
$(SERVE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable .
	touch $(SERVE_STAMP)

$(STAMP): $(SERVE_STAMP)
	$(BIN)/pip install --quiet --editable '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(SERVE_STAMP)
	$(BIN)/prospect-mock serve

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# The tests that start no process, on two workers, in under a minute: the `system` ones
# (real processes, the whole fault matrix; docs/testing.md) are left to `make test`.
test-fast: install
	$(BIN)/pytest -m "not system" -n 2

test-deep: install
	PROSPECT_MOCK_EXAMPLES=1000 PROSPECT_MOCK_CRASH_ROUNDS=60 PROSPECT_MOCK_OPERATIONS=1000 $(BIN)/pytest

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet --editable '.[test,bench]'
	touch $(BENCH_STAMP)

# Uses wrk, Node (for Prism) and Java (for WireMock) where installed:
# apt-get install wrk nodejs npm openjdk-17-jre-headless.
bench: install $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.workspaces
	$(BIN)/python -m bench.parallel_suite
	$(BIN)/python -m bench.proxy
	$(BIN)/python -m bench.request_path

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .hypothesis
	rm -rf prospect-mock.json prospect-mock.json.* .prospect-mock.json.*.tmp
