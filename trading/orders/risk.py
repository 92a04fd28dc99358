"""The pre-trade gate run right before an order leaves: kill switch first, then size, position,
conflicts and rate; a decision that passes is claimed as `submitted` in the same step.

The checks run in Postgres (`trading_order_gate`, trading/orders/sql/order_gate.sql) under the account's order lock, in
one statement that commits by itself: one round trip per order, and neither the book nor the kill
switch they read is older than the lock. The limits come from settings; the kill switch is asked
through trading's admission interface (`trading_order_admission`, order_admission.sql), which refuses
every order until governance plugs the kill switch into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import JSONField

from torghut.core.db import prepared_cursor
from trading.orders.adapters.simulated import in_database_fill
from trading.orders.models import Decision, Execution


class GateOutcome:
    CLAIMED = "claimed"  # passed every check; now `submitted`, ready to route
    FILLED = "filled"  # planned for the simulator: claimed and filled in the same statement
    NOT_PLANNED = "not_planned"  # already submitted, settled or refused (a redelivery): nothing to do
    EXPIRED = "expired"  # older than TRADING_DECISION_TTL_SECONDS; stored as expired
    REJECTED = "rejected"  # a check failed; stored as rejected with its reason


# Every column but the JSON ones (the rationale), which the order path never reads.
_GATE_FIELDS = [f for f in Decision._meta.concrete_fields if not isinstance(f, JSONField)]
_EXECUTION_FIELDS = Execution._meta.concrete_fields
_GATE_SQL = (
    "SELECT g.gate, g.strategy_adapter, {decision}, {execution} FROM trading_order_gate("
    "%s::bigint, %s::numeric, %s::numeric, %s::integer, %s::double precision, %s::text, %s::numeric, %s::text) g"
).format(
    decision=", ".join(f"(g.decision).{connection.ops.quote_name(f.column)}" for f in _GATE_FIELDS),
    execution=", ".join(f"(g.execution).{connection.ops.quote_name(f.column)}" for f in _EXECUTION_FIELDS),
)


@dataclass(frozen=True)
class Gated:
    outcome: str
    # The decision as the gate left it; None when it was filled (then `execution` says it all).
    decision: Decision | None
    # The strategy's `parameters.adapter` override ("" when it has none).
    strategy_adapter: str
    # The simulated fill, when the gate made one (outcome `filled`).
    execution: Execution | None = None


def decision_gate(*, decision_id: int) -> Gated:
    """Run the pre-trade checks on a planned decision and claim it as `submitted` when they pass.

    Outside a transaction the gate commits by itself, so the claim is durable before any adapter is
    called. A refusal is stored on the decision (`rejected` with its reason, or `expired`). A decision
    planned for the simulator is filled in the same statement (outcome `filled`). Fails closed: a
    kill switch in no known state refuses the order. Raises `Decision.DoesNotExist`.
    """
    fill_adapter, fill_slippage_bps, fill_prefix = in_database_fill() or (None, None, None)
    params = [
        decision_id,
        Decimal(str(settings.TRADING_MAX_ORDER_NOTIONAL)),
        Decimal(str(settings.TRADING_MAX_POSITION_NOTIONAL)),
        int(settings.TRADING_MAX_ORDERS_PER_SECOND),
        float(settings.TRADING_DECISION_TTL_SECONDS),
        fill_adapter,
        fill_slippage_bps,
        fill_prefix,
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_GATE_SQL, params)
        row = cursor.fetchone()
    if row is None:
        raise Decision.DoesNotExist(f"decision {decision_id} does not exist")
    split = 2 + len(_GATE_FIELDS)
    if row[0] == GateOutcome.FILLED:
        # The gate returns only the fill then: it is all the caller needs.
        execution = Execution.from_db(connection.alias, [f.attname for f in _EXECUTION_FIELDS], row[split:])
        return Gated(outcome=row[0], decision=None, strategy_adapter="", execution=execution)
    decision = Decision.from_db(connection.alias, [f.attname for f in _GATE_FIELDS], row[2:split])
    return Gated(outcome=row[0], decision=decision, strategy_adapter=row[1] or "")
