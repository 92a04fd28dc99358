"""Read-side answers governance gives the rest of the system."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction

from governance.killswitch import mirror as killswitch
from governance.killswitch.models import KillSwitchState, KillSwitchTransition

# Promotion reads (lane history, ramps) live in their own module; these are the ones other apps call.


@dataclass(frozen=True)
class KillSwitchOrderPolicy:
    """Which orders the switch lets out now: `allows` is `all`, `reducing` (exposure-reducing only) or
    `none`; `reason` is what a refused order is told."""

    state: str
    allows: str
    reason: str


# Every state and None (no state could be read), asked of the gate's table in one query.
_STATES = [*KillSwitchState.values, None]
# When Postgres cannot even be asked: fail closed.
_UNREADABLE = KillSwitchOrderPolicy(state=KillSwitchState.HALTED.value, allows="none", reason="kill_switch_unreadable")


@functools.cache
def _admissions() -> dict[str | None, tuple[str, str]]:
    # The state -> admission table lives in SQL (governance_kill_switch_admission); a migration changes it.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.state, a.allows, a.reason FROM unnest(%s::text[]) s (state), governance_kill_switch_admission(s.state) a", [_STATES]
        )
        return {state: (allows, reason) for state, allows, reason in cursor.fetchall()}


def kill_switch_order_policy() -> KillSwitchOrderPolicy:
    """The switch as the order path applies it, by the order gate's own table. Reads the Redis mirror,
    then Postgres; when neither answers no order may go out (fail closed)."""
    state, _where = killswitch.current_state()
    try:
        allows, reason = _admissions()[state if state in _STATES else None]
    except DatabaseError:
        return _UNREADABLE
    return KillSwitchOrderPolicy(state=state if allows != "none" else KillSwitchState.HALTED.value, allows=allows, reason=reason)


def kill_switch_gate_policy() -> KillSwitchOrderPolicy:
    """The switch exactly as the order gate applies it: the committed Postgres row, through the SQL
    function the gate itself calls (`trading_order_admission`). Raises DatabaseError."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT governance_kill_switch_state(), a.allows, a.reason FROM trading_order_admission() a")
        state, allows, reason = cursor.fetchone()
    return KillSwitchOrderPolicy(state=state, allows=allows, reason=reason)


def kill_switch_transitions(*, limit: int) -> list[dict]:
    """The newest transitions first."""
    return list(KillSwitchTransition.objects.values("id", "from_state", "to_state", "reason", "actor", "source", "triggers", "at")[:limit])
