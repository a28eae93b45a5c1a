# Regcred Dashboard. `make run` serves it; `make test` tests it. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
export PORT

.PHONY: help install system-deps run test test-fast bench lint format messages clean

help:
	@echo "make run      set up, then serve the dashboard on http://127.0.0.1:$(PORT) with a Celery worker and beat"
	@echo "make test     set up, then run the whole test suite"
	@echo "make bench    measure scans and syncs against the fake API server"
	@echo "make lint     ruff check and format check"

install: $(STAMP)

# Re-installs only when pyproject.toml changes, so repeated runs are fast.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Browser and registry for the test suite, from Debian's packages. Without root (or apt) the
# tests that need them skip and say why.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v docker-registry >/dev/null || missing="$$missing docker-registry"; \
	command -v htpasswd >/dev/null || missing="$$missing apache2-utils"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Not installed:$$missing (apt-get install$$missing); the tests that need them will skip."; \
	  fi; \
	fi

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl-C stops the web server, worker and beat)"
	$(VENV)/bin/honcho -f Procfile.dev start -p $(PORT)

# Tests keep their database, broker folder and keys apart from `make run`'s.
test: install system-deps
	REGCRED_VAR_DIR=$(CURDIR)/var/test $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate translation catalogues after changing strings (needs GNU gettext).
messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*'
	$(PY) manage.py compilemessages -l zh_Hans --ignore '.venv/*'

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
