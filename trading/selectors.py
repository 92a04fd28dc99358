"""Read side of the trading app; each area keeps its selectors in its own module and re-exports here."""
from __future__ import annotations

# --- signals (issue 3) ---
from trading.signals.selectors import alerts_list, alerts_open, ingest_windows_recent, signal_continuity_snapshot

# --- decisions and executions (issue 4) ---
from trading.execution_selectors import execution_fallback_ratio, executions_recent, pnl_today

__all__ = [
    "alerts_list",
    "alerts_open",
    "execution_fallback_ratio",
    "executions_recent",
    "ingest_windows_recent",
    "pnl_today",
    "signal_continuity_snapshot",
]
