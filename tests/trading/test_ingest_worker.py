"""The beat tasks through a real Celery worker on the real broker, Postgres and ClickHouse."""
from __future__ import annotations

import pytest

from trading.models import IngestWindow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_ingest_and_staleness_tasks_run_in_a_worker_and_record_a_window(celery_worker):
    from trading.tasks import evaluate_signal_staleness, ingest_signals

    # The suite's worker runs with default settings: a jangar universe and no JANGAR_SYMBOLS_URL, so
    # ingest must fail closed and say why.
    result = ingest_signals.delay().get(timeout=60)

    window = IngestWindow.objects.get(pk=result["window"])
    assert result["reason"] == window.reason == "universe_source_unavailable"
    assert "JANGAR_SYMBOLS_URL is not set" in window.detail
    verdicts = evaluate_signal_staleness.delay().get(timeout=60)
    assert verdicts[0]["reason"] == "universe_source_unavailable" and verdicts[0]["streak"] == 1
