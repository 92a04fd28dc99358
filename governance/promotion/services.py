"""Writes of promotion: checkpoint policy edits, requests, approvals, the apply step and the capital ramp.

`_promotion_request_apply` is the only code that moves a strategy to `live`; Postgres refuses the
move unless it happens in the transaction that applies an approved request (migration `promotion`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from governance.errors import GovernanceError, GovernancePermissionDenied
from governance.lanes.models import LaneChangeCause
from governance.lanes.services import strategy_lane_change
from governance.promotion.checkpoint import checkpoint_evaluate, checkpoint_inputs_gather, checkpoint_not_applicable
from governance.promotion.models import (
    AUTONOMY_ACTOR,
    Approval,
    ApprovalDecision,
    CapitalRamp,
    CapitalRampStep,
    CheckpointPolicy,
    PromotionRequest,
    PromotionStatus,
    RampCause,
    RampStatus,
)
from governance.promotion.ramp import BREACH, CLEAN, RampDayInputs, ramp_day_inputs_gather, ramp_day_verdict
from governance.promotion.selectors import promotion_request_approvals_count
from research.selectors import research_run_get, research_runs
from torghut.core.calendar import last_closed_session
from torghut.core.models import AuditEvent
from torghut.core.security import REASON_MAX_LENGTH, reason_problem
from trading.strategies.models import Lane, Strategy

APPROVERS_GROUP = "approvers"
APPROVE_PERMISSION = "governance.approve_promotionrequest"
REQUEST_PERMISSION = "governance.add_promotionrequest"
LIVE = "live"
SHADOW = "shadow"
# The checkpoint policy's fields an operator may change (the admin form edits exactly these).
CHECKPOINT_POLICY_FIELDS = (
    "min_paper_runs",
    "min_shadow_hours",
    "min_shadow_decisions",
    "min_gate_non_error_ratio",
    "drill_max_age_hours",
    "forbid_open_critical_alert",
    "ramp_schedule",
    "ramp_max_drawdown_fraction",
    "ramp_max_fallback_ratio",
)


def _username(actor) -> str:
    return getattr(actor, "username", None) or str(actor or "")


def _reason_checked(reason: str) -> str:
    problem = reason_problem(reason)
    if problem:
        raise GovernanceError(problem)
    return reason.strip()


def approvers_group_ensure() -> Group:
    """The `approvers` group with the permissions an approver needs in the admin and the API."""
    group, _ = Group.objects.get_or_create(name=APPROVERS_GROUP)
    wanted = Permission.objects.filter(
        content_type__app_label="governance",
        codename__in=["approve_promotionrequest", "view_promotionrequest", "view_approval", "view_capitalramp", "view_checkpointpolicy"],
    )
    group.permissions.add(*wanted)
    return group


def checkpoint_policy_ensure() -> CheckpointPolicy:
    """The policy row, created with the documented defaults the first time it is needed."""
    policy, _ = CheckpointPolicy.objects.get_or_create(pk=CheckpointPolicy.SINGLETON_ID)
    return policy


def _schedule_validate(schedule: Any) -> None:
    if not isinstance(schedule, list) or not schedule:
        raise GovernanceError("ramp_schedule must be a non-empty list of fractions")
    try:
        values = [float(v) for v in schedule]
    except (TypeError, ValueError) as exc:
        raise GovernanceError("ramp_schedule must hold numbers") from exc
    if any(not 0 < v <= 1 for v in values) or values != sorted(values) or values[-1] != 1.0:
        raise GovernanceError("ramp_schedule must rise within (0, 1] and end at 1.0")


def checkpoint_policy_update(*, actor, changes: dict[str, Any], reason: str) -> CheckpointPolicy:
    """Change checkpoint or ramp thresholds; the old and new values go to the audit trail with the reason."""
    unknown = set(changes) - set(CHECKPOINT_POLICY_FIELDS)
    if unknown:
        raise GovernanceError(f"not policy fields: {sorted(unknown)}")
    reason = _reason_checked(reason)
    if "ramp_schedule" in changes:
        _schedule_validate(changes["ramp_schedule"])
    checkpoint_policy_ensure()
    with transaction.atomic():
        policy = CheckpointPolicy.objects.select_for_update().get(pk=CheckpointPolicy.SINGLETON_ID)
        changes = {name: value for name, value in changes.items() if getattr(policy, name) != value}
        if not changes:
            return policy
        old = {name: getattr(policy, name) for name in changes}
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.updated_by = _username(actor)
        policy.full_clean()
        policy.save()
        AuditEvent.objects.create(
            actor=_username(actor),
            action="checkpoint_policy.update",
            object_type="CheckpointPolicy",
            object_id=str(policy.pk),
            old=old,
            new={name: getattr(policy, name) for name in changes},
            reason=reason.strip(),
        )
    return policy


def _checkpoint(*, strategy, to_lane: str, now: datetime) -> dict[str, Any]:
    if to_lane != LIVE:
        return checkpoint_not_applicable(to_lane=to_lane, now=now)
    policy = checkpoint_policy_ensure()
    return checkpoint_evaluate(policy=policy, inputs=checkpoint_inputs_gather(strategy=strategy, now=now), now=now)


def promotion_request_create(
    *, strategy_id: int, to_lane: str, requester, reason: str = "", research_run_ids: Iterable[str] = ()
) -> PromotionRequest:
    """Ask to move a strategy's current version to `to_lane`. `requester` is a user with the request
    permission, or `autonomy` (the research lane). The checkpoint is evaluated now and stored; a
    failing checkpoint does not stop the request, it stops its approval."""

    if requester != AUTONOMY_ACTOR and not (getattr(requester, "is_authenticated", False) and requester.has_perm(REQUEST_PERMISSION)):
        raise GovernancePermissionDenied(f"{_username(requester) or 'anonymous'} lacks {REQUEST_PERMISSION}")
    if to_lane not in Lane.values:
        raise GovernanceError(f"unknown lane {to_lane!r}")
    if len(reason) > REASON_MAX_LENGTH:  # optional on a request (the checkpoint is its evidence), bounded when given
        raise GovernanceError(f"a reason may be at most {REASON_MAX_LENGTH} characters")
    now = timezone.now()
    with transaction.atomic():
        try:
            strategy = Strategy.objects.select_for_update().get(pk=strategy_id)
        except Strategy.DoesNotExist as exc:
            raise GovernanceError(f"no strategy {strategy_id}") from exc
        if strategy.lane == to_lane:
            raise GovernanceError(f"strategy {strategy_id} is already in {to_lane}")
        if to_lane == LIVE and strategy.lane != SHADOW:
            raise GovernanceError(f"a move to live starts from shadow, strategy {strategy_id} is in {strategy.lane}")
        if PromotionRequest.objects.filter(strategy_id=strategy_id, status=PromotionStatus.PENDING).exists():
            raise GovernanceError(f"strategy {strategy_id} already has a pending promotion request")
        request = PromotionRequest.objects.create(
            strategy=strategy,
            version=strategy.version,
            from_lane=strategy.lane,
            to_lane=to_lane,
            requester=_username(requester),
            requester_user=None if requester == AUTONOMY_ACTOR else requester,
            reason=reason,
            research_run_ids=[str(r) for r in research_run_ids],
            checkpoint_at_request=_checkpoint(strategy=strategy, to_lane=to_lane, now=now),
            approvals_required=max(1, settings.GOVERNANCE_LIVE_APPROVALS_REQUIRED) if to_lane == LIVE else 1,
            expires_at=now + timedelta(hours=settings.GOVERNANCE_PROMOTION_REQUEST_TTL_HOURS),
        )
        AuditEvent.objects.create(
            actor=request.requester,
            action="promotion_request.create",
            object_type="PromotionRequest",
            object_id=str(request.pk),
            new={
                "strategy_id": strategy_id,
                "version": request.version,
                "from_lane": request.from_lane,
                "to_lane": to_lane,
                "checkpoint_passed": request.checkpoint_at_request["passed"],
            },
            reason=reason,
        )
    return request


def promotion_request_from_research(*, run_id: str) -> PromotionRequest | None:
    """The autonomous lane asks for the promotion a passed research run recommends: requested by
    `autonomy`, citing the run. None (nothing to ask) when the run does not recommend promotion, the
    strategy has since changed version or lane, or a request for it is already pending."""

    run = research_run_get(run_id=run_id)
    if run is None:
        raise GovernanceError(f"no research run {run_id}")
    if run.status != "passed" or run.recommendation != "promote":
        return None
    strategy = Strategy.objects.get(pk=run.strategy_id)
    if strategy.version != run.strategy_version or strategy.lane == run.target_lane:
        return None
    if PromotionRequest.objects.filter(strategy_id=strategy.pk, status=PromotionStatus.PENDING).exists():
        return None
    if PromotionRequest.objects.filter(research_run_ids__contains=[run_id]).exists():
        return None  # asked once for this run already; a rejection is not re-filed
    return promotion_request_create(
        strategy_id=strategy.pk,
        to_lane=run.target_lane,
        requester=AUTONOMY_ACTOR,
        reason=f"research run {run_id} recommends promotion to {run.target_lane}",
        research_run_ids=[run_id],
    )


def promotion_requests_from_research(*, lookback_hours: float = 24.0, limit: int = 100) -> list[PromotionRequest]:
    """File the autonomy requests for recent passed runs recommending promotion that have none yet."""

    since = timezone.now() - timedelta(hours=lookback_hours)
    run_ids = list(research_runs(status="passed", recommendation="promote", since=since).values_list("run_id", flat=True)[:limit])
    filed = [promotion_request_from_research(run_id=run_id) for run_id in run_ids]
    return [request for request in filed if request is not None]


def promotion_requests_expire(*, now: datetime | None = None) -> int:
    """Mark pending requests past their expiry as expired; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = list(
            PromotionRequest.objects.select_for_update()
            .filter(status=PromotionStatus.PENDING, expires_at__lte=now)
            .values_list("pk", flat=True)
        )
        if expired:
            PromotionRequest.objects.filter(pk__in=expired).update(status=PromotionStatus.EXPIRED, decided_at=now)
            AuditEvent.objects.bulk_create(
                [
                    AuditEvent(
                        actor="system",
                        action="promotion_request.expire",
                        object_type="PromotionRequest",
                        object_id=str(pk),
                        old={"status": "pending"},
                        new={"status": "expired"},
                    )
                    for pk in expired
                ]
            )
    return len(expired)


