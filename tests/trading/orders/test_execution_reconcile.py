"""Reconciliation settles executions against venue truth by client order id."""

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
from trading.orders.services import decision_submit, executions_reconcile

pytestmark = pytest.mark.django_db


def _decision(symbol: str = "AAPL", **parameters) -> Decision:
    make_strategy(**parameters)
    with transaction.atomic():
        signals_consume(signals=macd_cross_up(symbol), account="paper")
    return Decision.objects.get()


def _as_if_the_worker_died_after_sending(decision: Decision, venue, *, adapter: str = "lean") -> None:
    """The venue holds the order; the decision says submitted; no execution row was written."""
    venue._take(
        client_order_id=decision.decision_hash,
        symbol=decision.symbol,
        side=decision.side,
        qty=decision.quantity,
        order_type="market",
        price=Decimal("101.5"),
    )
    Decision.objects.filter(pk=decision.pk).update(
        status="submitted", expected_adapter=adapter, submitted_at=timezone.now() - timedelta(minutes=2)
    )


def test_a_non_final_execution_is_refreshed_until_filled(venues):
    lean, _ = venues
    lean.set(fill_delay_seconds=3600)
    execution = decision_submit(decision_id=_decision().pk)
    assert execution.status == "submitted"
    assert executions_reconcile().refreshed == 1
    execution.refresh_from_db()
    assert execution.status == "submitted"
    lean.set(fill_delay_seconds=0)
    executions_reconcile()
    execution.refresh_from_db()
    assert (execution.status, execution.filled_quantity, execution.decision.status) == ("filled", Decimal(10), "filled")
    assert lean.orders_received == 1


def test_a_decision_that_reached_a_venue_without_an_execution_gets_a_reconciled_row(venues):
    lean, _ = venues
    decision = _decision()
    _as_if_the_worker_died_after_sending(decision, lean)
    assert executions_reconcile().created == 1
    execution = Execution.objects.get(decision=decision)
    assert (execution.route_tag, execution.expected_adapter, execution.actual_adapter, execution.fallback_reason) == (
        "reconciled",
        "lean",
        "lean",
        "",
    )
    assert (execution.status, execution.avg_fill_price) == ("filled", Decimal("101.5"))
    decision.refresh_from_db()
    assert decision.status == "filled"
    assert executions_reconcile().created == 0


def test_a_reconciled_order_found_on_a_fallback_venue_records_the_derived_reason(venues):
    lean, alpaca = venues
    decision = _decision()
    _as_if_the_worker_died_after_sending(decision, alpaca)
    executions_reconcile()
    execution = Execution.objects.get(decision=decision)
    assert (execution.actual_adapter, execution.fallback_reason, execution.fallback_count) == ("alpaca", "fallback_from_lean_to_alpaca", 1)


def test_a_young_orphan_is_left_to_its_worker(venues):
    lean, _ = venues
    decision = _decision()
    _as_if_the_worker_died_after_sending(decision, lean)
    Decision.objects.filter(pk=decision.pk).update(submitted_at=timezone.now())
    assert executions_reconcile().created == 0


def test_an_order_no_venue_knows_expires_after_the_window(venues, settings):
    decision = _decision()
    Decision.objects.filter(pk=decision.pk).update(
        status="submitted", expected_adapter="lean", submitted_at=timezone.now() - timedelta(minutes=2)
    )
    settings.TRADING_UNKNOWN_EXPIRE_SECONDS = 3600
    assert executions_reconcile().expired == 0
    settings.TRADING_UNKNOWN_EXPIRE_SECONDS = 60
    assert executions_reconcile().expired == 1
    decision.refresh_from_db()
    assert (decision.status, decision.reject_reason) == ("expired", "not_found_at_venue")


def test_an_unreachable_venue_leaves_the_execution_for_the_next_pass(venues, settings):
    lean, _ = venues
    lean.set(fill_delay_seconds=3600)
    execution = decision_submit(decision_id=_decision().pk)
    lean.set(lookup_fail_status=503)
    assert executions_reconcile().errors == 1
    execution.refresh_from_db()
    assert execution.status == "submitted"
    assert lean.orders_received == 1


def test_a_stale_planned_decision_expires_instead_of_trading(venues, settings):
    lean, _ = venues
    decision = _decision()
    Decision.objects.filter(pk=decision.pk).update(decided_at=timezone.now() - timedelta(minutes=5))
    assert decision_submit(decision_id=decision.pk) is None
    decision.refresh_from_db()
    assert (decision.status, decision.reject_reason) == ("expired", "decision_stale")
    assert lean.submit_requests == 0


def test_reconciliation_expires_planned_decisions_whose_dispatch_was_lost(venues):
    decision = _decision()
    assert executions_reconcile().expired == 0
    Decision.objects.filter(pk=decision.pk).update(decided_at=timezone.now() - timedelta(minutes=5))
    assert executions_reconcile().expired == 1
    decision.refresh_from_db()
    assert (decision.status, decision.reject_reason) == ("expired", "dispatch_lost")


def test_a_submitting_worker_that_finds_reconciliations_row_updates_it_instead_of_adding_one():
    from trading.orders.adapters.base import OrderState
    from trading.orders.adapters.router import RouteOutcome
    from trading.orders.services import execution_record

    decision = _decision(adapter="simulated")
    Decision.objects.filter(pk=decision.pk).update(status="submitted", expected_adapter="simulated", submitted_at=timezone.now())
    decision.refresh_from_db()
    submitted = OrderState(client_order_id=decision.decision_hash, broker_order_id="sim-1", status="submitted")
    reconciled = execution_record(decision=decision, outcome=RouteOutcome("simulated", "simulated", (), submitted), route_tag="reconciled")

    filled = OrderState(
        client_order_id=decision.decision_hash,
        broker_order_id="sim-1",
        status="filled",
        filled_quantity=decision.quantity,
        avg_fill_price=Decimal("100.01"),
        filled_at=timezone.now(),
    )
    late = execution_record(decision=decision, outcome=RouteOutcome("simulated", "simulated", (), filled), first_write=True)

    assert late.pk == reconciled.pk and Execution.objects.count() == 1
    assert (late.status, late.route_tag, late.avg_fill_price) == ("filled", "reconciled", Decimal("100.01"))
    assert Decision.objects.get(pk=decision.pk).status == "filled"
