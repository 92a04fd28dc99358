"""Tasks of the order path (imported from trading/tasks.py so Celery's autodiscovery registers them)."""

from __future__ import annotations

from dataclasses import asdict

from django.db import OperationalError

from torghut.core.tasks import torghut_task
from trading.orders.services import decision_submit, executions_reconcile


@torghut_task(name="trading.submit_decision", transient=(OperationalError,))
def submit_decision(decision_id: int) -> str:
    """Send one planned decision. Safe to redeliver: a decision already submitted is left alone."""

    execution = decision_submit(decision_id=decision_id)
    return execution.status if execution is not None else "skipped"


@torghut_task(name="trading.reconcile_executions", transient=(OperationalError,))
def reconcile_executions() -> dict:
    """Settle executions against broker truth (beat, every 15 s)."""

    return asdict(executions_reconcile())
