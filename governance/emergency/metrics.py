"""Emergency-stop metrics: the halt counter bumped where a halt is confirmed, and each trigger's last
evaluation (value, firing, breach streak) computed from Postgres at scrape time."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from governance.emergency.measures import DEFAULT_POLICIES
from governance.emergency.models import EmergencyStopPolicy, Trigger, TriggerState
from torghut.core.metrics import Counter, counter_labels_init

EMERGENCY_STOPS = Counter("torghut_emergency_stop_total", "Emergency stops confirmed, by trigger.", ["trigger"])
counter_labels_init(EMERGENCY_STOPS, [{"trigger": t.value} for t in Trigger])


def trigger_state_family():
    """Every trigger's policy threshold, last measured value, breach streak and whether it is firing (0 before
    its first evaluation). Alert rules compare against the exported threshold, so they follow the audited policy."""
    threshold = GaugeMetricFamily(
        "torghut_emergency_stop_trigger_threshold", "Breach threshold of each emergency-stop trigger's policy.", labels=["trigger"]
    )
    value = GaugeMetricFamily(
        "torghut_emergency_stop_trigger_value",
        "Last value each emergency-stop trigger measured (research_failures: the failure streak; NaN: unreadable).",
        labels=["trigger"],
    )
    streak = GaugeMetricFamily("torghut_emergency_stop_breach_streak", "Consecutive breaching evaluations, by trigger.", labels=["trigger"])
    firing = GaugeMetricFamily(
        "torghut_emergency_stop_trigger_firing", "1 while a trigger's confirmed breach has not cleared.", labels=["trigger"]
    )
    states = {s.trigger: s for s in TriggerState.objects.all()}
    policies = {p.trigger: p.threshold for p in EmergencyStopPolicy.objects.all()}
    for trigger in Trigger.values:
        threshold.add_metric([trigger], float(policies.get(trigger, DEFAULT_POLICIES[trigger]["threshold"])))
        state = states.get(trigger)
        last = state.last_value if state is not None else 0.0
        value.add_metric([trigger], float("nan") if last is None else float(last))
        streak.add_metric([trigger], float(state.breach_streak if state else 0))
        firing.add_metric([trigger], 1.0 if state is not None and state.firing else 0.0)
    yield from (threshold, value, streak, firing)
