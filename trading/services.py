"""Write side of the trading app; each area keeps its services in its own module and re-exports here."""
from __future__ import annotations

# --- signals and alerts (issue 3) ---
from trading.signals.alerts import alert_close, alert_notification_deliver, alert_open
from trading.signals.continuity import continuity_evaluate
from trading.signals.ingest import ingest_windows_prune, signals_ingest
from trading.signals.universe import universe_assert_authoritative, universe_resolve

# --- decisions and executions (issue 4) ---
from trading.execution_services import decision_submit, executions_reconcile, orders_cancel_all

__all__ = [
    "alert_close",
    "alert_notification_deliver",
    "alert_open",
    "continuity_evaluate",
    "decision_submit",
    "ingest_windows_prune",
    "executions_reconcile",
    "orders_cancel_all",
    "signals_ingest",
    "universe_assert_authoritative",
    "universe_resolve",
]
