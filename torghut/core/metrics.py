"""Prometheus metrics shared by every process, and the `/metrics` view.

Web, worker and beat processes write to one multiprocess directory (PROMETHEUS_MULTIPROC_DIR), so
a counter bumped inside a Celery task shows at the web `/metrics`. Gauges whose truth is in the
database (pending dead letters, provenance coverage, ...) are computed at scrape time by collectors
that apps register with `register_database_collector`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Every process defines its metrics through these names, so all land in the multiprocess registry.
__all__ = [
    "Counter",
    "Gauge",
    "Histogram",
    "build_registry",
    "counter_labels_init",
    "database_collector_families",
    "metrics_view",
    "register_database_collector",
]
TASK_RETRIES = Counter("torghut_task_retries_total", "Task retries scheduled after a transient error.", ["task"])
TASK_FAILURES = Counter("torghut_task_failures_total", "Tasks that failed for good (then dead-lettered).", ["task"])
TASK_DEAD_LETTERS = Counter("torghut_task_dead_letters_total", "Dead letters written (to Postgres or the spool).", ["task"])
DEAD_LETTERS_SPOOLED = Counter("torghut_dead_letters_spooled_total", "Dead letters spooled to disk while Postgres was down.")
DEAD_LETTERS_REPLAYED = Counter("torghut_dead_letters_replayed_total", "Dead letters replayed by an operator.", ["task"])
MetricsProducer = Callable[[], Iterable[GaugeMetricFamily]]


def counter_labels_init(counter: Counter, label_sets: Iterable[dict[str, str]]) -> None:
    """Export `counter` at 0 for each known label set, so `increase()` in rules and panels sees the first event.

    A labelled counter has no series until its first `inc()`; Prometheus then sees it start at 1 and
    `increase()` over a window that holds its first sample reports 0.
    """
    for labels in label_sets:
        counter.labels(**labels)


_DATABASE_COLLECTORS: dict[str, MetricsProducer] = {}


def register_database_collector(name: str, producer: MetricsProducer) -> None:
    """Register a function yielding metric families computed from the database at scrape time."""
    _DATABASE_COLLECTORS[name] = producer


class _DatabaseCollector(Collector):
    def collect(self):
        for name, producer in list(_DATABASE_COLLECTORS.items()):
            try:
                yield from producer()
            except Exception:  # one broken producer must not blank the whole scrape
                logger.exception("metrics producer %s failed", name)
                failed = GaugeMetricFamily(
                    "torghut_metrics_producer_up", "1 when a database metrics producer answered.", labels=["producer"]
                )
                failed.add_metric([name], 0.0)
                yield failed


def database_collector_families() -> list:
    """The families every registered database collector yields now (for generated documentation)."""
    return list(_DatabaseCollector().collect())


def build_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_DatabaseCollector())
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(build_registry()), content_type=CONTENT_TYPE_LATEST)
