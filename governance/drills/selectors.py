"""Reads of drill runs: the last passing drill (checkpoint and research gate evidence) and recent runs."""

from __future__ import annotations

from datetime import datetime

from governance.drills.models import DrillRun

# Promotion reads (lane history, ramps) live in their own module; these are the ones other apps call.


def last_passing_drill_at() -> datetime | None:
    """When the last rollback drill passed (its finish time), or None until one has."""
    run = DrillRun.objects.filter(passed=True, finished_at__isnull=False).order_by("-finished_at").first()
    return run.finished_at if run else None


def drill_runs_recent(*, limit: int) -> list[DrillRun]:
    return list(DrillRun.objects.order_by("-started_at", "-id")[:limit])
