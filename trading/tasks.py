"""Celery tasks of the trading app."""

from trading.execution_tasks import reconcile_executions, submit_decision  # noqa: E402,F401  (order path, issue 4)
