# OncoLiaison — the two commands:  make run  ·  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install install-dev browser lint typecheck migrations-check pytest bench clean

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

## make run: install, migrate the embedded SQLite database under var/, seed the demo, serve.
run: install
	@mkdir -p var
	$(BIN)/oncoliaison migrate --no-input -v 0
	$(BIN)/oncoliaison seed-demo
	@echo ""
	@echo "  OncoLiaison is running: open http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	@echo ""
	$(BIN)/oncoliaison runserver 127.0.0.1:$(PORT) --noreload

## make test: everything CI runs — lint, types, migrations check, the whole pytest suite incl. browser tests.
test: install-dev browser lint typecheck migrations-check pytest

# Browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint:
	$(BIN)/ruff check src tests benchmarks conftest.py

typecheck:
	$(BIN)/mypy src

migrations-check:
	@mkdir -p var
	$(BIN)/oncoliaison makemigrations --check --dry-run -v 1

pytest:
	@mkdir -p var
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache .mypy_cache .ruff_cache
