"""Factories shared by the test suite."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone


def user_create(*, username: str, approver: bool = False, staff: bool = False, perms: tuple[str, ...] = ()):
    """A user, optionally in the `approvers` group and with extra permissions (`app.codename`)."""
    from django.contrib.auth.models import Permission

    from governance.promotion.services import approvers_group_ensure

    user = get_user_model().objects.create_user(username=username, password=f"{username}-pass-123", is_staff=staff)
    if approver:
        user.groups.add(approvers_group_ensure())
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def strategy_live_create(*, name: str = "macd", version: str = "1", kind: str = "macd_rsi", **fields):
    """A live strategy, made live the only way Postgres allows: through an approved, applied request.

    The factory records the checkpoint as passed instead of producing its evidence (research runs,
    shadow hours, a drill); everything from the approval on is the real apply path.
    """
    from governance.promotion.models import Approval, ApprovalDecision, PromotionRequest
    from governance.promotion.services import _promotion_request_apply
    from trading.strategies.models import Strategy

    strategy = Strategy.objects.create(name=name, version=version, kind=kind, lane="shadow", **fields)
    requester = get_user_model().objects.filter(username="factory-requester").first() or user_create(username="factory-requester")
    approver = get_user_model().objects.filter(username="factory-approver").first() or user_create(username="factory-approver", approver=True)
    now = timezone.now()
    with transaction.atomic():
        request = PromotionRequest.objects.create(
            strategy=strategy, version=version, from_lane="shadow", to_lane="live", requester=requester.username,
            checkpoint_at_request={"passed": True, "note": "test factory"},
            checkpoint_at_approval={"passed": True, "note": "test factory"},
            expires_at=now + timezone.timedelta(hours=1),
        )
        Approval.objects.create(request=request, approver=approver, decision=ApprovalDecision.APPROVE, reason="test factory")
        _promotion_request_apply(request=request, actor=approver.username, now=now)
    strategy.refresh_from_db()
    return strategy


def research_run_create(*, strategy, status: str = "passed", gate_statuses: tuple[str, ...] = ("pass", "pass")):
    """A finished research run of the strategy's current version with one gate entry per status."""
    import hashlib
    import uuid

    from research.models import ResearchRun

    now = timezone.now()
    seed = uuid.uuid4().hex
    return ResearchRun.objects.create(
        run_id=hashlib.sha256(seed.encode()).hexdigest()[:24], status=status, strategy=strategy, strategy_name=strategy.name,
        strategy_version=strategy.version, strategy_kind=strategy.kind, window_start=now - timezone.timedelta(days=1), window_end=now,
        source_table="ta_signals", target_lane="shadow", policy_name="default", policy_version=1,
        gate_report={"gates": [{"name": f"gate{i}", "status": s} for i, s in enumerate(gate_statuses)]},
        gate_report_trace_id=hashlib.sha256((seed + "g").encode()).hexdigest(), recommendation="promote" if status == "passed" else "deny",
        recommendation_trace_id=hashlib.sha256((seed + "r").encode()).hexdigest(),
        failure_reason="" if status == "passed" else "gates failed", started_at=now, finished_at=now,
    )


def drill_pass_create(*, hours_ago: float = 1.0):
    from governance.drills.models import DrillRun

    finished = timezone.now() - timezone.timedelta(hours=hours_ago)
    return DrillRun.objects.create(trigger="signal_lag", started_at=finished - timezone.timedelta(seconds=5), finished_at=finished, passed=True)


def strategy_ready_for_live(*, name: str = "macd", version: str = "1", shadow_hours: float = 30.0, paper_runs: int = 3):
    """A strategy in shadow whose evidence passes the checkpoint: shadow since `shadow_hours` ago (a
    ledger row), passed paper runs, a drill that passed an hour ago. The decision-count and open-alert
    rules are switched off in the policy (audited), as their inputs belong to the trading app."""
    from governance.lanes.models import LaneChange
    from governance.promotion.services import checkpoint_policy_update
    from trading.strategies.models import Strategy

    checkpoint_policy_update(actor="test", changes={"min_shadow_decisions": 0, "forbid_open_critical_alert": False}, reason="test setup")
    strategy = Strategy.objects.create(name=name, version=version, kind="macd_rsi", lane="shadow")
    LaneChange.objects.create(
        strategy=strategy, version=version, from_lane="paper", to_lane="shadow", cause="request", actor="setup",
        at=timezone.now() - timezone.timedelta(hours=shadow_hours),
    )
    for _ in range(paper_runs):
        research_run_create(strategy=strategy)
    drill_pass_create()
    return strategy
