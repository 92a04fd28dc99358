"""Reads of decisions and executions: API lists, fallback ratio, provenance coverage, today's PnL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from trading.orders.models import Decision, DecisionStatus, Execution, RouteTag
from trading.strategies.models import drill_rows_hidden


@dataclass(frozen=True)
class ListFilters:
    symbol: str = ""
    strategy: str = ""
    status: str = ""
    adapter: str = ""
    route_tag: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _strategy_q(prefix: str, strategy: str) -> Q:
    """`strategy` is an id, a name, or name@version."""
    if strategy.isascii() and strategy.isdigit():  # "²".isdigit() is True yet int("²") raises: a name, not an id
        return Q(**{f"{prefix}id": int(strategy)})
    if "@" in strategy:
        name, version = strategy.split("@", 1)
        return Q(**{f"{prefix}name": name, f"{prefix}version": version})
    return Q(**{f"{prefix}name": strategy})


def _page(qs: QuerySet, *, before_id: int | None, limit: int) -> tuple[list, int | None]:
    """Keyset page, newest first: rows with id < before_id; the next cursor is the last id when more remain."""
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def decisions_list(*, filters: ListFilters, before_id: int | None, limit: int) -> tuple[list[Decision], int | None]:
    qs = Decision.objects.select_related("strategy", "execution")
    if filters.symbol:
        qs = qs.filter(symbol=filters.symbol.upper())
    if filters.strategy:
        qs = qs.filter(_strategy_q("strategy__", filters.strategy))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.adapter:
        qs = qs.filter(Q(execution__actual_adapter=filters.adapter) | Q(execution__isnull=True, expected_adapter=filters.adapter))
    if filters.route_tag:
        qs = qs.filter(execution__route_tag=filters.route_tag)
    if filters.since:
        qs = qs.filter(decided_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(decided_at__lt=filters.until)
    return _page(qs, before_id=before_id, limit=limit)


def executions_list(*, filters: ListFilters, before_id: int | None, limit: int) -> tuple[list[Execution], int | None]:
    qs = Execution.objects.select_related("decision__strategy")
    if filters.symbol:
        qs = qs.filter(symbol=filters.symbol.upper())
    if filters.strategy:
        qs = qs.filter(_strategy_q("decision__strategy__", filters.strategy))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.adapter:
        qs = qs.filter(actual_adapter=filters.adapter)
    if filters.route_tag:
        qs = qs.filter(route_tag=filters.route_tag)
    if filters.since:
        qs = qs.filter(created_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(created_at__lt=filters.until)
    return _page(qs, before_id=before_id, limit=limit)


def execution_fallback_ratio(*, window_seconds: int, drill_since: datetime | None = None) -> tuple[float, int]:
    """(share of orders in the window that landed on another adapter than expected, orders in the window).
    Drill strategies' orders count only for a drill's own evaluation, from its start (`drill_since`)."""
    since = timezone.now() - timedelta(seconds=window_seconds)
    qs = Execution.objects.filter(created_at__gte=since, route_tag__in=[RouteTag.LIVE, RouteTag.RECONCILED]).exclude(
        drill_rows_hidden(drill_since=drill_since, flag="decision__strategy__drill", at="created_at")
    )
    orders = qs.count()
    if not orders:
        return 0.0, 0
    fallbacks = qs.exclude(expected_adapter=F("actual_adapter")).count()
    return fallbacks / orders, orders


def route_provenance_coverage_ratio() -> float:
    """Share of decisions that went to a venue and have an execution row (1.0 when there are none)."""
    reached = Decision.objects.filter(submitted_at__isnull=False).exclude(status=DecisionStatus.EXPIRED, execution__isnull=True)
    total = reached.count()
    if not total:
        return 1.0
    return reached.filter(execution__isnull=False).count() / total


def _execution_dict(execution: Execution) -> dict:
    decision = execution.decision
    return {
        "id": execution.id,
        "client_order_id": execution.client_order_id,
        "broker_order_id": execution.broker_order_id,
        "symbol": execution.symbol,
        "side": execution.side,
        "account": execution.account,
        "strategy": f"{decision.strategy.name}@{decision.strategy_version}" if decision else None,
        "expected_adapter": execution.expected_adapter,
        "actual_adapter": execution.actual_adapter,
        "fallback_reason": execution.fallback_reason,
        "fallback_count": execution.fallback_count,
        "route_tag": execution.route_tag,
        "quantity": str(execution.quantity),
        "filled_quantity": str(execution.filled_quantity),
        "avg_fill_price": str(execution.avg_fill_price) if execution.avg_fill_price is not None else None,
        "status": execution.status,
        "error_category": execution.error_category,
        "decided_at": execution.decided_at.isoformat() if execution.decided_at else None,
        "submitted_at": execution.submitted_at.isoformat() if execution.submitted_at else None,
        "filled_at": execution.filled_at.isoformat() if execution.filled_at else None,
    }


def executions_recent(*, limit: int) -> list[dict]:
    """The newest executions with their provenance, as plain dicts (evidence packages, status pages)."""
    return [_execution_dict(e) for e in Execution.objects.select_related("decision__strategy").order_by("-id")[:limit]]
