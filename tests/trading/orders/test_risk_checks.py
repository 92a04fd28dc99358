"""Risk checks run before any order; a rejection is stored with its reason and nothing reaches a venue."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from tests.factories import make_strategy
from tests.signals import macd_cross_down, macd_cross_up, repeated_buys
from torghut.core.sql import sql_file_apply
from trading.orders.consumers import signals_consume
from trading.orders.models import Decision, Execution
from trading.orders.services import decision_submit

pytestmark = pytest.mark.django_db


def _decide(signals) -> list[Decision]:
    with transaction.atomic():
        signals_consume(signals=signals, account="paper")
    return list(Decision.objects.filter(status="planned").order_by("id"))


def _submit_refused(decision: Decision, lean) -> tuple[str, str]:
    """Submit and return the stored (status, reject reason); a refused order never reaches a venue."""
    assert decision_submit(decision_id=decision.pk) is None
    decision.refresh_from_db()
    assert not Execution.objects.filter(decision=decision).exists()
    assert lean.submit_requests == 0
    return decision.status, decision.reject_reason


def test_an_order_above_the_max_notional_is_rejected(venues, settings):
    lean, _ = venues
    settings.TRADING_ORDER_NOTIONAL = 5000.0
    settings.TRADING_MAX_ORDER_NOTIONAL = 4000.0
    make_strategy()
    [decision] = _decide(macd_cross_up(price=100.0))
    assert _submit_refused(decision, lean) == ("rejected", "max_order_notional")


def test_an_order_that_would_exceed_the_max_position_is_rejected_but_a_reducing_one_passes(venues, settings):
    lean, _ = venues
    settings.TRADING_MAX_POSITION_NOTIONAL = 1500.0
    make_strategy()
    first, second = _decide(repeated_buys("AAPL", n=2))
    assert decision_submit(decision_id=first.pk).status == "filled"
    assert decision_submit(decision_id=second.pk) is None
    second.refresh_from_db()
    assert (second.status, second.reject_reason) == ("rejected", "max_position")
    [sell] = _decide(macd_cross_down("AAPL", start=4))
    assert decision_submit(decision_id=sell.pk).status == "filled"


def test_an_open_order_on_the_other_side_blocks_a_new_one(venues):
    lean, _ = venues
    lean.set(fill_delay_seconds=60)
    make_strategy()
    buy, sell = _decide(macd_cross_up(start=0) + macd_cross_down(start=2))
    assert decision_submit(decision_id=buy.pk).status == "submitted"
    assert decision_submit(decision_id=sell.pk) is None
    sell.refresh_from_db()
    assert (sell.status, sell.reject_reason) == ("rejected", "opposite_side_open_order")
    assert lean.orders_received == 1


def test_orders_beyond_the_per_second_limit_are_throttled(venues, settings):
    lean, _ = venues
    settings.TRADING_MAX_ORDERS_PER_SECOND = 2
    make_strategy()
    decisions = _decide(macd_cross_up("A") + macd_cross_up("B") + macd_cross_up("C"))
    Decision.objects.filter(pk__in=[d.pk for d in decisions[:2]]).update(status="submitted", submitted_at=timezone.now())
    assert _submit_refused(decisions[2], lean) == ("rejected", "orders_per_second")


def _engage(operator, state: str) -> None:
    from governance.killswitch.services import kill_switch_engage

    kill_switch_engage(actor=operator, state=state, reason="risk test, for the test")


def test_a_halted_kill_switch_stops_every_order(venues, operator):
    lean, _ = venues
    make_strategy()
    [decision] = _decide(macd_cross_up())
    _engage(operator, "halted")
    assert _submit_refused(decision, lean) == ("rejected", "kill_switch_halted")


def test_while_reducing_only_exposure_reducing_orders_go_out(venues, operator):
    lean, _ = venues
    make_strategy()
    buy, opening_buy = _decide(repeated_buys(n=2))
    assert decision_submit(decision_id=buy.pk).status == "filled"
    _engage(operator, "reducing")
    assert decision_submit(decision_id=opening_buy.pk) is None
    opening_buy.refresh_from_db()
    assert opening_buy.reject_reason == "kill_switch_reducing"
    [sell] = _decide(macd_cross_down(start=4))
    assert sell.quantity == Decimal(10)
    assert decision_submit(decision_id=sell.pk).status == "filled"
    assert lean.orders_received == 2


def test_until_governance_plugs_in_the_kill_switch_every_order_is_refused(venues):
    lean, _ = venues
    make_strategy()
    [decision] = _decide(macd_cross_up())
    # Trading's own admission body, as on a database where governance's migration has not run.
    sql_file_apply(path=Path(__file__).resolve().parents[3] / "trading" / "orders" / "sql" / "order_admission.sql")
    assert _submit_refused(decision, lean) == ("rejected", "kill_switch_unplugged")
