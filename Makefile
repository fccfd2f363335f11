# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates .venv and installs tenantctl with what it needs; nothing is installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-clock lint typecheck pytest schemas lock bench clean

# constraints.txt pins every package (and what they pull in) to the versions CI was green
# with, so a new release of a tool cannot turn `make test` red by itself. `make lock`
# re-resolves it after a change to the dependencies in pyproject.toml.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# A real plan of the demo estate against the sandbox, from a fresh sandbox state each time.
# `plan` exits 2 when there are changes (as terraform plan -detailed-exitcode): that is success.
demo: $(STAMP)
	$(BIN)/tenantctl validate --desired desired
	$(BIN)/tenantctl sandbox reset --state .tenantctl/sandbox
	$(BIN)/tenantctl plan --sandbox --desired desired --out .tenantctl/plan.json \
		--markdown .tenantctl/plan.md; status=$$?; [ $$status -eq 0 ] || [ $$status -eq 2 ]

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check controller tests bench
	$(BIN)/ruff format --check controller tests bench

typecheck: $(STAMP)
	$(BIN)/mypy controller

pytest: $(STAMP)
	$(BIN)/pytest -q

# The whole suite again with the system clock 400 days ahead (libfaketime): no test may depend
# on today's date. Needs the faketime command (Debian: apt-get install faketime).
test-clock: $(STAMP)
	faketime '+400 days' $(BIN)/pytest -q -p no:cacheprovider

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header \
		--output-file constraints.txt

schemas: $(STAMP)
	$(BIN)/tenantctl schema --out schemas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
