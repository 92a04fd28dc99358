"""Execution metrics at /metrics: counters from the order path, ratios computed from Postgres."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_strategy
from tests.signals import macd_cross_up
from trading.orders.consumers import signals_consume
from trading.orders.models import Decision
from trading.orders.services import decision_submit

pytestmark = pytest.mark.django_db


def _samples(client) -> dict[tuple[str, tuple], float]:
    text = client.get("/metrics").content.decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def test_a_fallback_shows_in_requests_errors_latency_ratio_and_coverage(client, venues):
    lean, _ = venues
    before = _samples(client)
    lean.set(fail_status=503)
    make_strategy()
    with transaction.atomic():
        signals_consume(signals=macd_cross_up("AAPL") + macd_cross_up("MSFT"), account="paper")
    first, second = Decision.objects.order_by("id")
    decision_submit(decision_id=first.pk)
    lean.set(fail_status=0)
    decision_submit(decision_id=second.pk)
    after = _samples(client)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("torghut_execution_requests_total", expected="lean", actual="alpaca") == 1
    assert delta("torghut_execution_requests_total", expected="lean", actual="lean") == 1
    assert delta("torghut_execution_errors_total", category="http_503") == 1
    assert delta("torghut_decision_to_fill_seconds_count", adapter="alpaca") == 1
    assert after[("torghut_execution_fallback_ratio", ())] == pytest.approx(0.5)
    assert after[("torghut_route_provenance_coverage_ratio", ())] == 1.0


def test_a_decision_that_reached_a_venue_without_an_execution_lowers_coverage(client):
    make_strategy()
    with transaction.atomic():
        signals_consume(signals=macd_cross_up("AAPL"), account="paper")
    Decision.objects.update(status="submitted", submitted_at=timezone.now(), expected_adapter="lean")
    text = client.get("/metrics").content.decode()
    assert re.search(r"^torghut_route_provenance_coverage_ratio 0\.0$", text, re.M)
