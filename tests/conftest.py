"""Shared fixtures: users, API clients, the ta_signals table, local venues, and a real Celery worker
against the real services."""

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
from django.contrib.auth.models import Permission

from tests.factories import operator_create
from tests.signals import UNIVERSE, insert_signals
from torghut.core import clickhouse
from torghut.devstack.venues import VenueServer
from trading.signals import source as signal_source

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def user(django_user_model):
    """A reader: every view permission (what API reads need), nothing else."""
    reader = django_user_model.objects.create_user(username="reader", password="reader-pass-123")
    reader.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return django_user_model.objects.get(pk=reader.pk)


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


@pytest.fixture
def operator(django_user_model):
    return operator_create(username="operator")


class SignalTable:
    """The real ta_signals table; every write forgets the cached probe so the next read sees it."""

    def insert(self, rows: list[tuple]) -> None:
        insert_signals("ta_signals", rows)
        signal_source.probe_forget()

    def truncate(self) -> None:
        clickhouse.execute("test_truncate", "TRUNCATE TABLE ta_signals")
        signal_source.probe_forget()


@pytest.fixture
def signal_table(settings) -> Iterator[SignalTable]:
    settings.TRADING_SIGNAL_PROBE_CACHE_SECONDS = 0
    clickhouse.reset_connections()
    signal_source.forget_table_shape()
    table = SignalTable()
    table.truncate()
    yield table
    table.truncate()
    clickhouse.reset_connections()
    signal_source.forget_table_shape()


@pytest.fixture
def static_universe(settings):
    settings.TRADING_UNIVERSE_SOURCE = "static"
    settings.TRADING_UNIVERSE_STATIC_SYMBOLS = list(UNIVERSE)
    return UNIVERSE


@pytest.fixture
def lean_venue():
    venue = VenueServer(kind="lean").start()
    yield venue
    venue.stop()


@pytest.fixture
def alpaca_venue():
    venue = VenueServer(kind="alpaca").start()
    yield venue
    venue.stop()


@pytest.fixture
def venues(settings, lean_venue, alpaca_venue):
    """Both local venues wired into the settings; LEAN expected, Alpaca next, simulated last."""
    settings.TRADING_LEAN_URL = lean_venue.url
    settings.TRADING_LEAN_TIMEOUT_SECONDS = 1.0
    settings.TRADING_ALPACA_BASE_URL = alpaca_venue.url
    settings.TRADING_ALPACA_KEY_ID = "test-key"
    settings.TRADING_ALPACA_SECRET_KEY = "test-secret"
    settings.TRADING_ALPACA_TIMEOUT_SECONDS = 1.0
    settings.TRADING_EXECUTION_ADAPTER = "lean"
    settings.TRADING_EXECUTION_FALLBACK_CHAIN = ["lean", "alpaca", "simulated"]
    return lean_venue, alpaca_venue


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
            sys.executable,
            "-m",
            "celery",
            "-A",
            "torghut",
            "worker",
            "-Q",
            queues,
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

    def _start(
        *,
        name: str,
        queues: str = "ingest,execution,research,governance,default",
        include: str = "tests.integration.worker_tasks",
        concurrency: int = 2,
        **env_overrides: str,
    ) -> WorkerProcess:
        worker = WorkerProcess(
            env=worker_env(database_name=database_name, **env_overrides), queues=queues, name=name, concurrency=concurrency, include=include
        )
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
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


class JangarServer:
    """A local jangar symbol service on 127.0.0.1: `GET /api/torghut/symbols`; down (503) until given symbols."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        jangar = self
        self.symbols: list[str] | None = None

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                symbols = jangar.symbols
                body = json.dumps({"symbols": symbols}).encode() if symbols is not None else b"{}"
                self.send_response(200 if symbols is not None else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/torghut/symbols"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture(scope="session")
def jangar_server() -> Iterator[JangarServer]:
    server = JangarServer()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="session")
def alert_receiver() -> Iterator[AlertReceiver]:
    receiver = AlertReceiver()
    yield receiver
    receiver.server.shutdown()


# The suite worker's universe comes from `jangar_server` (down unless a test gives it symbols) with a
# short cache, so a test can take the universe away and see the loop fail closed within seconds.
SUITE_WORKER_ENV = {
    "TRADING_UNIVERSE_CACHE_SECONDS": "2",
    "TRADING_UNIVERSE_STALE_MAX_SECONDS": "4",
    "JANGAR_RETRY_SECONDS": "1",
}


@pytest.fixture(scope="session")
def celery_worker(start_worker, alert_receiver, jangar_server) -> WorkerProcess:
    """One shared worker consuming every queue; Alertmanager goes to `alert_receiver`, jangar to `jangar_server`."""
    return start_worker(name="suite-worker", ALERTMANAGER_URL=alert_receiver.url, JANGAR_SYMBOLS_URL=jangar_server.url, **SUITE_WORKER_ENV)


class BeatProcess:
    """A real `celery beat` subprocess on the suite's broker, with its own schedule file."""

    def __init__(self, *, env: dict[str, str], schedule_path: Path) -> None:
        log_dir = ROOT / "var" / "test-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / "beat.log"
        self._log = open(self.log_path, "w")
        cmd = [sys.executable, "-m", "celery", "-A", "torghut", "beat", "--loglevel", "INFO", "--schedule", str(schedule_path)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def start_beat(django_db_blocker, tmp_path, redis_client):
    """Factory: start a beat with fast intervals (env overrides); stopped at the end of the test."""
    from django.db import connection

    from torghut.core.beat import LOCK_KEY

    started: list[BeatProcess] = []

    def _start(**env_overrides: str) -> BeatProcess:
        with django_db_blocker.unblock():
            database_name = connection.settings_dict["NAME"]
        beat = BeatProcess(env=worker_env(database_name=database_name, **env_overrides), schedule_path=tmp_path / "beat-schedule")
        started.append(beat)
        return beat

    yield _start
    for beat in started:
        beat.stop()
    redis_client.delete(LOCK_KEY)
