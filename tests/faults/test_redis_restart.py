"""Kill and restart a project-started Redis (AOF, fsync always) under load: every queued task runs once.

With kombu's own Redis transport this lost the task popped just before the kill (BRPOP's pop was in the
AOF, the unacked record that should follow it was not), ran twice a task whose ack failed while Redis was
down, and left the tasks the worker held but had not started for the visibility timeout (an hour).
`torghut.core.broker` fetches atomically, defers acks and restores to the reconnect, and keeps what the pool
holds (started or not) out of the restore; the same worker finishes the load, each task run once.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter

import pytest
import redis

from tests.factories import research_payload
from tests.faults.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.timeout(180)]

TASKS = 300


def test_killing_redis_under_load_loses_no_queued_task_and_writes_each_run_once(private_redis, private_worker, tmp_path):
    from research.models import ResearchRun
    from research.tasks import persist_run
    from torghut.celery import app
    from torghut.core.models import DeadLetter
    from trading.strategies.models import Strategy

    strategy = Strategy.objects.create(name="fault-redis", version="1", kind="macd_rsi", lane="paper")
    payloads = [research_payload(strategy_id=strategy.pk, index=i) for i in range(TASKS)]
    with app.connection_for_write(private_redis.url) as conn:
        task_ids = [persist_run.apply_async(kwargs={"payload": p}, connection=conn).id for p in payloads]
    # The default visibility timeout (an hour): nothing here may rely on it to bring a task back.
    worker = private_worker(
        name="fault-redis-worker",
        broker_url=private_redis.url,
        queues="research",
        concurrency=2,
        REDIS_URL=private_redis.url,
        DEAD_LETTER_SPOOL=str(tmp_path / "spool"),
    )
    wait_until(lambda: ResearchRun.objects.count() >= TASKS // 10, timeout=60, what="first tasks done")
    done_before = ResearchRun.objects.count()
    private_redis.stop(signal.SIGKILL)
    time.sleep(1.0)
    private_redis.start()
    wait_until(
        lambda: ResearchRun.objects.count() >= TASKS,
        timeout=60,
        interval=0.5,
        what=f"all {TASKS} runs written by the same worker (log {worker.log_path})",
    )
    # Nothing left to deliver again later: every message acknowledged, acks that failed at the kill included.
    broker = redis.Redis(host="127.0.0.1", port=private_redis.port)
    wait_until(lambda: broker.hlen("unacked") == 0 and broker.llen("research") == 0, timeout=10, what="every message acknowledged")
    worker.stop()

    assert done_before < TASKS, "Redis was restarted after the load had drained"
    assert ResearchRun.objects.count() == TASKS
    assert set(ResearchRun.objects.values_list("run_id", flat=True)) == {p["run_id"] for p in payloads}
    assert not DeadLetter.objects.exists()
    log = worker.log_path.read_text()
    assert "Connection to broker lost" in log or "Error while reading from" in log or "Connection refused" in log, (
        "the worker never noticed the restart"
    )
    received = re.findall(r"Task research\.persist_run\[([0-9a-f-]+)\] received", log)
    assert set(received) == set(task_ids), "a queued task never reached the worker"
    # Held but not started at the kill, a task is delivered again; none may run twice.
    ran = Counter(re.findall(r"Task research\.persist_run\[([0-9a-f-]+)\] succeeded", log))
    assert set(ran) == set(task_ids) and max(ran.values()) == 1, "a task did not run exactly once"
