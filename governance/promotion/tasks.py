"""Celery tasks of the governance app."""

from __future__ import annotations

import logging

from governance.promotion.services import capital_ramps_close_day, promotion_requests_expire, promotion_requests_from_research
from torghut.core.tasks import torghut_task

logger = logging.getLogger(__name__)


@torghut_task(name="governance.step_capital_ramps")
def step_capital_ramps() -> dict:
    """After each NYSE session closes, step every live strategy's capital ramp once (up, down or hold)."""

    steps = capital_ramps_close_day()
    return {"steps": [{"ramp_id": s.ramp_id, "day": str(s.trading_day), "cause": s.cause, "to_step": s.to_step} for s in steps]}


@torghut_task(name="governance.expire_promotion_requests")
def expire_promotion_requests() -> int:
    """Mark pending promotion requests past their expiry as expired."""

    return promotion_requests_expire()


@torghut_task(name="governance.request_promotions")
def request_promotions() -> list[int]:
    """Beat: file the autonomous lane's requests for recent runs that recommend promotion."""

    return [request.pk for request in promotion_requests_from_research()]
