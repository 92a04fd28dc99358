"""Ingest polls against the real ClickHouse and Postgres: reasons, cursor moves, bad rows, outages."""

from __future__ import annotations

import socket
import threading
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings

from tests.signals import INF, NAN, UNIVERSE, now_utc, seconds_ago, signal_row
from torghut.core import clickhouse
from trading.signals import source as signal_source
from trading.signals.ingest import batch_validate, signals_ingest
from trading.signals.models import IngestCursor, IngestWindow

pytestmark = pytest.mark.django_db


def poll(now: datetime, **kwargs) -> IngestWindow:
    return signals_ingest(source="ta", account="paper", now=now, **kwargs)


def cursor() -> IngestCursor:
    return IngestCursor.objects.get(source="ta", account="paper", shard=0)


def test_rows_in_the_universe_are_accepted_and_the_cursor_moves_to_the_last_row(signal_table, static_universe):
    now = now_utc()
    t = seconds_ago(now, 30)
    signal_table.insert([signal_row("AAPL", t, 1), signal_row("MSFT", t, 1), signal_row("AAPL", t + timedelta(seconds=1), 2)])

    window = poll(now)

    assert window.reason == "signals_present"
    assert (window.rows_fetched, window.rows_accepted, window.rows_rejected) == (3, 3, 0)
    assert window.lag_seconds == pytest.approx(29, abs=1)
    assert window.cursor_before == {"at": None, "symbol": "", "seq": 0}
    assert window.cursor_after == {"at": (t + timedelta(seconds=1)).isoformat(), "symbol": "AAPL", "seq": 2}
    assert cursor().streaks == {"signals_present": 1}


def test_an_empty_table_gives_no_signals_in_window(signal_table, static_universe):
    window = poll(now_utc())
    assert window.reason == "no_signals_in_window"
    assert window.rows_fetched == 0


def test_a_caught_up_cursor_reports_tail_stable_and_counts_the_streak(signal_table, static_universe):
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 10), 1)])
    assert poll(now).reason == "signals_present"

    first, second = poll(now + timedelta(seconds=5)), poll(now + timedelta(seconds=10))

    assert (first.reason, second.reason) == ("cursor_tail_stable", "cursor_tail_stable")
    assert second.cursor_after == first.cursor_before
    assert cursor().streaks == {"cursor_tail_stable": 2}


def test_a_quiet_stream_advances_the_cursor_once_the_empty_window_is_old(signal_table, static_universe, settings):
    settings.TRADING_SIGNAL_EMPTY_ADVANCE_SECONDS = 120
    now = now_utc()
    t = seconds_ago(now, 300)
    signal_table.insert([signal_row("AAPL", t, 1)])
    assert poll(now).reason == "signals_present"

    advanced = poll(now)
    again = poll(now)

    assert advanced.reason == "empty_batch_advanced"
    assert advanced.cursor_after == {"at": seconds_ago(now, 120).isoformat(), "symbol": "", "seq": 0}
    assert again.reason == "cursor_tail_stable"


def test_a_cursor_ahead_of_the_stream_is_rewound_to_the_last_row_without_rereading_it(signal_table, static_universe, settings):
    settings.TRADING_SIGNAL_LOOKBACK_SECONDS = 600
    now = now_utc()
    last = seconds_ago(now, 1800)
    signal_table.insert([signal_row("AAPL", last - timedelta(seconds=1), 1), signal_row("MSFT", last, 7)])
    IngestCursor.objects.create(source="ta", account="paper", cursor_at=seconds_ago(now, 60), cursor_symbol="SPY", cursor_seq=3)

    window = poll(now)

    assert window.reason == "cursor_ahead_of_stream"
    assert window.cursor_after == {"at": last.isoformat(), "symbol": "MSFT", "seq": 7}
    followup = poll(now)
    assert followup.rows_fetched == 0
    assert followup.reason != "cursor_ahead_of_stream"


