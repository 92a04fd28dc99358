"""Routes of the decisions and executions API (included from trading/urls.py)."""

from __future__ import annotations

from django.urls import path

from trading.orders.api import DecisionListApi, ExecutionListApi

urlpatterns = [
    path("decisions", DecisionListApi.as_view(), name="trading-decisions"),
    path("executions", ExecutionListApi.as_view(), name="trading-executions"),
]
