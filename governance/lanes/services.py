"""Lane changes: the one way a strategy's lane moves, each recorded in the lane ledger."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.errors import GovernanceError
from governance.killswitch.services import _actor_name
from governance.lanes.models import LaneChange, LaneChangeCause
from trading.strategies.models import Lane
from trading.strategies.services import strategy_lane_set


def strategy_lane_change(*, strategy_id: int, to_lane: str, cause: str, actor: str, reason: str = "") -> LaneChange | None:
    """Move a strategy to `to_lane` and append the ledger row; None when it is already there."""

    if to_lane not in Lane.values:
        raise GovernanceError(f"unknown lane {to_lane!r}")
    if cause not in LaneChangeCause.values:
        raise GovernanceError(f"unknown lane-change cause {cause!r}")
    now = timezone.now()
    with transaction.atomic():
        before = strategy_lane_set(strategy_id=strategy_id, lane=to_lane, at=now)
        if before is None:
            return None
        return LaneChange.objects.create(
            strategy=before,
            version=before.version,
            from_lane=before.lane,
            to_lane=to_lane,
            at=now,
            cause=cause,
            actor=_actor_name(actor),
            reason=reason,
        )
