from torghut.celery import app
from torghut.core.queues import ALL_QUEUES
from torghut.core.routing import queue_for_task
from torghut.schedule import BEAT_SCHEDULE


def _registered_tasks() -> set[str]:
    app.loader.import_default_modules()
    return set(app.tasks)


def test_every_beat_entry_names_a_registered_task_and_a_known_queue():
    registered = _registered_tasks()
    assert BEAT_SCHEDULE, "the beat schedule is empty"
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["task"] in registered, f"{name}: {entry['task']} is not a registered task"
        assert entry["options"]["queue"] in ALL_QUEUES, f"{name}: unknown queue {entry['options']['queue']}"


def test_every_beat_entry_expires_within_its_interval():
    for name, entry in BEAT_SCHEDULE.items():
        expires = entry["options"]["expires"]
        assert 0 < expires <= entry["schedule"], name


def test_scheduled_tasks_are_routed_to_the_queue_their_entry_names():
    for name, entry in BEAT_SCHEDULE.items():
        assert queue_for_task(entry["task"]).value == entry["options"]["queue"], name


def test_the_app_is_json_only_with_late_acks_and_single_prefetch():
    conf = app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_visibility_timeout_outlasts_the_longest_retry_countdown():
    from django.conf import settings

    assert settings.CELERY_VISIBILITY_TIMEOUT > settings.CELERY_RETRY_BACKOFF_MAX
