"""Celery tasks of the trading app: load ids, call one service, own retries."""
from __future__ import annotations

from django.conf import settings
from django.db import OperationalError

from torghut.tasks import torghut_task
from trading.signals.alerts import AlertmanagerError


@torghut_task(name="trading.ingest_signals", transient=(OperationalError,), max_retries=2)
def ingest_signals(shard: int = 0) -> dict:
    """One ingest poll of the configured source and account (beat, every few seconds)."""
    from trading.services import signals_ingest

    window = signals_ingest(source=settings.TRADING_SIGNAL_SOURCE, account=settings.TRADING_ACCOUNT, shard=shard)
    return {"window": window.pk, "reason": window.reason, "accepted": window.rows_accepted}


@torghut_task(name="trading.evaluate_signal_staleness", transient=(OperationalError,), max_retries=2)
def evaluate_signal_staleness() -> list[dict]:
    """Open, refresh or clear continuity alerts from the latest ingest state (beat)."""
    from trading.services import continuity_evaluate

    return continuity_evaluate()


@torghut_task(name="trading.notify_alertmanager", bind=True, transient=(AlertmanagerError, OperationalError))
def notify_alertmanager(self, notification_id: int) -> str:
    """Deliver one alert open/close to Alertmanager; retried with backoff, then dead-lettered."""
    from trading.services import alert_notification_deliver

    return alert_notification_deliver(notification_id=notification_id, final_attempt=self.request.retries >= self.max_retries)
