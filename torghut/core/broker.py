"""Celery's Redis transport, with delivery that survives a Redis crash (selected in `torghut.celeryconfig`).

kombu's Redis transport pops a message with BRPOP and records it as unacknowledged with a second
command. A Redis crash between the two (the pop already fsynced to the AOF, its reply or the second
command lost) drops the message: it is in no queue and in no unacked hash, so nothing can restore it.
Here one Lua script pops and records together, and a blocking BRPOP on a per-queue wake-up list (one
token pushed with every message) only says when to run it. What kombu cannot do while Redis is down is
kept in this process and done after the reconnect: acknowledgements (else the task runs twice) and the
return of messages the worker held but had not started (else they wait out the visibility timeout).

It is selected by name: `redis_alias_register` makes kombu's `redis` alias mean this transport, so the
broker URL stays a plain `redis://` one that tools reading it (Flower's Broker page and queue lengths,
the worker banner) understand; a `broker_transport` class path would become the URL's scheme instead.
"""

from __future__ import annotations

import logging
from queue import Empty
from time import monotonic
from uuid import uuid4

from celery.worker import state
from kombu import transport as kombu_transport
from kombu.transport import redis as kombu_redis
from kombu.transport.virtual import base as virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)
WAKE_KEY = "_torghut.wake.%s"
# KEYS: unacked hash, unacked index, this channel's last-fetch key, the n queue keys in BRPOP's order,
# then the wake-up lists. ARGV: n, this fetch's id, the last-fetch key's TTL, then per queue key "1" to
# record the message as unacked ("0" for a no-ack consumer, which never acknowledges). The unacked entry
# is the JSON kombu writes ([payload, exchange, routing_key]), built around the payload's own bytes so it
# is restored byte for byte; "<fetch id> <tag>" under the last-fetch key lets the channel's successor
# return a message whose reply the connection lost. Wake-up tokens are dropped when every queue is
# empty: a publisher pushes message and token in one MULTI, so any token left then is stale.
FETCH = """
local n = tonumber(ARGV[1])
for i = 4, n + 3 do
  local payload = redis.call('RPOP', KEYS[i])
  if payload then
    local ok, message = pcall(cjson.decode, payload)
    if ARGV[i] == '1' and ok and type(message) == 'table' and type(message['properties']) == 'table' then
      local props = message['properties']
      local info = props['delivery_info'] or {}
      local now = redis.call('TIME')
      redis.call('ZADD', KEYS[2], tonumber(now[1]) + tonumber(now[2]) / 1000000, props['delivery_tag'])
      redis.call('HSET', KEYS[1], props['delivery_tag'],
        '[' .. payload .. ',' .. cjson.encode(info['exchange'] or '') .. ',' .. cjson.encode(info['routing_key'] or '') .. ']')
      redis.call('SET', KEYS[3], ARGV[2] .. ' ' .. props['delivery_tag'], 'EX', ARGV[3])
    end
    return {KEYS[i], payload}
  end
end
for i = n + 4, #KEYS do redis.call('DEL', KEYS[i]) end
return false
"""
# Delivery tags whose Redis write failed with the connection; retried once a channel connects again.
_pending_acks: set[str] = set()
_pending_restores: set[str] = set()
# Last-fetch key -> id of a fetch whose reply never arrived (the message may be recorded, never delivered).
_unanswered_fetches: dict[str, str] = {}
# Delivery tags handed to the execution pool and not acknowledged yet. A task the pool holds but has
# not reported as started is not among Celery's active requests, yet it will run: it must not be
# returned to the queue, or it runs twice.
_tags_in_pool: set[str] = set()


def task_handed_to_pool(delivery_tag: str) -> None:
    """Called by `torghut.core.tasks.TorghutRequest` when a task goes to the pool: its ack is still to come."""
    _tags_in_pool.add(delivery_tag)


