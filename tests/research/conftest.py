"""Fixtures of the research tests: a private ClickHouse signal table per test, signal rows, strategies."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from research.clickhouse_ddl import signal_table_ddl
from torghut.core import clickhouse
from trading.signals.types import INDICATORS

COLUMNS = ("symbol", "event_ts", "seq", "ingest_ts", "source", "window_size", *INDICATORS)


def signal_row(symbol: str, event_ts: datetime, seq: int = 0, **values: float) -> tuple:
    """A row in ta_signals layout; indicators default to neutral values, `price` sets vwap_w5m and boll_mid."""
    price = values.pop("price", 100.0)
    indicators = {name: 0.0 for name in INDICATORS}
    indicators.update(rsi14=50.0, vwap_w5m=price, boll_mid=price, boll_upper=price * 1.01, boll_lower=price * 0.99)
    indicators.update(values)
    naive = event_ts.astimezone(UTC).replace(tzinfo=None)
    return (symbol, naive, seq, naive, "test", "PT1S", *(float(indicators[name]) for name in INDICATORS))


def insert_signals(table: str, rows: list[tuple]) -> None:
    clickhouse.execute("test_insert", f"INSERT INTO {clickhouse.quote_identifier(table)} ({', '.join(COLUMNS)}) VALUES", rows)


@pytest.fixture
def signal_table() -> Iterator[str]:
    """A fresh table with the ta_signals layout, dropped after the test."""
    name = f"research_test_{uuid.uuid4().hex[:12]}"
    clickhouse.ensure_database()
    clickhouse.execute("test_ddl", signal_table_ddl(name))
    yield name
    clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {clickhouse.quote_identifier(name)}")


@pytest.fixture
def make_strategy(db):
    from trading.strategies.models import Strategy

    def _make(name: str = "macd", *, kind: str = "macd_rsi", lane: str = "paper", version: str = "1", **params) -> Strategy:
        if lane == "live":
            # Postgres lets a strategy become live only through an applied, approved promotion request.
            from tests.factories import strategy_live_create

            return strategy_live_create(name=name, version=version, kind=kind, parameters=params)
        return Strategy.objects.create(name=name, version=version, kind=kind, lane=lane, parameters=params)

    return _make


def crossing_rows(symbol: str, start: datetime, prices: list[float], hists: list[float], step: timedelta = timedelta(seconds=10)) -> list[tuple]:
    """Rows whose MACD histogram follows `hists` (a cross above zero buys, below zero sells)."""
    return [signal_row(symbol, start + i * step, i, price=p, macd_hist=h) for i, (p, h) in enumerate(zip(prices, hists, strict=True))]
