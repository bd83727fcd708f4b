# Peuplade: `make run` to try it, `make test` to check it. `make help` lists everything.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What is installed, stamped: `make run` needs the app's packages only (`pip install -e .`);
# the test tools (pytest, Playwright, schemathesis, ruff...: ~500 MB) come with `make test`.
# The test stamp depends on the run stamp, so either order, and a change to setup.cfg or
# pyproject.toml, installs again what is needed and no more.
INSTALLED_RUN := $(VENV)/.installed-run
INSTALLED_TEST := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# Test processes (pytest-xdist): each has its own SQLite file and PostgreSQL database.
PYTEST_WORKERS ?= auto
BENCH_ARGS ?= --sizes 20000 --runs 5
# apt needs root: use sudo only when we are not root already.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export FLASK_APP := wsgi

# $(call apt_install,packages...): install Debian packages, or explain what to install.
define apt_install
	@if command -v apt-get >/dev/null; then \
		echo "Installing $(1) with apt-get..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	else \
		echo "Please install $(1) (or your system's equivalent), then run make again." >&2; \
		exit 1; \
	fi
endef

# Loads .env (if any) into the environment of the command that follows.
with_env = set -a; [ ! -f .env ] || . ./.env; set +a;

.PHONY: help install install-test spatialite postgis chromium exiftool lighthouse run test lint bench bench-profile bench-fanout bench-radius bench-photos clean translations

help: ## show this help
	@echo "Peuplade - neighbourhood mutual aid"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-13s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: HOST=$(HOST) PORT=$(PORT) PYTEST_WORKERS=$(PYTEST_WORKERS) PYTEST_ARGS='$(PYTEST_ARGS)' BENCH_ARGS='$(BENCH_ARGS)'"

install: $(INSTALLED_RUN) spatialite ## create .venv, install what running needs and SpatiaLite

install-test: $(INSTALLED_TEST) spatialite ## install also the test tools (pytest, Playwright, ruff...)

$(INSTALLED_RUN): setup.cfg pyproject.toml
	@if [ ! -x $(BIN)/pip ]; then \
		rm -rf $(VENV); \
		$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
			rm -rf $(VENV); \
			echo "python3 -m venv failed: installing python3-venv"; \
			$(SUDO) apt-get update -qq && \
			$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && \
			$(PYTHON) -m venv $(VENV); \
		}; \
	fi
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(INSTALLED_TEST): $(INSTALLED_RUN)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

spatialite: $(INSTALLED_RUN)
	@$(BIN)/python -c "import sqlean; c = sqlean.connect(':memory:'); \
		c.enable_load_extension(True); c.load_extension('mod_spatialite')" 2>/dev/null \
		|| $(MAKE) --no-print-directory _apt PACKAGES=libsqlite3-mod-spatialite

# The suite's PostGIS half needs the server binaries and the extension (conftest starts a
# throwaway cluster when no server answers on 127.0.0.1:5432).
postgis:
	@major=$$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1); \
	if [ -n "$$major" ] && ls /usr/share/postgresql/$$major/extension/postgis.control >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	if [ -z "$$major" ] && command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -qq; \
		major=$$(apt-cache search --names-only '^postgresql-[0-9]+-postgis-3$$' \
			| sed -E 's/^postgresql-([0-9]+)-.*/\1/' | sort -n | tail -1); \
	fi; \
	$(MAKE) --no-print-directory _apt PACKAGES="postgresql-$${major:-15}-postgis-3"

# The browser tests (tests/e2e) drive Debian's Chromium through Playwright (which never
# downloads a browser of its own here).
chromium:
	@command -v chromium >/dev/null 2>&1 \
		|| $(MAKE) --no-print-directory _apt PACKAGES=chromium

# The photo tests read every served image back with exiftool (tests/test_photo_metadata.py):
# no metadata block may survive the upload.
exiftool:
	@command -v exiftool >/dev/null 2>&1 \
		|| $(MAKE) --no-print-directory _apt PACKAGES=libimage-exiftool-perl

# Lighthouse (tests/e2e/test_lighthouse.py) is an npm package, pinned in package.json and
# package-lock.json; it drives the same Chromium (CHROME_PATH) and downloads no browser.
NODE_INSTALLED := node_modules/.installed
lighthouse: $(NODE_INSTALLED) ## install Lighthouse (npm ci) for the browser tests

$(NODE_INSTALLED): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory _apt PACKAGES="nodejs npm"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

_apt:
	$(call apt_install,$(PACKAGES))

# $(call quietly,message,command): the command's output only if it fails.
define quietly
	@echo "$(1)"; out=$$($(with_env) $(2) 2>&1) || { echo "$$out" >&2; exit 1; }
endef

# `flask run` reads FLASK_RUN_HOST and FLASK_RUN_PORT, and so does the app: without
# PUBLIC_URL, the links of the lobby board and of e-mails name this very address. The
# start-up ends with the address to open and the demo login (peuplade/demo/cli.py).
run: install ## serve the demo neighbourhood on http://HOST:PORT (127.0.0.1:5000)
	$(call quietly,Database: migrations...,$(BIN)/flask db upgrade)
	$(call quietly,Database: the demo neighbourhood...,$(BIN)/flask seed-demo)
	@$(with_env) FLASK_RUN_HOST=$(HOST) FLASK_RUN_PORT=$(PORT) $(BIN)/flask run

