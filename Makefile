# Orderbridge — two commands for a fresh machine (Python 3.11 and make):
#   make run    set up, then run the whole product locally (the local stack)
#   make test   set up, then run the whole test suite (sam validate --lint, sam build, pytest)

PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0

.PHONY: run test setup lint validate build pytest demo clean

run: setup
	$(PY) -m orderbridge_local run

demo: setup
	$(PY) -m orderbridge_local demo

test: setup lint validate build pytest

setup: $(VENV)/.installed $(SAM_VENV)/.installed tests/node/node_modules/.installed

# The project's own environment: the shared package (editable) and the dev tools.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

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
