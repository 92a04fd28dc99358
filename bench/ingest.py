"""Ingest throughput against the raw ClickHouse fetch of the same rows, measured in the same run.

Loads N rows (default 1,000,000; BENCH_INGEST_ROWS) into a bench copy of the signal table, then for
500-row and 50k-row batches (the small batch over the first BENCH_SMALL_BATCH_ROWS rows) times (a) paging through every row with the same tuple-ordered query and
the same numpy columnar driver read, and nothing else, and (b) the full ingest path (`signals_ingest`: fetch, validate, classify, hand-off,
cursor and IngestWindow commit). The hand-off runs one shadow strategy of each kind over every row. Prints rows/s for both and ingest/raw. Targets at the large batch:
ratio >= 0.5 and >= 200k signals/s per process.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")
os.environ.setdefault("TORGHUT_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from bench.report import record  # noqa: E402
from torghut.core import clickhouse  # noqa: E402
from trading.orders.models import Decision, SignalMemory  # noqa: E402
from trading.signals import source as signal_source  # noqa: E402
from trading.signals.ingest import signals_ingest  # noqa: E402
from trading.signals.models import IngestCursor, IngestWindow
from trading.signals.types import INDICATORS  # noqa: E402
from trading.strategies.models import Strategy

TABLE = "ta_signals_bench"
ROWS = int(os.environ.get("BENCH_INGEST_ROWS", "1000000"))
SYMBOLS = [f"S{i:03d}" for i in range(100)]
# The 500-row batch pages through a prefix of the table: a full pass would be 2,000 scans of the
# whole partition per method (the table is ordered by symbol first), far past the bench budget.
BATCHES = ((500, int(os.environ.get("BENCH_SMALL_BATCH_ROWS", "50000"))), (50_000, ROWS))
SOURCE = "bench"


def load(now: datetime) -> None:
    clickhouse.execute("bench_drop", f"DROP TABLE IF EXISTS {TABLE}")
    for statement in signal_source.ddl_statements(TABLE):
        clickhouse.execute("bench_ddl", statement)
    columns = ", ".join(("symbol", "event_ts", "seq", "ingest_ts", "source", "window_size", *INDICATORS))
    start = now - timedelta(seconds=ROWS // len(SYMBOLS) + 120)
    chunk = 100_000
    for offset in range(0, ROWS, chunk):
        rows = []
        for i in range(offset, min(ROWS, offset + chunk)):
            at = start + timedelta(seconds=i // len(SYMBOLS))
            price = 100.0 + (i % 997) / 100
            values = (0.1, 0.05, 0.05, price, price, 55.0, price, price + 1, price - 1, price, price, 0.01, price - 0.01, price + 0.01, 0.2)
            rows.append((SYMBOLS[i % len(SYMBOLS)], at, i, at, "bench", "1s", *values))
        clickhouse.execute("bench_insert", f"INSERT INTO {TABLE} ({columns}) VALUES", rows)


def raw_fetch(batch: int, cap: int, now: datetime) -> tuple[int, float]:
    cursor = signal_source.CursorKey(at=now - timedelta(days=1))
    total = 0
    started = time.perf_counter()
    while total < cap:
        columns = signal_source.fetch_raw(cursor, limit=batch)
        if not columns or not len(columns[0]):
            break
        total += len(columns[0])
        at = signal_source.as_utc(columns[1][-1].astype("datetime64[us]").item())
        cursor = signal_source.CursorKey(at=at, symbol=str(columns[0][-1]), seq=int(columns[2][-1]))
    return total, time.perf_counter() - started


def _clear(account: str) -> None:
    IngestWindow.objects.filter(source=SOURCE).delete()
    IngestCursor.objects.filter(source=SOURCE).delete()
    SignalMemory.objects.filter(account=account).delete()
    Decision.objects.filter(account=account).delete()


def ingest(batch: int, cap: int, now: datetime) -> tuple[int, float]:
    _clear(f"b{batch}")
    total = 0
    started = time.perf_counter()
    while total < cap:
        window = signals_ingest(source=SOURCE, account=f"b{batch}", now=now, batch_size=batch)
        if window.reason != "signals_present":
            break
        total += window.rows_accepted
    elapsed = time.perf_counter() - started
    _clear(f"b{batch}")
    return total, elapsed


def main() -> None:
    call_command("migrate", verbosity=0)
    clickhouse.ensure_database()
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    with override_settings(
        TRADING_SIGNAL_TABLE=TABLE,
        TRADING_UNIVERSE_SOURCE="static",
        TRADING_UNIVERSE_STATIC_SYMBOLS=SYMBOLS,
        TRADING_SIGNAL_LOOKBACK_SECONDS=86_400,
        TRADING_SIGNAL_PROBE_CACHE_SECONDS=30,
    ):
        signal_source.forget_table_shape()
        signal_source.probe_forget()
        load(now)
        # Every strategy kind evaluates every row of the hand-off; shadow lane, so no order leaves.
        strategies = [
            Strategy.objects.create(name=f"bench-{kind}", version="1", kind=kind, lane="shadow", parameters={})
            for kind in ("macd_rsi", "bollinger_reversion")
        ]
        print(f"loaded {ROWS:,} rows into {clickhouse.target().database}.{TABLE} in {time.perf_counter() - started:.1f}s")
        print(f"{'batch':>8} {'rows':>10} {'raw rows/s':>14} {'ingest rows/s':>14} {'ingest/raw':>11}")
        large_ratio = large_rate = 0.0
        for batch, cap in BATCHES:
            cap = min(cap, ROWS)
            raw_rows, raw_s = raw_fetch(batch, cap, now)
            ing_rows, ing_s = ingest(batch, cap, now)
            if raw_rows != cap or ing_rows != cap:
                raise SystemExit(f"row count mismatch: raw {raw_rows}, ingest {ing_rows}, expected {cap}")
            raw_rate, ing_rate = raw_rows / raw_s, ing_rows / ing_s
            print(f"{batch:>8,} {cap:>10,} {raw_rate:>14,.0f} {ing_rate:>14,.0f} {ing_rate / raw_rate:>11.2f}")
            large = batch == BATCHES[-1][0]
            if large:
                large_ratio, large_rate = ing_rate / raw_rate, ing_rate
            record(
                bench="ingest",
                figure=f"ingest, {batch:,}-row batches",
                value=ing_rate,
                unit="rows/s",
                baseline="raw fetch, same query",
                baseline_value=raw_rate,
                ratio=ing_rate / raw_rate,
                target=">= 0.5x and >= 200k rows/s" if large else "(informational)",
                ok=(ing_rate / raw_rate >= 0.5 and ing_rate >= 200_000) if large else True,
            )
        clickhouse.execute("bench_drop", f"DROP TABLE IF EXISTS {TABLE}")
        for strategy in strategies:
            strategy.delete()
        signal_source.probe_forget()
    verdict = "meets" if large_ratio >= 0.5 and large_rate >= 200_000 else "MISSES"
    print(
        f"ingest at 50,000-row batches: {large_rate:,.0f} rows/s, {large_ratio:.2f}x raw fetch "
        f"({verdict} target >= 0.5x and >= 200,000 rows/s; Postgres {settings.DATABASES['default']['NAME']})"
    )


if __name__ == "__main__":
    main()
