"""docs/metrics.md is generated from the metric registries and is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import ROOT, worker_env
from torghut.console.management.commands.metrics_table import metrics_document

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"


def test_the_metrics_document_lists_counters_histograms_and_scrape_time_gauges():
    text = metrics_document()
    for row in (
        "| `torghut_emergency_stop_total` | counter | trigger |",
        "| `torghut_clickhouse_query_seconds` | histogram | query |",
        "| `torghut_worker_heartbeat_age_seconds` | gauge | queue |",
        "| `torghut_kill_switch_state` | gauge |",
    ):
        assert row in text, row


def test_docs_metrics_md_is_current():
    # Regenerate with: DEBUG=1 .venv/bin/python manage.py metrics_table --write (against a migrated database).
    # A process of its own: this one also holds the metrics the test suite defines for itself.
    result = subprocess.run(
        [sys.executable, "manage.py", "metrics_table"],
        cwd=ROOT,
        env=worker_env(database_name=connection.settings_dict["NAME"]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert DOC.read_text() == result.stdout


def test_the_command_prints_the_document(capsys):
    call_command("metrics_table")
    assert capsys.readouterr().out.startswith("# Metrics\n")
