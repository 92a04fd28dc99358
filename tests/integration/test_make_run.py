"""`make run`'s process set comes up with every printed URL answering, and Ctrl-C stops it all."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode

import psycopg
import pytest
from django.conf import settings

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(url: str, auth: str | None = None) -> int:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@pytest.fixture
def run_database():
    db = settings.DATABASES["default"]
    name = "torghut_runcheck"
    conninfo = f"host={db['HOST']} port={db['PORT']} user={db['USER']} password={db['PASSWORD']} dbname=postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    yield f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _wait_for_accepted_signals(database_url: str, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    accepted = 0
    while time.monotonic() < deadline and not accepted:
        with psycopg.connect(database_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            accepted = conn.execute("SELECT coalesce(sum(rows_accepted), 0) FROM trading_ingestwindow").fetchone()[0]
        time.sleep(1)
    return accepted


def test_make_run_starts_every_process_and_ctrl_c_stops_them(run_database, tmp_path):
    web_port, flower_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "TORGHUT_TESTING": "0",
        "DEBUG": "1",
        "DATABASE_URL": run_database,
        "REDIS_URL": re.sub(r"/\d+$", "/13", settings.REDIS_URL),
        "CELERY_BROKER_URL": "",
        "CELERY_RESULT_BACKEND": "",
        "CLICKHOUSE_URL": re.sub(r"/[^/]*$", "/torghut_runcheck", settings.CLICKHOUSE_URL),
        "WEB_PORT": str(web_port),
        "FLOWER_PORT": str(flower_port),
        "SIMULATOR_PORT": str(_free_port()),
        "TRADING_VENUE_LEAN_PORT": str(_free_port()),
        "TRADING_VENUE_ALPACA_PORT": str(_free_port()),
        "FLOWER_BASIC_AUTH": "ops:ops-secret",
        "DEV_SUPERUSER": "runadmin:run-admin-pass",
        "TORGHUT_VAR_DIR": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    log_path = tmp_path / "run.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{web_port}"
    flower = f"http://127.0.0.1:{flower_port}/"
    try:
        deadline = time.monotonic() + 120
        expected = {
            f"{base}/admin/login/": 200,
            f"{base}/readyz": 200,
            f"{base}/metrics": 200,
            f"{base}/healthz": 200,
        }
        while time.monotonic() < deadline:
            seen = {url: _status(url) for url in expected}
            if seen == expected and _status(flower, "ops:ops-secret") == 200:
                break
            assert proc.poll() is None, log_path.read_text()[-3000:]
            time.sleep(1)
        else:
            pytest.fail(f"URLs did not all answer: {seen}\n{log_path.read_text()[-3000:]}")
        assert _status(flower) == 401, "Flower must require basic auth"
        accepted = _wait_for_accepted_signals(run_database)
        assert accepted > 0, "the simulator's signals should reach ingest through beat and the worker"
        output = log_path.read_text()
        for url in (f"{base}/admin/", f"{base}/metrics", f"{base}/readyz", flower):
            assert url in output
        assert "created development superuser  user: runadmin  password: run-admin-pass" in output
        assert "created paper strategies: bollinger_reversion, macd_rsi" in output
        for name in ("web.1", "worker.1", "beat.1", "flower.1", "simulator.1", "venues.1"):
            assert f"{name} started" in output
        # `make drill` against this stack: every fault injected for real into its simulator, venues and research.
        drill = subprocess.run(
            ["bash", "scripts/manage.sh", "drill", "--trigger", "all"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert drill.returncode == 0, drill.stdout[-3000:] + drill.stderr[-3000:]
        for name in ("lag", "staleness", "lane_failures", "fallback", "drawdown"):
            assert f"\n{name}: passed halt=" in drill.stdout
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("processes did not stop on Ctrl-C within 30s")
    time.sleep(1)
    assert _status(f"{base}/healthz") == 0, "web still answering after Ctrl-C"
