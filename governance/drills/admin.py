"""Drill runs in the admin: read-only, written by `manage.py drill` and the `governance.run_drill` task."""

from __future__ import annotations

from django.contrib import admin

from governance.drills.models import DrillRun
from torghut.core.admin_base import ReadOnlyModelAdmin


@admin.register(DrillRun)
class DrillRunAdmin(ReadOnlyModelAdmin):
    list_display = ("started_at", "trigger", "passed", "time_to_halt_seconds", "time_to_cancel_seconds", "evidence", "error")
    list_filter = ("trigger", "passed")
