"""The emergency-stop inputs read the real trading and research state (no synthetic inputs)."""

from datetime import timedelta

import pytest

from governance.emergency.measures import emergency_inputs_collect
from governance.emergency.services import emergency_stop_evaluate
from tests.factories import make_strategy
from tests.signals import now_utc, signal_row
from tests.trading.orders.test_execution_selectors import _fill
from trading.signals.ingest import signals_ingest

pytestmark = pytest.mark.django_db


def test_every_input_is_read_from_the_real_apps_and_nothing_is_unreadable(signal_table, static_universe, settings):
    make_strategy(name="macd", lane="paper")
    start = now_utc() - timedelta(seconds=20)
    signal_table.insert([signal_row("AAPL", start, 1), signal_row("MSFT", start, 1)])
    signals_ingest(source=settings.TRADING_SIGNAL_SOURCE, account=settings.TRADING_ACCOUNT)
    strategy = make_strategy(name="routed", lane="paper")
    _fill("in-1", side="buy", qty=1, price="100", strategy=strategy, expected="lean", actual="alpaca")
    _fill("in-2", side="sell", qty=1, price="100", strategy=strategy, expected="lean", actual="lean")

    inputs = emergency_inputs_collect(fallback_window_seconds=600)

    assert inputs.unreadable == {}
    assert inputs.universe_status == "static"
    assert inputs.streaks == {"signals_present": 1}
    assert 0 <= inputs.signal_lag_seconds < 120
    assert inputs.research_failure_streak == 0
    assert inputs.pnl_total == 0.0
    assert inputs.allocated_capital > 0
    assert (inputs.fallback_ratio, inputs.fallback_orders) == (0.5, 2)
    verdict = emergency_stop_evaluate(inputs=inputs)
    assert verdict.halt is None
