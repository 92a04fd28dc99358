#!/usr/bin/env bash
# Regenerate the settings table in README.md from the registry in torghut/env.py.
set -euo pipefail
cd "$(dirname "$0")/.."
table="$(DEBUG=1 TORGHUT_TESTING=0 .venv/bin/python manage.py settings_table)"
python3 - "$table" <<'PY'
import re, sys
table = sys.argv[1]
text = open("README.md").read()
text = re.sub(r"(<!-- settings-table:start -->\n).*?(<!-- settings-table:end -->)", lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
open("README.md", "w").write(text)
PY
