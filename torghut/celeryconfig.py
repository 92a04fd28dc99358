"""Celery configuration: JSON only, late acks, one message prefetched at a time, named queues."""

from __future__ import annotations

from django.conf import settings
from kombu import Queue as KombuQueue

from torghut.core.broker import redis_alias_register
from torghut.core.queues import ALL_QUEUES, Queue
from torghut.schedule import BEAT_SCHEDULE

broker_url = settings.CELERY_BROKER_URL
if broker_url.startswith("redis://"):
    # kombu's Redis transport loses a message popped just before Redis dies; see torghut.core.broker.
    # An alias, not `broker_transport`: the URL keeps its redis:// scheme, which Flower's Broker needs.
    redis_alias_register()
result_backend = settings.CELERY_RESULT_BACKEND
result_expires = 3600
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_soft_time_limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
task_time_limit = settings.CELERY_TASK_TIME_LIMIT
# No STARTED write to the result backend before the body: when it fails (Redis restarting) Celery fails
# the task outside its body and acks it, so the body never runs. Flower still sees task-started events.
task_track_started = False
# Result writes after the body ride out a Redis restart instead of failing the finished task.
result_backend_always_retry = True
result_backend_max_retries = 20
task_send_sent_event = True
worker_send_task_events = True
worker_hijack_root_logger = False
broker_connection_retry_on_startup = True
# Read by Celery's Django fixup (this exact name): reuse a worker's Postgres connection instead of
# reconnecting around every task; torghut.celery still drops a broken or expired one per task.
CELERY_DB_REUSE_MAX = settings.CELERY_DB_REUSE_MAX
# Unacked messages return to the queue after this; it must outlast any retry countdown.
broker_transport_options = {"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT}
result_backend_transport_options = {"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT}
task_queues = [KombuQueue(name, routing_key=name) for name in ALL_QUEUES]
task_default_queue = Queue.DEFAULT.value
task_routes = ("torghut.core.routing.route_task",)
beat_schedule = BEAT_SCHEDULE
beat_scheduler = "torghut.core.beat:LeaderScheduler"
