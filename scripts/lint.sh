#!/usr/bin/env bash
# ruff (lint, then format check) and import-linter's layer contracts; fails on the first that fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
echo "lint: ruff check"
.venv/bin/ruff check --quiet .
echo "lint: ruff format --check"
.venv/bin/ruff format --check --quiet .
echo "lint: import-linter (layers)"
.venv/bin/lint-imports --no-cache
