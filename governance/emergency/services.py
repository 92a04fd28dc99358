"""Writes of the governance app: the kill switch, lane ledger, emergency-stop evaluation and halt."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.emergency.measures import (
    BREACH,
    DEFAULT_POLICIES,
    NOT_APPLICABLE,
    RECOVERABLE,
    UNREADABLE,
    WARNING,
    EmergencyInputs,
    Measurement,
    measure,
)
from governance.emergency.metrics import EMERGENCY_STOPS
from governance.emergency.models import EmergencyStopPolicy, TriggerState
from governance.emergency.selectors import emergency_stop_policies, kill_switch_state
from governance.errors import GovernanceError
from governance.evidence.services import evidence_package_write
from governance.killswitch import mirror as killswitch
from governance.killswitch.models import KillSwitchSource, KillSwitchState
from governance.killswitch.services import _actor_name, _kill_switch_set, _switch_locked
from governance.lanes.models import LaneChangeCause
from governance.lanes.services import strategy_lane_change
from torghut.core.models import AuditEvent
from torghut.core.security import reason_problem
from trading.alerts.services import alert_close, alert_closing_rule_register, alert_open
from trading.orders.services import orders_cancel_all
from trading.strategies.models import Lane
from trading.strategies.selectors import strategy_ids_in_lane

logger = logging.getLogger(__name__)
SYSTEM_ACTOR = "emergency_stop"
HALT_ALERT_KEY = "governance.emergency_stop"


alert_closing_rule_register(
    prefix=HALT_ALERT_KEY, rule="closes when the kill switch returns to active (operator resume with a reason, or the end of a drill)"
)
alert_closing_rule_register(
    prefix=f"{HALT_ALERT_KEY}.", rule="closes at the first emergency-stop evaluation where the trigger is below its warning level"
)


def triggers_reset(**_signal) -> None:
    """Clear every trigger's streaks (connected to `kill_switch_returned_to_active`)."""
    TriggerState.objects.update(breach_streak=0, clean_streak=0, firing=False, fired_at=None)


def emergency_stop_alert_close(*, actor: str, reason: str, source: str, **_signal) -> None:
    """Close the critical emergency-stop alert when the switch returns to `active` (connected to
    `kill_switch_returned_to_active`, inside its transaction), saying who resumed and why."""
    alert_close(key=HALT_ALERT_KEY, actor=actor, reason=f"kill switch back to active ({source}): {reason}")


def emergency_stop_policies_ensure() -> dict[str, EmergencyStopPolicy]:
    """Every trigger's policy row, creating the documented defaults for any that is missing."""
    policies = {p.trigger: p for p in EmergencyStopPolicy.objects.all()}
    for trigger, defaults in DEFAULT_POLICIES.items():
        if trigger not in policies:
            policies[trigger], _ = EmergencyStopPolicy.objects.get_or_create(trigger=trigger, defaults=dict(defaults))
    return policies


_POLICY_FIELDS = ("enabled", "threshold", "confirm_evaluations", "clear_evaluations", "warn_fraction", "unreadable_is_breach", "params")


def emergency_stop_policy_update(*, trigger: str, actor, reason: str, changes: dict[str, Any]) -> EmergencyStopPolicy:
    """Change a trigger's thresholds; the old and new values are written to the audit trail."""
    unknown = set(changes) - set(_POLICY_FIELDS)
    if unknown:
        raise GovernanceError(f"not policy fields: {sorted(unknown)}")
    problem = reason_problem(reason)
    if problem:
        raise GovernanceError(problem)
    reason = reason.strip()
    emergency_stop_policies_ensure()
    with transaction.atomic():
        policy = EmergencyStopPolicy.objects.select_for_update().get(trigger=trigger)
        changes = {name: value for name, value in changes.items() if getattr(policy, name) != value}
        if not changes:
            return policy
        old = {name: getattr(policy, name) for name in changes}
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.full_clean()
        policy.save()
        AuditEvent.objects.create(
            actor=_actor_name(actor),
            action="emergency_stop_policy.update",
            object_type="EmergencyStopPolicy",
            object_id=trigger,
            old=old,
            new={name: getattr(policy, name) for name in changes},
            reason=reason,
        )
    return policy