def _approver_check(*, approver, request: PromotionRequest | None = None, four_eyes: bool = True) -> None:
    if isinstance(approver, str) or not getattr(approver, "is_authenticated", False):
        raise GovernancePermissionDenied(f"{_username(approver) or 'anonymous'} is not a user: autonomy may request, never approve")
    if approver.username == AUTONOMY_ACTOR:
        raise GovernancePermissionDenied("autonomy may request, never approve")
    if not approver.groups.filter(name=APPROVERS_GROUP).exists():
        raise GovernancePermissionDenied(f"{approver.username} is not in the `{APPROVERS_GROUP}` group")
    if four_eyes and request is not None and request.requester_user_id == approver.pk:
        raise GovernancePermissionDenied("four eyes: the requester may not approve their own request")


def _pending_locked(*, request_id: int, now: datetime) -> PromotionRequest:
    try:
        request = PromotionRequest.objects.select_for_update().get(pk=request_id)
    except PromotionRequest.DoesNotExist as exc:
        raise GovernanceError(f"no promotion request {request_id}") from exc
    if request.status != PromotionStatus.PENDING:
        raise GovernanceError(f"request {request_id} is {request.status}, not pending")
    if request.expires_at <= now:
        raise GovernanceError(f"request {request_id} expired at {request.expires_at.isoformat()}")
    return request


