"""Stop and start a project-started ClickHouse while two workers ingest from it: no row lost or read twice."""

from __future__ import annotations

import time
import uuid

import pytest

from bench import _harness as h
from tests.faults.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.timeout(240)]

DATABASE = "torghut_fault"


def test_stopping_clickhouse_during_ingest_loses_and_doubles_no_signal(private_clickhouse, start_worker):
    from trading.signals import source as signal_source

    run = uuid.uuid4().hex[:8]
    table, source, queue = f"ta_signals_ch_{run}", f"ch-{run}", f"faults-ch-{run}"
    names = h.symbols(40)
    private_clickhouse.client().execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    for statement in signal_source.ddl_statements(table):
        private_clickhouse.client(DATABASE).execute(statement)
    env = {
        "CLICKHOUSE_URL": private_clickhouse.url(DATABASE),
        "CLICKHOUSE_CONNECT_TIMEOUT": "1",
        "TRADING_SIGNAL_TABLE": table,
        "TRADING_SIGNAL_SOURCE": source,
        "TRADING_UNIVERSE_SOURCE": "static",
        "TRADING_UNIVERSE_STATIC_SYMBOLS": ",".join(names),
        "TRADING_INGEST_BATCH_SIZE": "1000",
        "TRADING_SIGNAL_PROBE_CACHE_SECONDS": "1",
    }
    workers = [start_worker(name=f"ch-ingest-{n}-{run}", queues=queue, concurrency=1, include="", **env) for n in (1, 2)]
    writer = h.SignalWriter(table=table, names=names, rate=2000, client=private_clickhouse.client(DATABASE))
    driver = h.IngestDriver(queue=queue, shards=1, interval=0.1)
    writer.start()
    driver.start()
    try:
        wait_until(lambda: h.ingest_account(source=source).accepted > 2000, timeout=60, what="ingest under way")
        private_clickhouse.stop()
        time.sleep(3.0)
        private_clickhouse.start()
        wait_until(
            lambda: writer.rows_written > 0 and h.ingest_account(source=source).reasons.get("signals_present", 0) > 0,
            timeout=30,
            what="writes resumed",
        )
        accepted_at_recovery = h.ingest_account(source=source).accepted
        wait_until(
            lambda: h.ingest_account(source=source).accepted > accepted_at_recovery + 2000,
            timeout=60,
            what="ingest resumed after the restart",
        )
        writer.stop()
        in_clickhouse = h.signal_table_count(table, client=private_clickhouse.client(DATABASE))
        account = h.wait_for_drain(source=source, expected=in_clickhouse, timeout=90)
        time.sleep(1.0)
        account = h.ingest_account(source=source)
    finally:
        writer.stop()
        driver.stop()
    for worker in workers:
        worker.stop()

    outage = account.reasons.get("clickhouse_unavailable", 0) + account.reasons.get("clickhouse_query_timeout", 0)
    assert outage > 0, f"no poll saw the outage: {account.reasons}"
    assert writer.rows_failed > 0, "no write saw the outage"
    assert in_clickhouse == writer.rows_written
    assert account.chain_breaks == []
    assert account.accepted == account.fetched == in_clickhouse, account.reasons
