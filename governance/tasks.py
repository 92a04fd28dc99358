"""Celery tasks of the governance app."""
from __future__ import annotations

import logging

from django.db import DatabaseError

from torghut.tasks import torghut_task

logger = logging.getLogger(__name__)


@torghut_task(name="governance.evaluate_emergency_stop")
def evaluate_emergency_stop() -> dict:
    """Collect the inputs, evaluate every trigger once, and re-mirror the switch to Redis."""
    from governance.drill import drill_in_progress
    from governance.emergency import emergency_inputs_collect
    from governance.services import emergency_stop_evaluate, kill_switch_mirror_sync

    try:
        if drill_in_progress():
            # The drill evaluates on its own clock; a second evaluator would break its breach streaks.
            kill_switch_mirror_sync()
            return {"state": None, "skipped": "drill in progress"}
        result = emergency_stop_evaluate(inputs=emergency_inputs_collect())
        kill_switch_mirror_sync()
    except DatabaseError as exc:
        # Postgres down: nothing can trade without it either; the next tick (5 s) evaluates again,
        # so a retry or a dead letter per tick would only add noise.
        logger.error("emergency-stop evaluation skipped: postgres unavailable (%s)", exc)
        return {"state": None, "error": str(exc)[:500]}
    return {"state": result.state, "fired": result.fired, "cleared": result.cleared, "evidence_id": result.halt.evidence_id if result.halt else None}


@torghut_task(name="governance.run_drill")
def run_drill(trigger: str) -> dict:
    """Drill one trigger (a DrillRun name such as `signal_lag`) and return the run's outcome."""
    from governance.drill import drill_run

    run = drill_run(trigger=trigger, progress=logger.info)
    return {"drill_run_id": run.pk, "passed": run.passed, "checks": run.checks}


@torghut_task(name="governance.step_capital_ramps")
def step_capital_ramps() -> dict:
    """After each NYSE session closes, step every live strategy's capital ramp once (up, down or hold)."""
    from governance.promotion import capital_ramps_close_day

    steps = capital_ramps_close_day()
    return {"steps": [{"ramp_id": s.ramp_id, "day": str(s.trading_day), "cause": s.cause, "to_step": s.to_step} for s in steps]}


@torghut_task(name="governance.expire_promotion_requests")
def expire_promotion_requests() -> int:
    """Mark pending promotion requests past their expiry as expired."""
    from governance.promotion import promotion_requests_expire

    return promotion_requests_expire()


@torghut_task(name="governance.request_promotion")
def request_promotion(run_id: str) -> int | None:
    """File the autonomous lane's promotion request for a research run (dispatched after its commit)."""
    from governance.promotion import promotion_request_from_research

    request = promotion_request_from_research(run_id=run_id)
    return request.pk if request else None


@torghut_task(name="governance.request_promotions")
def request_promotions() -> list[int]:
    """Beat: file the autonomous lane's requests for recent runs that recommend promotion."""
    from governance.promotion import promotion_requests_from_research

    return [request.pk for request in promotion_requests_from_research()]
