"""Read-side answers governance gives the rest of the system."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, connection

from governance import killswitch
from governance.models import (
    DrillRun,
    EmergencyStopPolicy,
    EvidencePackage,
    KillSwitchState,
    KillSwitchTransition,
    TriggerState,
)


@dataclass(frozen=True)
class KillSwitchVerdict:
    allowed: bool
    state: str
    reason: str


@dataclass(frozen=True)
class KillSwitchOrderPolicy:
    """Which orders the switch lets out now: `allows` is `all`, `reducing` (exposure-reducing only) or
    `none`; `reason` is what a refused order is told."""

    state: str
    allows: str
    reason: str


def kill_switch_order_policy() -> KillSwitchOrderPolicy:
    """The switch as the order path applies it. Reads the Redis mirror, then Postgres; when neither
    answers no order may go out (fail closed)."""
    state, _where = killswitch.current_state()
    if state == KillSwitchState.ACTIVE:
        return KillSwitchOrderPolicy(state=state, allows="all", reason="")
    if state == KillSwitchState.REDUCING:
        return KillSwitchOrderPolicy(state=state, allows="reducing", reason="kill_switch_reducing")
    if state == KillSwitchState.HALTED:
        return KillSwitchOrderPolicy(state="halted", allows="none", reason="kill_switch_halted")
    return KillSwitchOrderPolicy(state="halted", allows="none", reason="kill_switch_unreadable")


_GATE_STATES = {"all": KillSwitchState.ACTIVE.value, "reducing": KillSwitchState.REDUCING.value}


def kill_switch_gate_policy() -> KillSwitchOrderPolicy:
    """The switch exactly as the order gate applies it: the committed Postgres row, through the SQL
    selector the gate itself calls (`governance_kill_switch_order_policy`). Raises DatabaseError."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT allows, reason FROM governance_kill_switch_order_policy()")
        allows, reason = cursor.fetchone()
    return KillSwitchOrderPolicy(state=_GATE_STATES.get(allows, KillSwitchState.HALTED.value), allows=allows, reason=reason)


def kill_switch_order_check(*, reduces_exposure: bool) -> KillSwitchVerdict:
    """May an order go out now? `reduces_exposure` orders are allowed while `reducing`."""
    policy = kill_switch_order_policy()
    allowed = policy.allows == "all" or (policy.allows == "reducing" and reduces_exposure)
    return KillSwitchVerdict(allowed=allowed, state=policy.state, reason="" if allowed else policy.reason)


def kill_switch_state() -> dict:
    """The switch as operators and /trading/status see it: state, reason, who, since when, the
    triggers with their streaks (the recovery streak is each trigger's `clean_streak`)."""
    effective, where = killswitch.current_state()
    try:
        row = killswitch.database_read()
        policies = {p.trigger: p for p in EmergencyStopPolicy.objects.all()}
        triggers = [
            {
                "trigger": t.trigger,
                "status": t.last_status,
                "value": t.last_value,
                "breach_streak": t.breach_streak,
                "clean_streak": t.clean_streak,
                "firing": t.firing,
                "warning": t.warning,
                "fired_at": t.fired_at,
                "error": t.last_error,
                "evaluated_at": t.evaluated_at,
                "confirm_evaluations": policies[t.trigger].confirm_evaluations if t.trigger in policies else None,
                "clear_evaluations": policies[t.trigger].clear_evaluations if t.trigger in policies else None,
            }
            for t in TriggerState.objects.all()
        ]
    except DatabaseError:
        return {"state": effective or "halted", "read_from": where, "readable": False, "reason": "", "actor": "",
                "source": "", "since": None, "engaged_by": "", "triggers": [], "firing": []}
    return {
        "state": effective or "halted",
        "read_from": where,
        "readable": effective is not None,
        "persisted_state": row.state if row else KillSwitchState.ACTIVE.value,
        "reason": row.reason if row else "",
        "actor": row.actor if row else "",
        "source": row.source if row else "",
        "engaged_by": row.engaged_by if row else "",
        "since": row.changed_at if row else None,
        "triggers": triggers,
        "firing": [t["trigger"] for t in triggers if t["firing"]],
    }


def kill_switch_transitions(*, limit: int) -> list[dict]:
    """The newest transitions first."""
    return list(
        KillSwitchTransition.objects.values("id", "from_state", "to_state", "reason", "actor", "source", "triggers", "at")[:limit]
    )


def emergency_stop_policies() -> list[dict]:
    return list(
        EmergencyStopPolicy.objects.values(
            "trigger", "enabled", "threshold", "confirm_evaluations", "clear_evaluations", "warn_fraction",
            "unreadable_is_breach", "params", "updated_at",
        )
    )


def last_passing_drill_at() -> datetime | None:
    """When the last rollback drill passed (its finish time), or None until one has."""
    run = DrillRun.objects.filter(passed=True, finished_at__isnull=False).order_by("-finished_at").first()
    return run.finished_at if run else None


def drill_runs_recent(*, limit: int) -> list[DrillRun]:
    return list(DrillRun.objects.order_by("-started_at", "-id")[:limit])


def evidence_packages() -> list[EvidencePackage]:
    return list(EvidencePackage.objects.defer("body").order_by("-id"))


def evidence_chain_verify() -> list[str]:
    """Problems found walking the evidence chain oldest first; empty when every package is intact."""
    from torghut.models import AuditEvent

    problems: list[str] = []
    recorded = {
        event.object_id: (event.new or {}).get("sha256")
        for event in AuditEvent.objects.filter(action="evidence.write", object_type="EvidencePackage").only("object_id", "new")
    }
    previous = ""
    for package in EvidencePackage.objects.order_by("id").iterator():
        if recorded.get(str(package.pk)) != package.sha256:
            problems.append(f"package {package.pk}: sha256 differs from the one recorded when it was written")
        digest = hashlib.sha256(package.body.encode("utf-8")).hexdigest()
        if digest != package.sha256:
            problems.append(f"package {package.pk}: body sha256 {digest} does not match stored {package.sha256}")
        try:
            embedded = json.loads(package.body).get("previous_sha256", None)
        except (ValueError, AttributeError):
            problems.append(f"package {package.pk}: body is not a JSON object")
            embedded = None
        if package.previous_sha256 != previous:
            problems.append(f"package {package.pk}: previous_sha256 {package.previous_sha256!r} does not match the chain ({previous!r})")
        if embedded is not None and embedded != package.previous_sha256:
            problems.append(f"package {package.pk}: embedded previous_sha256 differs from the stored one")
        previous = package.sha256
    return problems

# Promotion reads (lane history, ramps) live in their own module; these are the ones other apps call.
from governance.promotion_selectors import capital_ramps_status, lane_history_at, strategy_capital_multiplier  # noqa: E402,F401