# Two steps: the suite in parallel, then the tests marked `alone` (Lighthouse's scores
# count the main thread's busy time, which another test's work on the same cores would
# inflate) with the machine to themselves. Exit 5 is "no test selected": PYTEST_ARGS
# naming files without such a test.
test: install-test postgis chromium exiftool lighthouse ## the whole suite on SQLite+SpatiaLite AND PostgreSQL+PostGIS (15-25 min on 2 cores)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not alone" $(PYTEST_ARGS)
	$(BIN)/pytest -m alone $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: $(INSTALLED_TEST) ## ruff check + ruff format --check + lint-imports (.importlinter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# City-scale benchmarks (docs/SCALING.md). The databases are made once (~6 min for the
# 1M-member city on PostGIS) and kept: drop them with `dropdb` when done.
BENCH_DB ?= peuplade_bench_1m
BENCH_MEMBERS ?= 1000000
BENCH_SMALL_DB ?= peuplade_bench_100k
BENCH_SMALL_MEMBERS ?= 100000
BENCH_SQLITE ?= instance/bench_100k.sqlite
BENCH_WORKERS ?= 4
BENCH_LOGIN_WORKERS ?= 2
# The app's pool below the login pool in CPU priority, as docs/deployment.md deploys them.
BENCH_APP_NICE ?= 10
BENCH_SECONDS ?= 30
BENCH_HTTP_ARGS ?=
# The bench measures this checkout's code (a worktree's too), not the installed copy's.
BENCH_PY := env PYTHONPATH=$(CURDIR) $(BIN)/python
# The HTTP bench's gunicorn runs from a deployment's packages (`pip install .`, no test
# tools): pytest and schemathesis bring Pygments and requests, which Mako and geopy
# import when they are there, ~11 MiB per worker that a server never has.
SERVE_VENV := .venv-serve
INSTALLED_SERVE := $(SERVE_VENV)/.installed-run
BENCH_FILES := $(addprefix bench/out/,queries_postgis.json queries_spatialite.json http_load.json demo.json)

# Each part writes its figures to bench/out/ (the old ones are removed first, so a part
# that fails shows as "not measured"); bench/report.py then prints issue 23's targets
# table, today's figures and this run's side by side. Every part runs even if one
# fails; the exit status says whether one did. Each part's duration is printed.
$(INSTALLED_SERVE): setup.cfg pyproject.toml
	@[ -x $(SERVE_VENV)/bin/pip ] || $(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install --quiet --disable-pip-version-check -e .
	@touch $@

bench: install-test postgis $(INSTALLED_SERVE) ## city-scale benchmarks: lists vs the obvious query, SpatiaLite, HTTP load, demo page; the targets table
	@rm -f $(BENCH_FILES) bench/out/report.md
	@failed=0; \
	part() { local start=$$SECONDS; echo "== $$1"; shift; "$$@" || failed=1; \
		echo "== ($$((SECONDS - start)) s)"; }; \
	part "lists, PostGIS" $(BENCH_PY) bench/queries.py --db $(BENCH_DB) \
		--small-db $(BENCH_SMALL_DB) --generate $(BENCH_MEMBERS) $(BENCH_SMALL_MEMBERS); \
	part "lists, SpatiaLite" $(BENCH_PY) bench/queries.py --backend spatialite \
		--db $(BENCH_SQLITE) --generate 50000 5000 --members 200; \
	part "demo page, in-process" $(BENCH_PY) bench/demo_page.py; \
	part "HTTP load" $(BENCH_PY) bench/http_load.py --db $(BENCH_DB) \
		--workers $(BENCH_WORKERS) --login-workers $(BENCH_LOGIN_WORKERS) \
		--app-nice $(BENCH_APP_NICE) --server-python $(SERVE_VENV)/bin/python \
		--seconds $(BENCH_SECONDS) $(BENCH_HTTP_ARGS); \
	$(BENCH_PY) bench/report.py; \
	exit $$failed

bench-profile: install-test ## profile a timeline page, /bench/ping and a posted request in-process (bench/out/profile-*)
	$(BENCH_PY) bench/profile.py --db $(BENCH_DB)

bench-fanout: install-test ## a request's matching fan-out: nearest first against the whole reach, same requests
	$(BENCH_PY) bench/fanout.py --db $(BENCH_DB)

bench-radius: install-test ## time the neighbours radius query with and without the spatial index
	$(BIN)/python bench/neighbours_radius.py $(BENCH_ARGS)

bench-photos: install-test ## photos: cleaning a 12-MP phone photo; a thumbnail served vs the timeline page
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/photo_serving.py

clean: ## remove the local database and caches (keeps .venv)
	rm -rf instance/peuplade.sqlite* .pytest_cache .ruff_cache

translations: $(INSTALLED_RUN) ## re-extract French texts, update the English catalog and the French plurals, compile
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --add-comments=TRANSLATORS: \
		--project=Peuplade --copyright-holder="Peuplade contributors" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations
	$(BIN)/python translations/french_plurals.py
	$(BIN)/pybabel compile -d translations --statistics
