#!/usr/bin/env bash
# The full load run: simulator at 8k signals/s over 500 symbols for TORGHUT_LOAD_SECONDS (default 600),
# two ingest worker processes; prints the exactly-once accounting, lag percentiles and the bench table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TORGHUT_TESTING=1 DEBUG=1
export TORGHUT_LOAD_SECONDS="${TORGHUT_LOAD_SECONDS:-600}"
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$ROOT/var/prometheus-load}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
export BENCH_RESULTS="$ROOT/var/load-results.jsonl"
rm -f "$BENCH_RESULTS"
.venv/bin/python manage.py migrate --noinput >/dev/null
.venv/bin/python manage.py clickhouse_migrate >/dev/null
status=0
.venv/bin/python bench/load.py || status=1
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m)"
[[ -s "$BENCH_RESULTS" ]] && .venv/bin/python bench/report.py "$BENCH_RESULTS"
exit $status
