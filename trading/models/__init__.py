"""Models of the trading app, one module per area; import them from `trading.models`."""
from trading.models.execution import Decision, Execution, ExecutionImport, SignalMemory
from trading.models.signals import (
    Alert,
    AlertNotification,
    IngestCursor,
    IngestReason,
    IngestWindow,
    Severity,
    UniverseSnapshot,
    UniverseStatus,
)
from trading.models.strategy import Strategy

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
    "SignalMemory",
    "Strategy",
    "UniverseSnapshot",
    "UniverseStatus",
]
