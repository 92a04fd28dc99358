"""The lane ledger in the admin: read-only, append-only."""

from __future__ import annotations

from django.contrib import admin

from governance.lanes.models import LaneChange
from torghut.core.admin_base import ReadOnlyModelAdmin


@admin.register(LaneChange)
class LaneChangeAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "strategy", "version", "from_lane", "to_lane", "cause", "actor", "reason")
    list_filter = ("cause", "to_lane")
