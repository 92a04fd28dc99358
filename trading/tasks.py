"""Celery autodiscovery reads `<app>.tasks`: the trading app's tasks live in the package that owns each."""

from trading.alerts.tasks import notify_alertmanager
from trading.orders.tasks import reconcile_executions, submit_decision
from trading.signals.tasks import evaluate_signal_staleness, ingest_signals, prune_ingest_windows

__all__ = [
    "evaluate_signal_staleness",
    "ingest_signals",
    "notify_alertmanager",
    "prune_ingest_windows",
    "reconcile_executions",
    "submit_decision",
]
