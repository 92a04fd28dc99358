"""A beat scheduler that only ticks while it holds a Redis leader lock.

A second beat started by mistake keeps waiting for the lock and sends nothing, so no scheduled task
runs twice per interval. The lock expires after BEAT_LOCK_TTL seconds if its holder dies.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)
LOCK_KEY = "torghut:beat:leader"
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class LeaderScheduler(PersistentScheduler):
    def __init__(self, *args, **kwargs):
        self._identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._leader = False
        super().__init__(*args, **kwargs)

    def _hold_lock(self) -> bool:
        ttl_ms = int(settings.BEAT_LOCK_TTL * 1000)
        try:
            if self._redis.set(LOCK_KEY, self._identity, nx=True, px=ttl_ms):
                return True
            return bool(self._redis.eval(_RENEW, 1, LOCK_KEY, self._identity, ttl_ms))
        except redis.RedisError as exc:
            logger.warning("beat leader lock unreadable (%s); not scheduling", exc)
            return False

    def tick(self, *args, **kwargs):
        leader = self._hold_lock()
        if leader != self._leader:
            logger.info("beat %s %s the leader lock", self._identity, "acquired" if leader else "does not hold")
            self._leader = leader
        if not leader:
            return min(self.max_interval, max(1.0, settings.BEAT_LOCK_TTL / 3))
        return min(super().tick(*args, **kwargs), max(1.0, settings.BEAT_LOCK_TTL / 3))

    def close(self):
        try:
            if self._redis.get(LOCK_KEY) == self._identity.encode():
                self._redis.delete(LOCK_KEY)
        except redis.RedisError:
            pass
        super().close()
