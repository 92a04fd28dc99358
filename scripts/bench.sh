#!/usr/bin/env bash
# Run every bench/*.py script, then print one table of figures and ratios against same-run baselines.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# DEBUG off as in production: debug mode wraps every query in logging the order path does not pay for.
export TORGHUT_TESTING=1 DEBUG=0
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$ROOT/var/prometheus-bench}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
export BENCH_RESULTS="$ROOT/var/bench-results.jsonl"
rm -f "$BENCH_RESULTS"
.venv/bin/python manage.py clickhouse_migrate >/dev/null
status=0
for script in bench/[a-z]*.py; do
  [[ "$script" == bench/report.py ]] && continue
  echo "==> $script"
  .venv/bin/python "$script" || { echo "!! $script failed"; status=1; }
done
echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(python3 --version 2>&1), $(uname -m)"
[[ -s "$BENCH_RESULTS" ]] && .venv/bin/python bench/report.py "$BENCH_RESULTS"
exit $status
