# OncoLiaison — the two commands:  make run  ·  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run dev serve-prepare test install install-dev browser lint typecheck migrations-check pytest bench bench-peer audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Migrate the embedded SQLite database under var/ and seed the demo (both idempotent).
serve-prepare: install
	@mkdir -p -m 700 var
	$(BIN)/oncoliaison migrate --no-input -v 0
	$(BIN)/oncoliaison seed-demo
	$(BIN)/oncoliaison collectstatic --no-input -v 0

## make run: install, migrate, seed the demo, serve with DEBUG off on gunicorn, the production server (the
## error pages a user would see; static files served by WhiteNoise; an access log without query strings).
run: serve-prepare
	@echo ""
	@echo "  OncoLiaison is running: open http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	@echo ""
	DEBUG=0 GUNICORN_BIND=127.0.0.1:$(PORT) $(BIN)/gunicorn -c python:oncoliaison.gunicorn_conf

## make dev: the same, with DEBUG on and Django's development server reloading on code changes.
dev: serve-prepare
	DEBUG=1 $(BIN)/oncoliaison runserver 127.0.0.1:$(PORT)

## make test: everything CI runs — lint, types, migrations check, the whole pytest suite incl. browser tests.
test: install-dev browser lint typecheck migrations-check pytest

# Browser tests drive Debian's Chromium through Playwright (no browser download) and check every page they
# visit with axe-core, the pinned version in package-lock.json, installed from the npm registry into node_modules/.
browser: node_modules/.package-lock.json
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Debian's npm (Node.js) for the browser tests' accessibility checks"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint:
	$(BIN)/ruff check src tests benchmarks conftest.py
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy src

migrations-check:
	@mkdir -p -m 700 var
	$(BIN)/oncoliaison makemigrations --check --dry-run -v 1

pytest:
	@mkdir -p -m 700 var
	$(BIN)/pytest $(PYTEST_ARGS)

## make audit: known vulnerabilities in the locked dependencies (pip-audit, PyPI's advisories; needs pypi.org).
audit: install-dev
	$(BIN)/pip-audit -s pypi --no-deps --disable-pip -r constraints.txt --progress-spinner off

## make bench: the benchmark scripts on a fresh embedded database each (docs/benchmarks.md has the figures);
## the worklist at registry scale needs PostgreSQL: DATABASE_URL=postgres://… .venv/bin/python benchmarks/worklist.py
bench: install-dev
	@for s in fhir_read fhir_import fhir_export symptom_submit; do echo "== benchmarks/$$s.py"; $(BIN)/python benchmarks/$$s.py || exit 1; done

## make bench-peer: OncoLiaison (gunicorn, as make run serves it) beside the peer FHIR server sekmet-fhir 0.1.1
## (uvicorn, installed in its own virtual environment under var/bench-peer/), the same 10,000 patients and
## the same wrk load; prints req/s, p99 and the ratios (needs wrk or oha: apt-get install -y wrk).
bench-peer: install-dev
	@mkdir -p -m 700 var
	$(BIN)/python benchmarks/fhir_peer.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules var/*.sqlite3* .pytest_cache .mypy_cache .ruff_cache
