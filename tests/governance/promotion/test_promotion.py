import pytest
import time_machine
from django.utils import timezone

from governance.errors import GovernanceError, GovernancePermissionDenied
from governance.lanes.models import LaneChange
from governance.lanes.services import strategy_lane_change
from governance.promotion.models import Approval, CapitalRamp, PromotionRequest
from governance.promotion.services import (
    promotion_request_approve,
    promotion_request_create,
    promotion_request_reject,
    promotion_requests_expire,
)
from tests.factories import research_run_create, strategy_ready_for_live, user_create
from torghut.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def requester():
    return user_create(username="quant", approver=True, perms=("governance.add_promotionrequest",))


@pytest.fixture
def approver():
    return user_create(username="risk", approver=True)


@pytest.fixture
def second_approver():
    return user_create(username="cro", approver=True)


def test_a_request_stores_the_checkpoint_evaluated_when_it_is_created(requester):
    strategy = strategy_ready_for_live(paper_runs=1)
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester, reason="ready, for the test")
    assert (request.status, request.version, request.from_lane, request.requester) == ("pending", "1", "shadow", "quant")
    assert request.checkpoint_at_request["passed"] is False
    assert request.checkpoint_at_request["failures"] == ["min_paper_runs: 1 < 3"]
    assert AuditEvent.objects.filter(action="promotion_request.create", object_id=str(request.pk)).exists()


def test_an_approval_applies_the_move_to_live_in_the_same_transaction(requester, approver):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    assert request.checkpoint_at_request["passed"], request.checkpoint_at_request["failures"]
    applied = promotion_request_approve(request_id=request.pk, approver=approver, reason="evidence reviewed")
    strategy.refresh_from_db()
    assert strategy.lane == "live"
    assert applied.status == "applied" and applied.applied_txid is not None and applied.checkpoint_at_approval["passed"]
    change = LaneChange.objects.get(pk=applied.lane_change_id)
    assert (change.from_lane, change.to_lane, change.cause, change.actor, change.version) == ("shadow", "live", "request", "risk", "1")
    ramp = CapitalRamp.objects.get(request=applied)
    assert (ramp.step, ramp.fraction, ramp.status) == (0, 0.10, "active")


def test_approval_re_evaluates_the_checkpoint_and_a_failure_names_the_rule_and_keeps_the_lane(requester, approver):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    assert request.checkpoint_at_request["passed"]
    research_run_create(strategy=strategy, status="failed", gate_statuses=("error", "error"))
    with pytest.raises(GovernanceError, match=r"checkpoint failed: min_gate_non_error_ratio: 0\.75 < 0\.95"):
        promotion_request_approve(request_id=request.pk, approver=approver, reason="looks fine")
    request.refresh_from_db()
    assert request.status == "pending"
    assert request.checkpoint_at_approval["failures"] == ["min_gate_non_error_ratio: 0.75 < 0.95"]
    assert not Approval.objects.exists()
    strategy.refresh_from_db()
    assert strategy.lane == "shadow"


def test_four_eyes_the_requester_cannot_approve_their_own_request(requester):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    with pytest.raises(GovernancePermissionDenied, match="four eyes"):
        promotion_request_approve(request_id=request.pk, approver=requester, reason="mine is good")
    assert PromotionRequest.objects.get().status == "pending"
    assert not Approval.objects.exists()


def test_only_members_of_the_approvers_group_approve_and_autonomy_never_does(requester):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    outsider = user_create(username="intern", perms=("governance.approve_promotionrequest",))
    with pytest.raises(GovernancePermissionDenied, match="approvers"):
        promotion_request_approve(request_id=request.pk, approver=outsider, reason="x, for the test")
    with pytest.raises(GovernancePermissionDenied, match="autonomy may request, never approve"):
        promotion_request_approve(request_id=request.pk, approver="autonomy", reason="x, for the test")
    impostor = user_create(username="autonomy", approver=True)
    with pytest.raises(GovernancePermissionDenied, match="autonomy may request, never approve"):
        promotion_request_approve(request_id=request.pk, approver=impostor, reason="x, for the test")
    assert PromotionRequest.objects.get().status == "pending"


def test_autonomy_may_request_and_a_human_approver_applies_it(approver):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester="autonomy", research_run_ids=["abc"])
    assert (request.requester, request.research_run_ids) == ("autonomy", ["abc"])
    assert promotion_request_approve(request_id=request.pk, approver=approver, reason="reviewed the runs").status == "applied"


def test_a_user_without_the_request_permission_cannot_request():
    strategy = strategy_ready_for_live()
    with pytest.raises(GovernancePermissionDenied, match="add_promotionrequest"):
        promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=user_create(username="nobody"))


def test_an_expired_request_cannot_be_approved(requester, approver):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    with time_machine.travel(request.expires_at + timezone.timedelta(seconds=1)):
        with pytest.raises(GovernanceError, match="expired"):
            promotion_request_approve(request_id=request.pk, approver=approver, reason="late, for the test")
    request.refresh_from_db()
    assert request.status == "expired"
    strategy.refresh_from_db()
    assert strategy.lane == "shadow"


def test_expiry_marks_only_overdue_pending_requests(requester):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    assert promotion_requests_expire(now=request.expires_at - timezone.timedelta(seconds=1)) == 0
    assert promotion_requests_expire(now=request.expires_at) == 1
    assert PromotionRequest.objects.get().status == "expired"


