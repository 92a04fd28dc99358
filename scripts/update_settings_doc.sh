#!/usr/bin/env bash
# Regenerate docs/settings.md from the registry in torghut/core/env.py (tests/torghut/test_settings.py checks it).
# A clean environment, because some defaults derive from other settings (REDIS_URL, TORGHUT_VAR_DIR, TORGHUT_TESTING).
set -euo pipefail
cd "$(dirname "$0")/.."
exec env -i PATH="$PATH" HOME="${HOME:-/tmp}" DEBUG=1 TORGHUT_TESTING=0 .venv/bin/python manage.py settings_table --write
