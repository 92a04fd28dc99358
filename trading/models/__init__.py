"""Models of the trading app, one module per area; import them from `trading.models`."""
from trading.models.strategy import Strategy

__all__ = ["Strategy"]
