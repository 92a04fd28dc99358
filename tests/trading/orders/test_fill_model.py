"""One simulated fill rule, three places that apply it: the simulator adapter (and shadow fills), the
order gate's in-database fill, and research's vectorised paper simulation. Same inputs, same prices,
ties included (half away from zero, where rounding half to even would differ)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from django.db import transaction

from research.simulation import FillModel
from tests.factories import make_strategy
from tests.signals import macd_cross_down, macd_cross_up
from trading.orders.adapters.simulated import simulated_fill_price
from trading.orders.decisions import decisions_from_signals
from trading.orders.services import decision_submit

pytestmark = pytest.mark.django_db

CASES = [
    # slippage bps, buy price, sell price, expected buy fill, expected sell fill
    (0.00125, 4.0, 12.0, Decimal("4.000001"), Decimal("11.999999")),  # 4.0000005 and 11.9999985: ties
    (7.5, 123.456789, 0.333333, Decimal("123.549382"), Decimal("0.333083")),
    (0.0, 10.5, 10.5, Decimal("10.500000"), Decimal("10.500000")),
]


@pytest.mark.parametrize(("bps", "buy_price", "sell_price", "buy_fill", "sell_fill"), CASES)
def test_the_adapter_the_order_gate_and_research_fill_at_the_same_price(settings, bps, buy_price, sell_price, buy_fill, sell_fill):
    settings.TRADING_SIMULATED_SLIPPAGE_BPS = bps
    settings.TRADING_SIMULATED_LATENCY_MS = 0
    expected = {"buy": buy_fill, "sell": sell_fill}
    make_strategy(adapter="simulated")
    with transaction.atomic():
        decisions = decisions_from_signals(
            signals=macd_cross_up("AAA", price=buy_price) + macd_cross_down("BBB", price=sell_price), account="paper"
        )
    assert sorted(d.side for d in decisions) == ["buy", "sell"]
    research = FillModel(slippage_bps=bps, fee_bps=0.0, notional=1000.0, capital=10000.0)
    for decision in decisions:
        by_python = simulated_fill_price(side=decision.side, reference_price=decision.price, slippage_bps=bps)
        by_gate = decision_submit(decision_id=decision.pk).avg_fill_price
        [by_research] = research.fill_prices(np.array([float(decision.price)]), side=decision.side)
        assert (by_python, by_gate, by_research) == (expected[decision.side], expected[decision.side], float(expected[decision.side]))


def test_research_fills_a_whole_column_at_once_exactly_as_one_by_one():
    prices = np.array([4.0, 12.0, 0.333333, 123.456789, 99999.999999])
    model = FillModel(slippage_bps=0.00125, fee_bps=0.0, notional=1.0, capital=1.0)
    for side in ("buy", "sell"):
        one_by_one = [float(simulated_fill_price(side=side, reference_price=Decimal(str(p)), slippage_bps=0.00125)) for p in prices]
        assert model.fill_prices(prices, side=side).tolist() == one_by_one
