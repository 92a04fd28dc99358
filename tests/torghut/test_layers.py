"""The layer contract of `make lint` holds on the code and bites on an upward import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("torghut", "trading", "research", "governance")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where)},
    )


@pytest.fixture
def house_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.sql", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_layer_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("trading/orders/probe.py", "from governance.killswitch.selectors import kill_switch_gate_policy"),
        ("torghut/core/probe.py", "from trading.orders.models import Decision"),
        ("trading/alerts/probe.py", "from trading.signals.continuity import continuity_evaluate"),
        ("governance/killswitch/probe.py", "from governance.promotion.selectors import strategy_capital_multiplier"),
        ("research/probe.py", "import torghut.celery"),
    ],
)
def test_an_upward_import_breaks_the_contract(house_copy: Path, module: str, upward: str):
    (house_copy / module).write_text(upward + "\n")
    result = _lint_imports(house_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert module[:-3].replace("/", ".") in result.stdout
