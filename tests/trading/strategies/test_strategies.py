"""The live (one signal at a time) and vectorised forms of every strategy agree row for row."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from trading.signals.types import INDICATORS, Signal
from trading.strategies.kinds import BUY, HOLD, SELL, STRATEGY_KINDS, strategy_kind


def _signals(n_per_symbol: int = 400, symbols=("AAPL", "MSFT", "IBM"), seed: int = 7) -> list[Signal]:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    rows = []
    for symbol in symbols:
        price = 100.0
        for i in range(n_per_symbol):
            price *= 1 + rng.normal(0, 0.004)
            values = {name: float(rng.normal(0, 1)) for name in INDICATORS}
            values.update(rsi14=float(rng.uniform(10, 90)), boll_mid=price * (1 + rng.normal(0, 0.002)))
            values.update(boll_upper=values["boll_mid"] * 1.004, boll_lower=values["boll_mid"] * 0.996)
            rows.append(
                Signal(
                    symbol=symbol, event_ts=start + timedelta(seconds=i), seq=i, source="test", window_size="PT1S", price=price, **values
                )
            )
    return rows


@pytest.mark.parametrize("kind", sorted(STRATEGY_KINDS))
def test_live_and_vectorised_forms_agree(kind):
    strategy = strategy_kind(kind)
    signals = _signals()
    live, prev = [], None
    for sig in signals:
        live.append(strategy.decide(prev if prev and prev.symbol == sig.symbol else None, sig, {}))
        prev = sig
    cols = {name: np.array([getattr(s, name) for s in signals]) for name in ("symbol", "price", *INDICATORS)}
    vectorised = strategy.decide_vectorised(cols, {}).tolist()
    assert vectorised == live
    assert BUY in live and SELL in live


def test_macd_rsi_buys_on_an_upward_histogram_cross_unless_overbought():
    strategy = strategy_kind("macd_rsi")
    base = _signals(2, symbols=("AAPL",))
    fields = {f: getattr(base[1], f) for f in base[1].__slots__}
    prev = Signal(**{**fields, "macd_hist": -0.1})
    assert strategy.decide(prev, Signal(**{**fields, "macd_hist": 0.2, "rsi14": 55}), {}) == BUY
    assert strategy.decide(prev, Signal(**{**fields, "macd_hist": 0.2, "rsi14": 75}), {}) == HOLD
    assert strategy.decide(prev, Signal(**{**fields, "macd_hist": 0.2, "rsi14": 75}), {"rsi_buy_max": 80}) == BUY


def test_an_unknown_strategy_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown strategy kind 'nope'"):
        strategy_kind("nope")
