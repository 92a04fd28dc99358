#!/usr/bin/env bash
# Run every bench/*.py script; each prints its figures against a baseline measured in the same run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TORGHUT_TESTING=1 DEBUG=1
shopt -s nullglob
scripts=(bench/*.py)
if (( ${#scripts[@]} == 0 )); then
  echo "no benchmarks in bench/ yet"
  exit 0
fi
for script in "${scripts[@]}"; do
  echo "==> $script"
  .venv/bin/python "$script"
done
