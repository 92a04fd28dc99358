"""Fixtures of the fault tests: private Redis/ClickHouse/PostgreSQL instances, each torn down by its test."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.faults.services import ROOT, PrivateClickHouse, PrivatePostgres, PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis().start()
    yield server
    server.destroy()


@pytest.fixture
def private_clickhouse() -> Iterator[PrivateClickHouse]:
    server = PrivateClickHouse().start()
    yield server
    server.destroy()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres().init().start()
    yield server
    server.destroy()


def manage(*args: str, env: dict[str, str], timeout: float = 240) -> str:
    """Run `manage.py` in a subprocess with `env` (the private service URLs); fail with its output."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**os.environ, "TORGHUT_TESTING": "1", **env},
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture
def migrated_private_postgres(private_postgres) -> tuple[PrivatePostgres, str]:
    """The private cluster with a migrated `torghut_fault` database; yields (server, DATABASE_URL)."""
    url = private_postgres.create_database(name="torghut_fault")
    manage("migrate", "--noinput", env={"DATABASE_URL": url})
    return private_postgres, url


def research_payload(*, strategy_id: int, index: int, start: datetime | None = None) -> dict:
    """A finished research run payload (the shape `research.persist_run` writes), unique per `index`."""
    from research.services import trace_id

    window_start = (start or datetime(2026, 1, 5, 14, 30, tzinfo=UTC)) + timedelta(minutes=5 * index)
    window_end = window_start + timedelta(minutes=5)
    run_id = trace_id({"fault-test": index, "start": window_start.isoformat()})[:24]
    gate_report = {"run_id": run_id, "gates": [], "reason": "no_signals_in_window"}
    return {
        "run_id": run_id, "trigger": "autonomous", "strategy_id": strategy_id, "strategy_name": "fault", "strategy_version": "1",
        "strategy_kind": "macd_rsi", "parameters": {}, "window_start": window_start.isoformat(), "window_end": window_end.isoformat(),
        "source_table": "ta_signals", "target_lane": "shadow", "policy_name": "default", "policy_version": 1,
        "started_at": window_end.isoformat(), "status": "skipped", "signals": 0, "decisions": 0, "trades": 0, "net_pnl": 0.0,
        "max_drawdown": 0.0, "turnover": 0.0, "win_rate": None, "errors": 0, "gate_report": gate_report,
        "gate_report_trace_id": trace_id(gate_report), "recommendation": "hold",
        "recommendation_trace_id": trace_id({"run_id": run_id, "recommendation": "hold"}),
        "failure_reason": "no_signals_in_window", "finished_at": window_end.isoformat(),
    }


@pytest.fixture
def private_worker(django_db_setup, django_db_blocker):
    """Factory: a real worker on a private broker (`broker_url`), ready once its log says so."""
    from django.db import connection

    from tests.conftest import WorkerProcess, worker_env

    with django_db_blocker.unblock():
        database_name = connection.settings_dict["NAME"]
    started: list[WorkerProcess] = []

    def _ready(worker: WorkerProcess) -> bool:
        if worker.proc.poll() is not None:
            raise RuntimeError(f"worker {worker.name} exited early; log:\n{worker.log_path.read_text()[-4000:]}")
        return f"{worker.name}@" in worker.log_path.read_text() and " ready." in worker.log_path.read_text()

    def _start(*, name: str, broker_url: str, queues: str, concurrency: int = 2, include: str = "", **env_overrides: str) -> WorkerProcess:
        # Control broadcasts are not answered across brokers here, so readiness is read from the log.
        env = worker_env(database_name=database_name, CELERY_BROKER_URL=broker_url, CELERY_RESULT_BACKEND=broker_url,
                         **env_overrides)
        worker = WorkerProcess(env=env, queues=queues, name=name, concurrency=concurrency, include=include)
        started.append(worker)
        deadline = time.monotonic() + 60
        while not _ready(worker):
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker {name} not ready in 60s; log:\n{worker.log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        return worker

    yield _start
    for worker in started:
        worker.stop()
