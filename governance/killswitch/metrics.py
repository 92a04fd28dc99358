"""Governance metrics: stops counted where they happen; states whose truth is in Postgres at scrape time."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from governance.killswitch.models import KillSwitch

# Numeric encoding of the kill-switch state, so an alert rule can say `torghut_kill_switch_state > 0`.
STATE_VALUES = {"active": 0.0, "reducing": 1.0, "halted": 2.0}


def kill_switch_state_family() -> Iterable[GaugeMetricFamily]:

    row = KillSwitch.objects.filter(pk=KillSwitch.SINGLETON_ID).values_list("state", flat=True).first()
    family = GaugeMetricFamily("torghut_kill_switch_state", "Kill-switch state: 0 active, 1 reducing, 2 halted.")
    family.add_metric([], STATE_VALUES.get(row or "active", 2.0))
    yield family
