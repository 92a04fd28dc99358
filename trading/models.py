"""The trading app's models, defined in the package that owns each (Django loads an app's models from here)."""

from trading.alerts.models import Alert, AlertNotification, Severity
from trading.orders.models import Decision, Execution, ExecutionImport, SignalMemory
from trading.signals.models import (
    IngestCursor,
    IngestReason,
    IngestWindow,
    SignalAuditRun,
    UniverseSnapshot,
    UniverseStatus,
)
from trading.strategies.models import Strategy

__all__ = [
    "Alert",
    "AlertNotification",
    "Decision",
    "Execution",
    "ExecutionImport",
    "IngestCursor",
    "IngestReason",
    "IngestWindow",
    "Severity",
    "SignalAuditRun",
    "SignalMemory",
    "Strategy",
    "UniverseSnapshot",
    "UniverseStatus",
]
