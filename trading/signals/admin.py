"""Read-only admin views of ingest telemetry, the universe snapshot and alerts (imported by trading/admin.py)."""

from __future__ import annotations

from django.contrib import admin

from torghut.core.admin_base import ReadOnlyModelAdmin
from trading.signals.models import IngestCursor, IngestWindow, UniverseSnapshot


@admin.register(IngestCursor)
class IngestCursorAdmin(ReadOnlyModelAdmin):
    list_display = ("source", "account", "shard", "cursor_at", "cursor_symbol", "cursor_seq", "last_reason", "streaks", "updated_at")


@admin.register(IngestWindow)
class IngestWindowAdmin(ReadOnlyModelAdmin):
    list_display = (
        "started_at",
        "source",
        "account",
        "reason",
        "rows_fetched",
        "rows_accepted",
        "rows_rejected",
        "lag_seconds",
        "latency_ms",
    )
    list_filter = ("reason", "source", "account", "universe_status")
    date_hierarchy = "started_at"


@admin.register(UniverseSnapshot)
class UniverseSnapshotAdmin(ReadOnlyModelAdmin):
    list_display = ("source", "status", "reason", "fetched_at", "checked_at", "rejected_count")

    @admin.display(description="rejected")
    def rejected_count(self, obj: UniverseSnapshot) -> int:
        return len(obj.rejected or ())