def promotion_request_approve(*, request_id: int, approver, reason: str) -> PromotionRequest:
    """Record an approval. When the request has its required approvals, the lane change is applied in
    the same transaction. Refused for non-approvers, autonomy, the requester (four eyes), expired or
    decided requests, a strategy that moved since the request, and a failing checkpoint (re-evaluated
    now and stored with the request)."""

    reason = _reason_checked(reason)
    _approver_check(approver=approver)
    promotion_requests_expire()
    now = timezone.now()
    refusal: str | None = None
    with transaction.atomic():
        request = _pending_locked(request_id=request_id, now=now)
        _approver_check(approver=approver, request=request)
        if request.approvals.filter(approver=approver).exists():
            raise GovernanceError(f"{approver.username} already decided on request {request_id}")
        strategy = Strategy.objects.select_for_update().get(pk=request.strategy_id)
        if strategy.lane != request.from_lane or strategy.version != request.version:
            raise GovernanceError(
                f"strategy {strategy.pk} is now {strategy.version} in {strategy.lane}; the request was for "
                f"{request.version} in {request.from_lane}"
            )
        request.checkpoint_at_approval = _checkpoint(strategy=strategy, to_lane=request.to_lane, now=now)
        if not request.checkpoint_at_approval["passed"]:
            # Keep the failed evaluation with the request, then refuse: nothing else changes.
            request.save(update_fields=["checkpoint_at_approval"])
            refusal = "checkpoint failed: " + "; ".join(request.checkpoint_at_approval["failures"])
        else:
            Approval.objects.create(request=request, approver=approver, decision=ApprovalDecision.APPROVE, reason=reason.strip())
            request.save(update_fields=["checkpoint_at_approval"])
            approvals = promotion_request_approvals_count(request)
            AuditEvent.objects.create(
                actor=approver.username,
                action="promotion_request.approve",
                object_type="PromotionRequest",
                object_id=str(request.pk),
                new={"approvals": approvals, "required": request.approvals_required},
                reason=reason.strip(),
            )
            if approvals >= request.approvals_required:
                _promotion_request_apply(request=request, actor=approver.username, now=now)
    if refusal:
        raise GovernanceError(refusal)
    request.refresh_from_db()
    return request


