#!/usr/bin/env bash
# Migrate, make a dev superuser, print the URLs, then run every process under honcho (Ctrl-C stops all).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/dev_env.sh
PY=.venv/bin/python

rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
echo "==> migrating Postgres"
$PY manage.py migrate --noinput | grep -v '^  Applying' || true
echo "==> applying ClickHouse DDL"
$PY manage.py clickhouse_migrate
$PY manage.py ensure_dev_superuser
$PY manage.py ensure_dev_strategies

base="http://$WEB_HOST:$WEB_PORT"
cat <<MSG

torghut is starting (Ctrl-C stops every process):
  API        $base/trading/status      (schema: $base/api/schema/, docs: $base/api/docs/)
  admin      $base/admin/
  metrics    $base/metrics
  readiness  $base/readyz
  Flower     http://$FLOWER_HOST:$FLOWER_PORT/   (basic auth: $FLOWER_BASIC_AUTH)
  simulator  http://127.0.0.1:$SIMULATOR_PORT/control?mode=normal|pause|future|malformed|jangar_down
  universe   $TRADING_UNIVERSE_SOURCE ($JANGAR_SYMBOLS_URL)

MSG
exec .venv/bin/honcho -f Procfile start
