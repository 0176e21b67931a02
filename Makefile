# One command to serve, one to test; both build .venv and install into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A second venv with every dependency at the oldest version pyproject.toml allows.
FLOORS_VENV := .venv-floors
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers for the SQLite runs; JOBS=0 runs them in one process.
JOBS ?= 2

.PHONY: install run test test-sqlite test-postgresql test-floors check-wheel lint format clean

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

# Coverage follows each xdist worker from its first line (pyproject.toml's [tool.coverage.run];
# .ci/coverage_in_workers.py keeps it out of the servers tests start) and adds them up; under
# 90% fails.
test-sqlite: install
	$(BIN)/coverage erase
	PYTHONPATH=$(CURDIR)/.ci $(BIN)/coverage run -m pytest -p coverage_in_workers -n $(JOBS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

# Needs TEST_DATABASE_URL; the browser tests are left to the SQLite run. Each xdist worker gets
# a database of its own on that server (.ci/database_per_worker.py). The fuzz tests try fewer
# examples here (the SQLite run tries 40 each), to keep CI within its 10 minutes.
test-postgresql: install
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
		echo "Skipping the PostgreSQL run: no server (TEST_DATABASE_URL is unset)."; \
	else \
		echo "TEST_BACKEND=postgresql pytest -n $(JOBS) --ignore=tests/e2e -q"; \
		TEST_BACKEND=postgresql FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-15} PYTHONPATH=$(CURDIR)/.ci \
			$(BIN)/python -m pytest \
			-p database_per_worker -n $(JOBS) --ignore=tests/e2e -q; \
	fi

# The dependency floors: lint with the oldest ruff, then the suite without the browser tests
# (on SQLite, with PostgreSQL for the tests that need it, so psycopg's floor is tried too).
# The floors run asks whether the oldest versions allowed work: these files between them use
# every dependency (the web stack, the ORM and migrations on both databases, Markdown and its
# sanitizer, argon2, signed links, feeds, mail, settings, the CLI and uvicorn, the OpenAPI
# validator); the rest of the suite checks the blog's own logic over and over, and the main runs
# do that. schemathesis's floor is its newest version, so its run (test_api_fuzz) is the main one.
FLOORS_TESTS := test_app test_smoke test_auth test_sessions test_passwords test_reset_by_mail \
	test_login_throttling test_throttling test_health test_cli test_site_settings test_blogs \
	test_users test_queries test_counts test_migrations test_comment_migration test_text \
	test_feeds test_page_cache test_request_log test_api_openapi
test-floors: $(FLOORS_VENV)/.installed
	$(FLOORS_VENV)/bin/ruff check --no-cache blog tests
	$(FLOORS_VENV)/bin/ruff format --no-cache --check blog tests
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-15} .ci/with-postgres $(FLOORS_VENV)/bin/python -m pytest \
		-q -p no:cacheprovider -n $(JOBS) \
		$(addsuffix .py,$(addprefix tests/,$(FLOORS_TESTS)))

# .ci/floors.txt pins each dependency to its floor; check-floors fails if it and pyproject.toml
# disagree. A fresh venv every time they change, so no newer version lingers.
$(FLOORS_VENV)/.installed: pyproject.toml .ci/floors.txt | $(VENV)/.installed
	$(BIN)/python .ci/check-floors
	rm -rf $(FLOORS_VENV)
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install --quiet -c .ci/floors.txt -e '.[dev]'
	touch $@

# Build the sdist and a wheel from it, install the wheel in a new venv outside the checkout,
# and serve a seeded blog from an empty folder: every page, its stylesheet and the feed.
check-wheel: install
	.ci/check-wheel

lint: install
	$(BIN)/ruff check blog tests
	$(BIN)/ruff format --check blog tests

format: install
	$(BIN)/ruff check --fix blog tests
	$(BIN)/ruff format blog tests

clean:
	rm -rf $(VENV) $(FLOORS_VENV) .pytest_cache .coverage .coverage.* htmlcov

# Speed, measured before anything is optimised (bench/README.md): the blog next to a bare ASGI
# ceiling and a hand-written page. Takes a few minutes; BENCH_ARGS="--scale" for the 1k-vs-1M
# table. bench-smoke only checks that it all still works (well under a minute).
.PHONY: bench bench-smoke
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-smoke: install
	$(BIN)/python bench/run.py --smoke
