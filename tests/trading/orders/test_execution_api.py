"""`/trading/decisions` and `/trading/executions`: filters, cursor pages, limits, field errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from tests.factories import make_strategy
from tests.signals import macd_cross_up
from trading.orders.consumers import signals_consume
from trading.orders.models import Decision, Execution
from trading.orders.services import decision_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(settings):
    """Six decisions over three symbols and two strategies, all filled by the simulator."""
    settings.TRADING_EXECUTION_ADAPTER = "simulated"
    settings.TRADING_MAX_ORDERS_PER_SECOND = 100
    make_strategy(name="alpha")
    make_strategy(name="beta")
    with transaction.atomic():
        signals_consume(signals=macd_cross_up("AAPL") + macd_cross_up("MSFT") + macd_cross_up("IBM"), account="paper")
    for decision in Decision.objects.order_by("id"):
        decision_submit(decision_id=decision.pk)
    return Decision.objects.order_by("id")


def test_executions_list_with_provenance_newest_first(api_client, book):
    response = api_client.get("/trading/executions")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 6 and [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert {(r["expected_adapter"], r["actual_adapter"], r["route_tag"], r["fallback_reason"]) for r in rows} == {
        ("simulated", "simulated", "live", "")
    }
    assert response.json()["next_cursor"] is None


def test_filters_narrow_both_lists(api_client, book):
    assert len(api_client.get("/trading/decisions", {"symbol": "aapl"}).json()["results"]) == 2
    assert len(api_client.get("/trading/decisions", {"strategy": "alpha", "status": "filled"}).json()["results"]) == 3
    assert len(api_client.get("/trading/decisions", {"strategy": "beta@1", "route_tag": "live"}).json()["results"]) == 3
    assert len(api_client.get("/trading/executions", {"adapter": "simulated", "symbol": "MSFT"}).json()["results"]) == 2
    assert api_client.get("/trading/executions", {"adapter": "lean"}).json()["results"] == []
    assert api_client.get("/trading/executions", {"route_tag": "backfill"}).json()["results"] == []
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert api_client.get("/trading/decisions", {"since": future}).json()["results"] == []
    assert len(api_client.get("/trading/executions", {"until": future, "status": "filled"}).json()["results"]) == 6
    decision = api_client.get("/trading/decisions", {"symbol": "IBM", "strategy": "alpha"}).json()["results"][0]
    assert decision["signal_key"]["symbol"] == "IBM" and decision["execution_id"] == Execution.objects.get(decision_id=decision["id"]).id
    assert Decimal(decision["quantity"]) == Decimal(10)


def test_cursor_pages_walk_every_row_once(api_client, book):
    seen, url, params = [], "/trading/executions", {"limit": 4}
    page = api_client.get(url, params).json()
    seen += [r["id"] for r in page["results"]]
    assert len(page["results"]) == 4 and page["next_cursor"]
    page = api_client.get(url, {"limit": 4, "cursor": page["next_cursor"]}).json()
    seen += [r["id"] for r in page["results"]]
    assert page["next_cursor"] is None
    assert sorted(seen) == sorted(Execution.objects.values_list("id", flat=True))


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"status": "exploded"}, "status"),
        ({"adapter": "ib"}, "adapter"),
        ({"route_tag": "manual"}, "route_tag"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-03-02T10:00:00Z", "until": "2026-03-01T10:00:00Z"}, "until"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"colour": "red"}, "colour"),
        ({"symbol": "AAPL; DROP"}, "symbol"),
    ],
)
def test_bad_filters_get_400_with_field_errors(api_client, params, field):
    for url in ("/trading/decisions", "/trading/executions"):
        response = api_client.get(url, params)
        assert response.status_code == 400, (url, params)
        assert field in response.json()


def test_the_lists_need_authentication(anon_client):
    assert anon_client.get("/trading/executions").status_code in (401, 403)
