"""Admin of the trading app; each area registers its models in its own module."""
import trading.signals.admin  # noqa: F401  (registers ingest telemetry and alerts)
from trading import admin_executions  # noqa: F401  (decisions and executions, issue 4)
