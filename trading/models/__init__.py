"""Models of the trading app, one module per area; import them from `trading.models`."""
from trading.models.execution import Decision, Execution, ExecutionImport, SignalMemory
from trading.models.strategy import Strategy

__all__ = ["Decision", "Execution", "ExecutionImport", "SignalMemory", "Strategy"]
