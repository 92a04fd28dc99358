"""Django admin autodiscovery reads `<app>.admin`: each trading package registers its own models."""

from trading.alerts import admin as alerts_admin
from trading.orders import admin as orders_admin
from trading.signals import admin as signals_admin

__all__ = ["alerts_admin", "orders_admin", "signals_admin"]