def _tags_being_executed() -> set[str]:
    """Delivery tags of the tasks this worker is running or has handed to its pool: their acks are still to come."""

    if state.should_stop or state.should_terminate:
        return set()  # shutting down: nothing more will be acknowledged, return everything
    running = {request.message.delivery_tag for request in list(state.active_requests) if request.message is not None}
    return running | _tags_in_pool


class QoS(kombu_redis.QoS):
    """Acks and restores that a dead connection defers instead of dropping."""

    def append(self, message, delivery_tag):
        if self.channel._fetched.pop(delivery_tag, None):
            virtual.QoS.append(self, message, delivery_tag)  # FETCH already recorded it in Redis
        else:
            super().append(message, delivery_tag)

    def _defer(self, delivery_tag, *, requeue: bool) -> None:
        logger.warning("broker connection lost: %s of %s deferred until it reconnects", "restore" if requeue else "ack", delivery_tag)
        (_pending_restores if requeue else _pending_acks).add(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)

    def ack(self, delivery_tag):
        _tags_in_pool.discard(delivery_tag)
        # A task that outlived its channel (closed by the reconnect) is acked through the next one.
        if self.channel.connection is None:
            return self._defer(delivery_tag, requeue=False)
        try:
            super().ack(delivery_tag)
        except self.channel.connection_errors:
            self._defer(delivery_tag, requeue=False)

    def reject(self, delivery_tag, requeue=False):
        _tags_in_pool.discard(delivery_tag)
        if self.channel.connection is None:
            return self._defer(delivery_tag, requeue=requeue)
        try:
            super().reject(delivery_tag, requeue=requeue)
        except self.channel.connection_errors:
            self._defer(delivery_tag, requeue=requeue)

    def restore_unacked(self, client=None):
        """Return the messages this channel held but is not executing (a running task acks later)."""
        running = _tags_being_executed()
        _pending_restores.update(tag for tag in self._delivered if tag not in running and tag not in self._dirty)
        self._delivered.clear()
        self.channel.flush_deferred()


