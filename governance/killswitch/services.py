"""Kill-switch transitions: engage, resume, release after a drill, and the Redis mirror sync."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.errors import GovernanceError, GovernancePermissionDenied
from governance.killswitch import mirror as killswitch
from governance.killswitch.models import KillSwitch, KillSwitchSource, KillSwitchState, KillSwitchTransition
from governance.killswitch.signals import kill_switch_returned_to_active
from torghut.core.models import AuditEvent
from torghut.core.security import reason_problem

KILL_SWITCH_PERMISSION = "governance.engage_killswitch"


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or str(actor or "system")


def _reason_checked(reason: str) -> str:
    problem = reason_problem(reason)
    if problem:
        raise GovernanceError(problem)
    return reason.strip()


def _switch_locked() -> KillSwitch:
    switch, _ = KillSwitch.objects.select_for_update().get_or_create(
        pk=KillSwitch.SINGLETON_ID,
        defaults={"state": KillSwitchState.ACTIVE, "actor": "system", "reason": "initial state", "changed_at": timezone.now()},
    )
    return switch


def _kill_switch_set(
    *,
    switch: KillSwitch,
    to_state: str,
    actor: str,
    reason: str,
    source: str,
    triggers: list[str] | None = None,
    actor_id: int | None = None,
) -> KillSwitchTransition | None:
    """Move the locked switch and write its history and audit rows; None when already in `to_state`."""
    if switch.state == to_state:
        return None
    old = switch.state
    now = timezone.now()
    transition = KillSwitchTransition.objects.create(
        from_state=old,
        to_state=to_state,
        reason=reason,
        actor=actor,
        source=source,
        triggers=list(triggers or []),
        at=now,
    )
    if to_state == KillSwitchState.ACTIVE:
        switch.engaged_by, switch.engaged_by_user_id = "", None
    elif old == KillSwitchState.ACTIVE:
        switch.engaged_by, switch.engaged_by_user_id = actor, actor_id
    switch.state, switch.reason, switch.actor, switch.source, switch.changed_at = to_state, reason, actor, source, now
    switch.save()
    AuditEvent.objects.create(
        actor=actor,
        action=f"kill_switch.{to_state}",
        object_type="KillSwitch",
        object_id=str(switch.pk),
        old={"state": old},
        new={"state": to_state, "source": source, "triggers": list(triggers or [])},
        reason=reason,
    )
    return transition


def kill_switch_mirror_sync() -> str:
    """Copy the persistent state to the Redis mirror (the beat does this each tick). Returns the state."""
    row = KillSwitch.objects.filter(pk=KillSwitch.SINGLETON_ID).first()
    state = row.state if row else KillSwitchState.ACTIVE.value
    killswitch.mirror_write(state)
    return state


def _require_permission(actor) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.has_perm(KILL_SWITCH_PERMISSION)):
        raise GovernancePermissionDenied(f"{_actor_name(actor)} lacks {KILL_SWITCH_PERMISSION}")


def kill_switch_engage(*, actor, state: str, reason: str) -> KillSwitch:
    """An operator halts trading (`halted`) or restricts it to exposure-reducing orders (`reducing`)."""
    _require_permission(actor)
    if state not in (KillSwitchState.HALTED, KillSwitchState.REDUCING):
        raise GovernanceError("engage to `halted` or `reducing`; use resume to go back to `active`")
    reason = _reason_checked(reason)
    with transaction.atomic():
        switch = _switch_locked()
        _kill_switch_set(
            switch=switch, to_state=state, actor=_actor_name(actor), reason=reason, source=KillSwitchSource.OPERATOR, actor_id=actor.pk
        )
    killswitch.mirror_write(switch.state)
    return switch


def kill_switch_resume(*, actor, reason: str) -> KillSwitch:
    """An operator returns trading to `active`: the only way back. Clears every trigger's streaks."""
    _require_permission(actor)
    reason = _reason_checked(reason)
    with transaction.atomic():
        switch = _switch_locked()
        if switch.state == KillSwitchState.ACTIVE:
            raise GovernanceError("the kill switch is already active")
        # By user id, not name: renaming the account that engaged the switch does not make it someone else.
        if settings.GOVERNANCE_RESUME_REQUIRES_OTHER_USER and switch.engaged_by_user_id == actor.pk:
            raise GovernancePermissionDenied("four eyes: the user who engaged the kill switch may not resume it")
        kill_switch_returned_to_active.send(
            sender=KillSwitch, actor=_actor_name(actor), reason=reason.strip(), source=KillSwitchSource.OPERATOR
        )
        _kill_switch_set(
            switch=switch,
            to_state=KillSwitchState.ACTIVE,
            actor=_actor_name(actor),
            reason=reason.strip(),
            source=KillSwitchSource.OPERATOR,
        )
    killswitch.mirror_write(switch.state)
    return switch


def kill_switch_release_after_drill(*, reason: str) -> KillSwitch:
    """Return the switch to `active` at the end of a drill (the drill started it from `active`)."""
    with transaction.atomic():
        switch = _switch_locked()
        kill_switch_returned_to_active.send(sender=KillSwitch, actor="drill", reason=reason, source=KillSwitchSource.DRILL)
        _kill_switch_set(switch=switch, to_state=KillSwitchState.ACTIVE, actor="drill", reason=reason, source=KillSwitchSource.DRILL)
    killswitch.mirror_write(switch.state)
    return switch
