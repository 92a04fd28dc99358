"""`manage.py backfill_execution_provenance`: derived provenance, `backfill` tag, idempotent, progress."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from tests.factories import make_strategy
from tests.signals import macd_cross_up
from trading.orders.backfill import IMPORT_COLUMNS
from trading.orders.consumers import signals_consume
from trading.orders.models import Decision, Execution, ExecutionImport

pytestmark = pytest.mark.django_db

T = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def _row(coid: str, **overrides) -> ExecutionImport:
    values = {
        "client_order_id": coid,
        "broker_order_id": "lean-1",
        "account": "paper",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": Decimal(5),
        "filled_quantity": Decimal(5),
        "avg_fill_price": Decimal("10.5"),
        "status": "filled",
        "submitted_at": T,
        "filled_at": T,
    }
    values.update(overrides)
    return ExecutionImport(**values)


def _run(*args) -> str:
    out = StringIO()
    call_command("backfill_execution_provenance", *args, stdout=out)
    return out.getvalue()


def test_historical_rows_get_derived_provenance_and_the_backfill_tag():
    ExecutionImport.objects.bulk_create(
        [
            _row("same", expected_adapter="lean", actual_adapter="lean"),
            _row("moved", expected_adapter="lean", actual_adapter="alpaca"),
            _row("no-expected", actual_adapter="alpaca"),
            _row("from-sim-id", broker_order_id="sim-abc"),
            _row("from-uuid", broker_order_id="0f8fad5b-d9cb-469f-a165-70867728950e", expected_adapter="lean"),
            _row("filled-without-price", avg_fill_price=None),
            _row("legacy-status", status="accepted", filled_quantity=Decimal(0), filled_at=None),
        ]
    )
    output = _run("--batch-size", "3")
    assert "batch 1:" in output and "batch 3:" in output and "7 executions created from 7 historical rows" in output
    got = {e.client_order_id: e for e in Execution.objects.all()}
    assert all(e.route_tag == "backfill" for e in got.values())
    assert (got["same"].actual_adapter, got["same"].fallback_reason, got["same"].fallback_count) == ("lean", "", 0)
    assert (got["moved"].fallback_reason, got["moved"].fallback_count) == ("fallback_from_lean_to_alpaca", 1)
    assert (got["no-expected"].expected_adapter, got["no-expected"].fallback_reason) == ("alpaca", "")
    assert got["from-sim-id"].actual_adapter == "simulated"
    assert (got["from-uuid"].actual_adapter, got["from-uuid"].fallback_reason) == ("alpaca", "fallback_from_lean_to_alpaca")
    assert got["filled-without-price"].status == "unknown"
    assert got["legacy-status"].status == "submitted"


def test_a_rerun_creates_nothing_and_rows_it_cannot_map_are_left_out():
    ExecutionImport.objects.bulk_create([_row("a"), _row("b"), _row("odd", actual_adapter="ibkr")])
    assert "2 executions created from 3 historical rows" in _run()
    assert "0 executions created from 3 historical rows" in _run()
    assert Execution.objects.count() == 2


def test_an_import_row_for_a_known_decision_is_linked_to_it_and_a_live_execution_wins():
    make_strategy()
    with transaction.atomic():
        signals_consume(signals=macd_cross_up("AAPL") + macd_cross_up("MSFT"), account="paper")
    aapl, msft = Decision.objects.order_by("symbol")
    Execution.objects.create(
        decision=msft,
        client_order_id=msft.decision_hash,
        account="paper",
        symbol="MSFT",
        side="buy",
        expected_adapter="lean",
        actual_adapter="lean",
        route_tag="live",
        quantity=msft.quantity,
        status="submitted",
    )
    ExecutionImport.objects.bulk_create(
        [_row(aapl.decision_hash, quantity=aapl.quantity, filled_quantity=aapl.quantity), _row(msft.decision_hash, symbol="MSFT")]
    )
    _run()
    backfilled = Execution.objects.get(route_tag="backfill")
    assert backfilled.decision == aapl and backfilled.decided_at == aapl.decided_at
    assert Execution.objects.get(decision=msft).route_tag == "live"


def test_a_csv_of_historical_orders_is_copied_in_then_backfilled(tmp_path):
    path = tmp_path / "history.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(IMPORT_COLUMNS)
        writer.writerow(["h-1", "lean-9", "paper", "IBM", "sell", "", "lean", "3", "3", "120.25", "filled", T.isoformat(), T.isoformat()])
        writer.writerow(["h-2", "", "paper", "IBM", "buy", "alpaca", "", "2", "0", "", "canceled", T.isoformat(), ""])
    output = _run("--load", str(path))
    assert "loaded 2 historical rows" in output
    assert Execution.objects.get(client_order_id="h-1").avg_fill_price == Decimal("120.25")
    assert Execution.objects.get(client_order_id="h-2").fallback_reason == "fallback_from_alpaca_to_lean"


def test_a_missing_csv_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _run("--load", str(tmp_path / "nope.csv"))
