# One command to serve, one to test; both build .venv and install into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format clean

install: $(VENV)/.installed

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/uvicorn blog.main:app --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check blog tests
	$(BIN)/ruff format --check blog tests
	$(BIN)/python -m pytest --cov --cov-report=term

lint: install
	$(BIN)/ruff check blog tests
	$(BIN)/ruff format --check blog tests

format: install
	$(BIN)/ruff check --fix blog tests
	$(BIN)/ruff format blog tests

clean:
	rm -rf $(VENV) .pytest_cache .coverage htmlcov
