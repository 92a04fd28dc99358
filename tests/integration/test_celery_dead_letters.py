"""Retries and dead letters through a real worker on the real Redis and Postgres."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.conf import settings

from torghut.core.deadletters import dead_letter_replay
from torghut.core.models import DeadLetter

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _key() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def _wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_transient_failure_succeeds_after_retries(celery_worker, redis_client):
    from tests.integration.worker_tasks import flaky

    key = _key()
    result = flaky.delay(key, 2)
    assert result.get(timeout=60) == 3
    assert int(redis_client.get(f"{key}:attempts")) == 3
    assert not DeadLetter.objects.filter(task_id=result.id).exists()


def test_a_task_that_exhausts_its_retries_is_dead_lettered_with_retry_count(celery_worker, redis_client):
    from tests.integration.worker_tasks import always_transient

    key = _key()
    result = always_transient.delay(key)
    letter = _wait_for(lambda: DeadLetter.objects.filter(task_id=result.id).first(), what="dead letter")
    assert letter.task_name == "tests.always_transient"
    assert letter.retries == 2
    assert int(redis_client.get(f"{key}:attempts")) == 3
    assert letter.exception_class.endswith("FlakyError")
    assert letter.first_failed_at < letter.last_failed_at


def test_a_permanent_failure_lands_in_dead_letters_with_traceback_and_replay_runs_it_once(celery_worker, redis_client, admin_user):
    from tests.integration.worker_tasks import broken_until_fixed

    key = _key()
    redis_client.set(f"{key}:broken", "1")
    result = broken_until_fixed.delay(key)
    letter = _wait_for(lambda: DeadLetter.objects.filter(task_id=result.id).first(), what="dead letter")
    assert letter.status == DeadLetter.Status.PENDING
    assert letter.args == [key]
    assert letter.queue == "default"
    assert letter.retries == 0
    assert letter.exception_class == "builtins.ValueError"
    assert "is broken" in letter.exception_message
    assert "Traceback" in letter.traceback and "broken_until_fixed" in letter.traceback

    redis_client.delete(f"{key}:broken")
    dead_letter_replay(dead_letter_id=letter.pk, actor=admin_user)
    dead_letter_replay(dead_letter_id=letter.pk, actor=admin_user)
    _wait_for(lambda: redis_client.get(f"{key}:runs"), what="replayed run")
    time.sleep(2)  # a duplicate replay would have run by now
    assert int(redis_client.get(f"{key}:runs")) == 1
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYED
    assert letter.resolved_by == admin_user
    assert letter.replay_task_id


def test_dead_letters_spool_while_postgres_is_unreachable_and_move_in_later(start_worker, celery_worker, redis_client):
    from celery import current_app

    spool = settings.DEAD_LETTER_SPOOL
    spool.parent.mkdir(parents=True, exist_ok=True)
    spool.unlink(missing_ok=True)
    start_worker(name="no-postgres-worker", queues="spooltest", DATABASE_URL="postgres://torghut:torghut@127.0.0.1:1/unreachable")

    key = _key()
    redis_client.set(f"{key}:broken", "1")
    result = current_app.send_task("tests.broken_until_fixed", args=[key], queue="spooltest")
    lines = _wait_for(lambda: spool.exists() and spool.read_text().strip().splitlines(), what="spooled letter")
    spooled = [json.loads(line) for line in lines]
    assert [letter["task_id"] for letter in spooled] == [result.id]
    assert not DeadLetter.objects.filter(task_id=result.id).exists()

    moved = current_app.send_task("torghut.flush_dead_letter_spool").get(timeout=30)
    assert moved == 1
    letter = DeadLetter.objects.get(task_id=result.id)
    assert letter.spooled is True
    assert letter.queue == "spooltest"
    assert spool.read_text() == ""


def test_a_counter_bumped_inside_a_worker_shows_at_the_web_metrics(celery_worker, client):
    from tests.integration.worker_tasks import bump_metric

    bump_metric.delay().get(timeout=30)
    body = client.get("/metrics").content.decode()
    lines = [line for line in body.splitlines() if line.startswith("torghut_test_worker_bumps_total")]
    assert lines and float(lines[0].split()[-1]) >= 1.0
