# Every target sets up what it needs; CI calls these verbatim.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-sandbox

.PHONY: setup demo test lint typecheck bench schema clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# dev includes the sandbox extra (the emulators' dependencies): the tests use them.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo needs the product and the emulators (the sandbox extra), not the dev tools.
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[sandbox]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python -m controller.cli.demo

test: $(STAMP)
	$(BIN)/ruff check controller sandbox tests bench
	$(BIN)/ruff format --check controller sandbox tests bench
	$(BIN)/mypy
	$(BIN)/octi-tanium schema --check
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check controller sandbox tests bench
	$(BIN)/ruff format --check controller sandbox tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

schema: $(STAMP)
	$(BIN)/octi-tanium schema

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