def _promotion_request_apply(*, request: PromotionRequest, actor: str, now: datetime) -> None:
    """Approved -> applied -> lane change (+ capital ramp for live), inside the caller's transaction."""
    PromotionRequest.objects.filter(pk=request.pk).update(status=PromotionStatus.APPROVED, decided_at=now)
    PromotionRequest.objects.filter(pk=request.pk).update(status=PromotionStatus.APPLIED, applied_at=now)
    change = strategy_lane_change(
        strategy_id=request.strategy_id,
        to_lane=request.to_lane,
        cause=LaneChangeCause.REQUEST,
        actor=actor,
        reason=f"promotion request #{request.pk}",
    )
    PromotionRequest.objects.filter(pk=request.pk).update(lane_change=change)
    AuditEvent.objects.create(
        actor=actor,
        action="promotion_request.apply",
        object_type="PromotionRequest",
        object_id=str(request.pk),
        new={"lane_change_id": change.pk if change else None, "to_lane": request.to_lane},
    )
    if request.to_lane == LIVE:
        _capital_ramp_start(request=request, now=now)


def promotion_request_reject(*, request_id: int, approver, reason: str) -> PromotionRequest:
    """An approver turns a pending request down with a reason (a requester may withdraw their own)."""
    reason = _reason_checked(reason)
    _approver_check(approver=approver)
    promotion_requests_expire()
    now = timezone.now()
    with transaction.atomic():
        request = _pending_locked(request_id=request_id, now=now)
        _approver_check(approver=approver, request=request, four_eyes=False)
        Approval.objects.create(request=request, approver=approver, decision=ApprovalDecision.REJECT, reason=reason.strip())
        PromotionRequest.objects.filter(pk=request.pk).update(status=PromotionStatus.REJECTED, decided_at=now)
        AuditEvent.objects.create(
            actor=approver.username,
            action="promotion_request.reject",
            object_type="PromotionRequest",
            object_id=str(request.pk),
            old={"status": "pending"},
            new={"status": "rejected"},
            reason=reason.strip(),
        )
    request.refresh_from_db()
    return request


