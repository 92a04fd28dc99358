"""Factories shared by the test suite: users, strategies, research runs, drills, governance inputs."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from governance.drills.models import DrillRun
from governance.emergency.measures import EmergencyInputs
from governance.lanes.models import LaneChange
from governance.promotion.models import Approval, ApprovalDecision, PromotionRequest
from governance.promotion.services import _promotion_request_apply, approvers_group_ensure, checkpoint_policy_update
from research.models import ResearchRun
from research.services import trace_id
from trading.strategies.models import Strategy


def user_create(*, username: str, approver: bool = False, staff: bool = False, perms: tuple[str, ...] = ()):
    """A user, optionally in the `approvers` group and with extra permissions (`app.codename`)."""
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
    strategy = Strategy.objects.create(name=name, version=version, kind=kind, lane="shadow", **fields)
    requester = get_user_model().objects.filter(username="factory-requester").first() or user_create(username="factory-requester")
    approver = get_user_model().objects.filter(username="factory-approver").first() or user_create(
        username="factory-approver", approver=True
    )
    now = timezone.now()
    with transaction.atomic():
        request = PromotionRequest.objects.create(
            strategy=strategy,
            version=version,
            from_lane="shadow",
            to_lane="live",
            requester=requester.username,
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
    now = timezone.now()
    seed = uuid.uuid4().hex
    return ResearchRun.objects.create(
        run_id=hashlib.sha256(seed.encode()).hexdigest()[:24],
        status=status,
        strategy=strategy,
        strategy_name=strategy.name,
        strategy_version=strategy.version,
        strategy_kind=strategy.kind,
        window_start=now - timezone.timedelta(days=1),
        window_end=now,
        source_table="ta_signals",
        target_lane="shadow",
        policy_name="default",
        policy_version=1,
        gate_report={"gates": [{"name": f"gate{i}", "status": s} for i, s in enumerate(gate_statuses)]},
        gate_report_trace_id=hashlib.sha256((seed + "g").encode()).hexdigest(),
        recommendation="promote" if status == "passed" else "deny",
        recommendation_trace_id=hashlib.sha256((seed + "r").encode()).hexdigest(),
        failure_reason="" if status == "passed" else "gates failed",
        started_at=now,
        finished_at=now,
    )


def drill_pass_create(*, hours_ago: float = 1.0):
    finished = timezone.now() - timezone.timedelta(hours=hours_ago)
    return DrillRun.objects.create(
        trigger="signal_lag", started_at=finished - timezone.timedelta(seconds=5), finished_at=finished, passed=True
    )


def strategy_ready_for_live(*, name: str = "macd", version: str = "1", shadow_hours: float = 30.0, paper_runs: int = 3):
    """A strategy in shadow whose evidence passes the checkpoint: shadow since `shadow_hours` ago (a
    ledger row), passed paper runs, a drill that passed an hour ago. The decision-count and open-alert
    rules are switched off in the policy (audited), as their inputs belong to the trading app."""
    checkpoint_policy_update(actor="test", changes={"min_shadow_decisions": 0, "forbid_open_critical_alert": False}, reason="test setup")
    strategy = Strategy.objects.create(name=name, version=version, kind="macd_rsi", lane="shadow")
    LaneChange.objects.create(
        strategy=strategy,
        version=version,
        from_lane="paper",
        to_lane="shadow",
        cause="request",
        actor="setup",
        at=timezone.now() - timezone.timedelta(hours=shadow_hours),
    )
    for _ in range(paper_runs):
        research_run_create(strategy=strategy)
    drill_pass_create()
    return strategy


def strategy_create(*, name: str = "macd", version: str = "1", kind: str = "macd_rsi", lane: str = "paper", **fields) -> Strategy:
    """A strategy in `lane`; a live one goes through the real promotion path, as Postgres refuses any other."""
    if lane == "live":
        return strategy_live_create(name=name, version=version, kind=kind, **fields)
    return Strategy.objects.create(name=name, version=version, kind=kind, lane=lane, **fields)


def make_strategy(*, name: str = "macd", kind: str = "macd_rsi", lane: str = "paper", **parameters) -> Strategy:
    """An order-path strategy: version 1, a tenth of the capital, `parameters` as its parameters."""
    return strategy_create(name=name, kind=kind, lane=lane, capital_fraction="0.1", parameters=parameters)


def operator_create(*, username: str):
    """A user allowed to engage and resume the kill switch."""
    user = get_user_model().objects.create_user(username=username, password="operator-pass-123")
    user.user_permissions.add(Permission.objects.get(codename="engage_killswitch"))
    return get_user_model().objects.get(pk=user.pk)


def healthy_inputs(**overrides) -> EmergencyInputs:
    """Inputs under every limit, market open, all sources readable."""
    values = dict(
        signal_lag_seconds=5.0,
        market_open=True,
        streaks={"signals_present": 4},
        universe_status="ok",
        research_failure_streak=0,
        fallback_ratio=0.0,
        fallback_orders=50,
        pnl_total=10.0,
        allocated_capital=100_000.0,
    )
    values.update(overrides)
    return EmergencyInputs(**values)


# Inputs that breach exactly one trigger each, and the trigger they breach.
BREACHES = {
    "signal_lag": {"signal_lag_seconds": 601.0},
    "staleness_streak": {"streaks": {"no_signals_in_window": 3}},
    "universe_unavailable": {"universe_status": "unavailable"},
    "research_failures": {"research_failure_streak": 3},
    "fallback_ratio": {"fallback_ratio": 0.3, "fallback_orders": 20},
    "pnl_drawdown": {"pnl_total": -2_500.0, "allocated_capital": 100_000.0},
}


def research_payload(*, strategy_id: int, index: int, start: datetime | None = None) -> dict:
    """A finished research run payload (the shape `research.persist_run` writes), unique per `index`."""
    window_start = (start or datetime(2026, 1, 5, 14, 30, tzinfo=UTC)) + timedelta(minutes=5 * index)
    window_end = window_start + timedelta(minutes=5)
    run_id = trace_id({"fault-test": index, "start": window_start.isoformat()})[:24]
    gate_report = {"run_id": run_id, "gates": [], "reason": "no_signals_in_window"}
    return {
        "run_id": run_id,
        "trigger": "autonomous",
        "strategy_id": strategy_id,
        "strategy_name": "fault",
        "strategy_version": "1",
        "strategy_kind": "macd_rsi",
        "parameters": {},
        "window_start": window_start.isoformat(),
        "window_end": window_end.isoformat(),
        "source_table": "ta_signals",
        "target_lane": "shadow",
        "policy_name": "default",
        "policy_version": 1,
        "started_at": window_end.isoformat(),
        "status": "skipped",
        "signals": 0,
        "decisions": 0,
        "trades": 0,
        "net_pnl": 0.0,
        "max_drawdown": 0.0,
        "turnover": 0.0,
        "win_rate": None,
        "errors": 0,
        "gate_report": gate_report,
        "gate_report_trace_id": trace_id(gate_report),
        "recommendation": "hold",
        "recommendation_trace_id": trace_id({"run_id": run_id, "recommendation": "hold"}),
        "failure_reason": "no_signals_in_window",
        "finished_at": window_end.isoformat(),
    }
