"""Execution metrics: counters and histograms bumped on the order path, ratios computed from Postgres."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from torghut.core.metrics import Counter, Histogram, counter_labels_init
from trading.orders.adapters import ADAPTER_NAMES
from trading.orders.selectors import execution_fallback_ratio, route_provenance_coverage_ratio

DECISION_TO_FILL = Histogram(
    "torghut_decision_to_fill_seconds",
    "Seconds from decision to fill, by the adapter that filled it.",
    ["adapter"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
EXECUTION_REQUESTS = Counter("torghut_execution_requests_total", "Orders routed, by expected and actual adapter.", ["expected", "actual"])
counter_labels_init(EXECUTION_REQUESTS, [{"expected": e, "actual": a} for e in ADAPTER_NAMES for a in ADAPTER_NAMES])
EXECUTION_ERRORS = Counter(
    "torghut_execution_errors_total", "Order-path errors by category (timeout, http_5xx, contract_violation, ...).", ["category"]
)


def execution_ratios() -> Iterable[GaugeMetricFamily]:
    """Scrape-time gauges of the fallback ratio and route provenance coverage."""
    ratio, _orders = execution_fallback_ratio(window_seconds=settings.TRADING_FALLBACK_WINDOW_SECONDS)
    fallback = GaugeMetricFamily(
        "torghut_execution_fallback_ratio", "Share of executions in the rolling window that fell back to another adapter."
    )
    fallback.add_metric([], ratio)
    yield fallback
    coverage = GaugeMetricFamily(
        "torghut_route_provenance_coverage_ratio", "Share of decisions that reached a venue and have an execution row with provenance."
    )
    coverage.add_metric([], route_provenance_coverage_ratio())
    yield coverage
