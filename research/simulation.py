"""Paper simulation: replay a ClickHouse signal window through a strategy with the simulated fill model.

The window is read columnar (numpy arrays, one query) sorted by (symbol, event_ts, seq), the strategy's
`decide_vectorised` turns it into sides, and the fill model below is array arithmetic too, so the cost
per signal stays close to the cost of fetching it.

Fill model (long only, one position per symbol): a BUY while flat enters `notional / fill` units at
the order path's simulated fill price (price × (1 + slippage), `trading.orders.adapters.simulated`);
a SELL while long exits at its price × (1 − slippage); every fill pays `fee_bps` of its notional. A position still open at the end of the window is marked at the symbol's last price
(no exit slippage or fee). Price is `vwap_w5m`, else `boll_mid` (the `Signal.price` convention).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from torghut.core import clickhouse
from trading.orders.adapters.simulated import PRICE_PLACES, simulated_fill_factor
from trading.orders.models import Side
from trading.signals import source as signal_source
from trading.strategies.kinds import BUY, StrategyKind

KEY_COLUMNS = ("symbol", "event_ts", "seq")
PRICE_COLUMNS = ("vwap_w5m", "boll_mid")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FillModel:
    slippage_bps: float
    fee_bps: float
    notional: float
    capital: float

    def fill_prices(self, price: np.ndarray, *, side: str) -> np.ndarray:
        """The simulated fill of positive reference prices `price` by the order path's rule, vectorised.
        Exact, in integers of 10**-PRICE_PLACES, so ties round as the order path rounds them."""
        numerator, denominator = simulated_fill_factor(side=side, slippage_bps=self.slippage_bps).as_integer_ratio()
        # The reference price at PRICE_PLACES, as a decision stores it (ties to even, as Decimal.quantize).
        units = np.rint(np.asarray(price, dtype=np.float64) * 10**PRICE_PLACES).astype(np.int64)
        # int64 holds 2 x units x numerator for any realistic price; beyond that Python integers do (slower).
        bound = 2 * max(int(units.max(initial=0)) * numerator, denominator)
        units = units if bound < 2**62 else units.astype(object)
        # Half away from zero for positive values: floor((2n + d) / 2d).
        filled = (2 * units * numerator + denominator) // (2 * denominator)
        return filled.astype(np.float64) / 10**PRICE_PLACES


@dataclass
class SimulationResult:
    signals: int = 0
    decisions: int = 0
    trades: int = 0
    round_trips: int = 0
    open_positions: int = 0
    net_pnl: float = 0.0
    fees: float = 0.0
    max_drawdown: float = 0.0
    turnover: float = 0.0
    win_rate: float | None = None
    errors: int = 0
    null_rate: float = 0.0
    symbols: list[str] = field(default_factory=list)
    last_event_ts: datetime | None = None
    # Per trade (entry and its exit or end-of-window mark), in close order: what the robustness
    # figures (folds, bootstrap, deflated Sharpe, equity curve) are computed from; not stored as metrics.
    trade_pnl: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    trade_closed_at: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64), repr=False)
    trade_notional: float = 0.0
    slippage_cost: float = 0.0

    def metrics(self) -> dict[str, Any]:
        data = asdict(self)
        for name in TRADE_FIELDS:
            data.pop(name)
        data["last_event_ts"] = self.last_event_ts.isoformat() if self.last_event_ts else None
        return data


TRADE_FIELDS = ("trade_pnl", "trade_closed_at", "trade_notional", "slippage_cost")


def _bounds(table: str, *, start: datetime, end: datetime) -> dict[str, str]:
    # String literals at the column's precision: `toDateTime(<int>)` against DateTime64(3) drops the last second.
    precision = signal_source.time_precision_for(table)
    return {"start": signal_source.time_literal(start, precision), "end": signal_source.time_literal(end, precision)}


def window_columns(*, table: str, start: datetime, end: datetime, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Fetch `columns` of the signal rows in [start, end) as numpy arrays, sorted by the table key."""
    names = list(dict.fromkeys((*KEY_COLUMNS, *columns)))
    sql = (
        f"SELECT {', '.join(names)} FROM {clickhouse.quote_identifier(table)} "
        "WHERE event_ts >= %(start)s AND event_ts < %(end)s "
        "ORDER BY symbol, event_ts, seq"
    )
    data = clickhouse.query("research_window", sql, _bounds(table, start=start, end=end), columnar=True, use_numpy=True, timeout=120)
    if not data:
        return {name: np.empty(0) for name in names}
    return {name: np.asarray(col) for name, col in zip(names, data, strict=True)}


