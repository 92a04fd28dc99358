"""Writes of the order path: submit a decision, record what the venue said, reconcile, cancel, backfill."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from torghut.core.db import prepared_cursor
from trading.orders.adapters import ADAPTER_NAMES, adapter_class, adapter_get
from trading.orders.adapters.base import AdapterError, OrderRequest, OrderState
from trading.orders.adapters.router import RouteOutcome, adapter_chain, planned_adapter, route_submit
from trading.orders.metrics import DECISION_TO_FILL, EXECUTION_ERRORS, EXECUTION_REQUESTS
from trading.orders.models import FINAL_EXECUTION_STATUSES, Decision, DecisionStatus, Execution, ExecutionStatus, RouteTag
from trading.orders.risk import GateOutcome, decision_gate
from trading.strategies.models import Strategy

logger = logging.getLogger(__name__)
# How an execution's status shows on its decision.
_DECISION_STATUS = {
    ExecutionStatus.FILLED: DecisionStatus.FILLED,
    ExecutionStatus.CANCELED: DecisionStatus.CANCELED,
    ExecutionStatus.REJECTED: DecisionStatus.REJECTED,
    ExecutionStatus.EXPIRED: DecisionStatus.EXPIRED,
}


def _strategy_adapter(decision: Decision) -> str:
    return str((decision.strategy.parameters or {}).get("adapter") or "")


def decision_submit(*, decision_id: int) -> Execution | None:
    """Risk-check a planned decision, send it once through the router and record the outcome.

    The gate (`trading.orders.risk.decision_gate`) checks and claims the decision as `submitted` in one
    statement that commits before any adapter is called, so a redelivered task (worker killed
    mid-flight) finds it claimed and sends nothing: reconciliation settles it by client order id.
    A decision planned for the simulator is filled by the gate in that same statement. When the
    expected venue keeps what it is sent (LEAN, Alpaca), its name is on the decision before the call.
    """
    gated = decision_gate(decision_id=decision_id)
    decision = gated.decision
    if gated.outcome == GateOutcome.FILLED:
        execution = gated.execution
        EXECUTION_REQUESTS.labels(expected=execution.expected_adapter, actual=execution.actual_adapter).inc()
        _observe_fill(execution)
        return execution
    if gated.outcome != GateOutcome.CLAIMED:
        if gated.outcome == GateOutcome.EXPIRED:
            EXECUTION_ERRORS.labels(category="decision_stale").inc()
        elif gated.outcome == GateOutcome.REJECTED:
            EXECUTION_ERRORS.labels(category=f"risk_{decision.reject_reason}").inc()
        return None
    try:
        chain = adapter_chain(override=decision.expected_adapter or gated.strategy_adapter, lane=decision.lane)
    except ValueError as exc:
        # Claimed but sendable nowhere: say so on the decision rather than leave it in flight.
        logger.error("decision %s has no route: %s", decision.pk, exc)
        Decision.objects.filter(pk=decision.pk).update(
            status=DecisionStatus.REJECTED, reject_reason="unknown_adapter", updated_at=timezone.now()
        )
        EXECUTION_ERRORS.labels(category="unknown_adapter").inc()
        return None
    if decision.expected_adapter != chain[0]:
        decision.expected_adapter = chain[0]
        if adapter_class(chain[0]).external_side_effects:
            Decision.objects.filter(pk=decision.pk).update(expected_adapter=chain[0], updated_at=timezone.now())
    order = OrderRequest(
        client_order_id=decision.decision_hash,
        symbol=decision.symbol,
        side=decision.side,
        quantity=decision.quantity,
        order_type=decision.order_type,
        reference_price=decision.price,
        correlation_id=f"decision-{decision.pk}",
    )
    outcome = route_submit(order=order, chain=chain)
    return execution_record(decision=decision, outcome=outcome, first_write=True, claim_pending=True)


def _apply_state(execution: Execution, state: OrderState) -> bool:
    """Copy venue truth onto `execution`; True when this turned it filled."""
    was_filled = execution.status == ExecutionStatus.FILLED
    execution.broker_order_id = state.broker_order_id or execution.broker_order_id
    execution.status = state.status
    execution.filled_quantity = min(state.filled_quantity, execution.quantity)
    if state.avg_fill_price is not None:
        execution.avg_fill_price = state.avg_fill_price
    if state.status == ExecutionStatus.FILLED:
        execution.filled_at = state.filled_at or execution.filled_at or timezone.now()
        if execution.avg_fill_price is None:
            # A fill without a price breaks the contract; keep the row honest instead of inventing one.
            execution.status = ExecutionStatus.UNKNOWN
            execution.error_category = "contract_violation"
            return False
    return execution.status == ExecutionStatus.FILLED and not was_filled


def _sync_decision(decision: Decision | None, execution: Execution, *, claim_pending: bool = False) -> None:
    if decision is None:
        return
    status = _DECISION_STATUS.get(execution.status)
    if status and decision.status != status:
        decision.status = status
        if status == DecisionStatus.REJECTED:
            decision.reject_reason = execution.error_category or "venue_rejected"
    elif not claim_pending:
        return
    decision.save(update_fields=["status", "reject_reason", "updated_at", *(_CLAIM_FIELDS if claim_pending else ())])


def _observe_fill(execution: Execution) -> None:
    if execution.decided_at and execution.filled_at:
        DECISION_TO_FILL.labels(adapter=execution.actual_adapter).observe(
            max(0.0, (execution.filled_at - execution.decided_at).total_seconds())
        )


def _execution_apply(*, decision: Decision, outcome: RouteOutcome, route_tag: str, execution: Execution | None) -> tuple[Execution, bool]:
    """The execution row (new, or the given one) updated from `outcome`, unsaved; (row, newly filled)."""
    if execution is None:
        execution = Execution(
            decision=decision,
            client_order_id=decision.decision_hash,
            account=decision.account,
            symbol=decision.symbol,
            side=decision.side,
            quantity=decision.quantity,
            decided_at=decision.decided_at,
            submitted_at=decision.submitted_at,
            expected_adapter=outcome.expected_adapter,
            actual_adapter=outcome.actual_adapter,
            fallback_reason=outcome.fallback_reason,
            fallback_count=outcome.fallback_count,
            route_tag=route_tag,
        )
    newly_filled = False
    if outcome.state is not None:
        newly_filled = _apply_state(execution, outcome.state)
    elif execution.pk is None:
        # Only a new row takes the route's failure; one reconciliation wrote already holds venue truth.
        execution.status = ExecutionStatus.UNKNOWN if outcome.unknown else ExecutionStatus.REJECTED
    execution.error_category = execution.error_category or outcome.error_category
    execution.error_detail = outcome.error_detail
    return execution, newly_filled


# What the submitting worker writes on the decision with its outcome (see `decision_submit`).
_CLAIM_FIELDS = ("submitted_at", "expected_adapter")
_INSERT_FIELDS = [f for f in Execution._meta.local_concrete_fields if not f.primary_key]
# Built once: compiling an InsertQuery per order cost more than the round trip it sends.
_EXECUTION_INSERT_SQL = (
    "WITH inserted AS (INSERT INTO {execution} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING RETURNING id),"
    " synced AS (UPDATE {decision} SET status = %s, reject_reason = %s, submitted_at = %s, expected_adapter = %s, updated_at = %s"
    " WHERE id = %s AND %s AND EXISTS (SELECT FROM inserted))"
    " SELECT id FROM inserted"
).format(
    execution=connection.ops.quote_name(Execution._meta.db_table),
    columns=", ".join(connection.ops.quote_name(f.column) for f in _INSERT_FIELDS),
    values=", ".join(["%s"] * len(_INSERT_FIELDS)),
    decision=connection.ops.quote_name(Decision._meta.db_table),
)


def _execution_insert(*, decision: Decision, execution: Execution, claim_pending: bool) -> bool:
    """Insert a new execution row and sync its decision in one statement (one round trip, atomic by
    itself). False, writing nothing, when the order already has a row."""
    insert_params = [f.get_db_prep_save(f.pre_save(execution, True), connection) for f in _INSERT_FIELDS]
    status = _DECISION_STATUS.get(execution.status)
    sync = claim_pending or bool(status and decision.status != status)
    status = status or decision.status
    reject_reason = (execution.error_category or "venue_rejected") if sync and status == DecisionStatus.REJECTED else decision.reject_reason
    now = timezone.now()
    with prepared_cursor() as cursor:
        cursor.execute(
            _EXECUTION_INSERT_SQL,
            [*insert_params, status, reject_reason, decision.submitted_at, decision.expected_adapter, now, decision.pk, sync],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    execution.pk = row[0]
    execution._state.adding, execution._state.db = False, connection.alias
    if sync:
        decision.status, decision.reject_reason, decision.updated_at = status, reject_reason, now
    return True


def execution_record(
    *, decision: Decision, outcome: RouteOutcome, route_tag: str = RouteTag.LIVE, first_write: bool = False, claim_pending: bool = False
) -> Execution:
    """Write the execution row for a routed decision (or update the one reconciliation made meanwhile).

    `first_write` is the submitting worker's own write, which almost never finds a row: it inserts
    without looking first and falls back to updating reconciliation's row when the insert collides.
    `claim_pending` says what the submitting worker set on `decision` (its expected adapter) may not
    be written yet: it is written with the row.
    """
    for reason in outcome.fallback_reasons if route_tag == RouteTag.LIVE else ():
        EXECUTION_ERRORS.labels(category=reason.split("_", 1)[1]).inc()
    if outcome.error_category:
        EXECUTION_ERRORS.labels(category=outcome.error_category).inc()
    EXECUTION_REQUESTS.labels(expected=outcome.expected_adapter, actual=outcome.actual_adapter).inc()
    execution: Execution | None = None
    if first_write:
        execution, newly_filled = _execution_apply(decision=decision, outcome=outcome, route_tag=route_tag, execution=None)
        if not _execution_insert(decision=decision, execution=execution, claim_pending=claim_pending):
            execution = None
    if execution is None:
        with transaction.atomic():
            current = Execution.objects.select_for_update().filter(client_order_id=decision.decision_hash).first()
            execution, newly_filled = _execution_apply(decision=decision, outcome=outcome, route_tag=route_tag, execution=current)
            execution.save()
            _sync_decision(decision, execution, claim_pending=claim_pending)
    if newly_filled:
        _observe_fill(execution)
    return execution


@dataclass(frozen=True)
class ReconcileResult:
    refreshed: int = 0
    settled_unknown: int = 0
    created: int = 0
    expired: int = 0
    errors: int = 0


def _age(ts: datetime | None, now: datetime) -> float:
    return (now - ts).total_seconds() if ts else 0.0


def executions_reconcile(*, limit: int = 500, factory: Callable[[str], object] = adapter_get) -> ReconcileResult:
    """Pull broker truth: refresh non-final executions, settle `unknown` ones by client order id,
    create `reconciled` rows for submitted decisions that reached a venue but have no execution, and
    expire planned decisions whose dispatch was lost."""
    now = timezone.now()
    refreshed = settled = created = expired = errors = 0
    adapters: dict[str, object] = {}

    def adapter(name: str):
        if name not in adapters:
            adapters[name] = factory(name)
        return adapters[name]

    open_ids = list(Execution.objects.exclude(status__in=FINAL_EXECUTION_STATUSES).order_by("id").values_list("id", flat=True)[:limit])
    for execution_id in open_ids:
        try:
            execution = Execution.objects.get(pk=execution_id)
            state = adapter(execution.actual_adapter).get_order(execution.client_order_id)
        except AdapterError as exc:
            errors += 1
            EXECUTION_ERRORS.labels(category=f"reconcile_{exc.category}").inc()
            continue
        with transaction.atomic():
            execution = Execution.objects.select_for_update(of=("self",)).select_related("decision").get(pk=execution_id)
            if execution.status in FINAL_EXECUTION_STATUSES:
                continue
            was_unknown = execution.status == ExecutionStatus.UNKNOWN
            newly_filled = False
            if state is None:
                if _age(execution.submitted_at or execution.created_at, now) < settings.TRADING_UNKNOWN_EXPIRE_SECONDS:
                    continue
                execution.status, execution.error_category = ExecutionStatus.EXPIRED, "not_found_at_venue"
                expired += 1
            else:
                newly_filled = _apply_state(execution, state)
                settled += int(was_unknown and execution.status != ExecutionStatus.UNKNOWN)
                refreshed += 1
            execution.reconciled_at = now
            execution.save()
            _sync_decision(execution.decision, execution)
        if newly_filled:
            _observe_fill(execution)

    stale = now - timedelta(seconds=settings.TRADING_DECISION_TTL_SECONDS)
    expired += Decision.objects.filter(status=DecisionStatus.PLANNED, decided_at__lt=stale).update(
        status=DecisionStatus.EXPIRED, reject_reason="dispatch_lost", updated_at=now
    )

    cutoff = now - timedelta(seconds=settings.TRADING_RECONCILE_GRACE_SECONDS)
    orphans = list(
        Decision.objects.filter(status=DecisionStatus.SUBMITTED, execution__isnull=True, submitted_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for decision_id in orphans:
        decision = Decision.objects.select_related("strategy").get(pk=decision_id)
        chain = adapter_chain(override=decision.expected_adapter or _strategy_adapter(decision), lane=decision.lane)
        found: tuple[int, str, OrderState] | None = None
        all_answered = True
        for hop, name in enumerate(chain):
            try:
                state = adapter(name).get_order(decision.decision_hash)
            except AdapterError:
                all_answered = False
                continue
            if state is not None:
                found = (hop, name, state)
                break
        if found is None:
            if all_answered and _age(decision.submitted_at, now) >= settings.TRADING_UNKNOWN_EXPIRE_SECONDS:
                Decision.objects.filter(pk=decision.pk, status=DecisionStatus.SUBMITTED).update(
                    status=DecisionStatus.EXPIRED, reject_reason="not_found_at_venue", updated_at=now
                )
                expired += 1
            continue
        _hop, name, state = found
        expected = decision.expected_adapter or chain[0]
        outcome = RouteOutcome(
            expected_adapter=expected,
            actual_adapter=name,
            # The original hop reasons died with the worker; the route itself is the evidence.
            fallback_reasons=(f"fallback_from_{expected}_to_{name}",) if name != expected else (),
            state=state,
        )
        try:
            execution_record(decision=decision, outcome=outcome, route_tag=RouteTag.RECONCILED)
            created += 1
        except IntegrityError:
            # The submitting worker recorded it a moment ago; nothing to add.
            continue
    return ReconcileResult(refreshed=refreshed, settled_unknown=settled, created=created, expired=expired, errors=errors)


def orders_cancel_all() -> list[dict]:
    """Cancel open orders on every adapter; one result per adapter, failures included, never raised."""
    results = []
    for name in ADAPTER_NAMES:
        try:
            outcome = adapter_get(name).cancel_all()
            results.append({"adapter": name, "ok": True, "canceled": outcome.get("canceled", 0), "error": ""})
        except AdapterError as exc:
            EXECUTION_ERRORS.labels(category=f"cancel_{exc.category}").inc()
            results.append({"adapter": name, "ok": False, "canceled": 0, "error": f"{name}_{exc.reason}"})
    return results


def decision_plan(
    *,
    strategy: Strategy,
    account: str,
    symbol: str,
    side: str,
    quantity: Decimal,
    price: Decimal,
    decision_hash: str,
    rationale: dict,
    seq: int,
) -> Decision:
    """A planned decision that no signal produced (e.g. a rollback drill's order), routed as a strategy run
    plans one so it takes the same gate path as real orders; send it with `decision_submit`."""
    now = timezone.now()
    return Decision.objects.create(
        strategy=strategy,
        strategy_version=strategy.version,
        lane=strategy.lane,
        account=account,
        symbol=symbol,
        side=side,
        quantity=quantity,
        price=price,
        expected_adapter=planned_adapter(parameters=strategy.parameters, lane=strategy.lane),
        rationale=rationale,
        signal_symbol=symbol,
        signal_event_ts=now,
        signal_seq=seq,
        decision_hash=decision_hash,
        decided_at=now,
    )
