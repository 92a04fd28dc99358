from datetime import timedelta

import pytest
import redis
from django.conf import settings

from torghut.celery import app
from torghut.core.beat import LOCK_KEY, LeaderScheduler


@pytest.fixture
def schedulers(tmp_path):
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(LOCK_KEY)
    made = []

    def _make(name):
        scheduler = LeaderScheduler(app=app, schedule_filename=str(tmp_path / name), lazy=True)
        scheduler.setup_schedule()
        made.append(scheduler)
        return scheduler

    yield _make
    client.delete(LOCK_KEY)


def _make_all_due(scheduler) -> None:
    long_ago = scheduler.app.now() - timedelta(hours=1)
    for entry in scheduler.schedule.values():
        entry.last_run_at = long_ago


def _runs(scheduler) -> int:
    return sum(entry.total_run_count for entry in scheduler.schedule.values())


def test_a_second_beat_sends_nothing_while_the_first_holds_the_lock(schedulers):
    first, second = schedulers("a"), schedulers("b")
    _make_all_due(first)
    _make_all_due(second)
    first.tick()
    second.tick()
    assert first._leader is True and _runs(first) >= 1, "the leader sends its due entries"
    assert second._leader is False and _runs(second) == 0


def test_the_lock_passes_to_the_second_beat_when_the_first_stops(schedulers):
    first, second = schedulers("a"), schedulers("b")
    first.tick()
    assert second._hold_lock() is False
    first.close()
    assert second._hold_lock() is True
