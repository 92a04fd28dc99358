"""Reads of the lane ledger: which strategy was in which lane at an instant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from governance.lanes.models import LaneChange
from trading.strategies.models import Strategy


def lane_history_at(*, at: datetime) -> list[dict[str, Any]]:
    """Which version of each strategy was in which lane at `at`, from the append-only ledger.

    Before its first ledger row a strategy was in that row's `from_lane`; with no rows at all it has
    never moved. Strategies created after `at` did not exist then and are left out.
    """

    # Two DISTINCT ON queries (last row at or before `at`, first row after it) instead of two per strategy.
    before = {c.strategy_id: c for c in LaneChange.objects.filter(at__lte=at).order_by("strategy_id", "-at", "-id").distinct("strategy_id")}
    after = {c.strategy_id: c for c in LaneChange.objects.filter(at__gt=at).order_by("strategy_id", "at", "id").distinct("strategy_id")}
    result = []
    for strategy in Strategy.objects.filter(created_at__lte=at).order_by("name", "version", "pk"):
        if strategy.pk in before:
            change = before[strategy.pk]
            lane, version, since, change_id = change.to_lane, change.version, change.at, change.pk
        elif strategy.pk in after:
            change = after[strategy.pk]
            lane, version, since, change_id = change.from_lane, change.version, strategy.created_at, None
        else:
            lane, version, since, change_id = strategy.lane, strategy.version, strategy.created_at, None
        result.append(
            {
                "strategy_id": strategy.pk,
                "name": strategy.name,
                "version": version,
                "lane": lane,
                "since": since,
                "lane_change_id": change_id,
            }
        )
    return result
