#!/usr/bin/env bash
# Start Flower (Procfile `flower`). Refuses to start without credentials, and with DEBUG off unless Django's
# system checks pass (torghut.E002: default or short FLOWER_BASIC_AUTH; also the secret key and evidence key).
# Read-only by default (FLOWER_READ_ONLY=1): Flower's task-running and worker-control API answers 403.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -z "${FLOWER_BASIC_AUTH:-}" || "${FLOWER_BASIC_AUTH}" != *:?* ]]; then
  echo "flower: refusing to start: FLOWER_BASIC_AUTH must be user:password" >&2
  exit 2
fi
unset FLOWER_UNAUTHENTICATED_API  # Flower would otherwise serve its API without credentials
# Flower's flower_* metrics are served by Flower's own /metrics, from a folder of their own: in the web's
# multiprocess folder they would show a second time, per Flower pid, on the web /metrics.
export PROMETHEUS_MULTIPROC_DIR="${TORGHUT_VAR_DIR:-$ROOT/var}/prometheus-flower"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
case "${DEBUG:-0}" in
  1|true|yes|on) ;;
  *) .venv/bin/python manage.py check --fail-level ERROR >/dev/null || { echo "flower: refusing to start: system checks failed" >&2; exit 2; } ;;
esac
read_only=()
case "${FLOWER_READ_ONLY:-1}" in
  0|false|no|off) ;;
  *) read_only=(--read_only=True) ;;
esac
exec .venv/bin/celery -A torghut flower --address="${FLOWER_HOST:-127.0.0.1}" --port="${FLOWER_PORT:-5555}" \
  --basic-auth="$FLOWER_BASIC_AUTH" "${read_only[@]}"
