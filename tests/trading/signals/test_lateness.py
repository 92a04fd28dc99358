"""Rows that arrive after the cursor passed their key: processed once within the allowed lateness, counted
and alerted past it, found and repaired by the audit; ReplacingMergeTree versions read once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from tests.signals import COLUMNS, now_utc, seconds_ago, signal_row
from torghut.core import clickhouse
from trading.alerts.models import Alert
from trading.signals import source as signal_source
from trading.signals.audit import signals_audit
from trading.signals.ingest import signals_ingest
from trading.signals.lateness import late_rows_evaluate
from trading.signals.models import IngestWindow, SignalAuditRun, SignalMinuteTally

pytestmark = pytest.mark.django_db


def poll(now, **kwargs) -> IngestWindow:
    return signals_ingest(source="ta", account="paper", now=now, **kwargs)


def processed_keys(windows: list[IngestWindow]) -> int:
    return sum(w.rows_accepted for w in windows)


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_a_late_row_at_any_position_of_the_passed_batch_is_processed_exactly_once(signal_table, static_universe, position):
    now = now_utc()
    t = seconds_ago(now, 4)
    on_time = [signal_row("AAPL", t, 1), signal_row("MSFT", t + timedelta(seconds=1), 2), signal_row("NVDA", t + timedelta(seconds=2), 3)]
    signal_table.insert(on_time)
    first = poll(now)
    late_at = {"first": t - timedelta(seconds=1), "middle": t + timedelta(seconds=1), "last": t + timedelta(seconds=2)}[position]
    signal_table.insert([signal_row("AAPL", late_at, 9)])  # behind the cursor (t + 2 s, NVDA, 3) now

    second, third = poll(now + timedelta(seconds=1)), poll(now + timedelta(seconds=2))

    assert first.rows_accepted == 3
    assert (second.rows_late, second.rows_accepted, second.reason) == (1, 1, "signals_present")
    assert (third.rows_late, third.rows_accepted) == (0, 0)
    assert sum(SignalMinuteTally.objects.values_list("rows", flat=True)) == 4


def test_late_rows_across_poll_boundaries_with_small_batches_are_each_processed_once(signal_table, static_universe):
    now = now_utc()
    t = seconds_ago(now, 6)
    signal_table.insert([signal_row("AAPL", t + timedelta(seconds=i), i) for i in range(6)])
    windows = [poll(now, batch_size=2) for _ in range(3)]  # the cursor crosses the batch in three polls
    signal_table.insert([signal_row("MSFT", t + timedelta(seconds=i), 100 + i) for i in range(6)])  # a slow writer
    windows += [poll(now + timedelta(seconds=1), batch_size=2) for _ in range(3)]

    assert processed_keys(windows) == 12
    assert sum(w.rows_late for w in windows) == 5  # MSFT at t + 5 s sorts after the cursor (t + 5 s, AAPL): read at the head


def test_rows_later_than_the_allowed_lateness_are_counted_per_symbol_once_and_alerted(signal_table, static_universe, settings):
    settings.TRADING_SIGNAL_ALLOWED_LATENESS_SECONDS = 1
    settings.TRADING_INGEST_INTERVAL_SECONDS = 1  # horizon 2 s, band to 4 s behind now
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 3), 1), signal_row("AAPL", seconds_ago(now, 1), 2)])
    poll(now)
    signal_table.insert([signal_row("NVDA", seconds_ago(now, 3), 7), signal_row("NVDA", seconds_ago(now, 3), 8)])

    late, again = poll(now), poll(now)

    assert (late.rows_too_late, late.too_late_by_symbol, late.rows_accepted) == (2, {"NVDA": 2}, 0)
    assert again.rows_too_late == 0
    verdicts = late_rows_evaluate(now=now)
    assert [v["action"] for v in verdicts] == ["open"]
    alert = Alert.objects.get(key="signal_late_rows:ta:paper:0", closed_at__isnull=True)
    assert alert.payload["by_symbol"] == {"NVDA": 2}


def test_the_audit_finds_a_deliberately_skipped_minute_and_repair_reingests_it(signal_table, static_universe):
    now = now_utc()
    minute = (now - timedelta(minutes=5)).replace(second=0)
    signal_table.insert([signal_row("AAPL", minute + timedelta(seconds=i), i) for i in range(10)])
    signal_table.insert([signal_row("MSFT", minute + timedelta(minutes=1, seconds=i), i) for i in range(5)])
    signal_table.insert([signal_row("NVDA", minute + timedelta(minutes=2, seconds=30), 1)])  # the cursor passes both minutes
    poll(now)
    SignalMinuteTally.objects.filter(symbol="MSFT").delete()  # as if ingest had skipped that minute

    found = signals_audit(since=minute, now=now)
    call_command("signals_audit", "--since", minute.isoformat(), "--repair")
    after = signals_audit(since=minute, now=now)

    assert (found.missing_rows, found.gaps) == (
        5,
        [{"symbol": "MSFT", "minute": (minute + timedelta(minutes=1)).isoformat(), "clickhouse": 5, "processed": 0}],
    )
    assert SignalAuditRun.objects.order_by("id")[1].repaired_rows == 5
    assert after.missing_rows == 0


# --- production-shaped tables: ReplacingMergeTree versions, Nullable, is_final (LowCardinality needs an
# experimental setting on 18.16, so the symbol stays String here) ---


PROD = "ta_signals_prod"


def _prod_ddl() -> str:
    from trading.signals.types import INDICATORS

    indicators = ",\n".join(f"{name} Nullable(Float64)" for name in INDICATORS)
    return (
        f"CREATE TABLE {PROD} (symbol String, event_ts DateTime('UTC'), seq UInt64, ingest_ts DateTime('UTC'), "
        f"source String, window_size String, is_final UInt8 DEFAULT 1, version UInt64 DEFAULT 0, "
        f"window_start DateTime('UTC') DEFAULT event_ts, window_end DateTime('UTC') DEFAULT event_ts, {indicators}) "
        "ENGINE = ReplacingMergeTree(ingest_ts) PARTITION BY toDate(event_ts) ORDER BY (symbol, event_ts, seq)"
    )


@pytest.fixture
def prod_table(settings, static_universe):
    settings.TRADING_SIGNAL_TABLE = PROD
    settings.TRADING_SIGNAL_PROBE_CACHE_SECONDS = 0
    clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {PROD}")
    clickhouse.execute("test_ddl", _prod_ddl())
    clickhouse.execute("test_stop_merges", f"SYSTEM STOP MERGES {PROD}")
    signal_source.forget_table_shape()
    signal_source.probe_forget()

    def insert(rows: list[tuple], *, ingest_ts=None, is_final: int = 1) -> None:
        stamped = [(*r[:3], ingest_ts or r[3], *r[4:], is_final) for r in rows]
        clickhouse.execute("test_insert", f"INSERT INTO {PROD} ({', '.join(COLUMNS)}, is_final) VALUES", stamped)
        signal_source.probe_forget()

    yield insert
    clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {PROD}")
    signal_source.forget_table_shape()
    signal_source.probe_forget()


def test_a_replacing_table_is_read_with_final_and_the_production_columns_are_detected(prod_table):
    shape = signal_source.table_shape()
    assert (shape.replacing, shape.has_is_final) == (True, True)


def test_a_key_with_three_versions_in_three_parts_is_processed_once_with_its_newest_version(prod_table):
    now = now_utc()
    t = seconds_ago(now, 30)
    for version in range(3):  # merges are stopped: three parts, three versions of one key
        prod_table([signal_row("AAPL", t, 1, rsi14=10.0 + version)], ingest_ts=t + timedelta(seconds=version))
    parts = clickhouse.query("test_parts", f"SELECT count() FROM system.parts WHERE table = '{PROD}' AND active")[0][0]

    window = poll(now)

    assert parts == 3
    assert (window.rows_fetched, window.rows_accepted) == (1, 1)
    assert sum(w.rows_accepted for w in [poll(now + timedelta(seconds=1))]) == 0


@pytest.mark.parametrize("order", ["provisional_first", "final_first"])
def test_only_final_rows_are_acted_on_whichever_version_arrives_first(prod_table, order):
    now = now_utc()
    t = seconds_ago(now, 3)
    provisional = dict(rows=[signal_row("AAPL", t, 1, rsi14=20.0)], ingest_ts=t, is_final=0)
    final = dict(rows=[signal_row("AAPL", t, 1, rsi14=30.0)], ingest_ts=t + timedelta(seconds=1), is_final=1)
    first, second = (provisional, final) if order == "provisional_first" else (final, provisional)
    prod_table(**first)
    windows = [poll(now)]
    prod_table(**second)
    windows += [poll(now + timedelta(seconds=1)), poll(now + timedelta(seconds=2))]

    assert sum(w.rows_accepted for w in windows) == 1


def test_latest_prices_skip_null_vwap_on_the_production_column_shape(prod_table):
    now = now_utc()
    t = seconds_ago(now, 30)
    prod_table([signal_row("AAPL", t, 1, vwap_w5m=101.0), signal_row("MSFT", t, 1, vwap_w5m=250.0)])
    prod_table([signal_row("AAPL", t + timedelta(seconds=1), 2, vwap_w5m=None)])

    prices = signal_source.latest_prices(symbols=["AAPL", "MSFT", "NVDA"], since=t - timedelta(minutes=1))

    assert prices == {"AAPL": 101.0, "MSFT": 250.0}


def test_an_empty_table_with_an_old_cursor_advances_it_as_empty_batch_advanced(signal_table, static_universe, settings):
    settings.TRADING_SIGNAL_EMPTY_ADVANCE_SECONDS = 120
    settings.TRADING_SIGNAL_LOOKBACK_SECONDS = 600
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 900), 1)])
    poll(now - timedelta(seconds=400))  # the cursor sits 900 s back, older than the lookback of a poll at `now`
    signal_table.truncate()

    window = poll(now)

    assert window.reason == "empty_batch_advanced"
    assert window.cursor_after["at"] == seconds_ago(now, 120).isoformat()
