"""Factories and fixtures for the order-path tests: strategies, signal sequences, local venues."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trading.strategies.models import Strategy
from trading.signals.types import INDICATORS, Signal

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def make_signal(symbol: str = "AAPL", *, i: int = 0, price: float = 100.0, **overrides: float) -> Signal:
    values = {name: 0.0 for name in INDICATORS}
    values.update(rsi14=50.0, boll_mid=price, boll_upper=price * 1.01, boll_lower=price * 0.99, vwap_w5m=price)
    values.update(overrides)
    return Signal(symbol=symbol, event_ts=START + timedelta(seconds=i), seq=i, source="test", window_size="PT1S", price=price, **values)


def macd_cross_up(symbol: str = "AAPL", *, start: int = 0, price: float = 100.0) -> list[Signal]:
    """Two signals whose MACD histogram crosses above zero with a neutral RSI: one MACD/RSI buy."""
    return [make_signal(symbol, i=start, price=price, macd_hist=-0.2), make_signal(symbol, i=start + 1, price=price, macd_hist=0.3)]


def macd_cross_down(symbol: str = "AAPL", *, start: int = 0, price: float = 100.0) -> list[Signal]:
    return [make_signal(symbol, i=start, price=price, macd_hist=0.2), make_signal(symbol, i=start + 1, price=price, macd_hist=-0.3)]


def make_strategy(*, name: str = "macd", kind: str = "macd_rsi", lane: str = "paper", **parameters) -> Strategy:
    if lane == "live":
        # Postgres refuses a live strategy without an applied approval: go through the real promotion path.
        from tests.factories import strategy_live_create

        return strategy_live_create(name=name, version="1", kind=kind, capital_fraction="0.1", parameters=parameters)
    return Strategy.objects.create(name=name, version="1", kind=kind, lane=lane, capital_fraction="0.1", parameters=parameters)


@pytest.fixture
def lean_venue():
    from torghut.devstack.venues import VenueServer

    venue = VenueServer(kind="lean").start()
    yield venue
    venue.stop()


@pytest.fixture
def alpaca_venue():
    from torghut.devstack.venues import VenueServer

    venue = VenueServer(kind="alpaca").start()
    yield venue
    venue.stop()


@pytest.fixture
def venues(settings, lean_venue, alpaca_venue):
    """Both local venues wired into the settings; LEAN expected, Alpaca next, simulated last."""
    settings.TRADING_LEAN_URL = lean_venue.url
    settings.TRADING_LEAN_TIMEOUT_SECONDS = 1.0
    settings.TRADING_ALPACA_BASE_URL = alpaca_venue.url
    settings.TRADING_ALPACA_KEY_ID = "test-key"
    settings.TRADING_ALPACA_SECRET_KEY = "test-secret"
    settings.TRADING_ALPACA_TIMEOUT_SECONDS = 1.0
    settings.TRADING_EXECUTION_ADAPTER = "lean"
    settings.TRADING_EXECUTION_FALLBACK_CHAIN = ["lean", "alpaca", "simulated"]
    return lean_venue, alpaca_venue


def repeated_buys(symbol: str = "AAPL", *, n: int = 2, start: int = 0, price: float = 100.0) -> list[Signal]:
    """`n` MACD/RSI buys in a row: the down-crosses between them carry an oversold RSI, so no sell."""
    signals = []
    for k in range(n):
        signals.append(make_signal(symbol, i=start + 2 * k, price=price, macd_hist=-0.2, rsi14=20.0))
        signals.append(make_signal(symbol, i=start + 2 * k + 1, price=price, macd_hist=0.3))
    return signals
