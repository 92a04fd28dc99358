"""The lane ledger in the admin (read-only, append-only) and the Strategy admin with its lane history.

The Strategy admin is registered here, not in trading: trading must not import governance, and the lane
history inline is governance's. A lane or capital fraction changes only through a promotion request (and
the database refuses any other path to live), so both are read-only here.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from governance.lanes.models import LaneChange
from torghut.core.admin_base import ReadOnlyModelAdmin
from trading.strategies.models import Strategy


@admin.register(LaneChange)
class LaneChangeAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "strategy", "version", "from_lane", "to_lane", "cause", "actor", "reason")
    list_filter = ("cause", "to_lane")


class LaneChangeInline(admin.TabularInline):
    model = LaneChange
    fields = ("at", "version", "from_lane", "to_lane", "cause", "actor", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "lane history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "kind", "lane", "capital_fraction", "enabled", "updated_at")
    list_filter = ("lane", "kind", "enabled", "drill")
    search_fields = ("name", "version", "kind")
    readonly_fields = ("lane", "capital_fraction", "drill", "versions", "created_at", "updated_at")
    fields = (
        "name",
        "version",
        "kind",
        "parameters",
        "enabled",
        "lane",
        "capital_fraction",
        "drill",
        "versions",
        "created_at",
        "updated_at",
    )
    inlines = [LaneChangeInline]

    @admin.display(description="versions of this strategy")
    def versions(self, obj: Strategy) -> str:
        if obj.pk is None:
            return "-"
        rows = Strategy.objects.filter(name=obj.name).order_by("-created_at", "-id")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> [{}]{}</li>',
                (
                    (
                        reverse("admin:trading_strategy_change", args=[row.pk]),
                        row.version,
                        row.lane,
                        " (this one)" if row.pk == obj.pk else "",
                    )
                    for row in rows
                ),
            ),
        )
