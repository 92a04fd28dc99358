"""Fixtures of the research tests: a private ClickHouse signal table per test, strategies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from research.clickhouse_ddl import signal_table_ddl
from tests.factories import strategy_create
from torghut.core import clickhouse
from trading.strategies.models import Strategy


@pytest.fixture
def signal_table() -> Iterator[str]:
    """A fresh table with the ta_signals layout, dropped after the test (shadows the shared ta_signals fixture)."""
    name = f"research_test_{uuid.uuid4().hex[:12]}"
    clickhouse.ensure_database()
    clickhouse.execute("test_ddl", signal_table_ddl(name))
    yield name
    clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {clickhouse.quote_identifier(name)}")


@pytest.fixture
def make_strategy(db):
    def _make(name: str = "macd", *, kind: str = "macd_rsi", lane: str = "paper", version: str = "1", **params) -> Strategy:
        return strategy_create(name=name, version=version, kind=kind, lane=lane, parameters=params)

    return _make
