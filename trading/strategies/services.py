"""Writes of strategies: lane moves (for governance's lane ledger) and the rollback drill's own strategies."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from trading.strategies.models import Lane, Strategy


def strategy_lane_set(*, strategy_id: int, lane: str, at: datetime) -> Strategy | None:
    """Move a strategy to `lane`, its row locked; the strategy as it was before the move, or None when
    it is already there. Call it inside the transaction that records the move (governance's lane ledger)."""
    with transaction.atomic():
        strategy = Strategy.objects.select_for_update().get(pk=strategy_id)
        if strategy.lane == lane:
            return None
        Strategy.objects.filter(pk=strategy.pk).update(lane=lane, updated_at=at)
    return strategy


def strategy_drill_ensure(*, name: str, adapter: str = "") -> Strategy:
    """The strategy `name`, created as a drill strategy (paper, disabled, no capital; orders routed to
    `adapter` when given) if it does not exist. An existing row is returned as is: the caller checks `drill`."""
    strategy, _ = Strategy.objects.get_or_create(
        name=name,
        version="1",
        defaults={
            "kind": "macd_rsi",
            "lane": Lane.PAPER,
            "enabled": False,
            "drill": True,
            "capital_fraction": 0,
            "parameters": {"adapter": adapter} if adapter else {},
        },
    )
    return strategy
