"""Read-only admin for decisions and executions: the order record is written by the order path only."""
from __future__ import annotations

from django.contrib import admin

from trading.models import Decision, Execution, ExecutionImport


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(_ReadOnly):
    list_display = ("id", "decided_at", "strategy", "lane", "symbol", "side", "quantity", "price", "status", "reject_reason", "expected_adapter")
    list_filter = ("status", "lane", "side", "expected_adapter")
    search_fields = ("symbol", "decision_hash")
    date_hierarchy = "decided_at"
    list_select_related = ("strategy",)


@admin.register(Execution)
class ExecutionAdmin(_ReadOnly):
    list_display = ("id", "created_at", "client_order_id", "symbol", "side", "expected_adapter", "actual_adapter", "fallback_reason",
                    "route_tag", "status", "filled_quantity", "avg_fill_price", "error_category")
    list_filter = ("route_tag", "status", "expected_adapter", "actual_adapter", "error_category")
    search_fields = ("symbol", "client_order_id", "broker_order_id")


@admin.register(ExecutionImport)
class ExecutionImportAdmin(_ReadOnly):
    list_display = ("id", "client_order_id", "symbol", "side", "expected_adapter", "actual_adapter", "status")
    search_fields = ("client_order_id", "symbol")
