"""Pieces shared by the load bench and the fault tests: a simulator writer, an ingest driver, ingest
worker processes and the exactly-once accounting of ClickHouse rows against IngestWindow sums.

Runs inside a configured Django process (bench script or pytest).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("symbol", "event_ts", "seq", "ingest_ts", "source", "window_size")


def symbols(count: int) -> list[str]:
    return [f"L{i:03d}" for i in range(count)]


def signal_table_create(table: str) -> None:
    """A fresh table with the ta_signals layout (dropped first)."""
    from torghut.core import clickhouse
    from trading.signals import source as signal_source

    clickhouse.ensure_database()
    clickhouse.execute("harness_drop", f"DROP TABLE IF EXISTS {clickhouse.quote_identifier(table)}")
    for statement in signal_source.ddl_statements(table):
        clickhouse.execute("harness_ddl", statement)


def signal_table_drop(table: str) -> None:
    from torghut.core import clickhouse

    clickhouse.execute("harness_drop", f"DROP TABLE IF EXISTS {clickhouse.quote_identifier(table)}")


def signal_table_count(table: str, *, client=None) -> int:
    from torghut.core import clickhouse

    sql = f"SELECT count() FROM {clickhouse.quote_identifier(table)}"
    if client is not None:
        return int(client.execute(sql)[0][0])
    return int(clickhouse.query("harness_count", sql)[0][0])


class SignalWriter(threading.Thread):
    """Writes simulator ticks (`rate` rows/s over `names`) into `table`, flushing whole seconds at most every `flush_seconds`.

    A failed insert is counted in `rows_failed` and its rows are dropped, as the simulator does: rows
    that never reached ClickHouse are not expected downstream. `client` (a clickhouse_driver Client)
    targets another server than settings.CLICKHOUSE_URL.
    """

    def __init__(self, *, table: str, names: list[str], rate: float, flush_seconds: float = 0.5, seed: int = 7, client=None) -> None:
        super().__init__(name="signal-writer", daemon=True)
        from torghut.devstack.simulator import MarketSimulator
        from trading.signals.types import INDICATORS

        self.table, self.client = table, client
        self.simulator = MarketSimulator(symbols=names, seed=seed)
        self.tick_seconds = len(names) / rate
        self.flush_seconds = flush_seconds
        self.insert = f"INSERT INTO {table} ({', '.join((*COLUMNS, *INDICATORS))}) VALUES"
        self.stop_event = threading.Event()
        self.rows_written = self.rows_failed = 0
        self.started_at = self.stopped_at = 0.0

    def _flush(self, rows: list[tuple]) -> None:
        from torghut.core import clickhouse

        try:
            if self.client is not None:
                self.client.execute(self.insert, rows)
            else:
                clickhouse.execute("harness_insert", self.insert, rows)
            self.rows_written += len(rows)
        except Exception:  # noqa: BLE001 - an outage drops the batch, like the simulator command
            self.rows_failed += len(rows)
            if self.client is not None:
                self.client.disconnect()

    def run(self) -> None:
        # Every insert holds whole seconds, as a 1 s-window TA producer emits them: the table stores
        # second precision, and rows of a second the cursor already passed would never be read.
        self.started_at = time.monotonic()
        next_tick = self.started_at
        pending: list[tuple] = []
        pending_second: datetime | None = None
        last_flush = self.started_at
        while not self.stop_event.is_set():
            at = datetime.now(UTC)
            second = at.replace(microsecond=0)
            if pending and second != pending_second and time.monotonic() - last_flush >= self.flush_seconds:
                self._flush(pending)
                pending, last_flush = [], time.monotonic()
            pending += self.simulator.tick(at=at)
            pending_second = second
            next_tick += self.tick_seconds
            time.sleep(max(0.0, next_tick - time.monotonic()))
        if pending:
            self._flush(pending)
        self.stopped_at = time.monotonic()

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=30)


class IngestDriver(threading.Thread):
    """Publishes `trading.ingest_signals` for every shard every `interval` seconds (what beat does)."""

    def __init__(self, *, queue: str, shards: int, interval: float = 0.2, broker_url: str | None = None) -> None:
        super().__init__(name="ingest-driver", daemon=True)
        self.queue, self.shards, self.interval, self.broker_url = queue, shards, interval, broker_url
        self.stop_event = threading.Event()
        self.published = 0

    def run(self) -> None:
        from django.conf import settings

        from torghut.celery import app
        from trading.signals.tasks import ingest_signals

        with app.connection_for_write(self.broker_url or settings.CELERY_BROKER_URL) as conn:
            while not self.stop_event.is_set():
                for shard in range(self.shards):
                    try:
                        ingest_signals.apply_async(
                            kwargs={"shard": shard}, queue=self.queue, expires=max(2.0, 10 * self.interval), connection=conn, retry=False
                        )
                        self.published += 1
                    except Exception:  # noqa: BLE001 - a broker outage drops a tick, as it would drop a beat tick
                        time.sleep(0.2)
                self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=30)


class IngestWorker:
    """A `celery worker` subprocess consuming `queue`; ready when its log says so."""

    def __init__(self, *, name: str, queue: str, env: dict[str, str], concurrency: int = 1, log_dir: Path | None = None) -> None:
        log_dir = log_dir or ROOT / "var" / "test-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.name, self.log_path = name, log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "torghut",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--hostname",
            f"{name}@%h",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> IngestWorker:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited; log:\n{self.log_path.read_text()[-3000:]}")
            text = self.log_path.read_text()
            if f"{self.name}@" in text and " ready." in text:
                return self
            time.sleep(0.2)
        raise TimeoutError(f"worker {self.name} not ready in {timeout}s")

    def stop(self, sig: int = 15) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        self._log.close()


def ingest_worker_env(
    *, table: str, source: str, names: list[str], shards: int, database_url: str, batch_size: int = 5000, **extra: str
) -> dict[str, str]:
    """Worker settings for an ingest of `table` under its own cursor `source` with a static universe."""
    from django.conf import settings

    env = {
        "TORGHUT_TESTING": "1",
        "DATABASE_URL": database_url,
        "CLICKHOUSE_URL": settings.CLICKHOUSE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "TRADING_SIGNAL_TABLE": table,
        "TRADING_SIGNAL_SOURCE": source,
        "TRADING_UNIVERSE_SOURCE": "static",
        "TRADING_UNIVERSE_STATIC_SYMBOLS": ",".join(names),
        "TRADING_INGEST_SHARDS": str(shards),
        "TRADING_INGEST_BATCH_SIZE": str(batch_size),
        "TRADING_SIGNAL_PROBE_CACHE_SECONDS": "1",
    }
    env.update(extra)
    return env


def database_url() -> str:
    """DATABASE_URL of this process's default database (the test database under pytest)."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@dataclass