def test_a_cursor_older_than_the_lookback_fast_forwards_and_skips_stale_rows(signal_table, static_universe, settings):
    settings.TRADING_SIGNAL_LOOKBACK_SECONDS = 600
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 3600), 1), signal_row("AAPL", seconds_ago(now, 60), 2)])
    IngestCursor.objects.create(source="ta", account="paper", cursor_at=seconds_ago(now, 7200))

    window = poll(now)

    assert window.reason == "signals_present"
    assert window.rows_fetched == 1
    assert window.cursor_after["seq"] == 2


def test_rows_sharing_an_event_time_are_read_in_symbol_then_seq_order_across_small_batches(signal_table, static_universe):
    now = now_utc()
    t = seconds_ago(now, 20)
    rows = [signal_row(sym, t, seq) for sym in ("SPY", "AAPL", "MSFT") for seq in (3, 1, 2)]
    signal_table.insert(rows)

    seen = []
    for _ in range(4):
        window = poll(now, batch_size=2)
        seen.append((window.cursor_after["symbol"], window.cursor_after["seq"], window.rows_accepted))

    assert [s[:2] for s in seen] == [("AAPL", 2), ("MSFT", 1), ("MSFT", 3), ("SPY", 2)]
    final = poll(now, batch_size=2)
    assert final.rows_accepted == 1 and final.cursor_after["symbol"] == "SPY" and final.cursor_after["seq"] == 3
    assert sum(IngestWindow.objects.values_list("rows_accepted", flat=True)) == 9


def test_each_kind_of_bad_row_is_skipped_with_its_reason_and_never_stalls_the_cursor(signal_table, static_universe):
    now = now_utc()
    t = seconds_ago(now, 30)
    signal_table.insert(
        [
            signal_row("", t, 1),
            signal_row("   ", t, 2),
            signal_row("AAPL", t, 3, rsi14=NAN),
            signal_row("MSFT", t, 4, macd=INF),
            signal_row("MSFT", t, 5, ema26=-INF),
            signal_row("ZZZZ", t, 6),
            signal_row("SPY", t, 7),
            signal_row("NVDA", now + timedelta(seconds=3600), 8),
        ]
    )

    window = poll(now)

    assert window.reason == "signals_present"
    assert window.rows_accepted == 1
    assert window.rejected_by_reason == {"null_symbol": 2, "bad_indicator": 3, "outside_universe": 1, "future_timestamp": 1}
    # The cursor passes every bad row stamped up to now, but stops before the row from the future.
    assert window.cursor_after == {"at": t.isoformat(), "symbol": "ZZZZ", "seq": 6}
    assert poll(now).rows_accepted == 0


def test_a_future_row_is_accepted_once_its_time_has_come(signal_table, static_universe):
    now = now_utc()
    signal_table.insert([signal_row("NVDA", now + timedelta(seconds=60), 1)])
    assert poll(now).rejected_by_reason == {"future_timestamp": 1}
    later = poll(now + timedelta(seconds=61))
    assert later.rows_accepted == 1


def test_rows_from_the_future_do_not_hide_a_caught_up_cursor(signal_table, static_universe):
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 10), 1), signal_row("NVDA", now + timedelta(hours=1), 2)])
    assert poll(now).reason == "signals_present"

    window = poll(now + timedelta(seconds=5))

    assert window.reason == "cursor_tail_stable"
    assert window.rejected_by_reason == {"future_timestamp": 1}
    assert window.lag_seconds == pytest.approx(15, abs=1)


