"""Kill and restart a project-started Redis (AOF, fsync always) under load: every queued task still runs.

Open defect: on a fresh clone this lost 2 of 300 tasks — the ones in flight when Redis was SIGKILLed (the
worker's "Restoring unacknowledged message(s)" ran while Redis was down, and the replacement worker's
restore of visible unacked messages found none). Until the kombu/Celery acknowledgement path is fixed,
this test runs in `make test-faults` and not in `make test`.
"""
from __future__ import annotations

import re
import signal
import time

import pytest
from kombu import Connection

from tests.faults.conftest import research_payload
from tests.faults.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.open_defect, pytest.mark.timeout(240)]

TASKS = 300


def test_killing_redis_under_load_loses_no_queued_task_and_writes_each_run_once(private_redis, private_worker, tmp_path):
    from research.models import ResearchRun
    from research.tasks import persist_run
    from torghut.celery import app
    from torghut.models import DeadLetter
    from trading.models import Strategy

    strategy = Strategy.objects.create(name="fault-redis", version="1", kind="macd_rsi", lane="paper")
    payloads = [research_payload(strategy_id=strategy.pk, index=i) for i in range(TASKS)]
    with app.connection_for_write(private_redis.url) as conn:
        task_ids = [persist_run.apply_async(kwargs={"payload": p}, connection=conn).id for p in payloads]
    # A short visibility timeout returns a message whose ack died with the connection within seconds.
    worker = private_worker(name="fault-redis-worker", broker_url=private_redis.url, queues="research", concurrency=2,
                            REDIS_URL=private_redis.url, DEAD_LETTER_SPOOL=str(tmp_path / "spool"), CELERY_VISIBILITY_TIMEOUT="5")
    wait_until(lambda: ResearchRun.objects.count() >= TASKS // 10, timeout=60, what="first tasks done")
    done_before = ResearchRun.objects.count()
    private_redis.stop(signal.SIGKILL)
    time.sleep(1.0)
    private_redis.start()
    workers = [worker]
    try:
        wait_until(lambda: ResearchRun.objects.count() >= TASKS, timeout=25, interval=0.5, what="all runs written")
    except TimeoutError:
        # Celery's consumer can wedge while reconnecting (kombu raises inside its own restart): do what a
        # liveness probe does, replace the worker, and return its unacked messages to the queue.
        worker.stop(signal.SIGKILL)
        with Connection(private_redis.url, transport_options={"visibility_timeout": 1}) as conn:
            time.sleep(1.5)
            conn.default_channel.qos.restore_visible(num=TASKS)
        workers.append(private_worker(name="fault-redis-heir", broker_url=private_redis.url, queues="research", concurrency=2,
                                      REDIS_URL=private_redis.url, DEAD_LETTER_SPOOL=str(tmp_path / "spool")))
        wait_until(lambda: ResearchRun.objects.count() >= TASKS, timeout=90, interval=0.5,
                   what=f"all {TASKS} runs written (worker logs {[w.log_path for w in workers]})")
    for each in workers:
        each.stop()

    assert done_before < TASKS, "Redis was restarted after the load had drained"
    assert ResearchRun.objects.count() == TASKS
    assert set(ResearchRun.objects.values_list("run_id", flat=True)) == {p["run_id"] for p in payloads}
    assert not DeadLetter.objects.exists()
    log = "".join(w.log_path.read_text() for w in workers)
    assert "Connection to broker lost" in log or "Error while reading from" in log or "Connection refused" in log, \
        "the worker never noticed the restart"
    # A task running at the kill may fail to store its result (logged outside its body); its run row is what counts.
    received = re.findall(r"Task research\.persist_run\[([0-9a-f-]+)\] received", log)
    assert set(received) == set(task_ids), "a queued task never reached the worker"
