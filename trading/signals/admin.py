"""Read-only admin views of ingest telemetry, the universe snapshot and alerts (imported by trading/admin.py)."""
from django.contrib import admin

from torghut.admin_base import ReadOnlyModelAdmin
from trading.models import Alert, AlertNotification, IngestCursor, IngestWindow, UniverseSnapshot


@admin.register(IngestCursor)
class IngestCursorAdmin(ReadOnlyModelAdmin):
    list_display = ("source", "account", "shard", "cursor_at", "cursor_symbol", "cursor_seq", "last_reason", "streaks", "updated_at")


@admin.register(IngestWindow)
class IngestWindowAdmin(ReadOnlyModelAdmin):
    list_display = ("started_at", "source", "account", "reason", "rows_fetched", "rows_accepted", "rows_rejected", "lag_seconds", "latency_ms")
    list_filter = ("reason", "source", "account", "universe_status")
    date_hierarchy = "started_at"


@admin.register(UniverseSnapshot)
class UniverseSnapshotAdmin(ReadOnlyModelAdmin):
    list_display = ("source", "status", "reason", "fetched_at", "checked_at")


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
