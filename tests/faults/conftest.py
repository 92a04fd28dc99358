"""Fixtures of the fault tests: private Redis/ClickHouse/PostgreSQL instances, each torn down by its test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.conftest import WorkerProcess, worker_env
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
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "TORGHUT_TESTING": "1", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture
def migrated_private_postgres(private_postgres) -> tuple[PrivatePostgres, str]:
    """The private cluster with a migrated `torghut_fault` database; yields (server, DATABASE_URL)."""
    url = private_postgres.create_database(name="torghut_fault")
    manage("migrate", "--noinput", env={"DATABASE_URL": url})
    return private_postgres, url


@pytest.fixture
def private_worker(django_db_setup, django_db_blocker):
    """Factory: a real worker on a private broker (`broker_url`), ready once its log says so."""
    from django.db import connection

    with django_db_blocker.unblock():
        database_name = connection.settings_dict["NAME"]
    started: list[WorkerProcess] = []

    def _ready(worker: WorkerProcess) -> bool:
        if worker.proc.poll() is not None:
            raise RuntimeError(f"worker {worker.name} exited early; log:\n{worker.log_path.read_text()[-4000:]}")
        return f"{worker.name}@" in worker.log_path.read_text() and " ready." in worker.log_path.read_text()

    def _start(*, name: str, broker_url: str, queues: str, concurrency: int = 2, include: str = "", **env_overrides: str) -> WorkerProcess:
        # Control broadcasts are not answered across brokers here, so readiness is read from the log.
        env = worker_env(database_name=database_name, CELERY_BROKER_URL=broker_url, CELERY_RESULT_BACKEND=broker_url, **env_overrides)
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
