"""Rolling daily PnL (realized plus mark-to-market at the latest signal price) with gate coverage.

The window is the last 24 hours. Fills are replayed in order per (strategy version, symbol): cash flow
plus the open position marked at the newest signal price (`vwap_w5m` from ClickHouse), falling back to
the last fill price when ClickHouse cannot answer (the answer says which). Gate coverage is the share
of executions in the window whose strategy version has at least one research run with passing gates.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from django.conf import settings
from django.utils import timezone
from torghut.core import clickhouse
from trading.orders.models import Execution
from trading.strategies.models import Strategy
from trading.strategies.models import Lane
from trading.strategies.models import drill_rows_hidden
from trading import ports
from trading.signals.source import latest_prices


logger = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)
@dataclass
class StrategyPnl:
    strategy: str
    realized_cash: float = 0.0
    marked_value: float = 0.0
    executions: int = 0
    gated_executions: int = 0

    @property
    def pnl(self) -> float:
        return self.realized_cash + self.marked_value
@dataclass
class RollingPnl:
    window_start: datetime
    window_end: datetime
    mark_source: str
    allocated_capital: float
    by_strategy: dict[str, StrategyPnl] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(s.pnl for s in self.by_strategy.values())

    @property
    def executions(self) -> int:
        return sum(s.executions for s in self.by_strategy.values())

    @property
    def gate_coverage(self) -> float:
        """Share of executions with a passing gate report; 1.0 when there were no executions to cover."""
        total = self.executions
        return 1.0 if total == 0 else sum(s.gated_executions for s in self.by_strategy.values()) / total

    @property
    def drawdown_ratio(self) -> float:
        return max(0.0, -self.total) / self.allocated_capital if self.allocated_capital > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "window_start": self.window_start,
            "window_end": self.window_end,
            "mark_source": self.mark_source,
            "total": round(self.total, 6),
            "allocated_capital": self.allocated_capital,
            "drawdown_ratio": self.drawdown_ratio,
            "executions": self.executions,
            "gate_coverage": self.gate_coverage,
            "by_strategy": [
                {"strategy": s.strategy, "pnl": round(s.pnl, 6), "realized_cash": round(s.realized_cash, 6),
                 "marked_value": round(s.marked_value, 6), "executions": s.executions,
                 "gate_coverage": 1.0 if s.executions == 0 else s.gated_executions / s.executions}
                for s in sorted(self.by_strategy.values(), key=lambda s: s.strategy)
            ],
        }
def _allocated_capital() -> float:
    fractions = Strategy.objects.filter(enabled=True, lane__in=[Lane.PAPER, Lane.LIVE]).values_list("capital_fraction", flat=True)
    return float(sum(fractions, Decimal(0))) * settings.TRADING_ACCOUNT_CAPITAL
def pnl_rolling_daily(*, now: datetime | None = None) -> RollingPnl:
    """PnL of the last 24 hours per strategy version and in total, with gate coverage."""


    end = now or timezone.now()
    start = end - WINDOW
    gated = ports.gated_versions()
    fills = (
        Execution.objects.filter(filled_at__gte=start, filled_at__lte=end, filled_quantity__gt=0, avg_fill_price__isnull=False)
        .exclude(decision__strategy__drill=True)  # the rollback drill's injected losses are not trading results
        .select_related("decision__strategy").order_by("filled_at", "id")
    )
    result = RollingPnl(window_start=start, window_end=end, mark_source="signals", allocated_capital=_allocated_capital())
    positions: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    last_fill: dict[str, float] = {}
    for fill in fills:
        decision = fill.decision
        key = f"{decision.strategy.name}@{decision.strategy_version}" if decision else "unattributed"
        entry = result.by_strategy.setdefault(key, StrategyPnl(strategy=key))
        signed = fill.filled_quantity if fill.side == "buy" else -fill.filled_quantity
        entry.realized_cash -= float(signed * fill.avg_fill_price)
        entry.executions += 1
        if decision and (decision.strategy_id, decision.strategy_version) in gated:
            entry.gated_executions += 1
        positions[(key, fill.symbol)] += signed
        last_fill[fill.symbol] = float(fill.avg_fill_price)

    open_symbols = sorted({symbol for (_, symbol), qty in positions.items() if qty})
    try:
        marks = latest_prices(symbols=open_symbols, since=start)
    except clickhouse.ClickHouseError as exc:
        logger.warning("marking positions at last fill prices: %s", exc)
        marks = {}
        result.mark_source = "last_fill" if open_symbols else "signals"
    if open_symbols and any(symbol not in marks for symbol in open_symbols) and result.mark_source == "signals":
        result.mark_source = "signals_and_last_fill"
    for (key, symbol), qty in positions.items():
        if qty:
            result.by_strategy[key].marked_value += float(qty) * marks.get(symbol, last_fill[symbol])
    return result
def pnl_today(*, drill_since: datetime | None = None) -> dict:
    """Today's (UTC) PnL from fills: cash flow of today's fills plus today's net position marked at the
    last fill price per symbol, in total and by strategy; and the capital allocated to trading lanes.
    Drill strategies' fills count only for a drill's own evaluation, from its start (`drill_since`)."""
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    fills = Execution.objects.filter(filled_at__gte=start, filled_quantity__gt=0, avg_fill_price__isnull=False).exclude(
        drill_rows_hidden(drill_since=drill_since, flag="decision__strategy__drill", at="filled_at"))
    fills = fills.select_related("decision__strategy").order_by("filled_at", "id")
    last_price: dict[str, Decimal] = {}
    cash: dict[str, Decimal] = defaultdict(Decimal)
    position: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for fill in fills:
        key = f"{fill.decision.strategy.name}@{fill.decision.strategy_version}" if fill.decision else "unattributed"
        signed = fill.filled_quantity if fill.side == "buy" else -fill.filled_quantity
        cash[key] -= signed * fill.avg_fill_price
        position[(key, fill.symbol)] += signed
        last_price[fill.symbol] = fill.avg_fill_price
    by_strategy: dict[str, float] = {}
    for key in cash:
        marked = sum((qty * last_price[sym] for (k, sym), qty in position.items() if k == key), Decimal(0))
        by_strategy[key] = float(cash[key] + marked)
    fractions = Strategy.objects.filter(enabled=True, lane__in=[Lane.PAPER, Lane.LIVE]).values_list("capital_fraction", flat=True)
    allocated = float(sum(fractions, Decimal(0))) * settings.TRADING_ACCOUNT_CAPITAL
    return {"total": float(sum(by_strategy.values())), "by_strategy": by_strategy, "allocated_capital": allocated}