def _ramp_step_write(
    *, ramp: CapitalRamp, cause: str, to_step: int, now: datetime, day=None, from_step: int | None = None, detail: dict | None = None
) -> CapitalRampStep:
    return CapitalRampStep.objects.create(
        ramp=ramp,
        trading_day=day,
        from_step=from_step,
        to_step=to_step,
        from_fraction=None if from_step is None else float(ramp.schedule[from_step]),
        to_fraction=float(ramp.schedule[to_step]),
        cause=cause,
        detail=detail or {},
        at=now,
    )


def _capital_ramp_start(*, request: PromotionRequest, now: datetime) -> CapitalRamp:
    policy = checkpoint_policy_ensure()
    for old in CapitalRamp.objects.select_for_update().filter(strategy_id=request.strategy_id, status=RampStatus.ACTIVE):
        _capital_ramp_stop(ramp=old, now=now, why="superseded by a new live promotion")
    ramp = CapitalRamp.objects.create(
        request=request,
        strategy_id=request.strategy_id,
        version=request.version,
        schedule=[float(v) for v in policy.ramp_schedule],
        step=0,
        started_at=now,
    )
    _ramp_step_write(ramp=ramp, cause=RampCause.START, to_step=0, now=now, detail={"request_id": request.pk})
    return ramp


def _capital_ramp_stop(*, ramp: CapitalRamp, now: datetime, why: str) -> CapitalRampStep:
    ramp.status = RampStatus.STOPPED
    ramp.save(update_fields=["status"])
    return _ramp_step_write(ramp=ramp, cause=RampCause.STOP, from_step=ramp.step, to_step=ramp.step, now=now, detail={"why": why})


def capital_ramps_close_day(*, now: datetime | None = None, inputs: RampDayInputs | None = None) -> list[CapitalRampStep]:
    """Evaluate the last closed NYSE session once for every active ramp: a clean day steps up, a breach
    steps down, an unreadable day holds. Sessions that opened before a ramp started do not count.
    A ramp whose strategy left live (or changed version) is stopped. Returns the ledger rows written."""

    now = now or timezone.now()
    session = last_closed_session(now)
    policy = checkpoint_policy_ensure()
    written: list[CapitalRampStep] = []
    with transaction.atomic():
        ramps = list(CapitalRamp.objects.select_for_update().filter(status=RampStatus.ACTIVE).order_by("pk"))
        lanes = {s.pk: (s.lane, s.version) for s in Strategy.objects.filter(pk__in=[r.strategy_id for r in ramps])}
        for ramp in ramps:
            if lanes.get(ramp.strategy_id) != (LIVE, ramp.version):
                written.append(_capital_ramp_stop(ramp=ramp, now=now, why="strategy is no longer live at this version"))
                continue
            if (ramp.last_day and ramp.last_day >= session.day) or session.open < ramp.started_at:
                continue
            if inputs is None:
                inputs = ramp_day_inputs_gather(session=session, now=now)
            verdict, reasons = ramp_day_verdict(policy=policy, inputs=inputs)
            last = len(ramp.schedule) - 1
            if verdict == CLEAN:
                to_step, cause = min(ramp.step + 1, last), RampCause.CLEAN_DAY
            elif verdict == BREACH:
                to_step, cause = max(ramp.step - 1, 0), RampCause.BREACH
            else:
                to_step, cause = ramp.step, RampCause.HOLD
            written.append(
                _ramp_step_write(
                    ramp=ramp,
                    cause=cause,
                    from_step=ramp.step,
                    to_step=to_step,
                    now=now,
                    day=session.day,
                    detail={"verdict": verdict, "reasons": reasons, "inputs": inputs.as_dict()},
                )
            )
            ramp.step, ramp.last_day = to_step, session.day
            ramp.save(update_fields=["step", "last_day"])
    return written


def promotion_defaults_ensure(**_signal) -> None:
    """After migrate (and after test flushes): the approvers group and the checkpoint policy row exist."""
    approvers_group_ensure()
    checkpoint_policy_ensure()
