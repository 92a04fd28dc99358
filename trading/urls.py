from django.urls import include, path

from trading import api

urlpatterns = [
    path("status", api.TradingStatusApi.as_view(), name="trading-status"),
    path("autonomy", api.TradingAutonomyApi.as_view(), name="trading-autonomy"),
    path("alerts", api.AlertListApi.as_view(), name="trading-alerts"),
    path("pnl", api.RollingPnlApi.as_view(), name="trading-pnl"),
    path("", include("trading.urls_executions")),
]
