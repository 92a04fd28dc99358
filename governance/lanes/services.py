"""Lane changes: the one way a strategy's lane moves, each recorded in the lane ledger."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from governance.lanes.models import LaneChange, LaneChangeCause
from governance.errors import GovernanceError
from governance.killswitch.services import _actor_name
from trading.strategies.models import Strategy
from trading.strategies.models import Lane


def strategy_lane_change(*, strategy_id: int, to_lane: str, cause: str, actor: str, reason: str = "") -> LaneChange | None:
    """Move a strategy to `to_lane` and append the ledger row; None when it is already there."""

    if to_lane not in Lane.values:
        raise GovernanceError(f"unknown lane {to_lane!r}")
    if cause not in LaneChangeCause.values:
        raise GovernanceError(f"unknown lane-change cause {cause!r}")
    with transaction.atomic():
        strategy = Strategy.objects.select_for_update().get(pk=strategy_id)
        if strategy.lane == to_lane:
            return None
        change = LaneChange.objects.create(
            strategy=strategy, version=strategy.version, from_lane=strategy.lane, to_lane=to_lane,
            at=timezone.now(), cause=cause, actor=_actor_name(actor), reason=reason,
        )
        Strategy.objects.filter(pk=strategy.pk).update(lane=to_lane, updated_at=change.at)
    return change