@dataclass
class HaltResult:
    triggers: list[str]
    time_to_halt_seconds: float
    time_to_cancel_seconds: float
    cancel_results: list[dict]
    lane_changes: list[dict]
    alert_error: str
    evidence_id: int


@dataclass
class EvaluationResult:
    state: str
    measurements: list[Measurement]
    fired: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    recovered: bool = False
    warnings_opened: list[str] = field(default_factory=list)
    warnings_closed: list[str] = field(default_factory=list)
    alert_errors: list[str] = field(default_factory=list)
    halt: HaltResult | None = None


def emergency_stop_evaluate(
    *,
    inputs: EmergencyInputs,
    lane_cause: str = LaneChangeCause.ROLLBACK,
    actor: str = SYSTEM_ACTOR,
    policy_overrides: dict[str, dict[str, Any]] | None = None,
) -> EvaluationResult:
    """One evaluation: update each trigger's streaks; halt when a breach held for its N evaluations.

    Recoverable triggers (lag, staleness) that stay clean for their clear count move an
    emergency-stop halt to `reducing`; nothing here ever returns the switch to `active`.
    `policy_overrides` (the drill's time compression) change policy fields for this evaluation only.
    """
    started = time.perf_counter()
    policies = emergency_stop_policies_ensure()
    for trigger, changes in (policy_overrides or {}).items():
        for name, value in changes.items():
            setattr(policies[trigger], name, value)
    now = timezone.now()
    result = EvaluationResult(state=KillSwitchState.ACTIVE, measurements=[])
    with transaction.atomic():
        switch = _switch_locked()
        states = {s.trigger: s for s in TriggerState.objects.select_for_update()}
        for trigger, policy in sorted(policies.items()):
            state = states.get(trigger) or TriggerState(trigger=trigger)
            if not policy.enabled:
                state.breach_streak = state.clean_streak = 0
                state.firing, state.last_status, state.evaluated_at = False, "disabled", now
                state.save()
                continue
            m = measure(policy, inputs)
            result.measurements.append(m)
            breaching = m.status == BREACH or (m.status == UNREADABLE and policy.unreadable_is_breach)
            if breaching:
                state.breach_streak += 1
                state.clean_streak = 0
                if state.breach_streak >= policy.confirm_evaluations and not state.firing:
                    state.firing, state.fired_at = True, now
                    result.fired.append(trigger)
            elif m.status == UNREADABLE:
                # Policy says an unreadable input does not breach; it is still no proof of health.
                pass
            elif m.status == NOT_APPLICABLE:
                # Market closed or too few orders: no breach, but no proof of health either.
                state.breach_streak = 0
            else:
                state.breach_streak = 0
                state.clean_streak += 1
                if state.firing and trigger in RECOVERABLE and state.clean_streak >= policy.clear_evaluations:
                    state.firing = False
                    result.cleared.append(trigger)
            warn = m.status == WARNING
            if warn and not state.warning:
                result.warnings_opened.append(trigger)
            elif state.warning and not warn:
                result.warnings_closed.append(trigger)
            state.warning = warn
            state.last_value = m.value
            state.last_status, state.last_error = m.status, (m.detail if m.status == UNREADABLE else "")
            state.evaluated_at = now
            state.save()
            states[trigger] = state
        if result.fired:
            _kill_switch_set(
                switch=switch,
                to_state=KillSwitchState.HALTED,
                actor=actor,
                reason="emergency stop: " + ", ".join(result.fired),
                source=KillSwitchSource.EMERGENCY_STOP,
                triggers=result.fired,
            )
        elif (
            switch.state == KillSwitchState.HALTED
            and switch.source == KillSwitchSource.EMERGENCY_STOP
            and result.cleared
            and not any(s.firing for s in states.values())
        ):
            _kill_switch_set(
                switch=switch,
                to_state=KillSwitchState.REDUCING,
                actor=actor,
                reason="recovered: " + ", ".join(result.cleared),
                source=KillSwitchSource.RECOVERY,
                triggers=result.cleared,
            )
            result.recovered = True
        result.state = switch.state
    killswitch.mirror_write(result.state)
    if result.fired:
        result.halt = _halt_actions(
            triggers=result.fired,
            inputs=inputs,
            measurements=result.measurements,
            started=started,
            lane_cause=lane_cause,
            actor=actor,
        )
    _warnings_publish(result, inputs)
    return result


