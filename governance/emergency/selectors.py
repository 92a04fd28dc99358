"""Reads of the emergency-stop policies."""
from __future__ import annotations

from governance.emergency.models import EmergencyStopPolicy
# Promotion reads (lane history, ramps) live in their own module; these are the ones other apps call.


def emergency_stop_policies() -> list[dict]:
    return list(
        EmergencyStopPolicy.objects.values(
            "trigger", "enabled", "threshold", "confirm_evaluations", "clear_evaluations", "warn_fraction",
            "unreadable_is_breach", "params", "updated_at",
        )
    )
