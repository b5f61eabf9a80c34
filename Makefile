# Two entry points for a fresh clone: `make run` and `make test`.
# Both create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test lint bench clean

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

## Production server: gunicorn with threaded workers (settings in gunicorn.conf.py).
## Needs FLASK_SECRET_KEY, FLASK_AUDIT_HASH_KEY and the upstream settings (see README).
serve: $(STAMP)
	$(BIN)/flask --app app db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py

## The lookup benchmark: sandbox with injected latency + the app under gunicorn.
bench: $(STAMP)
	$(BIN)/python -m bench.lookup_bench

## Set up and run the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
