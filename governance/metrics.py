"""Governance metrics: stops counted where they happen; states whose truth is in Postgres at scrape time."""
from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from torghut.metrics import Counter

EMERGENCY_STOPS = Counter("torghut_emergency_stop_total", "Emergency stops confirmed, by trigger.", ["trigger"])

# Numeric encoding of the kill-switch state, so an alert rule can say `torghut_kill_switch_state > 0`.
STATE_VALUES = {"active": 0.0, "reducing": 1.0, "halted": 2.0}


def kill_switch_state_family() -> Iterable[GaugeMetricFamily]:
    from governance.models import KillSwitch

    row = KillSwitch.objects.filter(pk=KillSwitch.SINGLETON_ID).values_list("state", flat=True).first()
    family = GaugeMetricFamily("torghut_kill_switch_state", "Kill-switch state: 0 active, 1 reducing, 2 halted.")
    family.add_metric([], STATE_VALUES.get(row or "active", 2.0))
    yield family


def drill_time_to_halt_family() -> Iterable[GaugeMetricFamily]:
    from governance.models import DrillRun

    family = GaugeMetricFamily("torghut_drill_time_to_halt_seconds", "Time from fault injection to halt in the latest drill, by trigger.", labels=["trigger"])
    seen: set[str] = set()
    for run in DrillRun.objects.filter(time_to_halt_seconds__isnull=False).order_by("-started_at").only("trigger", "time_to_halt_seconds"):
        if run.trigger not in seen:
            seen.add(run.trigger)
            family.add_metric([run.trigger], float(run.time_to_halt_seconds))
    yield family
