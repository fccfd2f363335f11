# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates .venv and installs tenantctl with what it needs; nothing is installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest schemas bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tenantctl validate --desired desired

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check controller tests bench
	$(BIN)/ruff format --check controller tests bench

typecheck: $(STAMP)
	$(BIN)/mypy controller

pytest: $(STAMP)
	$(BIN)/pytest -q

schemas: $(STAMP)
	$(BIN)/tenantctl schema --out schemas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
