# Orderbridge — two commands for a fresh machine (Python 3.11 and make):
#   make run    set up, then run the whole product locally (the local stack)
#   make test   set up, then run the whole test suite (ruff, mypy, sam validate --lint, checkov, sam build, pytest)
#   make bench  measure it (bench/results.json): warm ack, cold start, a burst, cost per order, sizes, memory
#   make lock   recompile the lock (requirements/dev.txt, layers/shared/requirements.txt) from pyproject.toml

PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
export SAM_CLI_TELEMETRY := 0

.PHONY: run test setup lint typecheck validate build pytest demo clean lock reliability bench

run: setup
	$(PY) -m orderbridge_local run

demo: setup
	$(PY) -m orderbridge_local demo

test: setup lint typecheck validate build pytest

setup: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed tests/node/node_modules/.installed

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

# checkov pins its own boto3 (==1.35.49 in 3.3.30, the lock has a newer one): a virtual environment of
# its own too, like aws-sam-cli's.
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# Node's jsonwebtoken signs Bloq.It webhooks; the tests sign with the real package.
tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	cd tests/node && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint:
	$(VENV)/bin/ruff check layers functions local tests statemachine bench
	$(VENV)/bin/ruff format --check layers functions local tests statemachine bench

# What it checks and how strictly: pyproject.toml's [tool.mypy] (strict on the shared layer).
typecheck:
	$(VENV)/bin/mypy

# sam validate --lint (cfn-lint on the translated template), then checkov's CloudFormation checks
# (it reads the SAM resources and Globals itself): every skip is written next to its resource in
# template.yaml (Metadata: checkov: skip:, with the reason); --skip-download: no call to Prisma Cloud.
validate:
	$(SAM) validate --lint
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

build:
	$(SAM) build --parallel

# Unit and integration tests first, then the e2e suite on two local stacks at once (two xdist
# groups, tests/conftest.py): the stacks mostly wait, but not with the rest of the suite beside them.
# The browser tests (tests/browser: the ops console in Debian's Chromium) run with the e2e suite;
# without a Chromium they are skipped (failed when CI=true), and said so loudly here.
pytest:
	$(VENV)/bin/pytest -q -n 2 -m "not e2e"
	@if [ -z "$${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ] && ! command -v chromium >/dev/null 2>&1; then \
	  echo "!!!!!! NO CHROMIUM: the ops console's browser tests (tests/browser) are SKIPPED. apt-get install chromium !!!!!!"; fi
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup -m e2e

# The reliability suite whole (tests/reliability: duplicate storms, shuffled event orders); make test
# runs a smoke share of it with the rest.
reliability: setup
	RELIABILITY_FULL=1 $(VENV)/bin/pytest -q -n 2 -m reliability

# The benchmarks (bench/__init__.py): a table on the terminal and bench/results.json, each figure beside
# a bare baseline measured in the same run. BENCH_ARGS='--smoke' (tiny counts, as CI runs it),
# BENCH_ARGS='--only B1,B5'.
bench: setup build
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf .aws-sam .local $(VENV) $(SAM_VENV) $(CHECKOV_VENV) tests/node/node_modules
