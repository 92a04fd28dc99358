"""Liveness gauges (worker heartbeat per queue, beat lock, Redis) and labelled counters exported at 0, so
the alert rules see the first event and tell a dead worker from a dead broker."""

from __future__ import annotations

import math
import re

import pytest

from governance.emergency.models import Trigger
from torghut.core.beat import LOCK_KEY
from torghut.core.heartbeat import KEY_PREFIX, heartbeats_family
from torghut.core.queues import ALL_QUEUES, Queue
from torghut.core.routing import queue_for_task
from torghut.core.tasks import HEARTBEATS
from torghut.schedule import BEAT_SCHEDULE
from trading.signals import tasks as signal_tasks

pytestmark = pytest.mark.django_db


def _families() -> dict:
    return {family.name: family for family in heartbeats_family()}


def _sample(body: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in body.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return None


def test_beat_sends_a_heartbeat_to_every_queue_routed_to_that_queue():
    entries = {e["options"]["queue"]: e["task"] for e in BEAT_SCHEDULE.values() if e["task"].startswith("torghut.heartbeat.")}
    assert set(entries) == set(ALL_QUEUES)
    assert all(queue_for_task(task).value == queue for queue, task in entries.items())
    assert {task.name for task in HEARTBEATS.values()} == set(entries.values())


def test_a_stamped_queue_reports_a_small_age_and_a_never_seen_one_reports_infinity(redis_client):
    redis_client.delete(*[f"{KEY_PREFIX}{q}" for q in ALL_QUEUES], LOCK_KEY)
    HEARTBEATS[Queue.INGEST].run()
    families = _families()
    ages = {s.labels["queue"]: s.value for s in families["torghut_worker_heartbeat_age_seconds"].samples}
    assert 0 <= ages["ingest"] < 5
    assert math.isinf(ages["execution"])
    assert families["torghut_redis_up"].samples[0].value == 1.0
    assert families["torghut_beat_leader_up"].samples[0].value == 0.0
    redis_client.set(LOCK_KEY, "beat-under-test", px=5000)
    assert _families()["torghut_beat_leader_up"].samples[0].value == 1.0
    redis_client.delete(LOCK_KEY)


def test_with_redis_down_only_redis_up_0_is_exported(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    families = _families()
    assert list(families) == ["torghut_redis_up"]
    assert families["torghut_redis_up"].samples[0].value == 0.0


def test_labelled_counters_are_exported_at_0_before_their_first_event(client):
    # A worker imports every task module at start-up, which defines each task's counters at 0.
    assert signal_tasks.ingest_signals.name == "trading.ingest_signals"
    body = client.get("/metrics").content.decode()
    for trigger in Trigger.values:
        assert _sample(body, "torghut_emergency_stop_total", trigger=trigger) is not None, trigger
    assert _sample(body, "torghut_alert_transitions_total", event="open", severity="critical") is not None
    assert _sample(body, "torghut_task_dead_letters_total", task="trading.ingest_signals") is not None
    assert _sample(body, "torghut_execution_requests_total", expected="lean", actual="simulated") is not None
    assert _sample(body, "torghut_emergency_stop_trigger_threshold", trigger="signal_lag") == 600.0
