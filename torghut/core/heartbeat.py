"""Worker, beat and broker liveness for Prometheus.

Beat sends `torghut.heartbeat.<queue>` to each queue; the worker that runs it stamps Redis with the time. At
scrape time `/metrics` reports each stamp's age, whether a beat holds its leader lock, and whether Redis
answers at all, so a dead worker, a dead beat and a dead broker are three different alerts
(`ops/prometheus/alerts.yml`). While Redis cannot be read the ages are not exported: unknown is not old.
"""

from __future__ import annotations

import math
import time

import redis
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from torghut.core.beat import LOCK_KEY as BEAT_LOCK_KEY
from torghut.core.queues import ALL_QUEUES

KEY_PREFIX = "torghut:heartbeat:"
# A stamp outlives many missed beats, so a long outage reads as a large age, not as "never".
_STAMP_TTL_SECONDS = 7 * 24 * 3600


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)


def heartbeat_record(*, queue: str, now: float | None = None) -> None:
    """Stamp `queue`'s heartbeat: a worker consuming it just ran the heartbeat task."""
    _redis().set(f"{KEY_PREFIX}{queue}", repr(now if now is not None else time.time()), ex=_STAMP_TTL_SECONDS)


def heartbeats_family():
    """Scrape-time gauges: `torghut_redis_up`, `torghut_beat_leader_up`, `torghut_worker_heartbeat_age_seconds{queue}`."""
    redis_up = GaugeMetricFamily("torghut_redis_up", "1 when the broker's Redis answered this scrape.")
    beat_up = GaugeMetricFamily("torghut_beat_leader_up", "1 when a beat holds the leader lock (it renews it every tick).")
    ages = GaugeMetricFamily(
        "torghut_worker_heartbeat_age_seconds",
        "Seconds since a worker last ran the heartbeat task of the queue (+Inf: never seen).",
        labels=["queue"],
    )
    client = _redis()
    try:
        leader = client.exists(BEAT_LOCK_KEY)
        stamps = client.mget([f"{KEY_PREFIX}{queue}" for queue in ALL_QUEUES])
    except redis.RedisError:
        redis_up.add_metric([], 0.0)
        yield redis_up
        return
    finally:
        client.close()
    now = time.time()
    redis_up.add_metric([], 1.0)
    beat_up.add_metric([], 1.0 if leader else 0.0)
    for queue, stamp in zip(ALL_QUEUES, stamps, strict=True):
        ages.add_metric([queue], max(0.0, now - float(stamp)) if stamp is not None else math.inf)
    yield from (redis_up, beat_up, ages)
