"""Late rows: 8k signals/s over 500 symbols, 10% of them landing 0-3 s after their event time, two workers.

At default settings (allowed lateness 5 s) every row must be processed exactly once: rows lost 0 and rows
processed twice 0, counted per (symbol, minute) of ClickHouse against ingest's SignalMinuteTally; and the
signal lag p99 must stay within 1.5x of the same stream with no late rows (run first, same rate, same
workers). Lag counts polls while the stream runs. TORGHUT_INGEST_LATE_SECONDS sets each run's duration
(60 s under `make bench`); TORGHUT_INGEST_LATE_POLL_INTERVAL the driver's poll interval (1 s).
"""

from __future__ import annotations

import heapq
import os
import random
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")
os.environ.setdefault("TORGHUT_TESTING", "1")

from bench._harness import SignalWriter  # noqa: E402 - after the path and settings set-up above

RATE = float(os.environ.get("TORGHUT_LOAD_RATE", "8000"))
SYMBOLS = int(os.environ.get("TORGHUT_LOAD_SYMBOLS", "500"))
SHARDS = 2
LATE_SHARE = 0.10
LATE_MAX_SECONDS = 3.0
LAG_RATIO_TARGET = 1.5
# Seconds between the polls the driver publishes per shard (beat's default: 5). At 0.2 s (bench/load.py's) a
# poll with its lateness re-read (0.3-0.8 s here) cannot keep up: polls expire in the queue, one shard went
# 14 s without a poll and its late rows fell behind the horizon (counted as too late, 3,334 of 12,011).
POLL_INTERVAL = float(os.environ.get("TORGHUT_INGEST_LATE_POLL_INTERVAL", "1.0"))


