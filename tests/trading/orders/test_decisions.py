"""Strategies turn accepted signals into decisions inside the caller's transaction, exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from tests.factories import make_strategy
from tests.signals import macd_cross_down, macd_cross_up, make_signal
from trading.orders.consumers import signals_consume
from trading.orders.decisions import decision_hash_for
from trading.orders.models import Decision, Execution, SignalMemory

pytestmark = pytest.mark.django_db


def _consume(signals, account="paper"):
    with transaction.atomic():
        return signals_consume(signals=signals, account=account)


def test_a_macd_cross_makes_one_buy_decision_with_rationale_and_signal_key(settings):
    settings.TRADING_ORDER_NOTIONAL = 1000.0
    strategy = make_strategy()
    signals = macd_cross_up(price=50.0)
    result = _consume(signals)
    assert (result.signals, result.decisions, result.orders) == (2, 1, 1)
    decision = Decision.objects.get()
    assert (decision.side, decision.symbol, decision.quantity, decision.price) == ("buy", "AAPL", Decimal(20), Decimal("50"))
    assert decision.status == "planned" and decision.order_type == "market"
    assert decision.strategy == strategy and decision.strategy_version == "1" and decision.lane == "paper"
    assert decision.rationale["indicators"]["macd_hist_prev"] == -0.2 and decision.rationale["indicators"]["macd_hist"] == 0.3
    assert decision.rationale["indicators"]["rsi14"] == 50.0
    assert (decision.signal_symbol, decision.signal_event_ts, decision.signal_seq) == signals[1].key
    assert decision.decision_hash == decision_hash_for(account="paper", strategy=strategy, signal=signals[1])


def test_the_previous_signal_carries_over_between_batches():
    make_strategy()
    assert _consume([make_signal(i=0, macd_hist=-0.5)]).decisions == 0
    assert _consume([make_signal(i=1, macd_hist=0.4)]).decisions == 1
    assert Decision.objects.get().side == "buy"
    assert SignalMemory.objects.get(account="paper", symbol="AAPL").seq == 1


def test_replaying_the_same_signals_creates_no_duplicate_decisions_or_orders(settings, venues):
    lean, _alpaca = venues
    make_strategy()
    signals = macd_cross_up() + macd_cross_down(start=2)
    assert _consume(signals).decisions == 2
    assert _consume(signals).decisions == 0
    assert _consume(list(reversed(signals))).decisions == 0
    # Even with the replay guard gone, the decision hash stops a second decision.
    SignalMemory.objects.all().delete()
    assert _consume(signals).decisions == 0
    assert Decision.objects.count() == 2
    assert lean.orders_received == 0, "orders are dispatched to the worker, not sent inline"


def test_two_strategies_decide_independently_on_the_same_signal():
    make_strategy(name="macd")
    make_strategy(name="boll", kind="bollinger_reversion")
    signals = [make_signal(i=0, price=100.0, macd_hist=-0.1), make_signal(i=1, price=98.0, macd_hist=0.2, boll_lower=99.0)]
    assert _consume(signals).decisions == 2
    assert sorted(Decision.objects.values_list("strategy__name", "side")) == [("boll", "buy"), ("macd", "buy")]


def test_the_shadow_lane_records_a_hypothetical_fill_and_never_calls_an_adapter(settings, venues):
    lean, alpaca = venues
    settings.TRADING_SIMULATED_SLIPPAGE_BPS = 10.0
    make_strategy(lane="shadow")
    result = _consume(macd_cross_up(price=100.0))
    assert (result.decisions, result.orders) == (1, 0)
    decision = Decision.objects.get()
    assert decision.status == "shadow"
    assert decision.shadow_fill_price == Decimal("100.100000")
    assert not Execution.objects.exists()
    assert lean.submit_requests == alpaca.submit_requests == 0


def test_research_lane_and_disabled_strategies_make_no_decisions():
    make_strategy(name="r", lane="research")
    strategy = make_strategy(name="off")
    strategy.enabled = False
    strategy.save()
    assert _consume(macd_cross_up()).decisions == 0


def test_a_price_too_high_for_the_order_notional_makes_no_decision(settings):
    settings.TRADING_ORDER_NOTIONAL = 50.0
    make_strategy()
    assert _consume(macd_cross_up(price=100.0)).decisions == 0


def test_decisions_roll_back_with_the_ingest_transaction():
    make_strategy()

    class IngestFailed(Exception):
        pass

    with pytest.raises(IngestFailed), transaction.atomic():
        signals_consume(signals=macd_cross_up(), account="paper")
        raise IngestFailed
    assert not Decision.objects.exists() and not SignalMemory.objects.exists()


def test_a_strategy_of_unknown_kind_is_skipped_and_the_others_still_decide():
    make_strategy(name="broken", kind="no_such_kind")
    make_strategy(name="fine")
    assert _consume(macd_cross_up()).decisions == 1
    assert Decision.objects.get().strategy.name == "fine"
