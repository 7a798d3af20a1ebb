# Developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test test-browser test-postgres lint typecheck bench clean

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml tests/interop/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -e ".[dev]"
	@# node `jose` (an independent verifier in the conformance tests) and axe-core (the browser tests); both skip without Node.js
	if command -v npm >/dev/null; then npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error; fi
	touch $(STAMP)

install: $(STAMP) ## Create the virtualenv and install everything

run: $(STAMP) ## Start the issuer (:8000) and the verifier (:8001) with a demo provider on SQLite
	@bash scripts/run-demo.sh

test: $(STAMP) ## Run the whole test suite (SQLite; PostgreSQL too when ODZNAKA_TEST_POSTGRES_URL is set)
	$(BIN)/python -m pytest -n 2

test-browser: $(STAMP) ## Run the browser tests: both apps served, pages driven by Chromium (/usr/bin/chromium)
	$(BIN)/python -m pytest -m browser tests/browser

test-postgres: $(STAMP) ## Run the suite on SQLite and on the local PostgreSQL
	ODZNAKA_TEST_POSTGRES_URL=$${ODZNAKA_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres} \
		$(BIN)/python -m pytest -n 2

lint: $(STAMP) ## Ruff lint and format check, then mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy credentials http_edge issuer verifier

bench: $(STAMP) ## Performance ratios (PRODUCT.md §7), issue latency by list fullness, a 10,000-row cohort, hostile issuer sites
	$(BIN)/python bench/run.py
	if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
		ODZNAKA_BENCH_POSTGRES_URL=$${ODZNAKA_BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres} \
		$(BIN)/python bench/fill.py; else $(BIN)/python bench/fill.py; fi
	if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
		ODZNAKA_BENCH_POSTGRES_URL=$${ODZNAKA_BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres} \
		$(BIN)/python bench/cohort.py; else $(BIN)/python bench/cohort.py; fi
	$(BIN)/python bench/hostile.py

clean: ## Remove the virtualenv, caches and the local demo data (keeps keys/)
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
