"""Tasks loaded only into the suite's workers (`--include`) to exercise retries and dead letters."""

from __future__ import annotations

import redis
from django.conf import settings

from torghut.core.metrics import Counter
from torghut.core.tasks import torghut_task

TEST_BUMPS = Counter("torghut_test_worker_bumps_total", "Bumped inside a worker by the test suite.")


class FlakyError(Exception):
    """Transient by declaration: the task retries on it."""


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@torghut_task(name="tests.flaky", transient=(FlakyError,), retry_backoff=1, retry_backoff_max=2, max_retries=5)
def flaky(key: str, fail_times: int) -> int:
    attempt = _redis().incr(f"{key}:attempts")
    if attempt <= fail_times:
        raise FlakyError(f"attempt {attempt} of {fail_times} planned failures")
    return attempt


@torghut_task(name="tests.always_transient", transient=(FlakyError,), retry_backoff=1, retry_backoff_max=1, max_retries=2)
def always_transient(key: str) -> None:
    _redis().incr(f"{key}:attempts")
    raise FlakyError("never recovers")


@torghut_task(name="tests.broken_until_fixed")
def broken_until_fixed(key: str) -> int:
    client = _redis()
    if client.get(f"{key}:broken"):
        raise ValueError(f"{key} is broken")
    return client.incr(f"{key}:runs")


@torghut_task(name="tests.bump_metric")
def bump_metric() -> None:
    TEST_BUMPS.inc()


@torghut_task(name="tests.backend_pid")
def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]
