"""Shared fixtures: users, API clients, and a real Celery worker against the real services."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="reader", password="reader-pass-123")


@pytest.fixture
def api_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anon_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="session")
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@pytest.fixture(autouse=True)
def _clean_kill_switch_mirror(redis_client):
    # Postgres rolls back per test, Redis does not: a mirrored `halted` must not leak into the next test.
    redis_client.delete(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY)
    yield
    redis_client.delete(settings.GOVERNANCE_KILL_SWITCH_REDIS_KEY)


@pytest.fixture(scope="session")
def _clean_broker(redis_client) -> None:
    # The test Redis database belongs to the suite: stale messages from an earlier run would
    # otherwise be consumed by this run's worker.
    redis_client.flushdb()


def worker_env(*, database_name: str, **overrides: str) -> dict[str, str]:
    """Environment for a worker subprocess that shares this test session's database and broker."""
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{database_name}"
    env = {
        **os.environ,
        "TORGHUT_TESTING": "1",
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "CLICKHOUSE_URL": settings.CLICKHOUSE_URL,
        "PROMETHEUS_MULTIPROC_DIR": os.environ["PROMETHEUS_MULTIPROC_DIR"],
        "DEAD_LETTER_SPOOL": str(settings.DEAD_LETTER_SPOOL),
        "PYTHONPATH": str(ROOT),
    }
    env.update(overrides)
    return env


class WorkerProcess:
    """A real `celery worker` subprocess; stopped with SIGTERM (or SIGKILL for fault tests)."""

    def __init__(self, *, env: dict[str, str], queues: str, name: str, concurrency: int = 2, include: str = "") -> None:
        self.name = name
        log_dir = ROOT / "var" / "test-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        cmd = [
            sys.executable, "-m", "celery", "-A", "torghut", "worker",
            "-Q", queues, "--concurrency", str(concurrency), "--pool", "prefork",
            "--hostname", f"{name}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        ]
        if include:
            cmd += ["--include", include]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        from torghut.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited early; log:\n{self.log_path.read_text()[-4000:]}")
            replies = app.control.ping(timeout=0.5)
            if any(self.name in key for reply in replies for key in reply):
                return
        raise RuntimeError(f"worker {self.name} did not answer ping in {timeout}s; log:\n{self.log_path.read_text()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def start_worker(django_db_setup, django_db_blocker, _clean_broker) -> Iterator:
    """Factory: start real workers that use the test database; all are stopped at session end."""
    from django.db import connection

    with django_db_blocker.unblock():
        database_name = connection.settings_dict["NAME"]
    started: list[WorkerProcess] = []

    def _start(*, name: str, queues: str = "ingest,execution,research,governance,default", include: str = "tests.integration.worker_tasks", concurrency: int = 2, **env_overrides: str) -> WorkerProcess:
        worker = WorkerProcess(env=worker_env(database_name=database_name, **env_overrides), queues=queues, name=name, concurrency=concurrency, include=include)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield _start
    for worker in started:
        worker.stop()


class AlertReceiver:
    """A local Alertmanager stand-in on 127.0.0.1: records v2 POSTs, can answer 503 a few times."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.posts: list[list[dict]] = []
        self.failures_left = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
                with receiver.lock:
                    failing = receiver.failures_left > 0
                    receiver.failures_left -= int(failing)
                    if not failing and self.path == "/api/v2/alerts":
                        receiver.posts.append(body)
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="session")
def alert_receiver() -> Iterator[AlertReceiver]:
    receiver = AlertReceiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="session")
def celery_worker(start_worker, alert_receiver) -> WorkerProcess:
    """One shared worker consuming every queue; it delivers Alertmanager notifications to `alert_receiver`."""
    return start_worker(name="suite-worker", ALERTMANAGER_URL=alert_receiver.url)
