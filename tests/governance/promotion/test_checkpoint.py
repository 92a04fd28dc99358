import pytest
import time_machine
from django.utils import timezone

from governance.errors import GovernanceError
from governance.lanes.models import LaneChange
from governance.promotion.checkpoint import CheckpointInputs, checkpoint_evaluate, checkpoint_inputs_gather
from governance.promotion.models import CheckpointPolicy
from governance.promotion.services import checkpoint_policy_ensure, checkpoint_policy_update
from tests.factories import drill_pass_create, research_run_create, user_create
from torghut.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSING = dict(paper_runs=3, shadow_hours=30.0, shadow_decisions=12, gate_non_error_ratio=1.0, drill_age_hours=2.0, critical_alerts=0)


def _evaluate(**overrides):
    return checkpoint_evaluate(policy=checkpoint_policy_ensure(), inputs=CheckpointInputs(**{**PASSING, **overrides}))


def test_the_default_policy_holds_the_documented_thresholds():
    policy = checkpoint_policy_ensure()
    assert (policy.min_paper_runs, policy.min_shadow_hours, policy.min_gate_non_error_ratio, policy.drill_max_age_hours) == (
        3,
        24.0,
        0.95,
        72.0,
    )
    assert policy.forbid_open_critical_alert and policy.ramp_schedule == [0.10, 0.25, 0.50, 1.00]


def test_evidence_meeting_every_rule_passes():
    result = _evaluate()
    assert result["passed"] and result["failures"] == []
    assert [r["rule"] for r in result["rules"]] == [
        "min_paper_runs",
        "min_shadow_hours",
        "min_shadow_decisions",
        "min_gate_non_error_ratio",
        "drill_max_age_hours",
        "no_open_critical_alert",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"paper_runs": 1}, "min_paper_runs: 1 < 3"),
        ({"shadow_hours": 5.5}, "min_shadow_hours: 5.5 < 24"),
        ({"shadow_decisions": 0}, "min_shadow_decisions: 0 < 1"),
        ({"gate_non_error_ratio": 0.9}, "min_gate_non_error_ratio: 0.9 < 0.95"),
        ({"drill_age_hours": 80.0}, "drill_max_age_hours: 80 > 72"),
        ({"drill_age_hours": None}, "drill_max_age_hours: no passing drill"),
        ({"critical_alerts": 2}, "no_open_critical_alert: 2 open"),
    ],
)
def test_each_rule_fails_on_its_own_and_names_its_figures(overrides, message):
    result = _evaluate(**overrides)
    assert not result["passed"]
    assert result["failures"] == [message]


def test_an_unreadable_input_fails_its_rule_and_names_the_error():
    result = _evaluate(paper_runs=None, errors={"paper_runs": "ProgrammingError: relation does not exist"})
    assert result["failures"] == ["min_paper_runs: unreadable (ProgrammingError: relation does not exist)"]


def test_a_zero_minimum_or_a_lifted_alert_rule_is_reported_as_not_enforced():
    checkpoint_policy_update(
        actor="ops", changes={"min_shadow_decisions": 0, "forbid_open_critical_alert": False}, reason="trading inputs pending"
    )
    result = _evaluate(shadow_decisions=None, critical_alerts=None)
    assert result["passed"]
    messages = {r["rule"]: r["message"] for r in result["rules"]}
    assert messages["min_shadow_decisions"] == "min_shadow_decisions: not enforced by policy"
    assert messages["no_open_critical_alert"] == "no_open_critical_alert: not enforced by policy"


def test_gathered_evidence_comes_from_research_runs_the_lane_ledger_and_the_last_drill():
    from trading.strategies.models import Strategy

    with time_machine.travel("2026-11-20 12:00:00+00:00", tick=False):
        strategy = Strategy.objects.create(name="macd", version="2", kind="macd_rsi", lane="shadow")
        LaneChange.objects.create(
            strategy=strategy,
            version="2",
            from_lane="paper",
            to_lane="shadow",
            cause="request",
            actor="a",
            at=timezone.now() - timezone.timedelta(hours=30),
        )
        research_run_create(strategy=strategy)
        research_run_create(strategy=strategy, gate_statuses=("pass", "pass", "pass"))
        research_run_create(strategy=strategy, status="failed", gate_statuses=("pass", "error", "fail"))
        drill_pass_create(hours_ago=5)
        inputs = checkpoint_inputs_gather(strategy=strategy)
    assert inputs.paper_runs == 2
    assert inputs.gate_non_error_ratio == pytest.approx(7 / 8)
    assert inputs.shadow_hours == pytest.approx(30.0)
    assert inputs.drill_age_hours == pytest.approx(5.0)


def test_a_strategy_not_in_shadow_has_no_shadow_exposure():
    from trading.strategies.models import Strategy

    strategy = Strategy.objects.create(name="macd", version="3", kind="macd_rsi", lane="paper")
    inputs = checkpoint_inputs_gather(strategy=strategy)
    assert inputs.shadow_hours == 0.0 and inputs.shadow_decisions == 0


def test_policy_edits_are_audited_with_old_and_new_values_and_need_a_reason():
    with pytest.raises(GovernanceError, match="reason"):
        checkpoint_policy_update(actor="ops", changes={"min_paper_runs": 5}, reason=" ")
    with pytest.raises(GovernanceError, match="not policy fields"):
        checkpoint_policy_update(actor="ops", changes={"updated_by": "me"}, reason="x, for the test")
    with pytest.raises(GovernanceError, match="ramp_schedule"):
        checkpoint_policy_update(actor="ops", changes={"ramp_schedule": [0.5, 0.25]}, reason="x, for the test")
    checkpoint_policy_update(actor="ops", changes={"min_paper_runs": 5}, reason="more evidence before live")
    event = AuditEvent.objects.get(action="checkpoint_policy.update")
    assert (event.actor, event.old, event.new, event.reason) == (
        "ops",
        {"min_paper_runs": 3},
        {"min_paper_runs": 5},
        "more evidence before live",
    )
    assert CheckpointPolicy.objects.get().min_paper_runs == 5


def test_a_policy_edit_in_the_admin_goes_through_the_audited_service(client):
    admin = user_create(username="boss", staff=True, perms=("governance.change_checkpointpolicy", "governance.view_checkpointpolicy"))
    client.force_login(admin)
    policy = checkpoint_policy_ensure()
    url = f"/admin/governance/checkpointpolicy/{policy.pk}/change/"
    form = {
        "min_paper_runs": 4,
        "min_shadow_hours": 24.0,
        "min_shadow_decisions": 1,
        "min_gate_non_error_ratio": 0.95,
        "drill_max_age_hours": 72.0,
        "forbid_open_critical_alert": "on",
        "ramp_schedule": "[0.1, 0.25, 0.5, 1.0]",
        "ramp_max_drawdown_fraction": 0.02,
        "ramp_max_fallback_ratio": 0.25,
    }
    assert client.post(url, form).status_code == 200  # re-shown: the change reason is required
    assert CheckpointPolicy.objects.get().min_paper_runs == 3
    response = client.post(url, {**form, "change_reason": "one more run"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="checkpoint_policy.update")
    assert (event.actor, event.old, event.new, event.reason) == ("boss", {"min_paper_runs": 3}, {"min_paper_runs": 4}, "one more run")


def test_an_edit_that_changes_nothing_writes_no_audit_event():
    checkpoint_policy_update(actor="ops", changes={"min_paper_runs": 3}, reason="no-op, for the test")
    assert not AuditEvent.objects.filter(action="checkpoint_policy.update").exists()
