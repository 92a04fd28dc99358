"""Signal-shaped test data: ta_signals rows, in-memory `Signal` sequences, and their ClickHouse insert."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from torghut.core import clickhouse
from trading.signals.types import INDICATORS, Signal

UNIVERSE = ["AAPL", "MSFT", "NVDA", "SPY"]
COLUMNS = ("symbol", "event_ts", "seq", "ingest_ts", "source", "window_size", *INDICATORS)
NAN = math.nan
INF = math.inf
START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def seconds_ago(now: datetime, seconds: float) -> datetime:
    return now - timedelta(seconds=seconds)


def signal_row(symbol: str, event_ts: datetime, seq: int, **overrides: float) -> tuple:
    """A plausible TA row; `overrides` replace indicator values (NaN, inf ...)."""
    price = 100.0 + seq % 7
    values = {
        "macd": 0.1,
        "macd_signal": 0.05,
        "macd_hist": 0.05,
        "ema12": price,
        "ema26": price - 0.2,
        "rsi14": 55.0,
        "boll_mid": price,
        "boll_upper": price + 1,
        "boll_lower": price - 1,
        "vwap_session": price,
        "vwap_w5m": price,
        "imbalance_spread": 0.01,
        "imbalance_bid_px": price - 0.01,
        "imbalance_ask_px": price + 0.01,
        "vol_realized_w60s": 0.2,
    }
    values.update(overrides)
    return (symbol, event_ts.replace(microsecond=0), seq, event_ts.replace(microsecond=0), "ta", "1s", *(values[c] for c in INDICATORS))


def neutral_signal_row(symbol: str, event_ts: datetime, seq: int = 0, **values: float) -> tuple:
    """A row in ta_signals layout; indicators default to neutral values, `price` sets vwap_w5m and boll_mid."""
    price = values.pop("price", 100.0)
    indicators = {name: 0.0 for name in INDICATORS}
    indicators.update(rsi14=50.0, vwap_w5m=price, boll_mid=price, boll_upper=price * 1.01, boll_lower=price * 0.99)
    indicators.update(values)
    naive = event_ts.astimezone(UTC).replace(tzinfo=None)
    return (symbol, naive, seq, naive, "test", "PT1S", *(float(indicators[name]) for name in INDICATORS))


def crossing_rows(
    symbol: str, start: datetime, prices: list[float], hists: list[float], step: timedelta = timedelta(seconds=10)
) -> list[tuple]:
    """Rows whose MACD histogram follows `hists` (a cross above zero buys, below zero sells)."""
    return [
        neutral_signal_row(symbol, start + i * step, i, price=p, macd_hist=h) for i, (p, h) in enumerate(zip(prices, hists, strict=True))
    ]


def insert_signals(table: str, rows: list[tuple]) -> None:
    clickhouse.execute("test_insert", f"INSERT INTO {clickhouse.quote_identifier(table)} ({', '.join(COLUMNS)}) VALUES", rows)


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


def repeated_buys(symbol: str = "AAPL", *, n: int = 2, start: int = 0, price: float = 100.0) -> list[Signal]:
    """`n` MACD/RSI buys in a row: the down-crosses between them carry an oversold RSI, so no sell."""
    signals = []
    for k in range(n):
        signals.append(make_signal(symbol, i=start + 2 * k, price=price, macd_hist=-0.2, rsi14=20.0))
        signals.append(make_signal(symbol, i=start + 2 * k + 1, price=price, macd_hist=0.3))
    return signals
