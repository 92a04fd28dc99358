"""Reads of promotion: requests, what was in which lane when, and where each capital ramp stands."""

from __future__ import annotations

from typing import Any

from governance.promotion.models import ApprovalDecision, CapitalRamp, PromotionRequest, RampStatus


def promotion_request_approvals_count(request: PromotionRequest) -> int:
    """The approvals that count toward `approvals_required`: decision approve, by someone other than
    the requester. Uses prefetched `approvals__approver` when the caller has it."""
    return sum(
        1 for a in request.approvals.all() if a.decision == ApprovalDecision.APPROVE and a.approver.get_username() != request.requester
    )


def promotion_request_dict(request: PromotionRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "strategy_id": request.strategy_id,
        "version": request.version,
        "from_lane": request.from_lane,
        "to_lane": request.to_lane,
        "requester": request.requester,
        "reason": request.reason,
        "research_run_ids": request.research_run_ids,
        "status": request.status,
        "approvals_required": request.approvals_required,
        "approvals": [
            {"approver": a.approver.username, "decision": a.decision, "reason": a.reason, "at": a.at}
            for a in request.approvals.select_related("approver")
        ],
        "checkpoint_at_request": request.checkpoint_at_request,
        "checkpoint_at_approval": request.checkpoint_at_approval,
        "created_at": request.created_at,
        "expires_at": request.expires_at,
        "decided_at": request.decided_at,
        "applied_at": request.applied_at,
        "lane_change_id": request.lane_change_id,
    }


def promotion_requests_list(*, status: str | None = None, strategy_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first, optionally filtered."""
    rows = PromotionRequest.objects.all()
    if status:
        rows = rows.filter(status=status)
    if strategy_id is not None:
        rows = rows.filter(strategy_id=strategy_id)
    return [promotion_request_dict(r) for r in rows.prefetch_related("approvals__approver")[:limit]]


def capital_ramp_dict(ramp: CapitalRamp) -> dict[str, Any]:
    return {
        "id": ramp.pk,
        "strategy_id": ramp.strategy_id,
        "version": ramp.version,
        "request_id": ramp.request_id,
        "status": ramp.status,
        "schedule": ramp.schedule,
        "step": ramp.step,
        "fraction": ramp.fraction,
        "started_at": ramp.started_at,
        "last_day": ramp.last_day,
        "ledger": [
            {
                "trading_day": s.trading_day,
                "cause": s.cause,
                "from_step": s.from_step,
                "to_step": s.to_step,
                "to_fraction": s.to_fraction,
                "reasons": s.detail.get("reasons", []),
                "at": s.at,
            }
            for s in ramp.steps.all()
        ],
    }


def capital_ramps_status(*, active_only: bool = True) -> list[dict[str, Any]]:
    rows = CapitalRamp.objects.all()
    if active_only:
        rows = rows.filter(status=RampStatus.ACTIVE)
    return [capital_ramp_dict(r) for r in rows.prefetch_related("steps")]


def strategy_capital_multiplier(*, strategy_id: int) -> float:
    """The share of its target capital a strategy may use now: its ramp step while a ramp is active,
    else 1.0 (lanes other than live trade no real capital)."""
    ramp = CapitalRamp.objects.filter(strategy_id=strategy_id, status=RampStatus.ACTIVE).first()
    return ramp.fraction if ramp else 1.0
