"""The router: expected adapter by policy, every fallback path with its reason, never a second order."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest
from django.db import transaction

from tests.factories import make_strategy
from tests.signals import macd_cross_up
from trading.orders.adapters.alpaca import AlpacaAdapter
from trading.orders.adapters.base import OrderRequest
from trading.orders.adapters.lean import LeanAdapter
from trading.orders.adapters.router import adapter_chain
from trading.orders.consumers import signals_consume
from trading.orders.models import Decision
from trading.orders.services import decision_submit, executions_reconcile, orders_cancel_all

pytestmark = pytest.mark.django_db


def _decision(symbol: str = "AAPL", **strategy_parameters) -> Decision:
    strategy = make_strategy(**strategy_parameters) if not Decision.objects.exists() else Decision.objects.first().strategy
    with transaction.atomic():
        signals_consume(signals=macd_cross_up(symbol, price=100.0), account="paper")
    return Decision.objects.filter(strategy=strategy, symbol=symbol).get()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_expected_adapter_fills_without_fallback(venues):
    lean, alpaca = venues
    execution = decision_submit(decision_id=_decision().pk)
    assert (execution.expected_adapter, execution.actual_adapter, execution.fallback_reason, execution.fallback_count) == (
        "lean",
        "lean",
        "",
        0,
    )
    assert execution.status == "filled" and execution.filled_quantity == Decimal(10) and execution.avg_fill_price == Decimal(100)
    assert execution.route_tag == "live" and execution.client_order_id == execution.decision.decision_hash
    assert execution.decision.status == "filled"
    assert (lean.orders_received, alpaca.orders_received) == (1, 0)


def test_a_strategy_override_picks_the_expected_adapter(venues):
    lean, alpaca = venues
    execution = decision_submit(decision_id=_decision(adapter="alpaca").pk)
    assert (execution.expected_adapter, execution.actual_adapter, execution.status) == ("alpaca", "alpaca", "filled")
    assert (lean.orders_received, alpaca.orders_received) == (0, 1)


def test_a_lean_503_falls_back_to_alpaca_with_its_reason(venues):
    lean, alpaca = venues
    lean.set(fail_status=503)
    execution = decision_submit(decision_id=_decision().pk)
    assert (execution.actual_adapter, execution.fallback_reason, execution.fallback_count) == ("alpaca", "lean_http_503", 1)
    assert execution.status == "filled" and (lean.orders_received, alpaca.orders_received) == (0, 1)


def test_an_unreachable_lean_falls_back_with_a_connection_reason(venues, settings):
    settings.TRADING_LEAN_URL = f"http://127.0.0.1:{_free_port()}"
    execution = decision_submit(decision_id=_decision().pk)
    assert (execution.actual_adapter, execution.fallback_reason) == ("alpaca", "lean_connection_error")


def test_a_lean_timeout_before_the_order_is_taken_falls_back_as_submit_timeout(venues):
    lean, alpaca = venues
    lean.set(slow_seconds=2.0, fault_phase="before_accept")
    execution = decision_submit(decision_id=_decision().pk)
    assert (execution.actual_adapter, execution.fallback_reason) == ("alpaca", "lean_submit_timeout")
    assert alpaca.orders_received == 1


def test_a_malformed_lean_answer_falls_back_as_contract_violation(venues):
    lean, alpaca = venues
    lean.set(malformed=True)
    execution = decision_submit(decision_id=_decision().pk)
    assert (execution.actual_adapter, execution.fallback_reason) == ("alpaca", "lean_contract_violation")
    assert (lean.orders_received, alpaca.orders_received) == (0, 1)


def test_a_chain_of_failures_lands_on_the_simulator_with_every_hop_named(venues):
    lean, alpaca = venues
    lean.set(fail_status=503)
    alpaca.set(fail_status=502)
    execution = decision_submit(decision_id=_decision().pk)
    assert (execution.actual_adapter, execution.fallback_reason, execution.fallback_count) == (
        "simulated",
        "lean_http_503;alpaca_http_502",
        2,
    )
    assert execution.status == "filled" and execution.avg_fill_price == Decimal("100.050000")


def test_a_live_strategy_never_falls_back_to_the_simulator(venues):
    lean, alpaca = venues
    assert adapter_chain(lane="live") == ["lean", "alpaca"]
    lean.set(fail_status=503)
    alpaca.set(fail_status=503)
    decision = _decision(lane="live")
    execution = decision_submit(decision_id=decision.pk)
    assert (execution.actual_adapter, execution.status, execution.error_category) == ("alpaca", "rejected", "chain_exhausted")
    assert execution.fallback_reason == "lean_http_503;alpaca_http_503"
    decision.refresh_from_db()
    assert (decision.status, decision.reject_reason) == ("rejected", "chain_exhausted")


def test_a_timeout_after_the_venue_took_the_order_is_adopted_not_resent(venues):
    lean, alpaca = venues
    lean.set(slow_seconds=2.0, fault_phase="after_accept")
    execution = decision_submit(decision_id=_decision().pk)
    assert (execution.actual_adapter, execution.fallback_reason, execution.status) == ("lean", "", "filled")
    assert (lean.orders_received, alpaca.orders_received) == (1, 0)


def test_an_unknown_outcome_is_left_unknown_and_settled_by_client_order_id(venues, settings):
    lean, alpaca = venues
    lean.set(slow_seconds=2.0, fault_phase="after_accept", lookup_fail_status=503)
    decision = _decision()
    execution = decision_submit(decision_id=decision.pk)
    assert (execution.actual_adapter, execution.status, execution.error_category) == ("lean", "unknown", "timeout")
    decision.refresh_from_db()
    assert decision.status == "submitted"
    lean.set(lookup_fail_status=0)
    result = executions_reconcile()
    assert result.settled_unknown == 1
    execution.refresh_from_db()
    assert execution.status == "filled" and execution.route_tag == "live" and execution.reconciled_at is not None
    decision.refresh_from_db()
    assert decision.status == "filled"
    assert (lean.orders_received, alpaca.orders_received) == (1, 0)
    assert decision_submit(decision_id=decision.pk) is None
    assert lean.orders_received == 1


def test_a_venue_rejection_is_final_and_never_falls_back(venues):
    lean, alpaca = venues
    decision = _decision()
    decision.decision_hash = ""  # the runner refuses an order without an idempotency key
    decision.save()
    execution = decision_submit(decision_id=decision.pk)
    assert (execution.actual_adapter, execution.status, execution.error_category) == ("lean", "rejected", "venue_rejected")
    assert alpaca.submit_requests == 0


def test_the_alpaca_adapter_speaks_alpaca_through_alpaca_py(alpaca_venue, settings):
    settings.TRADING_ALPACA_KEY_ID, settings.TRADING_ALPACA_SECRET_KEY = "k", "s"
    adapter = AlpacaAdapter(base_url=alpaca_venue.url, timeout=1.0)
    order = OrderRequest(
        client_order_id="coid-1", symbol="MSFT", side="sell", quantity=Decimal(3), order_type="market", reference_price=Decimal(1)
    )
    state = adapter.submit(order)
    assert (state.status, state.filled_quantity, state.avg_fill_price) == ("filled", Decimal(3), Decimal(100))
    assert adapter.get_order("coid-1").broker_order_id == state.broker_order_id
    assert adapter.get_order("nope") is None
    assert adapter.healthy()
    alpaca_venue.set(fill_delay_seconds=60)
    adapter.submit(
        OrderRequest(
            client_order_id="coid-2", symbol="MSFT", side="buy", quantity=Decimal(1), order_type="market", reference_price=Decimal(1)
        )
    )
    assert adapter.cancel_all() == {"canceled": 1}
    assert adapter.get_order("coid-2").status == "canceled"


def test_the_alpaca_adapter_does_not_retry_a_rate_limited_submission(alpaca_venue):
    alpaca_venue.set(fail_status=429)
    adapter = AlpacaAdapter(base_url=alpaca_venue.url, timeout=1.0, key_id="k", secret_key="s")
    order = OrderRequest(
        client_order_id="coid-3", symbol="MSFT", side="buy", quantity=Decimal(1), order_type="market", reference_price=Decimal(1)
    )
    with pytest.raises(Exception):
        adapter.submit(order)
    assert alpaca_venue.submit_requests == 1


def test_the_lean_adapter_sends_the_idempotency_key_and_cancels_all(lean_venue):
    adapter = LeanAdapter(base_url=lean_venue.url, timeout=1.0)
    lean_venue.set(fill_delay_seconds=60)
    order = OrderRequest(
        client_order_id="coid-9", symbol="IBM", side="buy", quantity=Decimal(2), order_type="market", reference_price=Decimal(50)
    )
    assert adapter.submit(order).status == "submitted"
    # A repeated submission is answered from the runner's idempotency record, not as a new order.
    assert adapter.submit(order).status == "submitted"
    assert lean_venue.orders_received == 1
    assert adapter.healthy()
    assert adapter.cancel_all() == {"canceled": 1}


def test_cancel_all_reports_one_result_per_adapter(venues, settings):
    lean, alpaca = venues
    alpaca.set(fill_delay_seconds=60)
    decision_submit(decision_id=_decision(adapter="alpaca").pk)
    settings.TRADING_LEAN_URL = f"http://127.0.0.1:{_free_port()}"
    results = {r["adapter"]: r for r in orders_cancel_all()}
    assert set(results) == {"simulated", "lean", "alpaca"}
    assert results["lean"]["ok"] is False and results["lean"]["error"] == "lean_connection_error"
    assert results["alpaca"] == {"adapter": "alpaca", "ok": True, "canceled": 1, "error": ""}
    assert results["simulated"]["ok"] is True


def test_the_local_venue_takes_switches_and_reports_counts_over_http(lean_venue):
    import requests

    assert requests.post(f"{lean_venue.url}/_venue/switches", json={"fail_status": 503}, timeout=2).json()["fail_status"] == 503
    assert requests.post(f"{lean_venue.url}/_venue/switches", json={"colour": "red"}, timeout=2).status_code == 400
    answer = requests.post(f"{lean_venue.url}/v1/orders/submit", json={"client_order_id": "x"}, headers={"Idempotency-Key": "x"}, timeout=2)
    assert answer.status_code == 503
    stats = requests.get(f"{lean_venue.url}/_venue/stats", timeout=2).json()
    assert (stats["orders_received"], stats["submit_requests"]) == (0, 1)
