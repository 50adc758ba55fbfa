# Orderbridge — two commands for a fresh machine (Python 3.11 and make):
#   make run    set up, then run the whole product locally (the local stack)
#   make test   set up, then run the whole test suite (ruff, mypy, sam validate --lint, sam build, pytest)
#   make lock   recompile the lock (requirements/dev.txt, layers/shared/requirements.txt) from pyproject.toml

PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0

.PHONY: run test setup lint typecheck validate build pytest demo clean lock

run: setup
	$(PY) -m orderbridge_local run

demo: setup
	$(PY) -m orderbridge_local demo

test: setup lint typecheck validate build pytest

setup: $(VENV)/.installed $(SAM_VENV)/.installed tests/node/node_modules/.installed

# The project's own environment: exactly the lock's versions (requirements/dev.txt: the dev tools and
# the runtime dependencies, every one pinned, pip's own too), then the shared package itself,
# editable, without resolving anything again.
$(VENV)/.installed: requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# The lock, compiled by pip-tools (pip's resolver, so pip's configured indexes are the ones used) from
# pyproject.toml's ranges: requirements/dev.txt for the dev environment and the tests, and the layer's
# layers/shared/requirements.txt (the roots in requirements/layer.in) constrained to the same versions.
# Versions already locked are kept while pyproject.toml admits them; `make lock LOCK_ARGS=--upgrade`
# takes the newest (LOCK_ARGS='--upgrade-package pydantic': one). Then `make setup` installs them.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --annotation-style line $(LOCK_ARGS)

lock: $(VENV)/.installed
	$(PIP_COMPILE) --extra dev --output-file requirements/dev.txt pyproject.toml
	$(PIP_COMPILE) --output-file layers/shared/requirements.txt requirements/layer.in

# aws-sam-cli pins its dependencies tightly, so it lives in a virtual environment of its own.
$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

# Node's jsonwebtoken signs Bloq.It webhooks; the tests sign with the real package.
tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	cd tests/node && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint:
	$(VENV)/bin/ruff check layers functions local tests statemachine
	$(VENV)/bin/ruff format --check layers functions local tests statemachine

# What it checks and how strictly: pyproject.toml's [tool.mypy] (strict on the shared layer).
typecheck:
	$(VENV)/bin/mypy

validate:
	$(SAM) validate --lint

build:
	$(SAM) build --parallel

# Unit and integration tests first, then the e2e suite on two local stacks at once (two xdist
# groups, tests/conftest.py): the stacks mostly wait, but not with the rest of the suite beside them.
pytest:
	$(VENV)/bin/pytest -q -n 2 -m "not e2e"
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup -m e2e

clean:
	rm -rf .aws-sam .local $(VENV) $(SAM_VENV) tests/node/node_modules
