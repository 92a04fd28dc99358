"""Reads of the emergency-stop policies."""

from __future__ import annotations

from django.db import DatabaseError

from governance.emergency.models import EmergencyStopPolicy, TriggerState
from governance.killswitch import mirror as killswitch
from governance.killswitch.models import KillSwitchState

# Promotion reads (lane history, ramps) live in their own module; these are the ones other apps call.


def emergency_stop_policies() -> list[dict]:
    return list(
        EmergencyStopPolicy.objects.values(
            "trigger",
            "enabled",
            "threshold",
            "confirm_evaluations",
            "clear_evaluations",
            "warn_fraction",
            "unreadable_is_breach",
            "params",
            "updated_at",
        )
    )


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
        return {
            "state": effective or "halted",
            "read_from": where,
            "readable": False,
            "reason": "",
            "actor": "",
            "source": "",
            "since": None,
            "engaged_by": "",
            "triggers": [],
            "firing": [],
        }
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