def _measurement_dict(m: Measurement) -> dict:
    return {"trigger": m.trigger, "status": m.status, "value": m.value, "threshold": m.threshold, "detail": m.detail}


def _cancel_all_orders() -> list[dict]:
    try:
        return [dict(r) for r in orders_cancel_all()]
    except Exception as exc:  # no cancel service, or it failed: the halt stands and the package says so
        logger.error("cancel of open orders failed during emergency stop: %s", exc)
        return [{"adapter": "*", "ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}]


def _alert_open(*, key: str, reason: str, severity: str, payload: dict) -> str:
    """Open an alert through trading; returns '' or the error (never raises: a halt must complete)."""
    try:
        alert_open(key=key, reason=reason, severity=severity, payload=payload)
        return ""
    except Exception as exc:
        logger.error("alert %s could not be opened: %s", key, exc)
        return f"{key}: {type(exc).__name__}: {exc}"[:500]


def _alert_close(*, key: str) -> str:
    try:
        alert_close(key=key)
        return ""
    except Exception as exc:
        logger.error("alert %s could not be closed: %s", key, exc)
        return f"{key}: {type(exc).__name__}: {exc}"[:500]


def _warnings_publish(result: EvaluationResult, inputs: EmergencyInputs) -> None:
    by_trigger = {m.trigger: m for m in result.measurements}
    for trigger in result.warnings_opened:
        m = by_trigger[trigger]
        error = _alert_open(
            key=f"governance.emergency_stop.{trigger}.warning",
            reason=f"emergency_stop_warning_{trigger}",
            severity="warning",
            payload=_measurement_dict(m),
        )
        if error:
            result.alert_errors.append(error)
    for trigger in result.warnings_closed:
        error = _alert_close(key=f"governance.emergency_stop.{trigger}.warning")
        if error:
            result.alert_errors.append(error)


def _halt_actions(
    *, triggers: list[str], inputs: EmergencyInputs, measurements: list[Measurement], started: float, lane_cause: str, actor: str
) -> HaltResult:
    """After the switch is halted and mirrored: cancel, demote, alert, write evidence."""

    time_to_halt = time.perf_counter() - started
    for trigger in triggers:
        EMERGENCY_STOPS.labels(trigger=trigger).inc()
    cancel_results = _cancel_all_orders()
    time_to_cancel = time.perf_counter() - started
    lane_changes = []
    for strategy_id in strategy_ids_in_lane(lane=Lane.LIVE):
        change = strategy_lane_change(
            strategy_id=strategy_id,
            to_lane=Lane.SHADOW,
            cause=lane_cause,
            actor=actor,
            reason="emergency stop: " + ", ".join(triggers),
        )
        if change is not None:
            lane_changes.append(
                {
                    "id": change.pk,
                    "strategy_id": strategy_id,
                    "version": change.version,
                    "from_lane": change.from_lane,
                    "to_lane": change.to_lane,
                    "cause": change.cause,
                    "at": change.at,
                }
            )
    measured = [_measurement_dict(m) for m in measurements]
    alert_error = _alert_open(
        key=HALT_ALERT_KEY,
        reason="emergency_stop",
        severity="critical",
        payload={"triggers": triggers, "measurements": [m for m in measured if m["trigger"] in triggers]},
    )
    package = evidence_package_write(
        triggers=triggers,
        measurements=measured,
        inputs=inputs.as_dict(),
        cancel_results=cancel_results,
        lane_changes=lane_changes,
        policies=emergency_stop_policies,
        kill_switch=kill_switch_state,
        extra={"alert_error": alert_error, "timings": {"time_to_halt_seconds": time_to_halt, "time_to_cancel_seconds": time_to_cancel}},
    )
    logger.critical("emergency stop: %s; evidence package %s", ", ".join(triggers), package.pk)
    return HaltResult(
        triggers=triggers,
        time_to_halt_seconds=time_to_halt,
        time_to_cancel_seconds=time_to_cancel,
        cancel_results=cancel_results,
        lane_changes=lane_changes,
        alert_error=alert_error,
        evidence_id=package.pk,
    )
