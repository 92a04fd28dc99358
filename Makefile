# torghut: `make run` brings the whole stack up; `make test` runs the whole suite on real services.
SHELL := /bin/bash
PY := .venv/bin/python
VAR := $(CURDIR)/var

.PHONY: run test test-faults load drill bootstrap migrate bench lint clean-var

bootstrap:
	@bash scripts/bootstrap.sh all

run: bootstrap
	@bash scripts/run.sh

test: bootstrap
	@bash scripts/lint.sh
	@bash scripts/test.sh $(ARGS)

# ruff (lint and format check) and import-linter (the layer contracts in pyproject.toml); `make test` runs it first.
lint: bootstrap
	@bash scripts/lint.sh

bench: bootstrap
	@bash scripts/bench.sh

# Fault injection and fuzzing only (also part of `make test`).
test-faults: bootstrap
	@bash scripts/test.sh tests/faults tests/fuzz $(ARGS)

# The full 10-minute load run (the suite runs a 20 s version; TORGHUT_LOAD_SECONDS overrides).
load: bootstrap
	@bash scripts/load.sh

# The rollback drill against the running `make run` stack (ARGS="--trigger lag" for one trigger).
drill:
	@bash scripts/manage.sh drill $(ARGS)

migrate: bootstrap
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py clickhouse_migrate

clean-var:
	rm -rf $(VAR)/prometheus $(VAR)/prometheus-test $(VAR)/prometheus-load $(VAR)/faults