class LateSignalWriter(SignalWriter):
    """SignalWriter whose rows are each, with probability `late_share`, inserted 0-`late_max` s after their
    event time (with a later flush), as a slow writer among several would land them."""

    def __init__(self, *, late_share: float, late_max: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.late_share, self.late_max = late_share, late_max
        self.random = random.Random(11)
        self.rows_late = 0

    def run(self) -> None:
        self.started_at = time.monotonic()
        next_tick = last_flush = self.started_at
        pending: list[tuple] = []
        delayed: list[tuple[float, int, tuple]] = []  # (due, order, row): a heap by due time
        order = 0
        while not self.stop_event.is_set():
            now = time.monotonic()
            while delayed and delayed[0][0] <= now:
                pending.append(heapq.heappop(delayed)[2])
            if pending and now - last_flush >= self.flush_seconds:
                self._flush(pending)
                pending, last_flush = [], time.monotonic()
            for row in self.simulator.tick(at=datetime.now(UTC)):
                if self.late_share and self.random.random() < self.late_share:
                    delay = self.random.uniform(0.0, self.late_max)
                    ingest_ts = row[1] + timedelta(seconds=delay)
                    heapq.heappush(delayed, (now + delay, order, (*row[:3], ingest_ts, *row[4:])))
                    order += 1
                    self.rows_late += 1
                else:
                    pending.append(row)
            next_tick += self.tick_seconds
            time.sleep(max(0.0, next_tick - time.monotonic()))
        # Rows still held are due within late_max: they land at their time, as they would have.
        while delayed:
            due, _, row = heapq.heappop(delayed)
            time.sleep(max(0.0, due - time.monotonic()))
            pending.append(row)
        if pending:
            self._flush(pending)
        self.stopped_at = time.monotonic()


@dataclass
class LateResult:
    late_share: float
    seconds: float
    rows_written: int
    rows_failed: int
    rows_late_written: int
    rows_in_clickhouse: int
    rows_processed: int
    rows_lost: int
    rows_twice: int
    rows_too_late: int
    rows_late_processed: int
    windows: int
    lag_p50: float
    lag_p99: float
    reasons: dict[str, int] = field(default_factory=dict)


def _minute_counts(table: str) -> dict[tuple[str, datetime], int]:
    from torghut.core import clickhouse

    rows = clickhouse.query(
        "bench_minute_counts",
        f"SELECT symbol, toStartOfMinute(event_ts) AS m, uniqExact(event_ts, seq) FROM {clickhouse.quote_identifier(table)} GROUP BY symbol, m",
        timeout=120,
    )
    return {(str(s), m.astimezone(UTC) if m.tzinfo else m.replace(tzinfo=UTC)): int(c) for s, m, c in rows}


def _processed_counts(source: str) -> dict[tuple[str, datetime], int]:
    from trading.signals.models import SignalMinuteTally

    return {
        (symbol, minute.astimezone(UTC)): rows
        for symbol, minute, rows in SignalMinuteTally.objects.filter(source=source).values_list("symbol", "minute", "rows")
    }


def late_run(*, seconds: float, late_share: float, drain_timeout: float = 60.0, keep: bool = False) -> LateResult:
    """One stream for `seconds` at RATE with `late_share` of its rows late, ingested by two workers polling two shards.

    With `keep` the run's IngestWindow rows stay in Postgres (source `late-<run>`) for inspection."""
    from django.db.models import Sum

    from bench import _harness as h
    from trading.signals.models import IngestCursor, IngestWindow, SignalMinuteTally

    run = uuid.uuid4().hex[:10]
    table, source, queue = f"ta_signals_late_{run}", f"late-{run}", f"late-ingest-{run}"
    names = h.symbols(SYMBOLS)
    h.signal_table_create(table)
    env = h.ingest_worker_env(table=table, source=source, names=names, shards=SHARDS, database_url=h.database_url())
    workers = [h.IngestWorker(name=f"late{n}-{run}", queue=queue, env=env) for n in (1, 2)]
    writer = driver = None
    try:
        for worker in workers:
            worker.wait_ready()
        writer = LateSignalWriter(table=table, names=names, rate=RATE, late_share=late_share, late_max=LATE_MAX_SECONDS)
        driver = h.IngestDriver(queue=queue, shards=SHARDS, interval=POLL_INTERVAL)
        driver.start()
        writer.start()
        time.sleep(seconds)
        stream_end = datetime.now(UTC)
        writer.stop()
        in_clickhouse = h.signal_table_count(table)
        h.wait_for_drain(source=source, expected=in_clickhouse, timeout=drain_timeout)
        # Keep polling past the allowed lateness: a row read twice by the re-read would show now.
        time.sleep(7.0)
        account = h.ingest_account(source=source)
        stored, processed = _minute_counts(table), _processed_counts(source)
        sums = IngestWindow.objects.filter(source=source).aggregate(late=Sum("rows_late"), too_late=Sum("rows_too_late"))
        # Lag while the stream runs: after it ends only held-back rows land and the head lag grows by itself.
        lags = list(
            IngestWindow.objects.filter(source=source, reason="signals_present", started_at__lte=stream_end)
            .exclude(lag_seconds=None)
            .values_list("lag_seconds", flat=True)
        )
    finally:
        for thread in (driver, writer):
            if thread is not None:
                thread.stop()
        for worker in workers:
            worker.stop()
        h.signal_table_drop(table)
    keys = set(stored) | set(processed)
    result = LateResult(
        late_share=late_share,
        seconds=writer.stopped_at - writer.started_at,
        rows_written=writer.rows_written,
        rows_failed=writer.rows_failed,
        rows_late_written=writer.rows_late,
        rows_in_clickhouse=in_clickhouse,
        rows_processed=sum(processed.values()),
        rows_lost=sum(max(0, stored.get(k, 0) - processed.get(k, 0)) for k in keys),
        rows_twice=sum(max(0, processed.get(k, 0) - stored.get(k, 0)) for k in keys),
        rows_too_late=int(sums["too_late"] or 0),
        rows_late_processed=int(sums["late"] or 0),
        windows=account.windows,
        lag_p50=h.percentile(lags, 50),
        lag_p99=h.percentile(lags, 99),
        reasons=account.reasons,
    )
    if not keep:
        IngestWindow.objects.filter(source=source).delete()
        IngestCursor.objects.filter(source=source).delete()
        SignalMinuteTally.objects.filter(source=source).delete()
    return result


def main() -> int:
    import django

    django.setup()
    from bench.report import record

    seconds = float(os.environ.get("TORGHUT_INGEST_LATE_SECONDS", "60"))
    print(
        f"ingest_late: {RATE:,.0f} signals/s over {SYMBOLS} symbols for {seconds:.0f} s per run, two workers, {SHARDS} shards, "
        f"{LATE_SHARE:.0%} of rows 0-{LATE_MAX_SECONDS:g} s late in the second run, default settings"
    )
    results = {}
    for share in (0.0, LATE_SHARE):
        results[share] = late_run(seconds=seconds, late_share=share)
        print(f"  late share {share:.0%}:")
        for key, value in asdict(results[share]).items():
            print(f"    {key}: {value}")
    base, late = results[0.0], results[LATE_SHARE]
    ratio = late.lag_p99 / base.lag_p99 if base.lag_p99 else float("nan")
    exactly_once = late.rows_lost == 0 and late.rows_twice == 0 and late.rows_processed == late.rows_in_clickhouse
    record(
        bench="ingest_late",
        figure="rows lost + rows twice with 10% of rows 0-3 s late",
        value=float(late.rows_lost + late.rows_twice),
        unit="rows",
        baseline="rows stored in ClickHouse",
        baseline_value=float(late.rows_in_clickhouse),
        ratio=(late.rows_lost + late.rows_twice) / late.rows_in_clickhouse if late.rows_in_clickhouse else float("nan"),
        target="0 lost, 0 twice",
        ok=exactly_once,
    )
    record(
        bench="ingest_late",
        figure="signal lag p99 with 10% late rows",
        value=late.lag_p99,
        unit="s",
        baseline="lag p99 of the same stream, no late rows",
        baseline_value=base.lag_p99,
        ratio=ratio,
        target=f"<= {LAG_RATIO_TARGET:g}x",
        ok=ratio <= LAG_RATIO_TARGET,
    )
    ok = exactly_once and ratio <= LAG_RATIO_TARGET
    print(
        f"verdict: {'PASS' if ok else 'FAIL'} (lost {late.rows_lost}, twice {late.rows_twice}, "
        f"lag p99 {late.lag_p99:.2f} s vs {base.lag_p99:.2f} s = {ratio:.2f}x)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
