"""Read-side answers governance gives the rest of the system."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class KillSwitchVerdict:
    allowed: bool
    state: str
    reason: str


def kill_switch_order_check(*, reduces_exposure: bool) -> KillSwitchVerdict:
    """May an order go out now? `reduces_exposure` orders are allowed while `reducing`.

    Interim implementation reading TRADING_KILL_SWITCH_STATE; the emergency-stop issue replaces it with
    the persistent switch. Anything unreadable or unknown fails closed (halted).
    """
    state = str(getattr(settings, "TRADING_KILL_SWITCH_STATE", "") or "").strip().lower()
    if state == "active":
        return KillSwitchVerdict(allowed=True, state=state, reason="")
    if state == "reducing":
        return KillSwitchVerdict(allowed=reduces_exposure, state=state, reason="" if reduces_exposure else "kill_switch_reducing")
    return KillSwitchVerdict(allowed=False, state="halted", reason="kill_switch_halted" if state == "halted" else "kill_switch_unreadable")


def last_passing_drill_at():
    """When the last rollback drill passed, or None. Interim: no drill exists until the drill lands,
    so the operations gate reports `not_evaluated`, never `pass`."""
    return None
