"""Order-path speed, each figure against a baseline measured in the same run.

1. Decision -> fill latency through the real Celery pipeline (dispatch, worker, risk checks, router,
   simulated adapter, execution row) against a bare no-op Celery round trip on the same broker and
   worker; p50 and p99 and their ratios (target <= 1.5x).
2. `backfill_execution_provenance` rows/s against Django `bulk_create` of the same rows, already
   built as model objects; the median of alternating runs of each (target >= 5x).

Runs in its own Postgres database (<name>_bench_exec, dropped at the end) and its own Celery queue,
so a running `make run` is not disturbed. BENCH_EXEC_ORDERS (default 1000: the p99 is the 10th slowest, steadier than the 3rd of 300), BENCH_BACKFILL_ROWS (200000),
BENCH_BACKFILL_REPEAT (3 runs of each contender).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "support"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torghut.settings")
os.environ.setdefault("TORGHUT_TESTING", "1")

ORDERS = int(os.environ.get("BENCH_EXEC_ORDERS", "1000"))
BACKFILL_ROWS = int(os.environ.get("BENCH_BACKFILL_ROWS", "200000"))
BACKFILL_REPEAT = int(os.environ.get("BENCH_BACKFILL_REPEAT", "3"))
QUEUE = "bench-execution"


def _bench_database() -> tuple[str, str]:
    """(admin URL of the configured database, URL of the bench database), creating the bench one."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgres://torghut:torghut@127.0.0.1:5432/torghut")
    parsed = urlparse(base)
    name = parsed.path.lstrip("/") + "_bench_exec"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base, urlunparse(parsed._replace(path="/" + name))


def _drop(base: str, url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    log = open(ROOT / "var" / "bench-execution-worker.log", "w")
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "torghut",
        "worker",
        "-Q",
        QUEUE,
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "--hostname",
        f"bench-exec-{os.getpid()}@%h",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--include",
        "celery_noop",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def bench_latency() -> None:
    from celery_noop import noop
    from django.db import transaction

    from bench.report import record
    from trading.orders.decisions import decisions_from_signals
    from trading.orders.models import Execution
    from trading.orders.tasks import submit_decision
    from trading.signals.types import INDICATORS, Signal
    from trading.strategies.models import Strategy

    Strategy.objects.create(
        name="bench", version="1", kind="macd_rsi", lane="paper", capital_fraction="0.1", parameters={"adapter": "simulated"}
    )
    start = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)

    def signal(symbol: str, i: int, hist: float) -> Signal:
        values = {name: 0.0 for name in INDICATORS} | {"rsi14": 50.0, "macd_hist": hist}
        return Signal(symbol=symbol, event_ts=start + timedelta(seconds=i), seq=i, source="bench", window_size="PT1S", price=10.0, **values)

    def decide(n: int):
        symbol = f"B{n:05d}"  # one symbol per decision keeps position and open-order checks out of each other's way
        with transaction.atomic():
            [decision] = decisions_from_signals(signals=[signal(symbol, 0, -0.1), signal(symbol, 1, 0.2)], account="bench")
        return decision

    for _ in range(20):  # warm both paths: worker pools, connections, imports
        noop.apply_async(queue=QUEUE).get(timeout=30)
    baseline: list[float] = []
    pipeline: list[float] = []
    for n in range(ORDERS + 20):
        # Both arms start right after a strategy run has planned a decision, as an order does in production:
        # that run's footprint (caches, Postgres' own work after its commit) then weighs on both alike. The
        # baseline's decision is left planned; a no-op right after it measured 1.2x one without.
        decision = decide(2 * n)
        t0 = time.perf_counter()
        status = submit_decision.apply_async(args=[decision.pk], queue=QUEUE).get(timeout=30)
        elapsed = time.perf_counter() - t0
        assert status == "filled", status
        decide(2 * n + 1)
        t0 = time.perf_counter()
        noop.apply_async(queue=QUEUE).get(timeout=30)
        base = time.perf_counter() - t0
        if n >= 20:
            pipeline.append(elapsed)
            baseline.append(base)
    assert Execution.objects.filter(status="filled").count() == ORDERS + 20
    p50b, p99b = _percentile(baseline, 0.5), _percentile(baseline, 0.99)
    p50p, p99p = _percentile(pipeline, 0.5), _percentile(pipeline, 0.99)
    print(f"decision->fill latency over {ORDERS} orders (simulated adapter, real worker):")
    print(
        f"  bare Celery no-op round trip  p50 {p50b * 1000:7.2f} ms   p99 {p99b * 1000:7.2f} ms   mean {statistics.mean(baseline) * 1000:.2f} ms"
    )
    print(
        f"  decision -> fill pipeline     p50 {p50p * 1000:7.2f} ms   p99 {p99p * 1000:7.2f} ms   mean {statistics.mean(pipeline) * 1000:.2f} ms"
    )
    print(f"  ratio p50 {p50p / p50b:.2f}x   p99 {p99p / p99b:.2f}x   (target <= 1.5x)")
    for name, value, base in (("p50", p50p, p50b), ("p99", p99p, p99b)):
        record(
            bench="execution",
            figure=f"decision->fill {name} (simulated, real worker)",
            value=value * 1000,
            unit="ms",
            baseline="bare Celery no-op round trip",
            baseline_value=base * 1000,
            ratio=value / base,
            target="<= 1.5x",
            ok=value / base <= 1.5,
        )


