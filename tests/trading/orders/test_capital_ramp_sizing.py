"""A live strategy's orders are sized by its capital-ramp step; paper strategies use their whole allocation."""

import pytest

from governance.promotion.selectors import strategy_capital_multiplier
from tests.factories import make_strategy
from tests.signals import macd_cross_up
from trading.orders.decisions import decisions_from_signals

pytestmark = pytest.mark.django_db


def test_live_orders_are_sized_by_the_ramp_step_and_paper_orders_are_not(settings):
    settings.TRADING_ACCOUNT_CAPITAL = 100_000
    make_strategy(name="paper-macd", order_notional=5_000)
    live = make_strategy(name="live-macd", lane="live", order_notional=5_000)
    assert strategy_capital_multiplier(strategy_id=live.pk) == pytest.approx(0.10)

    decisions = decisions_from_signals(signals=macd_cross_up(price=100.0), account="paper")

    by_strategy = {d.strategy.name: d for d in decisions}
    assert by_strategy["paper-macd"].quantity == 50  # 5,000 of a 10,000 allocation
    assert by_strategy["live-macd"].quantity == 10  # 10% ramp step of the 10,000 allocation caps it at 1,000
