"""Celery tasks of the trading app: load ids, call one service, own retries."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from torghut.core.tasks import torghut_task
from trading.signals.audit import signals_audit
from trading.signals.continuity import continuity_evaluate

# --- decisions and executions (issue 4) ---
from trading.signals.ingest import ingest_windows_prune, signals_ingest_unless_busy
from trading.signals.lateness import late_rows_evaluate


@torghut_task(name="trading.ingest_signals", transient=(OperationalError,), max_retries=2)
def ingest_signals(shard: int | None = None) -> dict:
    """One ingest poll of the configured source and account (beat, every few seconds).

    Called without a shard while TRADING_INGEST_SHARDS > 1, it fans out one call per shard so that
    any worker can take any shard (each shard's cursor lock keeps one worker per shard at a time).
    """

    shards = settings.TRADING_INGEST_SHARDS
    if shard is None and shards > 1:
        for each in range(shards):
            ingest_signals.apply_async(kwargs={"shard": each}, expires=settings.TRADING_INGEST_INTERVAL_SECONDS)
        return {"fanned_out": shards}
    if shard is not None and not 0 <= shard < max(1, shards):
        raise ValueError(f"shard {shard} is outside 0..{shards - 1}")
    window = signals_ingest_unless_busy(source=settings.TRADING_SIGNAL_SOURCE, account=settings.TRADING_ACCOUNT, shard=shard or 0)
    if window is None:
        return {"window": None, "reason": "skipped_poll_running", "accepted": 0}
    return {"window": window.pk, "reason": window.reason, "accepted": window.rows_accepted}


@torghut_task(name="trading.evaluate_signal_staleness", transient=(OperationalError,), max_retries=2)
def evaluate_signal_staleness() -> list[dict]:
    """Open, refresh or clear continuity alerts (and late-row alerts) from the latest ingest state (beat)."""

    late_rows_evaluate()
    return continuity_evaluate()


@torghut_task(name="trading.prune_ingest_windows", transient=(OperationalError,), max_retries=2)
def prune_ingest_windows() -> int:
    """Delete ingest telemetry older than TRADING_INGEST_WINDOW_RETENTION_DAYS (beat, hourly)."""

    days = settings.TRADING_INGEST_WINDOW_RETENTION_DAYS
    if days <= 0:
        return 0
    return ingest_windows_prune(older_than=timezone.now() - timedelta(days=days))


@torghut_task(name="trading.audit_signals", transient=(OperationalError,), max_retries=2)
def audit_signals() -> dict:
    """Reconcile the last hour of ClickHouse rows with processed rows (beat); gaps are reported, not repaired."""

    run = signals_audit(since=timezone.now() - timedelta(hours=1))
    return {"run": run.pk, "missing_rows": run.missing_rows, "gaps": len(run.gaps)}
