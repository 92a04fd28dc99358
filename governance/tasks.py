"""Celery autodiscovery reads `<app>.tasks`: the governance app's tasks live in the package that owns each.

The emergency-stop evaluation is here, at the app level, because it coordinates two packages: it stands
aside while a drill (above the emergency stop) runs its own evaluations.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from governance.drills.services import drill_in_progress
from governance.drills.tasks import run_drill
from governance.emergency.measures import emergency_inputs_collect
from governance.emergency.services import emergency_stop_evaluate
from governance.killswitch.services import kill_switch_mirror_sync
from governance.promotion.tasks import expire_promotion_requests, request_promotions, step_capital_ramps
from torghut.core.tasks import torghut_task

logger = logging.getLogger(__name__)

__all__ = ["evaluate_emergency_stop", "expire_promotion_requests", "request_promotions", "run_drill", "step_capital_ramps"]


@torghut_task(name="governance.evaluate_emergency_stop")
def evaluate_emergency_stop() -> dict:
    """Collect the inputs, evaluate every trigger once, and re-mirror the switch to Redis."""

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
    return {
        "state": result.state,
        "fired": result.fired,
        "cleared": result.cleared,
        "evidence_id": result.halt.evidence_id if result.halt else None,
    }
