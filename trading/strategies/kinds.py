"""Strategy kinds: the code that turns consecutive signals of one symbol into a side.

Each kind has two forms that must agree: `decide(prev, cur, params)` for the live loop, one signal at
a time, and `decide_vectorised(cols, params)` for research, over whole arrays sorted by
(symbol, event_ts, seq). Both return +1 (buy), -1 (sell) or 0 (nothing); the test suite checks that
they agree row for row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from trading.signals.types import Signal

BUY = 1
SELL = -1
HOLD = 0


class StrategyKind(Protocol):
    key: str
    defaults: Mapping[str, float]
    columns: tuple[str, ...]

    def decide(self, prev: Signal | None, cur: Signal, params: Mapping[str, Any]) -> int: ...

    def decide_vectorised(self, cols: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> np.ndarray: ...

    def rationale(self, prev: Signal | None, cur: Signal) -> dict[str, float]: ...


def _previous(values: np.ndarray, symbols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values shifted by one row within each symbol run, and a mask of rows that have a previous row."""
    prev = np.empty_like(values)
    prev[1:] = values[:-1]
    prev[:1] = values[:1]
    has_prev = np.zeros(len(values), dtype=bool)
    if len(values) > 1:
        has_prev[1:] = symbols[1:] == symbols[:-1]
    return prev, has_prev


@dataclass(frozen=True)
class MacdRsi:
    """Buy when the MACD histogram crosses above zero with RSI not overbought; sell on the cross below
    zero with RSI not oversold."""

    key: str = "macd_rsi"
    defaults: Mapping[str, float] = field(default_factory=lambda: {"rsi_buy_max": 70.0, "rsi_sell_min": 30.0})
    columns: tuple[str, ...] = ("macd_hist", "rsi14")

    def _p(self, params: Mapping[str, Any]) -> tuple[float, float]:
        merged = {**self.defaults, **(params or {})}
        return float(merged["rsi_buy_max"]), float(merged["rsi_sell_min"])

    def decide(self, prev: Signal | None, cur: Signal, params: Mapping[str, Any]) -> int:
        if prev is None:
            return HOLD
        buy_max, sell_min = self._p(params)
        if prev.macd_hist <= 0 < cur.macd_hist and cur.rsi14 < buy_max:
            return BUY
        if prev.macd_hist >= 0 > cur.macd_hist and cur.rsi14 > sell_min:
            return SELL
        return HOLD

    def decide_vectorised(self, cols: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> np.ndarray:
        buy_max, sell_min = self._p(params)
        hist, rsi = cols["macd_hist"], cols["rsi14"]
        prev, has_prev = _previous(hist, cols["symbol"])
        buy = has_prev & (prev <= 0) & (hist > 0) & (rsi < buy_max)
        sell = has_prev & (prev >= 0) & (hist < 0) & (rsi > sell_min)
        return buy.astype(np.int8) - sell.astype(np.int8)

    def rationale(self, prev: Signal | None, cur: Signal) -> dict[str, float]:
        return {
            "macd_hist_prev": prev.macd_hist if prev else None,
            "macd_hist": cur.macd_hist,
            "rsi14": cur.rsi14,
            "macd": cur.macd,
            "macd_signal": cur.macd_signal,
        }


@dataclass(frozen=True)
class BollingerReversion:
    """Buy when price closes below the lower band (having been above it); sell when it closes above the
    upper band (having been below it)."""

    key: str = "bollinger_reversion"
    defaults: Mapping[str, float] = field(default_factory=dict)
    columns: tuple[str, ...] = ("price", "boll_lower", "boll_upper")

    def decide(self, prev: Signal | None, cur: Signal, params: Mapping[str, Any]) -> int:
        if prev is None:
            return HOLD
        if prev.price >= prev.boll_lower and cur.price < cur.boll_lower:
            return BUY
        if prev.price <= prev.boll_upper and cur.price > cur.boll_upper:
            return SELL
        return HOLD

    def decide_vectorised(self, cols: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> np.ndarray:
        price, lower, upper = cols["price"], cols["boll_lower"], cols["boll_upper"]
        symbols = cols["symbol"]
        prev_price, has_prev = _previous(price, symbols)
        prev_lower, _ = _previous(lower, symbols)
        prev_upper, _ = _previous(upper, symbols)
        buy = has_prev & (prev_price >= prev_lower) & (price < lower)
        sell = has_prev & (prev_price <= prev_upper) & (price > upper)
        # Buy wins when both hold (bands crossed over), as in `decide`.
        return np.where(buy, np.int8(BUY), np.where(sell, np.int8(SELL), np.int8(HOLD)))

    def rationale(self, prev: Signal | None, cur: Signal) -> dict[str, float]:
        return {
            "price": cur.price,
            "boll_lower": cur.boll_lower,
            "boll_upper": cur.boll_upper,
            "boll_mid": cur.boll_mid,
            "price_prev": prev.price if prev else None,
        }


STRATEGY_KINDS: dict[str, StrategyKind] = {kind.key: kind for kind in (MacdRsi(), BollingerReversion())}


def strategy_kind(key: str) -> StrategyKind:
    try:
        return STRATEGY_KINDS[key]
    except KeyError as exc:
        raise ValueError(f"unknown strategy kind {key!r}; known: {sorted(STRATEGY_KINDS)}") from exc