class IngestAccount:
    """What ingest recorded for one cursor source."""

    accepted: int = 0
    fetched: int = 0
    windows: int = 0
    lags: list[float] = field(default_factory=list)
    chain_breaks: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)


def ingest_account(*, source: str) -> IngestAccount:
    """Sums of IngestWindow rows of `source`, and every break in each shard's cursor chain.

    Windows are written under the shard's cursor lock, so their id order is the commit order; each
    window must start where the previous one of its shard ended, or rows were skipped or re-read.
    """
    from trading.signals.models import IngestWindow

    account = IngestAccount()
    last_after: dict[int, dict] = {}
    rows = (
        IngestWindow.objects.filter(source=source)
        .order_by("id")
        .values_list("id", "shard", "rows_accepted", "rows_fetched", "reason", "lag_seconds", "cursor_before", "cursor_after")
    )
    for pk, shard, accepted, fetched, reason, lag, before, after in rows.iterator():
        account.windows += 1
        account.accepted += accepted
        account.fetched += fetched
        account.reasons[reason] = account.reasons.get(reason, 0) + 1
        if reason == "signals_present" and lag is not None:
            account.lags.append(float(lag))
        if shard in last_after and before != last_after[shard]:
            account.chain_breaks.append(f"window {pk} (shard {shard}) starts at {before}, previous ended at {last_after[shard]}")
        last_after[shard] = after
    return account


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def wait_for_drain(*, source: str, expected: int, timeout: float) -> IngestAccount:
    """Poll the IngestWindow sums of `source` until they reach `expected` rows (or time out)."""
    deadline = time.monotonic() + timeout
    account = ingest_account(source=source)
    while account.accepted < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        account = ingest_account(source=source)
    return account
