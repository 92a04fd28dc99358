"""Provenance rules hold in Postgres itself: raw SQL that breaks them is refused."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

pytestmark = pytest.mark.django_db

COLUMNS = (
    "client_order_id",
    "broker_order_id",
    "account",
    "symbol",
    "side",
    "expected_adapter",
    "actual_adapter",
    "fallback_reason",
    "fallback_count",
    "route_tag",
    "quantity",
    "filled_quantity",
    "avg_fill_price",
    "status",
    "filled_at",
    "error_category",
    "error_detail",
    "created_at",
    "updated_at",
)
VALID = {
    "client_order_id": "c-1",
    "broker_order_id": "",
    "account": "paper",
    "symbol": "AAPL",
    "side": "buy",
    "expected_adapter": "lean",
    "actual_adapter": "lean",
    "fallback_reason": "",
    "fallback_count": 0,
    "route_tag": "backfill",
    "quantity": 10,
    "filled_quantity": 0,
    "avg_fill_price": None,
    "status": "submitted",
    "filled_at": None,
    "error_category": "",
    "error_detail": "",
}


def _insert(**overrides) -> None:
    row = {**VALID, **overrides}
    cols = [c for c in COLUMNS if c not in ("created_at", "updated_at")]
    sql = (
        f"INSERT INTO trading_execution ({', '.join(cols)}, created_at, updated_at) VALUES ({', '.join(['%s'] * len(cols))}, now(), now())"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [row[c] for c in cols])


def test_a_row_with_consistent_provenance_is_accepted():
    _insert()
    _insert(client_order_id="c-2", actual_adapter="alpaca", fallback_reason="lean_http_503", fallback_count=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM trading_execution")
        assert cursor.fetchone()[0] == 2


@pytest.mark.parametrize(
    "overrides, constraint",
    [
        ({"expected_adapter": None}, "not-null"),
        ({"actual_adapter": None}, "not-null"),
        ({"actual_adapter": "robinhood"}, "execution_actual_adapter_known"),
        ({"expected_adapter": ""}, "execution_expected_adapter_known"),
        ({"actual_adapter": "alpaca", "fallback_count": 1}, "execution_fallback_reason_iff_adapters_differ"),
        ({"actual_adapter": "alpaca", "fallback_reason": "   ", "fallback_count": 1}, "execution_fallback_reason_iff_adapters_differ"),
        (
            {"actual_adapter": "alpaca", "fallback_reason": "lean_http_503", "fallback_count": 0},
            "execution_fallback_reason_iff_adapters_differ",
        ),
        ({"fallback_reason": "lean_http_503"}, "execution_fallback_reason_iff_adapters_differ"),
        ({"fallback_count": 2}, "execution_fallback_reason_iff_adapters_differ"),
        ({"fallback_reason": None}, "not-null"),
        ({"route_tag": "manual"}, "execution_route_tag_valid"),
        ({"route_tag": "live"}, "execution_live_has_decision"),
        ({"status": "done"}, "execution_status_valid"),
        ({"status": "filled", "filled_quantity": 10}, "execution_filled_has_time_and_price"),
        ({"filled_quantity": 11}, "execution_filled_within_quantity"),
    ],
)
def test_a_raw_insert_that_breaks_provenance_fails(overrides, constraint):
    with pytest.raises(IntegrityError) as caught:
        _insert(**overrides)
    message = str(caught.value)
    assert (constraint in message) if constraint != "not-null" else ("null value" in message and "not-null" in message)


def test_an_update_that_removes_the_fallback_reason_fails():
    _insert(actual_adapter="simulated", fallback_reason="lean_submit_timeout;alpaca_http_503", fallback_count=2)
    with (
        pytest.raises(IntegrityError, match="execution_fallback_reason_iff_adapters_differ"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE trading_execution SET fallback_reason = '' WHERE client_order_id = 'c-1'")


def test_client_order_ids_are_unique():
    _insert()
    with pytest.raises(IntegrityError, match="client_order_id"):
        _insert()
