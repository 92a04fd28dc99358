"""Routes under /trading/: each package serves its own reads."""

from django.urls import include, path

from trading.alerts.api import AlertListApi
from trading.pnl.api import SessionPnlApi
from trading.signals.api import TradingAutonomyApi, TradingStatusApi

urlpatterns = [
    path("status", TradingStatusApi.as_view(), name="trading-status"),
    path("autonomy", TradingAutonomyApi.as_view(), name="trading-autonomy"),
    path("alerts", AlertListApi.as_view(), name="trading-alerts"),
    path("pnl", SessionPnlApi.as_view(), name="trading-pnl"),
    path("", include("trading.orders.urls")),
]
