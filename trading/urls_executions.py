"""Routes of the decisions and executions API (included from trading/urls.py)."""
from django.urls import path

from trading.api_executions import DecisionListApi, ExecutionListApi

urlpatterns = [
    path("decisions", DecisionListApi.as_view(), name="trading-decisions"),
    path("executions", ExecutionListApi.as_view(), name="trading-executions"),
]
