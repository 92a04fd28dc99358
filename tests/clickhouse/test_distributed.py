"""Ingest reads a `Distributed` table of a cluster unchanged (ClickHouse 18.16, the server's localhost cluster)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.signals import UNIVERSE, insert_signals, now_utc, seconds_ago, signal_row
from torghut.core import clickhouse
from trading.signals import source as signal_source
from trading.signals.ingest import signals_ingest

pytestmark = pytest.mark.django_db

LOCAL, DISTRIBUTED = "ta_signals_dist_local", "ta_signals_dist"


@pytest.fixture
def distributed_table(settings):
    database = clickhouse.target().database
    for name in (DISTRIBUTED, LOCAL):
        clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {clickhouse.quote_identifier(name)}")
    for statement in signal_source.ddl_statements(LOCAL):
        clickhouse.execute("test_ddl", statement)
    clickhouse.execute(
        "test_ddl",
        f"CREATE TABLE {clickhouse.quote_identifier(DISTRIBUTED)} AS {clickhouse.quote_identifier(LOCAL)} "
        f"ENGINE = Distributed(test_shard_localhost, {clickhouse.quote_identifier(database)}, {clickhouse.quote_identifier(LOCAL)})",
    )
    settings.TRADING_SIGNAL_TABLE = DISTRIBUTED
    settings.TRADING_SIGNAL_PROBE_CACHE_SECONDS = 0
    signal_source.forget_table_shape()
    signal_source.probe_forget()
    yield
    for name in (DISTRIBUTED, LOCAL):
        clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {clickhouse.quote_identifier(name)}")
    signal_source.forget_table_shape()


def test_ingest_through_a_distributed_table_reads_every_row_once(distributed_table, static_universe):
    now = now_utc()
    rows = [signal_row(UNIVERSE[i % len(UNIVERSE)], seconds_ago(now, 60) + timedelta(seconds=i // len(UNIVERSE)), i) for i in range(200)]
    insert_signals(LOCAL, rows)
    accepted = 0
    for _ in range(5):
        window = signals_ingest(source="dist", account="paper", now=now, batch_size=80)
        accepted += window.rows_accepted
        if window.reason != "signals_present":
            break
    assert accepted == 200
    again = signals_ingest(source="dist", account="paper", now=now)
    assert again.rows_accepted == 0 and again.reason != "signals_present"
