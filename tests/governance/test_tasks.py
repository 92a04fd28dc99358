"""The emergency-stop beat task and the drill task through a real worker."""

from __future__ import annotations

import pytest
from django.conf import settings

from governance.drills.models import DrillRun
from governance.emergency.models import TriggerState
from governance.killswitch.models import KillSwitch

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_beat_task_evaluates_every_trigger_and_mirrors_the_persisted_state(celery_worker, redis_client):
    from governance.tasks import evaluate_emergency_stop

    redis_client.set(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY, "reducing")  # a drifted mirror
    outcome = evaluate_emergency_stop.delay().get(timeout=60)
    persisted = KillSwitch.objects.get().state
    assert outcome["state"] == persisted
    assert redis_client.get(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY).decode() == persisted
    states = TriggerState.objects.all()
    assert {s.trigger for s in states} == {
        "signal_lag",
        "staleness_streak",
        "universe_unavailable",
        "research_failures",
        "fallback_ratio",
        "pnl_drawdown",
    }
    # Every trigger reports what it saw: a value, or why it could not read one.
    for state in states:
        assert state.evaluated_at is not None
        assert state.last_status in {"ok", "warning", "breach", "not_applicable"} or state.last_error, state.trigger


def test_the_drill_task_records_a_drill_run(celery_worker):
    from governance.drills.tasks import run_drill

    outcome = run_drill.delay("pnl_drawdown").get(timeout=60)
    run = DrillRun.objects.get(pk=outcome["drill_run_id"])
    assert run.trigger == "pnl_drawdown" and run.passed == outcome["passed"]
    assert run.checks["halted"] and run.checks["resumed"]
