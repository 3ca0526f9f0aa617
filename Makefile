# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
export FLASK_APP := app:create_app

.PHONY: run run-network test test-pg install install-test translations messages migrate lint fmt clean bench bench-pg

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[bench]'
	touch $@

install: $(VENV)/.installed translations

install-test: $(VENV)/.installed-test translations

# Compiled catalogues are build products: made here, never committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -f -d translations

migrate: install
	$(BIN)/flask db upgrade

# QR codes and notices carry PUBLIC_BASE_URL: unless it is set, it is where `make run` serves.
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
# The network worker (outbox delivery), the audit integrator (numbers audit entries and
# signs checkpoints) and the witness requests (peers cosign our checkpoints) run in the
# background and stop with the server.
run: migrate
	$(BIN)/flask demo load --if-empty
	$(BIN)/flask demo logins
	$(BIN)/flask network worker & worker=$$!; \
	$(BIN)/flask audit integrate & integrator=$$!; \
	$(BIN)/flask audit witness & witness=$$!; \
	trap 'kill $$worker $$integrator $$witness 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile - 'app:create_app()'

# Two cities' deployments peered with each other (README, "Network"): Qingdao on :5000 and
# Jinan on :5001, with cross-deployment transfer cases at every step.
run-network: install
	scripts/run-network.sh

# `make test` runs on SQLite (whatever TEST_DATABASE_URL says; `make test-pg` on PostgreSQL).
# Browser tests are never skipped silently: Chromium is installed when missing (as root), or the
# run stops with the command to install it; SKIP_BROWSER=1 runs the suite without them. The same
# for the Nu HTML checker the standards test runs (vnu-jar from npm into .cache/vnu, and Java).
# The suite runs in pytest-xdist workers, one per core (PYTEST_WORKERS=0: in this one process);
# each worker has its own SQLite files, PostgreSQL database, ports and folders (tests/helpers.py),
# and takes whole test files (a module-scoped fixture, two cities say, is made once).
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

test: install-test
	scripts/ensure-chromium.sh
	scripts/ensure-vnu.sh >/dev/null
	TEST_DATABASE_URL= $(PYTEST) $(PYTEST_ARGS)

# The same suite on PostgreSQL (starts Debian's cluster and makes the test database; needs root).
# A TEST_DATABASE_URL set in the environment is used instead of the script's jiaoguan_test; the
# workers run on databases named after it (jiaoguan_test_gw0, ...), made by tests/conftest.py.
test-pg: install-test
	scripts/ensure-chromium.sh
	scripts/ensure-vnu.sh >/dev/null
	url=$$(scripts/pg-test-server.sh) && \
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$$url} $(PYTEST) $(PYTEST_ARGS)

# The benchmark against a real gunicorn (not part of the tests): docs/PERFORMANCE.md.
# wrk comes from Debian's packages (installed here when missing; needs root, as CI has).
bench: $(VENV)/.installed-bench translations
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The same scenarios on PostgreSQL (docs/PERFORMANCE.md, "PostgreSQL"): one node, then one and
# two nodes with a 2 ms round trip to the database (bench/delayproxy.py). Starts Debian's
# cluster (scripts/pg-test-server.sh) and uses the database jiaoguan_bench, made when missing;
# a smaller city by default (BENCH_PG_SCALE), as the sessions are logged in anew for it.
BENCH_PG_SCALE ?= 0.1
BENCH_PG_ARGS ?= --duration 5 --configs 1,1d,2d
bench-pg: $(VENV)/.installed-bench translations
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	url=$$(scripts/pg-test-server.sh) && \
	bench_url=$${url%/*}/jiaoguan_bench && \
	{ runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'jiaoguan_bench'" | grep -q 1 || \
	  runuser -u postgres -- createdb -O jiaoguan jiaoguan_bench; } && \
	$(BIN)/python -m bench.run --pg $$bench_url --scale $(BENCH_PG_SCALE) $(BENCH_PG_ARGS) $(BENCH_ARGS)

# Style, formatting, and the layers (pyproject.toml's [tool.importlinter]: no upward import).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache

# Refresh the catalogues after changing user-facing strings; then fill in translations/zh.
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--ignore-dirs='.venv tests bench static build' -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --width 100
