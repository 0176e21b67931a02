# One command to serve, one to test; both build .venv and install into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-sqlite test-postgresql lint format clean

install: $(VENV)/.installed

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/blog serve --host $(HOST) --port $(PORT)

# Everything: lint, the suite on SQLite (with the browser tests and coverage), then the suite
# again on PostgreSQL. .ci/with-postgres starts a throwaway server (installing it if missing).
test: lint
	.ci/with-postgres $(MAKE) --no-print-directory test-sqlite test-postgresql

test-sqlite: install
	$(BIN)/python -m pytest --cov --cov-report=term

# Needs TEST_DATABASE_URL; the browser tests are left to the SQLite run.
test-postgresql: install
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
		echo "Skipping the PostgreSQL run: no server (TEST_DATABASE_URL is unset)."; \
	else \
		TEST_BACKEND=postgresql $(BIN)/python -m pytest --ignore=tests/e2e -q; \
	fi

lint: install
	$(BIN)/ruff check blog tests
	$(BIN)/ruff format --check blog tests

format: install
	$(BIN)/ruff check --fix blog tests
	$(BIN)/ruff format blog tests

clean:
	rm -rf $(VENV) .pytest_cache .coverage htmlcov

# Speed, measured before anything is optimised (bench/README.md): the blog next to a bare ASGI
# ceiling and a hand-written page. Takes a few minutes; BENCH_ARGS="--scale" for the 1k-vs-1M
# table. bench-smoke only checks that it all still works (well under a minute).
.PHONY: bench bench-smoke
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-smoke: install
	$(BIN)/python bench/run.py --smoke
