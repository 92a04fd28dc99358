"""Flower, started by scripts/flower.sh on a free loopback port, against the suite's Redis broker and a real worker.

The broker URL stays `redis://` (torghut.core.broker registers itself as kombu's `redis` transport), so
Flower's Broker page and queue lengths work while the worker keeps the crash-safe transport.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.conftest import worker_env
from tests.integration.worker_tasks import flaky
from torghut.celery import app
from torghut.core import broker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.timeout(120)]
ROOT = Path(__file__).resolve().parents[2]
AUTH = ("ops", "flower-test-password-16+")
RUN = uuid.uuid4().hex[:8]
QUEUE = f"flower-test-{RUN}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def flower() -> Iterator[str]:
    port = _free_port()
    env = worker_env(database_name=connection.settings_dict["NAME"], DEBUG="1", FLOWER_HOST="127.0.0.1", FLOWER_PORT=str(port))
    env["FLOWER_BASIC_AUTH"] = ":".join(AUTH)
    log = open(ROOT / "var" / "test-logs" / f"flower-{RUN}.log", "w")
    proc = subprocess.Popen(["bash", "scripts/flower.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "Flower exited early"
            try:
                if requests.get(f"{url}/healthcheck", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "Flower did not answer within 30 s"
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


def _get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, auth=AUTH, timeout=10, **kwargs)


def _until(check, *, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def test_the_broker_url_keeps_its_redis_scheme_and_resolves_to_the_crash_safe_transport():
    with app.connection_for_write() as conn:
        assert conn.as_uri().startswith("redis://")
        assert type(conn.transport) is broker.Transport


def test_flower_shows_queue_lengths_the_broker_page_and_task_detail_behind_basic_auth(flower, start_worker, client):
    worker = start_worker(name=f"flower-{RUN}", queues=QUEUE, concurrency=1)
    assert requests.get(f"{flower}/api/queues/length", timeout=5).status_code == 401

    # Flower names the queues after the workers' active queues, learnt by inspecting them.
    workers = _until(lambda: _get(f"{flower}/api/workers", params={"refresh": 1}).json())
    assert any(QUEUE in [q["name"] for q in info.get("active_queues", [])] for info in workers.values()), workers

    # A stopped worker takes nothing: the messages wait in the queue, where Flower counts them.
    os.killpg(worker.proc.pid, signal.SIGSTOP)
    try:
        waiting = [flaky.apply_async(args=[f"flower:{RUN}:{n}", 0], queue=QUEUE) for n in range(3)]
        lengths = _get(f"{flower}/api/queues/length")
        assert lengths.status_code == 200, lengths.text
        assert {"name": QUEUE, "messages": 3} in lengths.json()["active_queues"]
        page = _get(f"{flower}/broker")
        assert page.status_code == 200 and QUEUE in page.text and "redis://" in page.text
    finally:
        os.killpg(worker.proc.pid, signal.SIGCONT)
    assert [result.get(timeout=30) for result in waiting] == [1, 1, 1]

    task_id = waiting[0].id
    info = _until(lambda: (r := _get(f"{flower}/api/task/info/{task_id}")).status_code == 200 and r.json().get("state") == "SUCCESS" and r)
    assert info and info.json()["name"] == "tests.flaky" and info.json()["result"] == "1"
    detail = _get(f"{flower}/task/{task_id}")
    assert detail.status_code == 200 and task_id in detail.text and "SUCCESS" in detail.text
    assert _until(lambda: {"name": QUEUE, "messages": 0} in _get(f"{flower}/api/queues/length").json()["active_queues"])

    # flower_* series live on Flower's own /metrics once each, never in the web's multiprocess /metrics.
    flower_metrics = _get(f"{flower}/metrics").text
    succeeded = [line for line in flower_metrics.splitlines() if line.startswith("flower_events_total") and 'type="task-succeeded"' in line]
    assert len(succeeded) == 1 and "pid=" not in succeeded[0] and succeeded[0].endswith(" 3.0"), succeeded
    web_metrics = client.get("/metrics").content.decode()
    assert "flower_" not in web_metrics
    assert not any("flower" in path.read_bytes().decode("latin-1") for path in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"))