def bench_backfill() -> None:
    from django.db import connection

    from bench.report import record
    from trading.orders.backfill import execution_provenance_backfill
    from trading.orders.models import Execution, ExecutionImport

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE trading_executionimport")
        cursor.execute(
            """
            INSERT INTO trading_executionimport (client_order_id, broker_order_id, account, symbol, side, expected_adapter, actual_adapter,
                                                 quantity, filled_quantity, avg_fill_price, status, submitted_at, filled_at)
            SELECT 'hist-' || g, 'lean-' || g, 'bench', 'S' || (g %% 100), CASE WHEN g %% 2 = 0 THEN 'buy' ELSE 'sell' END,
                   CASE WHEN g %% 10 = 0 THEN 'lean' ELSE NULL END, CASE WHEN g %% 20 = 0 THEN 'alpaca' ELSE NULL END,
                   10, 10, 100 + (g %% 50), 'filled', now() - interval '30 days', now() - interval '30 days'
            FROM generate_series(1, %s) AS g
            """,
            [BACKFILL_ROWS],
        )

    def clear() -> None:
        # Each contender starts from the same empty table and indexes.
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE trading_execution")

    rows = list(ExecutionImport.objects.order_by("id"))
    objects = []
    for row in rows:
        actual = row.actual_adapter or "lean"
        expected = row.expected_adapter or actual
        objects.append(
            Execution(
                client_order_id=row.client_order_id,
                broker_order_id=row.broker_order_id or "",
                account=row.account,
                symbol=row.symbol,
                side=row.side,
                expected_adapter=expected,
                actual_adapter=actual,
                fallback_reason=f"fallback_from_{expected}_to_{actual}" if expected != actual else "",
                fallback_count=int(expected != actual),
                route_tag="backfill",
                quantity=row.quantity,
                filled_quantity=row.filled_quantity,
                avg_fill_price=row.avg_fill_price,
                status=row.status,
                submitted_at=row.submitted_at,
                filled_at=row.filled_at,
            )
        )

    def orm() -> float:
        for obj in objects:  # bulk_create set their ids last time; insert them as new rows again
            obj.pk, obj._state.adding = None, True
        clear()
        t0 = time.perf_counter()
        Execution.objects.bulk_create(objects, batch_size=5000)
        return BACKFILL_ROWS / (time.perf_counter() - t0)

    def backfill() -> float:
        clear()
        result = execution_provenance_backfill(batch_size=50_000)
        assert result.inserted == BACKFILL_ROWS, result
        return result.rows_per_second

    # Alternating order (ABBA...) so neither contender always runs on the other's freshly written pages
    # or behind its checkpoint; the median of each side is compared.
    orm_rates: list[float] = []
    backfill_rates: list[float] = []
    for rep in range(BACKFILL_REPEAT):
        for contender in (orm, backfill) if rep % 2 == 0 else (backfill, orm):
            (orm_rates if contender is orm else backfill_rates).append(contender())
    again = execution_provenance_backfill(batch_size=50_000)
    assert again.inserted == 0
    orm_rate, backfill_rate = statistics.median(orm_rates), statistics.median(backfill_rates)
    ratios = [b / o for b, o in zip(backfill_rates, orm_rates)]
    print(f"provenance backfill of {BACKFILL_ROWS} historical rows, median of {BACKFILL_REPEAT} alternating runs each:")
    print(
        f"  Django bulk_create (objects prebuilt, batch 5000)  {orm_rate:10.0f} rows/s  (runs: {', '.join(f'{r:.0f}' for r in orm_rates)})"
    )
    print(
        f"  backfill_execution_provenance (batch 50000)       {backfill_rate:10.0f} rows/s  (runs: {', '.join(f'{r:.0f}' for r in backfill_rates)})"
    )
    ratio = backfill_rate / orm_rate
    print(
        f"  ratio {ratio:.1f}x   (target >= 5x; run pairs {', '.join(f'{r:.1f}x' for r in ratios)}); "
        f"idempotent rerun: {again.inserted} rows in {again.seconds:.2f} s"
    )
    record(
        bench="execution",
        figure=f"provenance backfill ({BACKFILL_ROWS} rows, median of {BACKFILL_REPEAT})",
        value=backfill_rate,
        unit="rows/s",
        baseline="Django bulk_create",
        baseline_value=orm_rate,
        ratio=ratio,
        target=">= 5x",
        ok=ratio >= 5,
    )


def main() -> None:
    base, url = _bench_database()
    os.environ["DATABASE_URL"] = url
    os.environ["TRADING_MAX_ORDERS_PER_SECOND"] = "100000"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from governance.killswitch.services import kill_switch_mirror_sync

    # A fresh database has a never-engaged (active) switch; make the Redis mirror agree with it.
    kill_switch_mirror_sync()
    from django.conf import settings

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench" / "support")]),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
    }
    (ROOT / "var").mkdir(exist_ok=True)
    worker = _start_worker(env)
    try:
        from torghut.celery import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("bench worker did not start; see var/bench-execution-worker.log")
        bench_latency()
        bench_backfill()
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        _drop(base, url)


if __name__ == "__main__":
    main()
