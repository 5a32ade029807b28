# MIRE — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/mire
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup run test test-postgres lint bench clean

$(VENV)/.installed: requirements-pip.txt requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-pip.txt
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

setup: $(VENV)/.installed node_modules/.installed
	mkdir -p var

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py serve 127.0.0.1:8000

test: setup
	$(PY) -m pytest -n 2 --dist loadfile

test-postgres: setup
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) -m pytest -n 2 --dist loadfile

# What .ci/run checks. The code is laid out by hand (see ../shared/STYLE.md), not by `ruff format`,
# which would rewrap most files: a check of it here failed on every checkout.
lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules var staticfiles
