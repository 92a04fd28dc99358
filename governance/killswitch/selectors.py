"""Read-side answers governance gives the rest of the system."""
from __future__ import annotations

from dataclasses import dataclass
from django.db import DatabaseError, connection
from governance.killswitch import mirror as killswitch
from governance.killswitch.models import KillSwitchState, KillSwitchTransition
# Promotion reads (lane history, ramps) live in their own module; these are the ones other apps call.


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
def kill_switch_transitions(*, limit: int) -> list[dict]:
    """The newest transitions first."""
    return list(
        KillSwitchTransition.objects.values("id", "from_state", "to_state", "reason", "actor", "source", "triggers", "at")[:limit]
    )
