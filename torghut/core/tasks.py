"""The base task every torghut task uses, and the infrastructure tasks.

`torghut_task(name=..., transient=(...))` declares a task with autoretry for the transient errors it
names (exponential backoff, jitter, a cap). A task that exhausts its retries, or raises anything
else, is written to the dead-letter table (or the spool when Postgres is down) by `on_failure`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis
from celery import Task, shared_task
from celery.worker.request import Request
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from torghut.core import broker, metrics
from torghut.core.deadletters import DeadLetterPayload, dead_letter_record, dead_letter_spool_flush
from torghut.core.heartbeat import heartbeat_record
from torghut.core.queues import Queue
from torghut.core.routing import HEARTBEAT_TASK_PREFIX, queue_for_task

logger = logging.getLogger(__name__)
_FIRST_FAILURE_TTL = 7 * 24 * 3600


def _first_failure_key(task_id: str) -> str:
    return f"torghut:task-first-failure:{task_id}"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)


class TorghutRequest(Request):
    """Tells the crash-safe broker transport which messages the pool holds (see `torghut.core.broker`)."""

    def execute_using_pool(self, pool, **kwargs):
        result = super().execute_using_pool(pool, **kwargs)

        if self.message is not None and isinstance(self.message.channel, broker.Channel):
            broker.task_handed_to_pool(self.message.delivery_tag)
        return result


class TorghutTask(Task):
    """Dead-letters final failures; remembers when a task id first failed across its retries."""

    Request = TorghutRequest

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        metrics.TASK_RETRIES.labels(task=self.name).inc()
        self._remember_first_failure(task_id)
        logger.warning("task %s[%s] retrying after %s: %s", self.name, task_id, type(exc).__name__, exc)

    def on_failure(self, exc, task_id, args, kwargs, einfo):

        metrics.TASK_FAILURES.labels(task=self.name).inc()
        first = self._remember_first_failure(task_id)
        delivery = getattr(self.request, "delivery_info", None) or {}
        payload = DeadLetterPayload(
            task_name=self.name,
            task_id=task_id,
            args=list(args or []),
            kwargs=dict(kwargs or {}),
            queue=delivery.get("routing_key") or getattr(self, "queue", None) or _default_queue(self.name),
            exception_class=f"{type(exc).__module__}.{type(exc).__qualname__}",
            exception_message=str(exc)[:10_000],
            traceback=str(einfo.traceback if einfo else "")[:100_000],
            retries=int(getattr(self.request, "retries", 0) or 0),
            first_failed_at=first,
        )
        dead_letter_record(payload=payload)
        logger.error("task %s[%s] dead-lettered: %s: %s", self.name, task_id, type(exc).__name__, exc)

    def _remember_first_failure(self, task_id: str) -> str:
        now = timezone.now().isoformat()
        try:
            client = _redis()
            client.set(_first_failure_key(task_id), now, nx=True, ex=_FIRST_FAILURE_TTL)
            stored = client.get(_first_failure_key(task_id))
            return stored.decode() if stored else now
        except redis.RedisError:
            return now


def _default_queue(name: str) -> str:

    return queue_for_task(name).value


def torghut_task(*, name: str, transient: tuple[type[BaseException], ...] = (), **options: Any) -> Callable:
    """Register a task under a stable name with retries for `transient` errors only."""
    options.setdefault("max_retries", settings.CELERY_MAX_RETRIES)
    options.setdefault("retry_backoff", True)
    options.setdefault("retry_backoff_max", settings.CELERY_RETRY_BACKOFF_MAX)
    options.setdefault("retry_jitter", True)
    for counter in (metrics.TASK_RETRIES, metrics.TASK_FAILURES, metrics.TASK_DEAD_LETTERS, metrics.DEAD_LETTERS_REPLAYED):
        metrics.counter_labels_init(counter, [{"task": name}])
    return shared_task(name=name, base=TorghutTask, autoretry_for=transient, **options)


@torghut_task(name="torghut.flush_dead_letter_spool")
def flush_dead_letter_spool() -> int:
    """Move dead letters spooled while Postgres was down into Postgres."""

    try:
        return dead_letter_spool_flush()
    except DatabaseError as exc:
        # Still down: the spool keeps the letters and the next beat tick tries again. Dead-lettering
        # this task would only grow the spool it is trying to empty.
        logger.warning("dead-letter spool flush postponed: %s", exc)
        return 0


def _heartbeat_task(queue: Queue):
    # One task per queue, named after it, so routing by name sends each to the queue it proves alive.
    @torghut_task(name=f"{HEARTBEAT_TASK_PREFIX}{queue.value}")
    def heartbeat() -> None:
        try:
            heartbeat_record(queue=queue.value)
        except redis.RedisError as exc:
            # The next beat stamps again; a missing stamp is exactly what the alert is for.
            logger.warning("heartbeat of %s not recorded: %s", queue.value, exc)

    heartbeat.__doc__ = f"Stamp the {queue.value} queue's heartbeat (beat sends it every HEARTBEAT_INTERVAL_SECONDS)."
    return heartbeat


HEARTBEATS = {queue: _heartbeat_task(queue) for queue in Queue}
