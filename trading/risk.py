"""Risk checks run right before an order leaves: kill switch first, then size, position, conflicts, rate."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from torghut.db import prepared_cursor
from trading.models import Decision
from trading.models.execution import Side

logger = logging.getLogger(__name__)

# One round trip for the three facts the checks need (this runs on every order, under the account lock).
_BOOK_SQL = """
SELECT
    COALESCE((SELECT SUM(CASE WHEN side = 'buy' THEN filled_quantity ELSE -filled_quantity END)
              FROM trading_execution WHERE account = %(account)s AND symbol = %(symbol)s), 0),
    EXISTS (SELECT 1 FROM trading_decision
            WHERE account = %(account)s AND symbol = %(symbol)s AND side = %(opposite)s AND status = 'submitted' AND id <> %(id)s),
    (SELECT count(*) FROM trading_decision WHERE account = %(account)s AND submitted_at >= now() - interval '1 second')
"""


@dataclass(frozen=True)
class Book:
    position: Decimal
    opposite_open: bool
    orders_last_second: int


def book_snapshot(*, decision: Decision) -> Book:
    """Signed position (buys minus sells filled), an open opposite-side order, and orders in the last second."""
    opposite = Side.SELL if decision.side == Side.BUY else Side.BUY
    with prepared_cursor() as cursor:
        cursor.execute(_BOOK_SQL, {"account": decision.account, "symbol": decision.symbol, "opposite": opposite.value, "id": decision.pk})
        position, opposite_open, recent = cursor.fetchone()
    return Book(position=Decimal(position), opposite_open=bool(opposite_open), orders_last_second=int(recent))


def risk_check(*, decision: Decision) -> str:
    """The reason `decision` may not be sent, or "" when every check passes. Fails closed."""
    from governance.selectors import kill_switch_order_check

    book = book_snapshot(decision=decision)
    signed = decision.quantity if decision.side == Side.BUY else -decision.quantity
    after = book.position + signed
    reduces = abs(after) < abs(book.position)
    try:
        verdict = kill_switch_order_check(reduces_exposure=reduces)
    except Exception:  # an unreadable kill switch must stop orders, whatever broke
        logger.exception("kill switch check failed; refusing the order")
        return "kill_switch_unreadable"
    if not verdict.allowed:
        return verdict.reason or f"kill_switch_{verdict.state}"
    if decision.quantity * decision.price > Decimal(str(settings.TRADING_MAX_ORDER_NOTIONAL)):
        return "max_order_notional"
    if not reduces and abs(after) * decision.price > Decimal(str(settings.TRADING_MAX_POSITION_NOTIONAL)):
        return "max_position"
    if book.opposite_open:
        return "opposite_side_open_order"
    if book.orders_last_second >= settings.TRADING_MAX_ORDERS_PER_SECOND:
        return "orders_per_second"
    return ""
