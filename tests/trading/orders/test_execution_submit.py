"""How a submission commits: the pre-trade gate checks and claims the decision in one statement that
commits before any adapter is called; the outcome is recorded in one more. A venue with external side
effects (LEAN, Alpaca) also has its name written on the decision before it is called."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

import trading.orders.services as execution_services
from tests.factories import make_strategy
from tests.signals import macd_cross_down, macd_cross_up
from trading.orders.adapters import adapter_class
from trading.orders.adapters.base import AdapterUnreachable, OrderRequest
from trading.orders.adapters.simulated import SimulatedAdapter
from trading.orders.decisions import decisions_from_signals
from trading.orders.models import Decision, Execution
from trading.orders.services import decision_submit, executions_reconcile

pytestmark = pytest.mark.django_db(transaction=True)


class _Crash(Exception):
    """Stands in for the worker dying after the adapter answered, before the outcome is recorded."""


def _decision(symbol: str = "AAPL", **strategy_parameters) -> Decision:
    # Decisions only, no dispatch: these tests commit, and a worker left running by another test
    # would otherwise submit the decision alongside them.
    make_strategy(**strategy_parameters)
    with transaction.atomic():
        [decision] = decisions_from_signals(signals=macd_cross_up(symbol, price=100.0), account="paper")
    return decision


def _crash_on_record(monkeypatch) -> None:
    def crash(**_kwargs):
        raise _Crash

    monkeypatch.setattr(execution_services, "execution_record", crash)


def test_only_the_simulator_declares_no_external_side_effects():
    assert {name: adapter_class(name).external_side_effects for name in ("simulated", "lean", "alpaca")} == {
        "simulated": False,
        "lean": True,
        "alpaca": True,
    }


def test_a_simulated_order_is_checked_claimed_filled_and_recorded_in_one_statement():
    decision = _decision(adapter="simulated")
    with CaptureQueriesContext(connection) as queries:
        execution = decision_submit(decision_id=decision.pk)
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 1 and "trading_order_gate(" in statements[0], statements
    decision.refresh_from_db()
    assert (execution.status, execution.actual_adapter, execution.route_tag) == ("filled", "simulated", "live")
    assert (decision.status, decision.expected_adapter) == ("filled", "simulated")
    assert decision.submitted_at is not None and decision.submitted_at == execution.submitted_at


def test_the_simulated_fill_in_the_gate_matches_the_simulator_adapter(settings):
    settings.TRADING_SIMULATED_SLIPPAGE_BPS = 7.5
    make_strategy(adapter="simulated")
    with transaction.atomic():
        decisions = decisions_from_signals(
            signals=macd_cross_up("AAA", price=123.456789) + macd_cross_down("BBB", price=0.333333), account="paper"
        )
    for decision in decisions:
        execution = decision_submit(decision_id=decision.pk)
        assert (execution.status, execution.actual_adapter, execution.route_tag) == ("filled", "simulated", "live")
        by_adapter = SimulatedAdapter().submit(
            OrderRequest(
                client_order_id=decision.decision_hash,
                symbol=decision.symbol,
                side=decision.side,
                quantity=decision.quantity,
                order_type=decision.order_type,
                reference_price=decision.price,
            )
        )
        assert (execution.avg_fill_price, execution.broker_order_id, execution.filled_quantity) == (
            by_adapter.avg_fill_price,
            by_adapter.broker_order_id,
            by_adapter.filled_quantity,
        )
    assert sorted(Execution.objects.values_list("side", flat=True)) == ["buy", "sell"]


def test_a_simulator_with_latency_runs_after_a_durable_claim_so_a_crash_never_fills_twice_and_reconciliation_settles_it(
    monkeypatch, settings
):
    settings.TRADING_SIMULATED_LATENCY_MS = 1
    settings.TRADING_EXECUTION_FALLBACK_CHAIN = []
    decision = _decision(adapter="simulated")
    with monkeypatch.context() as patch:
        _crash_on_record(patch)
        with pytest.raises(_Crash):
            decision_submit(decision_id=decision.pk)
    decision.refresh_from_db()
    assert decision.status == "submitted" and decision.submitted_at is not None
    assert not Execution.objects.exists()

    assert decision_submit(decision_id=decision.pk) is None  # the redelivery finds it claimed
    assert not Execution.objects.exists()
    settings.TRADING_RECONCILE_GRACE_SECONDS = 0
    settings.TRADING_UNKNOWN_EXPIRE_SECONDS = 0
    assert executions_reconcile().expired == 1
    decision.refresh_from_db()
    assert (decision.status, decision.reject_reason) == ("expired", "not_found_at_venue")


def test_a_simulated_submit_that_finds_a_row_for_its_order_updates_it_and_still_writes_its_claim():
    decision = _decision(adapter="simulated")
    Execution.objects.create(
        decision=decision,
        client_order_id=decision.decision_hash,
        account="paper",
        symbol="AAPL",
        side="buy",
        expected_adapter="simulated",
        actual_adapter="simulated",
        route_tag="reconciled",
        quantity=decision.quantity,
        status="submitted",
    )
    execution = decision_submit(decision_id=decision.pk)
    decision.refresh_from_db()
    assert Execution.objects.count() == 1 and (execution.status, execution.route_tag) == ("filled", "reconciled")
    assert (decision.status, decision.expected_adapter) == ("filled", "simulated") and decision.submitted_at is not None


def test_an_order_for_a_venue_commits_its_claim_before_the_venue_is_called(venues, monkeypatch):
    lean, _alpaca = venues
    decision = _decision()
    with monkeypatch.context() as patch:
        _crash_on_record(patch)
        with pytest.raises(_Crash):
            decision_submit(decision_id=decision.pk)
    decision.refresh_from_db()
    assert (decision.status, decision.expected_adapter) == ("submitted", "lean") and decision.submitted_at is not None
    assert decision_submit(decision_id=decision.pk) is None
    assert lean.orders_received == 1


def test_a_simulator_that_refuses_hands_the_order_to_the_venues_after_a_durable_claim(venues, settings, monkeypatch):
    lean, _alpaca = venues
    settings.TRADING_EXECUTION_FALLBACK_CHAIN = ["lean", "alpaca"]
    settings.TRADING_SIMULATED_LATENCY_MS = 1  # the adapter runs (and refuses), not the gate's fill
    decision = _decision(adapter="simulated")

    def refuse(self, order):
        raise AdapterUnreachable("simulator off")

    monkeypatch.setattr(SimulatedAdapter, "submit", refuse)
    claims: list[str] = []

    def observe_claim(*, order, chain, **kwargs):
        if chain[-1] != "simulated":
            claims.append(Decision.objects.get(pk=decision.pk).status)
        return route_submit(order=order, chain=chain, **kwargs)

    route_submit = execution_services.route_submit
    monkeypatch.setattr(execution_services, "route_submit", observe_claim)
    execution = decision_submit(decision_id=decision.pk)
    assert claims == ["submitted"]
    assert (execution.expected_adapter, execution.actual_adapter, execution.fallback_reason) == (
        "simulated",
        "lean",
        "simulated_connection_error",
    )
    assert execution.status == "filled" and lean.orders_received == 1


def test_a_strategy_that_names_an_unknown_adapter_gets_its_decision_rejected_and_nothing_sent(venues):
    lean, alpaca = venues
    decision = _decision(adapter="nasdaq-direct")
    assert decision_submit(decision_id=decision.pk) is None
    decision.refresh_from_db()
    assert (decision.status, decision.reject_reason) == ("rejected", "unknown_adapter")
    assert not Execution.objects.exists() and lean.submit_requests == alpaca.submit_requests == 0


def test_two_workers_of_one_account_cannot_both_pass_the_rate_limit(settings):
    """The gate reads the book after taking the account lock: the second of two racing orders sees the
    first one's claim. Both wait on the lock held here, then race for it."""
    settings.TRADING_MAX_ORDERS_PER_SECOND = 1
    make_strategy(adapter="simulated")
    with transaction.atomic():
        decisions = [decisions_from_signals(signals=macd_cross_up(symbol, price=100.0), account="paper")[0] for symbol in ("AAA", "BBB")]
    results: dict[str, object] = {}
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('torghut-orders:' || %s))", ["paper"])

        def submit(decision: Decision) -> None:
            try:
                results[decision.symbol] = decision_submit(decision_id=decision.pk)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=submit, args=(d,)) for d in decisions]
        for thread in threads:
            thread.start()
        with connection.cursor() as watcher:
            for _ in range(200):  # both gates queued behind the lock before it is let go
                watcher.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                if watcher.fetchone()[0] == 2:
                    break
                threading.Event().wait(0.025)
            else:
                pytest.fail("the two gates never queued on the account lock")
        cursor.execute("COMMIT")
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted((d.status, d.reject_reason) for d in Decision.objects.filter(pk__in=[d.pk for d in decisions]))
    assert statuses == [("filled", ""), ("rejected", "orders_per_second")]
    assert Execution.objects.count() == 1 and sum(r is not None for r in results.values()) == 1
