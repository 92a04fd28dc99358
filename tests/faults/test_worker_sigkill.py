"""SIGKILL workers in the middle of an ingest poll and in the middle of order submission.

Ingest: both workers are killed while one of them has read rows, written decisions' hand-off and
moved the cursor inside its uncommitted transaction (held there by a table lock the test takes);
afterwards every ClickHouse row is counted by exactly one IngestWindow. Submission: a worker dies
while the LEAN venue is still answering orders it has taken; afterwards the venue holds no order
twice and every order it took has exactly one execution row.
"""

from __future__ import annotations

import re
import signal
import time
import uuid

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from kombu import Connection

from bench import _harness as h
from tests.faults.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.timeout(240)]


def _conninfo() -> str:
    params = connection.get_connection_params()
    return psycopg.conninfo.make_conninfo(
        dbname=params.get("dbname") or connection.settings_dict["NAME"],
        user=params.get("user"),
        password=params.get("password"),
        host=params.get("host"),
        port=params.get("port"),
    )


def _waiting_on(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = %s AND NOT l.granted", [table]
    ).fetchone()[0]


def _unfinished(log: str, task: str) -> set[str]:
    received = set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] received", log))
    finished = set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] (?:succeeded|raised|retry)", log))
    return received - finished


def _restore_unacked() -> None:
    # Messages of a killed worker sit unacked until the visibility timeout; sweep them back now.
    with Connection(django_settings.CELERY_BROKER_URL, transport_options={"visibility_timeout": 1}) as conn:
        time.sleep(1.5)
        conn.default_channel.qos.restore_visible(num=500)


def test_killing_workers_mid_ingest_loses_no_signal_and_processes_none_twice(start_worker):
    from trading.signals.models import IngestCursor

    run = uuid.uuid4().hex[:8]
    table, source, queue = f"ta_signals_kill_{run}", f"kill-{run}", f"faults-ingest-{run}"
    names = h.symbols(40)
    h.signal_table_create(table)
    env = {
        "TRADING_SIGNAL_TABLE": table,
        "TRADING_SIGNAL_SOURCE": source,
        "TRADING_UNIVERSE_SOURCE": "static",
        "TRADING_UNIVERSE_STATIC_SYMBOLS": ",".join(names),
        "TRADING_INGEST_BATCH_SIZE": "400",
        "TRADING_SIGNAL_PROBE_CACHE_SECONDS": "1",
    }
    victims = [start_worker(name=f"kill-ingest-{n}-{run}", queues=queue, concurrency=1, include="", **env) for n in (1, 2)]
    writer = h.SignalWriter(table=table, names=names, rate=2000)
    driver = h.IngestDriver(queue=queue, shards=1, interval=0.1)
    writer.start()
    driver.start()
    try:
        wait_until(lambda: h.ingest_account(source=source).accepted > 2000, timeout=60, what="ingest under way")
        with psycopg.connect(_conninfo()) as locker:
            locker.execute("LOCK TABLE trading_ingestwindow IN ACCESS EXCLUSIVE MODE")
            # A poll that holds the cursor and has moved it, blocked on its IngestWindow insert.
            wait_until(lambda: _waiting_on(locker, "trading_ingestwindow") >= 1, timeout=30, what="a poll blocked mid-transaction")
            committed = IngestCursor.objects.get(source=source).as_dict()
            for victim in victims:
                victim.stop(signal.SIGKILL)
            locker.rollback()
        heir = start_worker(name=f"kill-ingest-heir-{run}", queues=queue, concurrency=1, include="", **env)
        wait_until(
            lambda: h.ingest_account(source=source).accepted > 0 and IngestCursor.objects.get(source=source).as_dict() != committed,
            timeout=60,
            what="the heir moving the cursor",
        )
        time.sleep(2.0)
        writer.stop()
        in_clickhouse = h.signal_table_count(table)
        account = h.wait_for_drain(source=source, expected=in_clickhouse, timeout=90)
        time.sleep(1.0)
        account = h.ingest_account(source=source)
    finally:
        writer.stop()
        driver.stop()
        h.signal_table_drop(table)
    heir.stop()

    killed_mid_poll = [_unfinished(v.log_path.read_text(), "trading.ingest_signals") for v in victims]
    assert any(killed_mid_poll), "no worker died inside a poll"
    assert writer.rows_failed == 0 and in_clickhouse == writer.rows_written
    assert account.chain_breaks == []
    assert account.accepted == account.fetched == in_clickhouse, account.reasons


def test_killing_a_worker_mid_submission_leaves_no_duplicate_order_and_one_execution_per_order(start_worker, settings):
    from tests.factories import make_strategy
    from tests.signals import macd_cross_up
    from torghut.devstack.venues import VenueServer
    from trading.orders.decisions import decisions_from_signals
    from trading.orders.models import Decision, Execution
    from trading.orders.services import executions_reconcile
    from trading.orders.tasks import submit_decision

    venue = VenueServer(kind="lean").start()
    try:
        # The venue takes each order at once and answers half a second later: kills land between the two.
        venue.set(slow_seconds=0.5, fault_phase="after_accept")
        run = uuid.uuid4().hex[:8]
        queue = f"faults-orders-{run}"
        env = {
            "TRADING_EXECUTION_ADAPTER": "lean",
            "TRADING_EXECUTION_FALLBACK_CHAIN": "lean",
            "TRADING_LEAN_URL": venue.url,
            "TRADING_LEAN_TIMEOUT_SECONDS": "10",
            "TRADING_MAX_ORDERS_PER_SECOND": "1000",
            "TRADING_DECISION_TTL_SECONDS": "600",
        }
        victim = start_worker(name=f"kill-orders-{run}", queues=queue, concurrency=2, include="", **env)
        make_strategy(adapter="lean")
        decisions = []
        with transaction.atomic():
            for i in range(40):
                decisions += decisions_from_signals(signals=macd_cross_up(f"K{i:02d}"), account="paper")
        assert len(decisions) == 40
        sent = [submit_decision.apply_async(args=[d.pk], queue=queue) for d in decisions]
        wait_until(lambda: venue.orders_received >= 8, timeout=60, what="orders at the venue")
        victim.stop(signal.SIGKILL)
        taken_at_kill = venue.orders_received
        assert _unfinished(victim.log_path.read_text(), "trading.submit_decision"), "the worker died with no submission in flight"

        _restore_unacked()
        heir = start_worker(name=f"kill-orders-heir-{run}", queues=queue, concurrency=2, include="", **env)
        outcomes = [result.get(timeout=120) for result in sent]
        heir.stop()

        settings.TRADING_LEAN_URL = venue.url
        settings.TRADING_EXECUTION_ADAPTER = "lean"
        settings.TRADING_EXECUTION_FALLBACK_CHAIN = ["lean"]
        settings.TRADING_RECONCILE_GRACE_SECONDS = 0
        executions_reconcile()
        executions_reconcile()
    finally:
        venue.stop()

    assert taken_at_kill < 40 and "skipped" in outcomes
    assert venue.orders_received == len(venue.orders) == 40, "an order reached the venue twice (or never)"
    assert Execution.objects.count() == 40
    assert set(Execution.objects.values_list("client_order_id", flat=True)) == set(venue.orders)
    assert not Decision.objects.filter(execution__isnull=True).exists()
    assert Execution.objects.filter(route_tag="reconciled").exists(), "no order was settled by reconciliation"
