"""The beat tasks through a real Celery worker on the real broker, Postgres and ClickHouse."""

from __future__ import annotations

import re

import pytest

from trading.signals.models import IngestWindow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_ingest_and_staleness_tasks_run_in_a_worker_and_record_a_window(celery_worker):
    from trading.signals.tasks import evaluate_signal_staleness, ingest_signals

    # The suite's worker reads a local jangar that is down unless a test gives it symbols, with no
    # cached universe: ingest must fail closed and say why.
    result = ingest_signals.delay().get(timeout=60)

    window = IngestWindow.objects.get(pk=result["window"])
    assert result["reason"] == window.reason == "universe_source_unavailable"
    assert "jangar answered HTTP 503" in window.detail
    verdicts = evaluate_signal_staleness.delay().get(timeout=60)
    assert verdicts[0]["reason"] == "universe_source_unavailable" and verdicts[0]["streak"] == 1


def test_two_worker_processes_polling_one_cursor_process_every_row_exactly_once(start_worker, signal_table):
    from datetime import timedelta

    from tests.signals import UNIVERSE, now_utc, signal_row
    from trading.signals.tasks import ingest_signals

    now = now_utc()
    signal_table.insert([signal_row(UNIVERSE[i % 4], now - timedelta(seconds=300 - i // 40), i) for i in range(10_000)])
    env = {
        "TRADING_UNIVERSE_SOURCE": "static",
        "TRADING_UNIVERSE_STATIC_SYMBOLS": ",".join(UNIVERSE),
        "TRADING_INGEST_BATCH_SIZE": "500",
        "TRADING_SIGNAL_PROBE_CACHE_SECONDS": "0",
    }
    workers = [start_worker(name=f"ingest-{n}", queues="ingest", **env) for n in (1, 2)]
    outcomes: list[dict] = []
    try:
        # The suite's worker also consumes `ingest` (and fails closed there), so keep polling until done.
        # A poll that finds the other one running is skipped at once; only polls that ran count toward the bound.
        while sum(o["accepted"] for o in outcomes) < 10_000 and sum(o["reason"] != "skipped_poll_running" for o in outcomes) < 200:
            outcomes += [r.get(timeout=120) for r in [ingest_signals.delay() for _ in range(8)]]
    finally:
        for worker in workers:
            worker.stop()

    polled = [re.search(r"trading\.ingest_signals\[[^\]]+\] succeeded", w.log_path.read_text()) for w in workers]
    assert all(polled), "both workers must have polled"
    windows = list(IngestWindow.objects.filter(reason="signals_present").order_by("id"))
    assert sum(w.rows_accepted for w in windows) == 10_000
    assert sum(o["accepted"] for o in outcomes if o["reason"] == "signals_present") == 10_000
    for earlier, later in zip(windows, windows[1:]):
        assert later.cursor_before == earlier.cursor_after
    assert windows[-1].cursor_after["seq"] == 9_999
