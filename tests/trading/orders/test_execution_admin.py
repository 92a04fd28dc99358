"""The admin shows decisions and executions read-only."""

from __future__ import annotations

import pytest

from tests.factories import make_strategy
from trading.orders.models import Execution

pytestmark = pytest.mark.django_db


def test_admins_can_list_executions_but_not_change_them(admin_client):
    make_strategy()
    execution = Execution.objects.create(
        client_order_id="adm-1",
        account="paper",
        symbol="AAPL",
        side="buy",
        expected_adapter="lean",
        actual_adapter="alpaca",
        fallback_reason="lean_http_503",
        fallback_count=1,
        route_tag="backfill",
        quantity=1,
        status="submitted",
    )
    page = admin_client.get("/admin/trading/execution/")
    assert page.status_code == 200 and b"lean_http_503" in page.content
    assert admin_client.get("/admin/trading/decision/").status_code == 200
    assert admin_client.get("/admin/trading/execution/add/").status_code == 403
    assert admin_client.post(f"/admin/trading/execution/{execution.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Execution.objects.filter(pk=execution.pk).exists()
