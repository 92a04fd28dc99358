"""Alerts and their Alertmanager deliveries in the admin: read-only."""

from __future__ import annotations

from django.contrib import admin

from torghut.core.admin_base import ReadOnlyModelAdmin
from trading.alerts.models import Alert, AlertNotification


class AlertNotificationInline(admin.TabularInline):
    model = AlertNotification
    extra = 0
    can_delete = False
    readonly_fields = ("event", "status", "attempts", "last_error", "created_at", "sent_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyModelAdmin):
    list_display = ("key", "reason", "severity", "opened_at", "closed_at", "last_seen")
    list_filter = ("severity", "reason")
    search_fields = ("key", "reason")
    inlines = (AlertNotificationInline,)
