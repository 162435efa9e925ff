# The two set-up commands of the README: `make run` and `make test`.
# Each creates .venv when needed and installs everything before it runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck importlint unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the CPU build of torch, pinned: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/feedcraft run

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

importlint: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest

test: lint typecheck importlint unit

bench: install
	$(BIN)/python benchmarks/baselines.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
