"""Writes of the trading app (HackSoft services). Order-path services live in execution_services."""
from trading.execution_services import decision_submit, executions_reconcile, orders_cancel_all  # noqa: F401