def expected_symbols(*, table: str, since: datetime, end: datetime) -> set[str]:
    """Symbols the table carried in [since, end): what a window ending at `end` should cover."""
    rows = clickhouse.query(
        "research_expected_symbols",
        f"SELECT DISTINCT symbol FROM {clickhouse.quote_identifier(table)} WHERE event_ts >= %(start)s AND event_ts < %(end)s",
        _bounds(table, start=since, end=end),
    )
    return {row[0] for row in rows}


def _float(values: np.ndarray) -> np.ndarray:
    # Nullable columns arrive as object arrays with None; float conversion turns None into NaN.
    return values if values.dtype == np.float64 else np.asarray(values, dtype=np.float64)


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    seconds = np.datetime64(value, "s").astype("int64")
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _epoch_seconds(values: np.ndarray) -> np.ndarray:
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[s]").astype(np.int64)
    return np.array([int(_to_datetime(v).timestamp()) for v in values], dtype=np.int64)


def simulate(
    cols: Mapping[str, np.ndarray], *, kind: StrategyKind, params: Mapping[str, Any], fill: FillModel, latency_bars: int = 0
) -> SimulationResult:
    """Run the strategy and the fill model over columns sorted by (symbol, event_ts, seq).

    `latency_bars` acts on each decision that many rows (of the same symbol) later: the stress case
    of an order path slower than the signal."""
    symbols = cols["symbol"]
    n = len(symbols)
    if n == 0:
        return SimulationResult()
    event_ts, seq = cols["event_ts"], cols["seq"]
    new_symbol = np.ones(n, dtype=bool)
    new_symbol[1:] = symbols[1:] != symbols[:-1]
    # ReplacingMergeTree may still hold unmerged duplicates of a key: keep the last copy.
    duplicate = np.zeros(n, dtype=bool)
    duplicate[:-1] = ~new_symbol[1:] & (event_ts[1:] == event_ts[:-1]) & (seq[1:] == seq[:-1])
    if duplicate.any():
        keep = ~duplicate
        cols = {name: col[keep] for name, col in cols.items()}
        symbols, event_ts = cols["symbol"], cols["event_ts"]
        n = len(symbols)
        new_symbol = np.ones(n, dtype=bool)
        new_symbol[1:] = symbols[1:] != symbols[:-1]

    vwap, mid = _float(cols["vwap_w5m"]), _float(cols["boll_mid"])
    price = np.where(np.isfinite(vwap) & (vwap > 0), vwap, mid)
    arrays: dict[str, np.ndarray] = {"symbol": symbols, "price": price}
    for name in kind.columns:
        if name not in arrays:
            arrays[name] = _float(cols[name])
    bad_row = np.zeros(n, dtype=bool)
    for name in kind.columns:
        bad_row |= ~np.isfinite(arrays[name])
    bad_row |= ~np.isfinite(price)

    sides = np.asarray(kind.decide_vectorised(arrays, params), dtype=np.int8)
    for _ in range(latency_bars):
        shifted = np.zeros(n, dtype=np.int8)
        shifted[1:] = sides[:-1]
        sides = np.where(new_symbol, 0, shifted).astype(np.int8)
    unfillable = (sides != 0) & ~(np.isfinite(price) & (price > 0))
    sides = np.where(unfillable, 0, sides).astype(np.int8)

    # Position after each row: the last non-zero side in the symbol so far (BUY = long, else flat).
    index = np.arange(n)
    last = np.maximum.accumulate(np.where((sides != 0) | new_symbol, index, 0))
    long = sides[last] == BUY
    was_long = np.empty(n, dtype=bool)
    was_long[0] = False
    was_long[1:] = long[:-1]
    was_long[new_symbol] = False
    entries = np.flatnonzero(long & ~was_long)
    exits = np.flatnonzero(~long & was_long)

    symbol_end = np.r_[np.flatnonzero(new_symbol[1:]), n - 1]
    entry_end = symbol_end[np.searchsorted(symbol_end, entries)]
    nxt = np.searchsorted(exits, entries)
    candidate = exits[np.minimum(nxt, max(len(exits) - 1, 0))] if len(exits) else entry_end
    closed = (nxt < len(exits)) & (candidate <= entry_end) if len(exits) else np.zeros(len(entries), dtype=bool)
    close_row = np.where(closed, candidate, entry_end)

    fee_rate = fill.fee_bps / 10_000.0
    entry_fill = fill.fill_prices(price[entries], side=Side.BUY)
    qty = fill.notional / entry_fill
    mark = price[close_row]
    mark = np.where(np.isfinite(mark) & (mark > 0), mark, entry_fill)
    exit_fill = np.where(closed, fill.fill_prices(mark, side=Side.SELL), mark)
    exit_notional = np.where(closed, qty * exit_fill, 0.0)
    fees = fee_rate * (fill.notional + exit_notional)
    pnl = qty * (exit_fill - entry_fill) - fees

    order = np.argsort(event_ts[close_row], kind="stable")
    equity = np.r_[0.0, np.cumsum(pnl[order])]
    drawdown = float(np.max(np.maximum.accumulate(equity) - equity)) if len(pnl) else 0.0
    round_trips = int(closed.sum())
    slippage_cost = float(np.sum(qty * (entry_fill - price[entries])) + np.sum(np.where(closed, qty * (mark - exit_fill), 0.0)))

    return SimulationResult(
        signals=n,
        decisions=int(np.count_nonzero(sides)),
        trades=len(entries) + round_trips,
        round_trips=round_trips,
        open_positions=len(entries) - round_trips,
        net_pnl=float(pnl.sum()),
        fees=float(fees.sum()),
        max_drawdown=drawdown / fill.capital,
        turnover=float(fill.notional * len(entries) + exit_notional.sum()) / fill.capital,
        win_rate=float(np.mean(pnl[closed] > 0)) if round_trips else None,
        errors=int(unfillable.sum()),
        null_rate=float(bad_row.mean()),
        symbols=sorted(str(s) for s in symbols[new_symbol]),
        last_event_ts=_to_datetime(event_ts.max()),
        trade_pnl=pnl[order],
        trade_closed_at=_epoch_seconds(event_ts[close_row][order]),
        trade_notional=float(fill.notional * len(entries) + exit_notional.sum()),
        slippage_cost=slippage_cost,
    )