def test_validation_prices_a_signal_from_vwap_and_falls_back_to_the_bollinger_mid(signal_table):
    now = now_utc()
    signal_table.insert(
        [signal_row("AAPL", now, 1, vwap_w5m=101.5, boll_mid=99.0), signal_row("AAPL", now, 2, vwap_w5m=0.0, boll_mid=99.0)]
    )
    columns = signal_source.fetch_after(signal_source.CursorKey(at=now - timedelta(seconds=1)), limit=10)
    batch = batch_validate(columns, universe=frozenset(UNIVERSE), future_limit=now)
    assert [s.price for s in batch.accepted] == [101.5, 99.0]
    assert [(s.symbol, s.event_ts, s.seq, s.source, s.window_size) for s in batch.accepted] == [
        ("AAPL", now, 1, "ta", "1s"),
        ("AAPL", now, 2, "ta", "1s"),
    ]
    assert batch.accepted[0].rsi14 == 55.0


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_clickhouse_unreachable_keeps_the_cursor_and_recovery_continues_without_a_gap(signal_table, static_universe):
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 40), 1)])
    first = poll(now)
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 20), 2), signal_row("MSFT", seconds_ago(now, 10), 3)])

    with override_settings(CLICKHOUSE_URL=f"clickhouse://default@127.0.0.1:{_dead_port()}/torghut_test"):
        clickhouse.reset_connections()
        down = poll(now)
    clickhouse.reset_connections()
    recovered = poll(now)

    assert down.reason == "clickhouse_unavailable"
    assert down.cursor_after == down.cursor_before == first.cursor_after
    assert recovered.reason == "signals_present"
    assert recovered.cursor_before == first.cursor_after
    assert recovered.rows_accepted == 2


def test_a_clickhouse_that_never_answers_gives_query_timeout_and_keeps_the_cursor(signal_table, static_universe):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    silent_url = f"clickhouse://default@127.0.0.1:{silent.getsockname()[1]}/torghut_test"
    try:
        with override_settings(CLICKHOUSE_URL=silent_url, CLICKHOUSE_SEND_RECEIVE_TIMEOUT=0.5, CLICKHOUSE_CONNECT_TIMEOUT=0.5):
            clickhouse.reset_connections()
            window = poll(now_utc())
    finally:
        silent.close()
        clickhouse.reset_connections()
    assert window.reason == "clickhouse_query_timeout"
    assert window.cursor_after == window.cursor_before


def test_the_jangar_universe_failing_closed_keeps_the_cursor_and_reports_the_reason(signal_table, jangar):
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 10), 1)])
    jangar.stop()

    window = poll(now)

    assert window.reason == "universe_source_unavailable"
    assert window.universe_status == "unavailable"
    assert window.rows_fetched == 0 and window.cursor_after == window.cursor_before
    assert "jangar unreachable" in window.detail


def test_the_time_literal_matches_the_precision_of_datetime_and_datetime64_columns():
    at = datetime(2026, 3, 2, 14, 30, 5, 123456, tzinfo=UTC)
    assert signal_source.time_precision_of("DateTime('UTC')") == 0
    assert signal_source.time_precision_of("DateTime64(3, 'UTC')") == 3
    assert signal_source.time_precision_of("Nullable(DateTime64(3))") == 3
    assert signal_source.time_literal(at, 0) == "2026-03-02 14:30:05"
    assert signal_source.time_literal(at, 3) == "2026-03-02 14:30:05.123"
    assert signal_source.floor_to_precision(at, 3).microsecond == 123000
    with pytest.raises(ValueError):
        signal_source.time_precision_of("String")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_ingests_over_10k_rows_process_every_row_exactly_once(signal_table, static_universe):
    now = now_utc()
    base = seconds_ago(now, 300)
    rows = [signal_row(UNIVERSE[i % 4], base + timedelta(seconds=i // 40), i) for i in range(10_000)]
    signal_table.insert(rows)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(40):
                if poll(now, batch_size=500).reason != "signals_present":
                    break
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    windows = list(IngestWindow.objects.filter(reason="signals_present").order_by("id"))
    assert sum(w.rows_accepted for w in windows) == 10_000
    for earlier, later in zip(windows, windows[1:]):
        assert later.cursor_before == earlier.cursor_after, "a poll read from a cursor another poll had already moved"
    assert windows[-1].cursor_after == {"at": (base + timedelta(seconds=249)).isoformat(), "symbol": "SPY", "seq": 9_999}


def test_shards_split_the_universe_by_crc32_and_together_read_every_row_once(signal_table, static_universe, settings):
    settings.TRADING_INGEST_SHARDS = 2
    now = now_utc()
    rows = [signal_row(sym, seconds_ago(now, 30 - i), i) for i in range(10) for sym in UNIVERSE]
    signal_table.insert([*rows, signal_row("ZZZZ", seconds_ago(now, 5), 99), signal_row("", seconds_ago(now, 5), 100)])

    zero = signals_ingest(source="ta", account="paper", shard=0, now=now)
    one = signals_ingest(source="ta", account="paper", shard=1, now=now)

    mine = {0: set(), 1: set()}
    for symbol in UNIVERSE:
        mine[zlib.crc32(symbol.encode()) % 2].add(symbol)
    assert zero.rows_accepted == 10 * len(mine[0]) and one.rows_accepted == 10 * len(mine[1])
    assert zero.rejected_by_reason == {"outside_universe": 1, "null_symbol": 1}
    assert one.rejected_by_reason == {}
    assert IngestCursor.objects.filter(source="ta").count() == 2


def test_the_tail_probe_is_cached_and_its_last_value_reused_when_clickhouse_fails(signal_table, settings):
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 50), 1)])
    settings.TRADING_SIGNAL_PROBE_CACHE_SECONDS = 30
    first = signal_source.latest_event_ts(now=now)
    clickhouse.execute("test_insert_later", "INSERT INTO ta_signals (symbol, event_ts, seq) VALUES", [("AAPL", seconds_ago(now, 10), 2)])
    cached = signal_source.latest_event_ts(now=now)
    assert first.latest == cached.latest == seconds_ago(now, 50) and not cached.stale

    settings.TRADING_SIGNAL_PROBE_CACHE_SECONDS = 0
    database = clickhouse.target().database
    with override_settings(CLICKHOUSE_URL=f"clickhouse://default@127.0.0.1:{_dead_port()}/{database}"):
        clickhouse.reset_connections()
        stale = signal_source.latest_event_ts(now=now)
    clickhouse.reset_connections()
    assert stale.stale and stale.latest == seconds_ago(now, 50)
    assert signal_source.latest_event_ts(now=now).latest == seconds_ago(now, 10)


