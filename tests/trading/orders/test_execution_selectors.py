"""Selectors other apps read (governance evidence and triggers): fallback ratio and recent executions (PnL: tests/trading/pnl)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import make_strategy
from trading.orders.models import Decision, Execution
from trading.orders.selectors import execution_fallback_ratio, executions_recent

pytestmark = pytest.mark.django_db


def _fill(
    coid: str, *, side: str, qty: int, price: str, strategy=None, expected="lean", actual="lean", created_ago: int = 0, symbol="AAPL"
):
    decision = None
    if strategy is not None:
        decision = Decision.objects.create(
            strategy=strategy,
            strategy_version=strategy.version,
            lane=strategy.lane,
            account="paper",
            symbol=symbol,
            side=side,
            quantity=qty,
            price=Decimal(price),
            signal_symbol=symbol,
            signal_event_ts=timezone.now(),
            signal_seq=hash(coid) % 10_000,
            decision_hash=coid,
            status="filled",
            decided_at=timezone.now(),
            submitted_at=timezone.now(),
        )
    execution = Execution.objects.create(
        decision=decision,
        client_order_id=coid,
        account="paper",
        symbol=symbol,
        side=side,
        expected_adapter=expected,
        actual_adapter=actual,
        fallback_reason="" if expected == actual else f"{expected}_http_503",
        fallback_count=int(expected != actual),
        route_tag="live" if decision else "backfill",
        quantity=qty,
        filled_quantity=qty,
        avg_fill_price=Decimal(price),
        status="filled",
        filled_at=timezone.now(),
    )
    if created_ago:
        Execution.objects.filter(pk=execution.pk).update(created_at=timezone.now() - timedelta(seconds=created_ago))
    return execution


def test_the_fallback_ratio_counts_live_orders_in_the_window_only():
    strategy = make_strategy()
    _fill("a", side="buy", qty=1, price="10", strategy=strategy)
    _fill("b", side="buy", qty=1, price="10", strategy=strategy, actual="alpaca")
    _fill("c", side="buy", qty=1, price="10", strategy=strategy, actual="alpaca", created_ago=7200)
    _fill("d", side="buy", qty=1, price="10", actual="alpaca")  # backfill rows say nothing about today's routing
    assert execution_fallback_ratio(window_seconds=900) == (0.5, 2)
    assert execution_fallback_ratio(window_seconds=3 * 3600) == (pytest.approx(2 / 3), 3)


def test_no_orders_means_a_zero_ratio_over_zero_orders():
    assert execution_fallback_ratio(window_seconds=900) == (0.0, 0)


def test_recent_executions_carry_their_provenance_newest_first():
    strategy = make_strategy()
    _fill("old", side="buy", qty=1, price="10", strategy=strategy)
    _fill("new", side="sell", qty=1, price="11", strategy=strategy, actual="simulated")
    rows = executions_recent(limit=1)
    assert len(rows) == 1
    row = rows[0]
    assert (row["client_order_id"], row["expected_adapter"], row["actual_adapter"], row["fallback_reason"]) == (
        "new",
        "lean",
        "simulated",
        "lean_http_503",
    )
    assert row["strategy"] == "macd@1" and row["route_tag"] == "live"