def paper_simulate(
    *,
    table: str,
    start: datetime,
    end: datetime,
    kind: StrategyKind,
    params: Mapping[str, Any],
    fill: FillModel,
    progress: Progress | None = None,
) -> SimulationResult:
    """Fetch the window from ClickHouse and simulate it; `progress` receives one line per stage."""
    return paper_replay(table=table, start=start, end=end, kind=kind, params=params, fill=fill, progress=progress)[1]


def paper_replay(
    *,
    table: str,
    start: datetime,
    end: datetime,
    kind: StrategyKind,
    params: Mapping[str, Any],
    fill: FillModel,
    progress: Progress | None = None,
) -> tuple[dict[str, np.ndarray], SimulationResult]:
    """`paper_simulate` that also returns the fetched columns (the research run replays them again for folds and stress)."""
    say = progress or (lambda _line: None)
    columns = tuple(c for c in kind.columns if c != "price") + PRICE_COLUMNS
    say(f"fetching {table} {start.isoformat()} .. {end.isoformat()}")
    cols = window_columns(table=table, start=start, end=end, columns=columns)
    say(f"fetched {len(cols['symbol'])} signal rows; simulating")
    result = simulate(cols, kind=kind, params=params, fill=fill)
    say(f"simulated {result.signals} signals: {result.decisions} decisions, {result.trades} fills")
    return cols, result
