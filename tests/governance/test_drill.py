import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from governance.drill import DRILL_TRIGGERS, drill_run
from governance.models import DrillRun, KillSwitch, LaneChange
from governance.selectors import kill_switch_order_check, last_passing_drill_at
from governance.services import GovernanceError, kill_switch_engage

pytestmark = pytest.mark.django_db


def test_no_drill_means_no_last_passing_drill():
    assert last_passing_drill_at() is None


def test_last_passing_drill_is_the_newest_passed_run_only():
    now = timezone.now()
    DrillRun.objects.create(trigger="signal_lag", started_at=now - dt.timedelta(hours=5), finished_at=now - dt.timedelta(hours=5), passed=True)
    DrillRun.objects.create(trigger="signal_lag", started_at=now - dt.timedelta(hours=1), finished_at=now - dt.timedelta(hours=1), passed=False)
    DrillRun.objects.create(trigger="pnl_drawdown", started_at=now - dt.timedelta(hours=3), finished_at=now - dt.timedelta(hours=3), passed=True)
    assert last_passing_drill_at() == now - dt.timedelta(hours=3)


@pytest.mark.parametrize("trigger", sorted(set(DRILL_TRIGGERS.values())))
def test_a_drill_halts_checks_and_recovers_then_leaves_trading_active(trigger):
    run = drill_run(trigger=trigger)
    checks = run.checks
    assert checks["halted"] and checks["order_path_refuses"] and checks["evidence_chain_valid"]
    assert checks["recovery_path"] and checks["resumed"]
    assert run.passed == all(checks.values())
    assert 0 < run.time_to_halt_seconds <= run.time_to_cancel_seconds
    assert run.evidence is not None and run.evidence.triggers == [trigger]
    assert run.finished_at is not None
    # An incomplete package (a source this deployment cannot read) fails the drill and says why.
    assert checks["evidence_complete"] == (not run.evidence.missing_sources)
    assert checks["evidence_complete"] or "evidence incomplete" in run.error
    assert KillSwitch.objects.get().state == "active"
    assert kill_switch_order_check(reduces_exposure=False).allowed


def test_a_drill_refuses_to_run_with_live_strategies(make_strategy):
    make_strategy(lane="live")
    with pytest.raises(GovernanceError, match="live"):
        drill_run(trigger="signal_lag")
    assert not DrillRun.objects.exists() and not LaneChange.objects.exclude(cause="request").exists()


def test_a_drill_refuses_to_run_over_a_real_halt(operator):
    kill_switch_engage(actor=operator, state="halted", reason="real incident")
    with pytest.raises(GovernanceError, match="not active"):
        drill_run(trigger="pnl_drawdown")
    assert KillSwitch.objects.get().reason == "real incident"


def test_the_drill_command_records_a_run_per_trigger(capsys):
    try:
        call_command("drill", "--trigger", "all")
    except CommandError as exc:
        assert "drill failed for" in str(exc)
    assert DrillRun.objects.count() == len(DRILL_TRIGGERS)
    out = capsys.readouterr().out
    for name in DRILL_TRIGGERS:
        assert f"{name}: " in out


def test_the_drill_time_to_halt_reaches_the_metrics_endpoint(client):
    drill_run(trigger="fallback_ratio")
    text = client.get("/metrics").content.decode()
    assert 'torghut_drill_time_to_halt_seconds{trigger="fallback_ratio"}' in text


def test_drill_runs_are_listed_through_the_api(api_client):
    run = drill_run(trigger="research_failures")
    listed = api_client.get("/governance/drills").json()
    assert [(r["id"], r["trigger"], r["passed"], r["evidence_id"]) for r in listed] == [(run.pk, "research_failures", run.passed, run.evidence_id)]
