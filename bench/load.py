"""Load: the market simulator at 8k signals/s across 500 symbols, ingested by two worker processes.

Every row must be processed exactly once (ClickHouse count against the IngestWindow sums, and an
unbroken cursor chain per shard) and the signal lag p99 must stay under 5 s. TORGHUT_LOAD_SECONDS
sets the duration: 60 s under `make bench`, 600 s under `make load`, 20 s in the test suite.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")
os.environ.setdefault("TORGHUT_TESTING", "1")

RATE = float(os.environ.get("TORGHUT_LOAD_RATE", "8000"))
SYMBOLS = int(os.environ.get("TORGHUT_LOAD_SYMBOLS", "500"))
SHARDS = 2
LAG_P99_TARGET = 5.0


@dataclass
class LoadResult:
    seconds: float
    rows_written: int
    rows_failed: int
    rows_in_clickhouse: int
    rows_accepted: int
    rows_fetched: int
    windows: int
    chain_breaks: list[str]
    lag_p50: float
    lag_p99: float
    reasons: dict[str, int]

    @property
    def exactly_once(self) -> bool:
        return self.rows_accepted == self.rows_in_clickhouse == self.rows_fetched and not self.chain_breaks


def load_run(
    *, seconds: float, rate: float = RATE, symbol_count: int = SYMBOLS, database_url: str | None = None, drain_timeout: float = 120.0
) -> tuple[LoadResult, str]:
    """Write simulator rows for `seconds` while two ingest workers poll two shards; account for every row.

    Returns the result and the cursor source its IngestWindow rows are filed under.
    """
    from bench import _harness as h

    run = uuid.uuid4().hex[:10]
    table, source, queue = f"ta_signals_load_{run}", f"load-{run}", f"load-ingest-{run}"
    names = h.symbols(symbol_count)
    h.signal_table_create(table)
    env = h.ingest_worker_env(table=table, source=source, names=names, shards=SHARDS, database_url=database_url or h.database_url())
    workers = [h.IngestWorker(name=f"load{n}-{run}", queue=queue, env=env) for n in (1, 2)]
    writer = driver = None
    try:
        for worker in workers:
            worker.wait_ready()
        writer = h.SignalWriter(table=table, names=names, rate=rate)
        driver = h.IngestDriver(queue=queue, shards=SHARDS, interval=0.2)
        driver.start()
        writer.start()
        time.sleep(seconds)
        writer.stop()
        in_clickhouse = h.signal_table_count(table)
        account = h.wait_for_drain(source=source, expected=in_clickhouse, timeout=drain_timeout)
        # A few more polls after the drain would expose a row read twice.
        time.sleep(1.0)
        account = h.ingest_account(source=source)
    finally:
        for thread in (driver, writer):
            if thread is not None:
                thread.stop()
        for worker in workers:
            worker.stop()
        h.signal_table_drop(table)
    return LoadResult(
        seconds=writer.stopped_at - writer.started_at,
        rows_written=writer.rows_written,
        rows_failed=writer.rows_failed,
        rows_in_clickhouse=in_clickhouse,
        rows_accepted=account.accepted,
        rows_fetched=account.fetched,
        windows=account.windows,
        chain_breaks=account.chain_breaks,
        lag_p50=h.percentile(account.lags, 50),
        lag_p99=h.percentile(account.lags, 99),
        reasons=account.reasons,
    ), source


def main() -> int:
    import django

    django.setup()
    from bench.report import record
    from trading.signals.models import IngestCursor, IngestWindow

    seconds = float(os.environ.get("TORGHUT_LOAD_SECONDS", "60"))
    print(f"load: {RATE:,.0f} signals/s over {SYMBOLS} symbols for {seconds:.0f} s, two ingest workers, {SHARDS} shards")
    result, source = load_run(seconds=seconds)
    IngestWindow.objects.filter(source=source).delete()
    IngestCursor.objects.filter(source=source).delete()
    for key, value in asdict(result).items():
        print(f"  {key}: {value}")
    written_rate = result.rows_in_clickhouse / result.seconds
    accepted_rate = result.rows_accepted / result.seconds
    record(
        bench="load",
        figure="rows ingested per second (exactly once)",
        value=accepted_rate,
        unit="rows/s",
        baseline="simulator rows written per second",
        baseline_value=written_rate,
        ratio=accepted_rate / written_rate,
        target=f"1.00x of {RATE:,.0f}/s, no row twice",
        ok=result.exactly_once and written_rate >= 0.95 * RATE,
    )
    record(
        bench="load",
        figure="signal lag p99",
        value=result.lag_p99,
        unit="s",
        baseline="signal lag p50",
        baseline_value=result.lag_p50,
        ratio=result.lag_p99 / result.lag_p50 if result.lag_p50 else float("nan"),
        target=f"< {LAG_P99_TARGET:g} s",
        ok=result.lag_p99 < LAG_P99_TARGET,
    )
    ok = result.exactly_once and result.lag_p99 < LAG_P99_TARGET
    print(
        f"verdict: {'PASS' if ok else 'FAIL'} (exactly once: {result.exactly_once}, lag p99 {result.lag_p99:.2f} s, "
        f"written {written_rate:,.0f}/s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
