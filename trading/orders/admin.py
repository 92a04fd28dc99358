"""Read-only admin for decisions and executions: the order record is written by the order path only."""

from __future__ import annotations

from django.contrib import admin

from torghut.core.admin_base import ReadOnlyModelAdmin
from trading.orders.models import Decision, Execution, ExecutionImport


@admin.register(Decision)
class DecisionAdmin(ReadOnlyModelAdmin):
    list_display = (
        "id",
        "decided_at",
        "strategy",
        "lane",
        "symbol",
        "side",
        "quantity",
        "price",
        "status",
        "reject_reason",
        "expected_adapter",
    )
    list_filter = ("status", "lane", "side", "expected_adapter")
    search_fields = ("symbol", "decision_hash")
    date_hierarchy = "decided_at"
    list_select_related = ("strategy",)


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyModelAdmin):
    list_display = (
        "id",
        "created_at",
        "client_order_id",
        "symbol",
        "side",
        "expected_adapter",
        "actual_adapter",
        "fallback_reason",
        "route_tag",
        "status",
        "filled_quantity",
        "avg_fill_price",
        "error_category",
    )
    list_filter = ("route_tag", "status", "expected_adapter", "actual_adapter", "error_category")
    search_fields = ("symbol", "client_order_id", "broker_order_id")


@admin.register(ExecutionImport)
class ExecutionImportAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "client_order_id", "symbol", "side", "expected_adapter", "actual_adapter", "status")
    search_fields = ("client_order_id", "symbol")
