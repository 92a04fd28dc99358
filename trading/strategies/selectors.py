"""Reads of strategies."""

from __future__ import annotations

from trading.strategies.models import Strategy


def strategy_ids_in_lane(*, lane: str) -> list[int]:
    """Ids of the strategies now in `lane`, in the model's order (name, version)."""
    return list(Strategy.objects.filter(lane=lane).values_list("pk", flat=True))
