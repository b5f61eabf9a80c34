# Two entry points for a fresh clone: `make run` and `make test`.
# Both create .venv on first use and reinstall when requirements.lock or pyproject.toml change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: run serve test test-anyday lint bench lock clean

# Every dependency, the test tools and the build backend come pinned, with hashes, from the
# lock; the project itself is then installed on top without resolving anything again.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Re-pin every dependency (after editing pyproject.toml, or to take upgrades): rewrites
## requirements.lock from PyPI. Upgrade one package: make lock LOCK_ARGS="-P flask".
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet pip-tools
	PIP_CONFIG_FILE=/dev/null .venv-lock/bin/pip-compile --quiet --generate-hashes \
		--allow-unsafe --all-build-deps --extra test --strip-extras \
		--no-emit-index-url --no-emit-find-links $(LOCK_ARGS) -o $(LOCK) pyproject.toml

## Run the dashboard on http://127.0.0.1:5000 (against the embedded sandbox unless
## FLASK_CAPILLARY_BASE_URL is set).
run: $(STAMP)
	$(BIN)/flask --app app --debug db upgrade
	$(BIN)/flask --app app run --debug

## Production server: gunicorn with threaded workers (settings in gunicorn.conf.py).
## Needs FLASK_SECRET_KEY, FLASK_AUDIT_HASH_KEY and the upstream settings (see docs/configuration.md).
serve: $(STAMP)
	$(BIN)/flask --app app db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py

## The lookup benchmark: sandbox with injected latency, the app and the floor (a minimal
## Flask + requests + Jinja app making the same calls) under gunicorn, lookups interleaved.
bench: $(STAMP)
	$(BIN)/python -m bench.lookup_bench

## Set up and run the whole test suite, over TEST_WORKERS pytest-xdist workers (default: one
## per core; TEST_WORKERS=0 runs it in this one process). Bytecode is written even where
## PYTHONDONTWRITEBYTECODE is set: otherwise every worker, and every server or command a test
## starts, compiles the app and the tests (and pytest rewrites their asserts) from source again.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS)

## The suite at moments where calendars turn (needs Debian's faketime): see .ci/anyday.
test-anyday: $(STAMP)
	bash .ci/anyday

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache .ruff_cache
