"""Session PnL: torghut's one definition of PnL and drawdown.

Everything that reads a PnL or a drawdown reads `pnl_session`: the emergency stop's drawdown trigger, the
capital ramp's day verdict, the rollback drill's loss booking, `/trading/pnl`, the ops page and the
`torghut_pnl_*` gauges. The drawdown that halts trading is the drawdown the operator sees.

- Session: from the open of the NYSE regular session in progress (`torghut.core.calendar.session_open_at`);
  while the market is closed, from the open of the last session, so after-hours and pre-market fills count
  with the session before them and the figure starts again from zero at the next open.
- PnL, in account currency: realized plus unrealized. Per (strategy version, symbol), the cash flow of the
  session's fills plus the net position they leave open, marked at the latest trade price. Fills without a
  decision are `unattributed`. One SQL aggregate over the session's fills computes signed quantity, cash
  flow, fill count and newest fill per group; nothing loops over fills in Python.
- Latest trade price: the newest signal price (`vwap_w5m`) in ClickHouse since the session open; the
  symbol's last fill price in the session when ClickHouse cannot answer or has no price for the symbol.
  `mark_source` says which: `signals`, `signals_and_last_fill` or `last_fill`.
- Drawdown ratio: the session's loss (0 when in profit) over the capital allocated to enabled paper and
  live strategies. A loss with no allocated capital is unbounded (`inf`), never 0.
- Drill strategies' fills are hidden, except from a drill's own evaluation and only from its start
  (`drill_since`, `trading.strategies.models.drill_rows_hidden`).
- Gate coverage: the share of the session's executions whose strategy version has passing gates
  (`trading.ports.gated_versions`); 1.0 when there were no executions.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.aggregates.mixins import OrderableAggMixin
from django.db.models import Aggregate, Case, Count, DecimalField, F, Max, Sum, When
from django.utils import timezone

from torghut.core import clickhouse
from torghut.core.calendar import session_open_at
from trading import ports
from trading.orders.models import Execution, Side
from trading.signals.source import latest_prices
from trading.strategies.models import Lane, Strategy, drill_rows_hidden

logger = logging.getLogger(__name__)
_AMOUNT = DecimalField(max_digits=40, decimal_places=12)
_NEWEST_FIRST = ("-filled_at", "-id")


class _Newest(OrderableAggMixin, Aggregate):
    """The value of the group's newest row (Postgres has no LAST aggregate)."""

    function = "ARRAY_AGG"
    template = "(%(function)s(%(expressions)s %(order_by)s))[1]"


def drawdown_ratio(*, total: float, allocated_capital: float) -> float:
    """The loss in `total` (0 when in profit) as a share of `allocated_capital`; a loss with no capital is `inf`."""
    loss = max(0.0, -total)
    if allocated_capital <= 0:
        return math.inf if loss > 0 else 0.0
    return loss / allocated_capital


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
class SessionPnl:
    session_start: datetime
    as_of: datetime
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
        return drawdown_ratio(total=self.total, allocated_capital=self.allocated_capital)

    def as_dict(self) -> dict:
        ratio = self.drawdown_ratio
        return {
            "session_start": self.session_start,
            "window_start": self.session_start,
            "window_end": self.as_of,
            "mark_source": self.mark_source,
            "total": round(self.total, 6),
            "allocated_capital": self.allocated_capital,
            # JSON has no infinity: null is "unbounded" (a loss with no allocated capital).
            "drawdown_ratio": None if math.isinf(ratio) else ratio,
            "executions": self.executions,
            "gate_coverage": self.gate_coverage,
            "by_strategy": [
                {
                    "strategy": s.strategy,
                    "pnl": round(s.pnl, 6),
                    "realized_cash": round(s.realized_cash, 6),
                    "marked_value": round(s.marked_value, 6),
                    "executions": s.executions,
                    "gate_coverage": 1.0 if s.executions == 0 else s.gated_executions / s.executions,
                }
                for s in sorted(self.by_strategy.values(), key=lambda s: s.strategy)
            ],
        }


def _allocated_capital() -> float:
    fractions = Strategy.objects.filter(enabled=True, lane__in=[Lane.PAPER, Lane.LIVE]).values_list("capital_fraction", flat=True)
    return float(sum(fractions, Decimal(0))) * settings.TRADING_ACCOUNT_CAPITAL


def _session_positions(*, start: datetime, end: datetime, drill_since: datetime | None) -> list[dict]:
    """One row per (strategy version, symbol) traded in the session, aggregated by Postgres."""
    signed = Case(When(side=Side.SELL, then=-F("filled_quantity")), default=F("filled_quantity"), output_field=_AMOUNT)
    return list(
        Execution.objects.filter(filled_at__gte=start, filled_at__lte=end, filled_quantity__gt=0, avg_fill_price__isnull=False)
        .exclude(drill_rows_hidden(drill_since=drill_since, flag="decision__strategy__drill", at="filled_at"))
        .values("decision__strategy_id", "decision__strategy__name", "decision__strategy_version", "symbol")
        .annotate(
            quantity=Sum(signed),
            cash=Sum(-signed * F("avg_fill_price"), output_field=_AMOUNT),
            executions=Count("id"),
            last_at=Max("filled_at"),
            last_id=_Newest("id", order_by=_NEWEST_FIRST),
            last_price=_Newest("avg_fill_price", order_by=_NEWEST_FIRST),
        )
        .order_by()
    )


def pnl_session(*, now: datetime | None = None, drill_since: datetime | None = None) -> SessionPnl:
    """Session PnL (see the module docstring) per strategy version and in total, as of `now`.

    `drill_since` is for a rollback drill's own evaluations: they see drill strategies' fills from then on.
    """
    end = now or timezone.now()
    start = session_open_at(at=end)
    rows = _session_positions(start=start, end=end, drill_since=drill_since)
    last_fill: dict[str, tuple[datetime, int, Decimal]] = {}
    for row in rows:
        newest = (row["last_at"], row["last_id"], row["last_price"])
        if row["symbol"] not in last_fill or newest[:2] > last_fill[row["symbol"]][:2]:
            last_fill[row["symbol"]] = newest
    open_symbols = sorted({row["symbol"] for row in rows if row["quantity"]})
    result = SessionPnl(session_start=start, as_of=end, mark_source="signals", allocated_capital=_allocated_capital())
    try:
        marks = latest_prices(symbols=open_symbols, since=start)
    except clickhouse.ClickHouseError as exc:
        logger.warning("marking positions at last fill prices: %s", exc)
        marks = {}
        result.mark_source = "last_fill" if open_symbols else "signals"
    if result.mark_source == "signals" and any(symbol not in marks for symbol in open_symbols):
        result.mark_source = "signals_and_last_fill"

    gated = ports.gated_versions()
    for row in rows:
        strategy_id, version = row["decision__strategy_id"], row["decision__strategy_version"]
        key = f"{row['decision__strategy__name']}@{version}" if strategy_id is not None else "unattributed"
        entry = result.by_strategy.setdefault(key, StrategyPnl(strategy=key))
        entry.realized_cash += float(row["cash"])
        entry.executions += row["executions"]
        if (strategy_id, version) in gated:
            entry.gated_executions += row["executions"]
        if row["quantity"]:
            symbol = row["symbol"]
            entry.marked_value += float(row["quantity"]) * marks.get(symbol, float(last_fill[symbol][2]))
    return result
