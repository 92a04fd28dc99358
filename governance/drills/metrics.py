"""Drill gauges computed at scrape time from Postgres."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from governance.drills.models import DrillRun


def drill_time_to_halt_family() -> Iterable[GaugeMetricFamily]:

    family = GaugeMetricFamily(
        "torghut_drill_time_to_halt_seconds", "Time from fault injection to halt in the latest drill, by trigger.", labels=["trigger"]
    )
    seen: set[str] = set()
    for run in DrillRun.objects.filter(time_to_halt_seconds__isnull=False).order_by("-started_at").only("trigger", "time_to_halt_seconds"):
        if run.trigger not in seen:
            seen.add(run.trigger)
            family.add_metric([run.trigger], float(run.time_to_halt_seconds))
    yield family
