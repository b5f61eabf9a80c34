# Two entry points for a fresh clone: `make run` and `make test`.
# Both create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Run the dashboard on http://127.0.0.1:5000 (against the embedded sandbox unless
## FLASK_CAPILLARY_BASE_URL is set).
run: $(STAMP)
	$(BIN)/flask --app app --debug db upgrade
	$(BIN)/flask --app app run --debug

## Set up and run the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
