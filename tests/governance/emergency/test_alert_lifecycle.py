"""The emergency-stop alerts close by their rule: the critical halt alert on resume (with who and why), and
at the end of a drill; so after a halt and a resume the promotion checkpoint's open-alert rule passes."""

from __future__ import annotations

import pytest

from governance.drills.services import drill_run
from governance.emergency.services import HALT_ALERT_KEY, emergency_stop_evaluate
from governance.killswitch.services import kill_switch_mirror_sync, kill_switch_release_after_drill, kill_switch_resume
from governance.promotion.checkpoint import checkpoint_evaluate, checkpoint_inputs_gather
from governance.promotion.services import checkpoint_policy_ensure, checkpoint_policy_update
from tests.factories import BREACHES, healthy_inputs, strategy_ready_for_live
from trading.alerts.models import Alert
from trading.alerts.selectors import alerts_open

pytestmark = pytest.mark.django_db


def _halt(trigger: str) -> None:
    for _ in range(5):
        result = emergency_stop_evaluate(inputs=healthy_inputs(**BREACHES[trigger]))
        if result.halt is not None:
            return
    raise AssertionError(f"{trigger} did not halt")


@pytest.mark.parametrize("trigger", sorted(BREACHES))
def test_each_trigger_opens_the_critical_alert_and_the_resume_closes_it_with_who_and_why(trigger, operator):
    _halt(trigger)
    alert = Alert.objects.get(key=HALT_ALERT_KEY, closed_at__isnull=True)
    assert alert.severity == "critical" and trigger in alert.payload["triggers"]
    kill_switch_resume(actor=operator, reason=f"{trigger} repaired")
    alert.refresh_from_db()
    assert alert.closed_at is not None
    assert alert.closed_by == "operator" and alert.close_reason == f"kill switch back to active (operator): {trigger} repaired"
    assert not Alert.objects.filter(key=HALT_ALERT_KEY, closed_at__isnull=True).exists()


def test_recovery_to_reducing_keeps_the_critical_alert_open_while_trading_is_restricted():
    _halt("signal_lag")
    for _ in range(10):
        result = emergency_stop_evaluate(inputs=healthy_inputs())
        if result.recovered:
            break
    assert result.state == "reducing"
    assert Alert.objects.filter(key=HALT_ALERT_KEY, closed_at__isnull=True).exists()


def test_the_end_of_a_drill_closes_the_alert_its_halt_opened():
    _halt("research_failures")
    kill_switch_release_after_drill(reason="drill research_failures finished")
    alert = Alert.objects.get(key=HALT_ALERT_KEY)
    assert alert.closed_by == "drill" and "drill research_failures finished" in alert.close_reason
    assert alerts_open(severity="critical") == []


def test_a_warning_alert_opens_at_the_warning_level_and_closes_when_the_trigger_falls_below_it():
    # 80% of the 2% drawdown limit: a warning, not a breach.
    emergency_stop_evaluate(inputs=healthy_inputs(pnl_total=-1_700.0, allocated_capital=100_000.0))
    warning = Alert.objects.get(key=f"{HALT_ALERT_KEY}.pnl_drawdown.warning", closed_at__isnull=True)
    assert warning.severity == "warning"
    emergency_stop_evaluate(inputs=healthy_inputs())
    warning.refresh_from_db()
    assert warning.closed_at is not None and warning.closed_by == "system"


def test_the_checkpoint_open_alert_rule_passes_after_a_halt_and_a_resume(operator):
    strategy = strategy_ready_for_live()
    checkpoint_policy_update(actor="test", changes={"forbid_open_critical_alert": True}, reason="enforce the alert rule")
    policy = checkpoint_policy_ensure()

    def checkpoint() -> dict:
        return checkpoint_evaluate(policy=policy, inputs=checkpoint_inputs_gather(strategy=strategy))

    _halt("universe_unavailable")
    assert checkpoint()["failures"] == ["no_open_critical_alert: 1 open"]
    kill_switch_resume(actor=operator, reason="jangar back")
    assert checkpoint()["passed"], checkpoint()["failures"]


def test_a_real_drill_leaves_no_critical_alert_open_so_the_checkpoint_is_not_blocked_by_it(signal_table, static_universe):
    kill_switch_mirror_sync()
    run = drill_run(trigger="research_failures")
    assert run.checks.get("halted", True) and Alert.objects.filter(key=HALT_ALERT_KEY).exists()
    assert alerts_open(severity="critical") == []