def test_a_move_to_live_needs_the_configured_number_of_distinct_approvals(settings, requester, approver, second_approver):
    settings.GOVERNANCE_LIVE_APPROVALS_REQUIRED = 2
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    assert request.approvals_required == 2
    first = promotion_request_approve(request_id=request.pk, approver=approver, reason="one, for the test")
    assert first.status == "pending"
    strategy.refresh_from_db()
    assert strategy.lane == "shadow"
    with pytest.raises(GovernanceError, match="already decided"):
        promotion_request_approve(request_id=request.pk, approver=approver, reason="one again, for the test")
    second = promotion_request_approve(request_id=request.pk, approver=second_approver, reason="two, for the test")
    assert second.status == "applied"
    strategy.refresh_from_db()
    assert strategy.lane == "live"


def test_moves_other_than_to_live_need_one_approval_and_no_checkpoint(settings, requester, approver):
    from trading.strategies.models import Strategy

    settings.GOVERNANCE_LIVE_APPROVALS_REQUIRED = 3
    strategy = Strategy.objects.create(name="m", version="1", kind="macd_rsi", lane="paper")
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="shadow", requester=requester)
    assert request.approvals_required == 1 and request.checkpoint_at_request["rules"] == []
    assert promotion_request_approve(request_id=request.pk, approver=approver, reason="ok, for the test").status == "applied"
    strategy.refresh_from_db()
    assert strategy.lane == "shadow"
    assert not CapitalRamp.objects.exists()


def test_a_rejection_needs_a_reason_and_closes_the_request(requester, approver):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    with pytest.raises(GovernanceError, match="reason"):
        promotion_request_reject(request_id=request.pk, approver=approver, reason="  ")
    rejected = promotion_request_reject(request_id=request.pk, approver=approver, reason="drawdown too deep")
    assert rejected.status == "rejected"
    assert Approval.objects.get().decision == "reject"
    with pytest.raises(GovernanceError, match="rejected, not pending"):
        promotion_request_approve(request_id=request.pk, approver=user_create(username="other", approver=True), reason="x, for the test")


def test_requests_are_refused_for_bad_moves_and_while_one_is_pending(requester):
    from trading.strategies.models import Strategy

    paper = Strategy.objects.create(name="p", version="1", kind="macd_rsi", lane="paper")
    with pytest.raises(GovernanceError, match="starts from shadow"):
        promotion_request_create(strategy_id=paper.pk, to_lane="live", requester=requester)
    with pytest.raises(GovernanceError, match="already in paper"):
        promotion_request_create(strategy_id=paper.pk, to_lane="paper", requester=requester)
    with pytest.raises(GovernanceError, match="unknown lane"):
        promotion_request_create(strategy_id=paper.pk, to_lane="moon", requester=requester)
    promotion_request_create(strategy_id=paper.pk, to_lane="shadow", requester=requester)
    with pytest.raises(GovernanceError, match="already has a pending"):
        promotion_request_create(strategy_id=paper.pk, to_lane="research", requester=requester)


def test_a_request_is_not_applied_to_a_strategy_that_moved_since(requester, approver):
    strategy = strategy_ready_for_live()
    request = promotion_request_create(strategy_id=strategy.pk, to_lane="live", requester=requester)
    strategy_lane_change(strategy_id=strategy.pk, to_lane="paper", cause="rollback", actor="ops")
    with pytest.raises(GovernanceError, match="now 1 in paper"):
        promotion_request_approve(request_id=request.pk, approver=approver, reason="x, for the test")
    strategy.refresh_from_db()
    assert strategy.lane == "paper"


def test_a_passed_research_run_recommending_promotion_files_an_autonomy_request_once():
    from governance.promotion.services import promotion_request_from_research

    strategy = strategy_ready_for_live()
    held = research_run_create(strategy=strategy, status="failed", gate_statuses=("fail",))
    assert promotion_request_from_research(run_id=held.run_id) is None
    run = research_run_create(strategy=strategy)
    type(run).objects.filter(pk=run.pk).update(target_lane="live")
    request = promotion_request_from_research(run_id=run.run_id)
    assert (request.requester, request.to_lane, request.research_run_ids) == ("autonomy", "live", [run.run_id])
    assert promotion_request_from_research(run_id=run.run_id) is None
    with pytest.raises(GovernanceError, match="no research run"):
        promotion_request_from_research(run_id="0" * 24)


def test_the_research_scan_files_one_request_per_recommending_run_and_never_refiles_a_rejection(approver):
    from governance.promotion.services import promotion_requests_from_research

    strategy = strategy_ready_for_live()
    type(strategy.research_runs.first()).objects.filter(strategy=strategy).update(target_lane="live")
    filed = promotion_requests_from_research()
    assert len(filed) == 1 and filed[0].requester == "autonomy"
    assert promotion_requests_from_research() == []  # one pending request per strategy
    promotion_request_reject(request_id=filed[0].pk, approver=approver, reason="not yet, for the test")
    refiled = promotion_requests_from_research()
    assert len(refiled) == 1 and refiled[0].research_run_ids != filed[0].research_run_ids  # the next run, not the rejected one
