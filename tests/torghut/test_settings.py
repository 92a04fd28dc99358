import os
import subprocess
import sys
from pathlib import Path

from torghut.core.env import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def _django_check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "TORGHUT_TESTING"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "torghut.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_docs_settings_md_is_exactly_what_the_settings_registry_generates():
    # The environment of scripts/update_settings_doc.sh: some defaults derive from other settings.
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DEBUG": "1", "TORGHUT_TESTING": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "settings_table"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (ROOT / "docs" / "settings.md").read_text() == result.stdout, "run scripts/update_settings_doc.sh"


def test_every_setting_is_a_row_of_docs_settings_md():
    document = (ROOT / "docs" / "settings.md").read_text()
    missing = [name for name in REGISTRY if f"| `{name}` |" not in document]
    assert not missing, f"run scripts/update_settings_doc.sh; missing from docs/settings.md: {missing}"


def test_startup_is_refused_without_secret_key_when_debug_is_off():
    result = _django_check({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_startup_uses_a_development_secret_only_with_debug_on():
    assert _django_check({"DEBUG": "1"}).returncode == 0
    assert _django_check({"DEBUG": "0", "SECRET_KEY": "a-real-secret"}).returncode == 0


def test_a_malformed_integer_setting_names_itself():
    result = _django_check({"DEBUG": "1", "WEB_PORT": "eighty"})
    assert result.returncode != 0
    assert "WEB_PORT must be an integer" in result.stderr
