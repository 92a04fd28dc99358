"""Routes under /trading/: each package serves its own reads."""

from django.urls import include, path

from trading.alerts.api import AlertAcknowledgeApi, AlertCloseApi, AlertListApi
from trading.pnl.api import SessionPnlApi
from trading.signals.api import TradingAutonomyApi, TradingHealthApi, TradingStatusApi

urlpatterns = [
    path("status", TradingStatusApi.as_view(), name="trading-status"),
    path("autonomy", TradingAutonomyApi.as_view(), name="trading-autonomy"),
    path("health", TradingHealthApi.as_view(), name="trading-health"),
    path("alerts", AlertListApi.as_view(), name="trading-alerts"),
    path("alerts/<int:alert_id>/acknowledge", AlertAcknowledgeApi.as_view(), name="trading-alert-acknowledge"),
    path("alerts/<int:alert_id>/close", AlertCloseApi.as_view(), name="trading-alert-close"),
    path("pnl", SessionPnlApi.as_view(), name="trading-pnl"),
    path("", include("trading.orders.urls")),
]
