#!/usr/bin/env bash
# `manage.py` against the `make run` stack, with its environment (e.g. `scripts/manage.sh drill --trigger all`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/dev_env.sh
exec .venv/bin/python manage.py "$@"