class Channel(kombu_redis.Channel):
    QoS = QoS

    def __init__(self, *args, **kwargs):
        self._fetched: dict[str, bool] = {}
        self._no_ack_queues: dict[str, str] = {}  # consumer tag -> queue
        self._fetch_next = True  # a new channel first looks at the queues, then waits for a token
        self._fetch_key = f"_torghut.fetching.{uuid4().hex}"
        self._awaiting_fetch: str | None = None
        super().__init__(*args, **kwargs)
        if self.global_keyprefix:
            raise ValueError("torghut.core.broker does not support global_keyprefix")
        self.flush_deferred()

    def flush_deferred(self) -> None:
        """Send the acks and restores a lost connection deferred; keep what still fails."""
        if self._awaiting_fetch:  # a fetch is to be sent while the last one went unanswered
            _unanswered_fetches[self._fetch_key], self._awaiting_fetch = self._awaiting_fetch, None
        if not (_pending_acks or _pending_restores or _unanswered_fetches):
            return
        if getattr(self.connection, "client", None) is None:
            return  # a channel closing after its connection was collected: its successor sends them
        try:
            with self.conn_or_acquire() as client:
                for tag in list(_pending_acks):
                    self.qos._remove_from_indices(tag, client.pipeline()).execute()
                    _pending_acks.discard(tag)
                for key, fetch_id in list(_unanswered_fetches.items()):
                    last = bytes_to_str(client.get(key) or "").split(" ")
                    if last[0] == fetch_id:
                        _pending_restores.add(last[1])  # recorded by FETCH, never delivered here
                    client.delete(key)
                    del _unanswered_fetches[key]
                running = _tags_being_executed()
                for tag in list(_pending_restores):
                    if tag not in running:
                        self.qos.restore_by_tag(tag, client=client)
                    _pending_restores.discard(tag)
        except self.connection_errors:
            logger.warning("broker down: %d ack(s) and %d restore(s) still deferred", len(_pending_acks), len(_pending_restores))
            return
        logger.info("broker back: deferred acks and restores sent")

    def close(self):
        super().close()
        if self._awaiting_fetch:
            _unanswered_fetches[self._fetch_key], self._awaiting_fetch = self._awaiting_fetch, None

    def _wake_key(self, queue: str) -> str:
        return WAKE_KEY % queue

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        if no_ack:
            self._no_ack_queues[consumer_tag] = queue
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_cancel(self, consumer_tag):
        self._no_ack_queues.pop(consumer_tag, None)
        return super().basic_cancel(consumer_tag)

    def _put(self, queue, message, **kwargs):
        """Push the message and its wake-up token in one MULTI (one AOF fsync)."""
        if kwargs.get("_publish_batch") is not None or queue in self._expires:
            super()._put(queue, message, **kwargs)
            with self.conn_or_acquire() as client:
                client.lpush(self._wake_key(queue), 1)
            return
        key = self._q_for_pri(queue, self._get_message_priority(message, reverse=False))
        with self.conn_or_acquire() as client, client.pipeline() as pipe:
            pipe.lpush(key, dumps(message)).lpush(self._wake_key(queue), 1).execute()

    def _do_restore_message(self, payload, exchange, routing_key, pipe, leftmost=False):
        super()._do_restore_message(payload, exchange, routing_key, pipe, leftmost)
        for queue in self._lookup(exchange, routing_key):
            pipe.lpush(self._wake_key(queue), 1)

    def _fetch_args(self, queues) -> list:
        pairs = [(self._q_for_pri(queue, pri), queue) for pri in self.priority_steps for queue in queues]
        keys = [key for key, _ in pairs]
        no_ack = set(self._no_ack_queues.values())
        record = ["0" if queue in no_ack else "1" for _, queue in pairs]
        wake = [self._wake_key(queue) for queue in queues]
        self._awaiting_fetch = uuid4().hex
        return [
            "EVAL",
            FETCH,
            3 + len(keys) + len(wake),
            self.unacked_key,
            self.unacked_index_key,
            self._fetch_key,
            *keys,
            *wake,
            len(keys),
            self._awaiting_fetch,
            int(self.visibility_timeout),
            *record,
        ]

    def _brpop_start(self, timeout=None):
        self.flush_deferred()
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        if self._fetch_next:
            command = self._fetch_args(queues)
        else:
            command = ["BRPOP", *(self._wake_key(queue) for queue in queues), timeout or self.brpop_timeout or 0]
        self._in_poll = self.client.connection
        self._brpop_sent_at = monotonic()
        self.client.connection.send_command(*command)

    def _brpop_read(self, **options):
        fetching = self._fetch_next
        try:
            try:
                reply = self.client.parse_response(self.client.connection, "EVAL" if fetching else "BRPOP", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            except self.ResponseError:
                logger.exception("broker fetch failed")
                reply = None
            if fetching:
                self._awaiting_fetch = None
            # After a message, look again at once; after nothing, wait for a token (or BRPOP's timeout).
            self._fetch_next = bool(reply) or not fetching
            if not (fetching and reply):
                raise Empty()
            key, payload = bytes_to_str(reply[0]), bytes_to_str(reply[1])
            queue = key.rsplit(self.sep, 1)[0]
            self._queue_cycle.rotate(queue)
            message = loads(payload)
            if queue not in self._no_ack_queues.values():
                self._fetched[message["properties"]["delivery_tag"]] = True
            self.connection._deliver(message, queue)
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()


class Transport(kombu_redis.Transport):
    Channel = Channel


TRANSPORT_PATH = f"{__name__}:Transport"


def redis_alias_register() -> None:
    """Make kombu resolve `redis://` broker URLs to this transport (in this process; idempotent).

    Must run before any connection resolves `redis`: kombu caches the class per alias, and a stock
    transport cached earlier would silently serve without crash-safe delivery, hence the check.
    """
    kombu_transport.TRANSPORT_ALIASES["redis"] = TRANSPORT_PATH
    if kombu_transport.get_transport_cls("redis") is not Transport:
        raise RuntimeError("kombu resolved the redis transport before torghut.core.broker registered it")
