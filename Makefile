# orchestrator — the two commands a newcomer needs are `make demo` and `make test`.
# Everything else here is what those two call.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      ?= .venv
PY        := $(VENV)/bin/python
PYTHON    ?= python3
LAB_DIR   ?= /var/tmp/orchestrator-lab
LAB_HOSTS ?= 12
export LAB_DIR

.PHONY: help setup system-deps demo test test-unit lint bench lab-up lab-down lab-status clean

help:
	@echo "make demo      set up, start the lab, run the daily inspection, show where results are"
	@echo "make test      set up, start the lab, run the whole suite, stop the lab"
	@echo "make lint      ruff + mypy (strict) + import-linter"
	@echo "make bench     fan-out benchmark (not part of make test)"
	@echo "make lab-up / lab-down / lab-status"

# System packages the lab and the venv need (Debian); skipped when already present.
system-deps:
	@bash lab/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@bash lab/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed

lab-up: setup
	@bash lab/up.sh $(LAB_HOSTS)

lab-down:
	@bash lab/down.sh

lab-status:
	@bash lab/status.sh

demo: setup lab-up
	@bash lab/demo.sh

test: setup
	@bash lab/test.sh

test-unit: setup
	$(PY) -m pytest tests/unit -q

lint: setup
	$(VENV)/bin/ruff check orchestrator tests lab
	$(VENV)/bin/ruff format --check orchestrator tests lab
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	@bash lab/bench.sh

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