def test_with_a_settle_time_rows_of_a_second_read_in_part_are_not_skipped_when_the_rest_arrive_late(
    signal_table, static_universe, settings
):
    settings.TRADING_SIGNAL_SETTLE_SECONDS = 2
    second = seconds_ago(now_utc(), 20)
    signal_table.insert([signal_row("MSFT", second, 1)])
    early = poll(second + timedelta(milliseconds=500))  # the second may still be getting written: left unread
    assert (early.rows_fetched, early.rows_accepted) == (0, 0)
    # AAPL sorts before MSFT: a cursor that had read MSFT would have passed it for good.
    signal_table.insert([signal_row("AAPL", second, 1)])
    settled = poll(second + timedelta(seconds=3, milliseconds=500))
    assert (settled.rows_fetched, settled.rows_accepted) == (2, 2)
    assert poll(second + timedelta(seconds=8)).rows_fetched == 0


def test_a_cursor_caught_up_with_the_settled_rows_is_tail_stable_and_never_jumps_rows_still_settling(
    signal_table, static_universe, settings
):
    settings.TRADING_SIGNAL_SETTLE_SECONDS = 2
    settings.TRADING_SIGNAL_EMPTY_ADVANCE_SECONDS = 0  # the quiet-stream advance would move the cursor to `now`
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 3), 1)])
    assert poll(now).rows_accepted == 1
    signal_table.insert([signal_row("MSFT", seconds_ago(now, 1), 1)])  # written late, inside the settle time
    stable = poll(now + timedelta(milliseconds=500))
    assert (stable.reason, stable.rows_fetched) == ("cursor_tail_stable", 0)
    assert poll(now + timedelta(milliseconds=2500)).rows_accepted == 1


def test_with_a_settle_time_rows_from_the_future_are_still_refused_and_counted(signal_table, static_universe, settings):
    settings.TRADING_SIGNAL_SETTLE_SECONDS = 2
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 10), 1), signal_row("NVDA", now + timedelta(hours=1), 1)])
    window = poll(now)
    assert (window.rows_accepted, window.rejected_by_reason) == (1, {"future_timestamp": 1})
