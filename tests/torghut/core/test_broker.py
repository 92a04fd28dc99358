"""torghut.core.broker against a private Redis (AOF, fsync always) that the tests kill: delivery state lives in Redis."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue

from tests.faults.services import PrivateRedis
from torghut.core import broker

QUEUE = Queue("broker-test", Exchange("broker-test", "direct"), routing_key="broker-test")


@pytest.fixture
def server() -> Iterator[PrivateRedis]:
    instance = PrivateRedis().start()
    yield instance
    instance.destroy()
    broker._pending_acks.clear()
    broker._pending_restores.clear()
    broker._unanswered_fetches.clear()
    broker._tags_in_pool.clear()


def _connect(server: PrivateRedis, **transport_options) -> Connection:
    return Connection(server.url, transport="torghut.core.broker:Transport", transport_options=transport_options)


def _publish(conn: Connection, count: int) -> None:
    producer = Producer(conn.default_channel)
    for index in range(count):
        producer.publish({"index": index}, exchange=QUEUE.exchange, routing_key=QUEUE.routing_key, declare=[QUEUE])


def _receive(conn: Connection, count: int, on_message=None) -> list:
    received = []

    def _callback(body, message):
        received.append(message)
        if on_message:
            on_message(message)

    with Consumer(conn.default_channel, [QUEUE], callbacks=[_callback]):
        while len(received) < count:
            conn.drain_events(timeout=5)
    return received


def test_a_fetched_message_is_already_recorded_as_unacknowledged_when_the_consumer_gets_it(server):
    client = redis.Redis(port=server.port)
    seen = []
    with _connect(server) as conn:
        _publish(conn, 1)
        [message] = _receive(
            conn, 1, on_message=lambda m: seen.append((client.hexists("unacked", m.delivery_tag), client.llen(QUEUE.name)))
        )
        message.ack()
    assert seen == [(True, 0)]
    assert client.hlen("unacked") == 0


def test_an_ack_made_while_redis_is_down_is_sent_once_a_channel_connects_again(server):
    client = redis.Redis(port=server.port)
    with _connect(server) as conn:
        _publish(conn, 1)
        [message] = _receive(conn, 1)
        server.stop(signal.SIGKILL)
        message.ack()  # no error: deferred
        assert broker._pending_acks == {message.delivery_tag}
        server.start()
        assert client.hexists("unacked", message.delivery_tag), "the AOF kept the delivery"
        with _connect(server) as again:
            again.default_channel
    assert broker._pending_acks == set()
    assert client.hlen("unacked") == 0 and client.llen(QUEUE.name) == 0


def test_held_messages_return_to_the_queue_after_the_reconnect_but_a_running_one_waits_for_its_ack(server, monkeypatch):
    client = redis.Redis(port=server.port)
    conn = _connect(server)
    _publish(conn, 2)
    running, held = _receive(conn, 2)
    monkeypatch.setattr(broker, "_tags_being_executed", lambda: {running.delivery_tag})
    server.stop(signal.SIGKILL)
    with contextlib.suppress(*conn.connection_errors):
        conn.close()  # restores what it holds: Redis is down, so that waits
    assert broker._pending_restores == {held.delivery_tag}
    server.start()
    with _connect(server) as again:
        again.default_channel
    assert broker._pending_restores == set()
    assert client.llen(QUEUE.name) == 1
    assert set(client.hkeys("unacked")) == {running.delivery_tag.encode()}


def test_a_message_handed_to_the_pool_but_not_yet_started_is_not_returned_to_the_queue(server):
    """Celery counts a task as active only once the pool reports it started; one it has handed over
    runs anyway, so returning it at the reconnect would run it twice."""
    client = redis.Redis(port=server.port)
    conn = _connect(server)
    _publish(conn, 2)
    handed, held = _receive(conn, 2)
    broker.task_handed_to_pool(handed.delivery_tag)
    server.stop(signal.SIGKILL)
    with contextlib.suppress(*conn.connection_errors):
        conn.close()
    assert broker._pending_restores == {held.delivery_tag}
    server.start()
    with _connect(server) as again:
        again.default_channel.qos.ack(handed.delivery_tag)  # the task finished: its ack goes through the new channel
    assert client.llen(QUEUE.name) == 1 and client.hlen("unacked") == 0
    assert broker._tags_in_pool == set()


def test_a_publish_wakes_a_waiting_consumer_long_before_its_wait_times_out(server):
    with _connect(server) as conn, _connect(server) as publisher:
        conn.transport.brpop_timeout = 20  # BRPOP on the wake-up lists waits this long unless woken
        threading.Timer(0.5, _publish, args=(publisher, 1)).start()
        started = time.monotonic()
        [message] = _receive(conn, 1)
        message.ack()
    assert time.monotonic() - started < 3


def test_a_message_whose_fetch_reply_was_lost_returns_to_the_queue_when_the_next_channel_connects(server):
    client = redis.Redis(port=server.port)
    conn = _connect(server)
    _publish(conn, 1)
    channel = conn.default_channel
    with Consumer(channel, [QUEUE], callbacks=[lambda body, message: pytest.fail("delivered")]):
        conn.transport.cycle._client_registered(channel, channel.client, "BRPOP")  # gives the client its connection
        channel._brpop_start()
        time.sleep(0.2)
        channel.client.connection.disconnect()  # the reply of the fetch is lost with the connection
        assert client.hlen("unacked") == 1 and client.llen(QUEUE.name) == 0
    conn.close()
    with _connect(server) as again:
        again.default_channel
    assert client.llen(QUEUE.name) == 1 and client.hlen("unacked") == 0
