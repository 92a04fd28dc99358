"""Workers keep one Postgres connection across tasks, yet a connection that broke is replaced, not failed on."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.integration.worker_tasks import backend_pid

QUEUE = "connection-reuse"


@pytest.mark.django_db(transaction=True)
def test_a_worker_reuses_its_connection_and_replaces_one_the_server_killed(start_worker):
    start_worker(name="connection-reuse-worker", queues=QUEUE, concurrency=1)

    def run() -> int:
        return backend_pid.apply_async(queue=QUEUE).get(timeout=30)

    first = run()
    assert run() == first, "the second task should run on the first task's connection"

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
        assert cursor.fetchone()[0] is True

    replaced = run()
    assert replaced != first
    assert run() == replaced
