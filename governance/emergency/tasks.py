"""The emergency-stop evaluation task (beat): measure every trigger, halt on a confirmed breach."""
from __future__ import annotations

from django.db import DatabaseError
from torghut.core.tasks import torghut_task
from governance.promotion.tasks import logger
from governance.drills.services import drill_in_progress
from governance.emergency.measures import emergency_inputs_collect
from governance.emergency.services import emergency_stop_evaluate
from governance.killswitch.services import kill_switch_mirror_sync


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
    return {"state": result.state, "fired": result.fired, "cleared": result.cleared, "evidence_id": result.halt.evidence_id if result.halt else None}
