"""Reads of the trading app (HackSoft selectors). Order-path selectors live in execution_selectors."""
from trading.execution_selectors import execution_fallback_ratio, executions_recent, pnl_today  # noqa: F401
