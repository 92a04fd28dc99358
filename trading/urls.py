"""Routes of the trading API."""
from django.urls import include, path

urlpatterns: list = []
urlpatterns += [path("", include("trading.urls_executions"))]
