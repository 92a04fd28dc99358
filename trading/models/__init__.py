"""Models of the trading app, one module per area; import them from `trading.models`."""
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
    "IngestCursor",
    "IngestReason",
    "IngestWindow",
    "Severity",
    "Strategy",
    "UniverseSnapshot",
    "UniverseStatus",
]
