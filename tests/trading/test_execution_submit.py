"""How a submission commits: an adapter without external side effects (the simulator) is claimed, filled
and recorded in one transaction; one with them (LEAN, Alpaca) gets a durable `submitted` claim first."""
from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

import trading.execution_services as execution_services
from tests.trading.execution_fixtures import alpaca_venue, lean_venue, macd_cross_up, make_strategy, venues  # noqa: F401
from trading.adapters import adapter_class
from trading.adapters.base import AdapterUnreachable
from trading.adapters.simulated import SimulatedAdapter
from trading.decisions import decisions_from_signals
from trading.execution_services import decision_submit
from trading.models import Decision, Execution

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
        "simulated": False, "lean": True, "alpaca": True}


def test_a_simulated_order_is_claimed_filled_and_recorded_in_one_commit():
    decision = _decision(adapter="simulated")
    with CaptureQueriesContext(connection) as queries:
        execution = decision_submit(decision_id=decision.pk)
    statements = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    assert statements.count("COMMIT") == 1 and statements[-1] == "COMMIT"
    # The claim travels with the execution insert: no separate write of the decision.
    assert not any(q["sql"].startswith('UPDATE "trading_decision"') for q in queries.captured_queries)
    decision.refresh_from_db()
    assert (execution.status, execution.actual_adapter, execution.route_tag) == ("filled", "simulated", "live")
    assert (decision.status, decision.expected_adapter) == ("filled", "simulated")
    assert decision.submitted_at is not None and decision.submitted_at == execution.submitted_at


def test_a_simulated_submit_that_dies_before_its_commit_leaves_nothing_and_its_redelivery_fills_once(monkeypatch):
    decision = _decision(adapter="simulated")
    with monkeypatch.context() as patch:
        _crash_on_record(patch)
        with pytest.raises(_Crash):
            decision_submit(decision_id=decision.pk)
    decision.refresh_from_db()
    assert (decision.status, decision.submitted_at, decision.expected_adapter) == ("planned", None, "")
    assert not Execution.objects.exists()

    redelivered = decision_submit(decision_id=decision.pk)
    replayed = decision_submit(decision_id=decision.pk)
    assert redelivered.status == "filled" and replayed is None
    assert Execution.objects.filter(client_order_id=decision.decision_hash).count() == 1
    assert Decision.objects.get(pk=decision.pk).status == "filled"


def test_a_simulated_submit_that_finds_a_row_for_its_order_updates_it_and_still_writes_its_claim():
    decision = _decision(adapter="simulated")
    Execution.objects.create(decision=decision, client_order_id=decision.decision_hash, account="paper", symbol="AAPL", side="buy",
                             expected_adapter="simulated", actual_adapter="simulated", route_tag="reconciled", quantity=decision.quantity,
                             status="submitted")
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
    assert (execution.expected_adapter, execution.actual_adapter, execution.fallback_reason) == ("simulated", "lean", "simulated_connection_error")
    assert execution.status == "filled" and lean.orders_received == 1
