"""The synthetic rollback drill: inject one trigger's fault through the engine on a paper setup,
time the halt, check the evidence and the recovery path, record a DrillRun."""
from __future__ import annotations

import time

from django.utils import timezone

from governance.emergency import RECOVERABLE, EmergencyInputs
from governance.evidence import evidence_package_missing_sections
from governance.models import DrillRun, EvidencePackage, KillSwitchState, LaneChangeCause, Trigger
from governance.selectors import evidence_chain_verify, kill_switch_order_check

DRILL_ACTOR = "drill"

# Command-line names (the issue's) of the faults, and the trigger each one exercises.
DRILL_TRIGGERS: dict[str, str] = {
    "lag": Trigger.SIGNAL_LAG,
    "staleness": Trigger.STALENESS_STREAK,
    "universe": Trigger.UNIVERSE_UNAVAILABLE,
    "lane_failures": Trigger.RESEARCH_FAILURES,
    "fallback": Trigger.FALLBACK_RATIO,
    "drawdown": Trigger.PNL_DRAWDOWN,
}

# The fault as the engine sees it: a paused feed, failing research runs, a failing venue, losses.
_FAULTS: dict[str, dict] = {
    Trigger.SIGNAL_LAG: {"signal_lag_seconds": 3_600.0},
    Trigger.STALENESS_STREAK: {"streaks": {"no_signals_in_window": 10}},
    Trigger.UNIVERSE_UNAVAILABLE: {"universe_status": "unavailable"},
    Trigger.RESEARCH_FAILURES: {"research_failure_streak": 10},
    Trigger.FALLBACK_RATIO: {"fallback_ratio": 1.0, "fallback_orders": 1_000},
    Trigger.PNL_DRAWDOWN: {"pnl_total": -1_000_000.0},
}


def _healthy(**fault) -> EmergencyInputs:
    values = dict(
        signal_lag_seconds=1.0, market_open=True, streaks={"signals_present": 1}, universe_status="ok",
        research_failure_streak=0, fallback_ratio=0.0, fallback_orders=0, pnl_total=0.0, allocated_capital=1_000_000.0,
    )
    values.update(fault)
    return EmergencyInputs(**values)


def drill_preconditions() -> list[str]:
    """Why a drill may not run now: it needs an active switch and no live strategy."""
    from trading.models import Strategy

    from governance.selectors import kill_switch_state

    problems = []
    if kill_switch_state()["state"] != KillSwitchState.ACTIVE:
        problems.append("the kill switch is not active: a drill must not mask or lift a real halt")
    live = Strategy.objects.filter(lane="live").count()
    if live:
        problems.append(f"{live} live strateg{'y' if live == 1 else 'ies'}: drills run on a paper / simulated setup")
    return problems


def drill_run(*, trigger: str) -> DrillRun:
    """Drill one trigger end to end and record the run (passed only if every check passed)."""
    from governance.services import (
        GovernanceError,
        emergency_stop_evaluate,
        emergency_stop_policies_ensure,
        kill_switch_release_after_drill,
    )

    problems = drill_preconditions()
    if problems:
        raise GovernanceError("; ".join(problems))
    policy = emergency_stop_policies_ensure()[trigger]
    run = DrillRun.objects.create(trigger=trigger, started_at=timezone.now())
    checks: dict[str, bool] = {}
    try:
        injected = time.perf_counter()
        halt = None
        for _ in range(policy.confirm_evaluations):
            before = time.perf_counter()
            result = emergency_stop_evaluate(inputs=_healthy(**_FAULTS[trigger]), lane_cause=LaneChangeCause.DRILL, actor=DRILL_ACTOR)
            if result.halt is not None and halt is None:
                halt = result.halt
                run.time_to_halt_seconds = before - injected + halt.time_to_halt_seconds
                run.time_to_cancel_seconds = before - injected + halt.time_to_cancel_seconds
        checks["halted"] = halt is not None and result.state == KillSwitchState.HALTED
        checks["order_path_refuses"] = not kill_switch_order_check(reduces_exposure=True).allowed
        if halt is not None:
            run.evidence = EvidencePackage.objects.get(pk=halt.evidence_id)
            missing = evidence_package_missing_sections(run.evidence)
            checks["evidence_complete"] = not missing
            checks["cancel_complete"] = bool(halt.cancel_results) and not any(r.get("error") for r in halt.cancel_results)
            run.error = ("evidence incomplete: " + ", ".join(missing)) if missing else ""
        checks["evidence_chain_valid"] = not evidence_chain_verify()
        states = [emergency_stop_evaluate(inputs=_healthy(), actor=DRILL_ACTOR).state for _ in range(policy.clear_evaluations)]
        expected = KillSwitchState.REDUCING if trigger in RECOVERABLE else KillSwitchState.HALTED
        checks["recovery_path"] = states[-1] == expected
        kill_switch_release_after_drill(reason=f"drill {trigger} finished")
        checks["resumed"] = kill_switch_order_check(reduces_exposure=False).allowed
    except Exception as exc:  # a drill that breaks is a failed drill, recorded with its error
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        checks.setdefault("completed", False)
    run.checks = checks
    run.passed = bool(checks) and all(checks.values())
    run.finished_at = timezone.now()
    run.save()
    return run
