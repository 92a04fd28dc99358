"""The order path through real Celery workers: dispatch after the ingest commit, and a worker killed
with SIGKILL between submission and recording, settled by reconciliation without a second order."""

from __future__ import annotations

import signal
import time

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from kombu import Connection

from tests.factories import make_strategy
from tests.signals import macd_cross_up
from trading.orders.consumers import signals_consume
from trading.orders.decisions import decisions_from_signals
from trading.orders.models import Decision, Execution
from trading.orders.services import decision_submit, executions_reconcile
from trading.orders.tasks import submit_decision

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_decisions_are_submitted_by_a_worker_only_after_the_ingest_commit(celery_worker):
    make_strategy(adapter="simulated")
    with transaction.atomic():
        result = signals_consume(signals=macd_cross_up("NVDA"), account="paper")
        assert result.orders == 1
        time.sleep(1.0)  # a dispatch before commit would let the worker see the decision now
        assert not Execution.objects.exists()
    execution = _wait_for(lambda: Execution.objects.filter(symbol="NVDA", status="filled").first(), what="a filled execution")
    assert (execution.expected_adapter, execution.actual_adapter, execution.route_tag) == ("simulated", "simulated", "live")
    assert Decision.objects.get(symbol="NVDA").status == "filled"


def test_a_worker_killed_between_submission_and_recording_is_settled_without_a_second_order(start_worker, lean_venue, settings):
    lean_venue.set(slow_seconds=3.0, fault_phase="after_accept")
    overrides = {"TRADING_EXECUTION_ADAPTER": "lean", "TRADING_LEAN_URL": lean_venue.url, "TRADING_LEAN_TIMEOUT_SECONDS": "20"}
    worker = start_worker(name="h2-kill-victim", queues="h2-orders", concurrency=1, **overrides)
    make_strategy(adapter="lean")
    with transaction.atomic():
        [decision] = decisions_from_signals(signals=macd_cross_up("AMD"), account="paper")
    sent = submit_decision.apply_async(args=[decision.pk], queue="h2-orders")
    _wait_for(lambda: lean_venue.orders_received == 1, what="the order at the venue")
    worker.stop(sig=signal.SIGKILL)

    decision.refresh_from_db()
    assert decision.status == "submitted" and not Execution.objects.filter(decision=decision).exists()

    # The killed worker never acked: sweep unacked messages back to the queue now (kombu's own restore,
    # which workers run only every ~100 s) so a new worker receives it. It must not send the order again.
    with Connection(django_settings.CELERY_BROKER_URL, transport_options={"visibility_timeout": 1}) as conn:
        time.sleep(1.5)
        conn.default_channel.qos.restore_visible(num=100)
    start_worker(name="h2-kill-heir", queues="h2-orders", concurrency=1, **overrides)
    assert sent.get(timeout=60) == "skipped"
    assert decision_submit(decision_id=decision.pk) is None

    settings.TRADING_LEAN_URL = lean_venue.url
    settings.TRADING_RECONCILE_GRACE_SECONDS = 0
    assert executions_reconcile().created == 1
    execution = Execution.objects.get(decision=decision)
    assert (execution.route_tag, execution.actual_adapter, execution.status) == ("reconciled", "lean", "filled")
    assert lean_venue.orders_received == 1
