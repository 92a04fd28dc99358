"""Risk checks run right before an order leaves: kill switch first, then size, position, conflicts, rate."""
from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, DecimalField, F, Sum, When
from django.utils import timezone

from trading.models import Decision, Execution
from trading.models.execution import DecisionStatus, Side

logger = logging.getLogger(__name__)


def position_quantity(*, account: str, symbol: str) -> Decimal:
    """Signed filled quantity held in `symbol` (buys minus sells) according to the executions."""
    signed = Case(When(side=Side.BUY, then=F("filled_quantity")), default=-F("filled_quantity"), output_field=DecimalField())
    total = Execution.objects.filter(account=account, symbol=symbol).aggregate(q=Sum(signed))["q"]
    return total or Decimal(0)


def risk_check(*, decision: Decision) -> str:
    """The reason `decision` may not be sent, or "" when every check passes. Fails closed."""
    from governance.selectors import kill_switch_order_check

    position = position_quantity(account=decision.account, symbol=decision.symbol)
    signed = decision.quantity if decision.side == Side.BUY else -decision.quantity
    after = position + signed
    reduces = abs(after) < abs(position)
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
    opposite = Side.SELL if decision.side == Side.BUY else Side.BUY
    open_opposite = (
        Decision.objects.filter(account=decision.account, symbol=decision.symbol, side=opposite, status=DecisionStatus.SUBMITTED)
        .exclude(pk=decision.pk)
        .exists()
    )
    if open_opposite:
        return "opposite_side_open_order"
    recent = Decision.objects.filter(account=decision.account, submitted_at__gte=timezone.now() - timedelta(seconds=1)).count()
    if recent >= settings.TRADING_MAX_ORDERS_PER_SECOND:
        return "orders_per_second"
    return ""
