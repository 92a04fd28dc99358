"""The drill task: run one synthetic rollback drill on the paper setup."""

from __future__ import annotations

import logging

from governance.drills.services import drill_run
from torghut.core.tasks import torghut_task

logger = logging.getLogger(__name__)


@torghut_task(name="governance.run_drill")
def run_drill(trigger: str) -> dict:
    """Drill one trigger (a DrillRun name such as `signal_lag`) and return the run's outcome."""

    run = drill_run(trigger=trigger, progress=logger.info)
    return {"drill_run_id": run.pk, "passed": run.passed, "checks": run.checks}
