# Keel's tasks. `make synth` and `make test` install what they need themselves (venv, npm ci).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Node 22 from package.json goes first on PATH: jsii and the CDK CLI then run on a supported Node.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
PLATFORM ?= platform.yaml

.PHONY: setup synth test conformance lint typecheck validate diff deploy clean bench bench-handlers checkov

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## The main job: validate the spec, synthesize every stack into cdk.out (nag + CloudFormation
## validation on, per stack, in JOBS worker processes; default: the number of cores), then print the summary
## table. Unchanged stacks come from the cache (.keel-cache/synth; `make clean` or NO_CACHE=1 drops it).
## EKSA_CRDS=DIR checks the EKS Anywhere documents against the CRDs in DIR at synth time.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
synth: setup
	$(PY) -m keel synth --platform $(PLATFORM) --jobs $(JOBS) $(if $(NO_CACHE),--no-cache) \
		$(if $(EKSA_CRDS),-c keel:eksa-crds=$(EKSA_CRDS))

## The self-contained test suite; goal: under 2 minutes on 2 cores (pytest's own figure: 1 min 56 s to 2 min 2 s
## on 2 Dec 2026 with 2289 tests; it was 2 min 21 s with the same tests before long files went first, workers
## left without their teardown and cfn-lint moved to heavy). Our own fixtures only, nothing outside the
## repository. The default platform: cdk-nag here.
## Tests marked `heavy` run in `make conformance`: cdk-nag and cfn-lint of every test platform (the default one's
## cfn-lint too), the default platform
## synthesized with CloudFormation validation on, `keel diff` against a git ref, the fuzz properties at full
## length (make test runs a sample of each), the closed-pipe check of every command (here: two).
test: setup
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not heavy" --ignore=tests/conformance

## Two parts. First the `heavy` tests `make test` leaves out (our own fixtures; no outside data needed).
## Then Keel against outside reference data (AWS's Proton samples, EKS Anywhere's CRDs, Copilot's manifests):
## read from KEEL_REFERENCE_DATA (default ../shared/data); fails, never skips, when a data set is missing.
## How to get the data at its pinned versions: docs/reference-data.md.
conformance: setup
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m heavy --ignore=tests/conformance
	$(PY) -m pytest -q -n 2 --dist load tests/conformance

## Offline diff of the working tree against BASE (default: the merge base with main), every stack, no AWS.
## Exit 1: a stateful resource or a stack would be replaced or removed (see delivery.allow_destructive).
## DIFF_ARGS passes options through, e.g. DIFF_ARGS="--markdown diff.md --allow keel-dev/Vpc*".
diff: setup
	$(PY) -m keel diff --platform $(PLATFORM) $(if $(BASE),--base $(BASE)) $(DIFF_ARGS)

## Deploy every top-level stack (with a delivery pipeline in the spec: the pipelines, which deploy the rest).
## Needs AWS credentials and bootstrapped accounts; CI runs it on main through an OIDC role.
deploy: setup
	npx cdk deploy --all --require-approval never -c keel:platform=$(PLATFORM)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy keel app.py
	$(VENV)/bin/mypy --strict keel/contract keel/spec
	$(VENV)/bin/lint-imports

validate: setup
	$(PY) -m keel validate $(PLATFORM)

## Benchmarks (issue figures): synth vs empty app, scale (1..500 instances), handlers, suite time.
bench: setup
	$(PY) bench/synth.py
	$(PY) bench/scale.py
	$(PY) bench/handlers.py
	$(PY) bench/suite.py

## Cold import time of each Lambda handler vs bare boto3, and deployment package sizes.
bench-handlers: setup
	$(PY) bench/handlers.py

## checkov 3.3 over cdk.out (run `make synth` first), offline; fails below a 98% pass rate. checkov is not a
## project dependency: it lives in its own venv (CHECKOV=/path/to/checkov; see bench/checkov.py).
checkov: setup
	$(PY) bench/checkov.py cdk.out

clean:
	rm -rf cdk.out .keel-cache .pytest_cache .mypy_cache .ruff_cache
