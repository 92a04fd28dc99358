# torghut: `make run` brings the whole stack up; `make test` runs the whole suite on real services.
SHELL := /bin/bash
PY := .venv/bin/python
VAR := $(CURDIR)/var

.PHONY: run test bootstrap migrate bench lint clean-var

bootstrap:
	@bash scripts/bootstrap.sh all

run: bootstrap
	@bash scripts/run.sh

test: bootstrap
	@bash scripts/test.sh $(ARGS)

bench: bootstrap
	@bash scripts/bench.sh

migrate: bootstrap
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py clickhouse_migrate

clean-var:
	rm -rf $(VAR)/prometheus $(VAR)/prometheus-test
