#!/usr/bin/env bash
# Run the whole pytest suite against the real services (bootstrap has already run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TORGHUT_TESTING=1
# The Redis bootstrap started has a generated password; tests keep their own database (14) on it.
if [[ -z "${REDIS_URL:-}" && -s "${TORGHUT_VAR_DIR:-$ROOT/var}/redis/password" ]]; then
  export REDIS_URL="redis://:$(cat "${TORGHUT_VAR_DIR:-$ROOT/var}/redis/password")@127.0.0.1:${REDIS_PORT:-6379}/14"
fi
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$ROOT/var/prometheus-test}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
.venv/bin/python manage.py clickhouse_migrate
started=$SECONDS
if (( $# == 0 )); then
  # The whole suite, less tests that reproduce an open defect (they run in `make test-faults`).
  set -- -m "not open_defect"
fi
.venv/bin/python -m pytest "$@"
echo "make test: pytest took $((SECONDS - started))s"
