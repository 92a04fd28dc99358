"""The signal row as the rest of the system sees it, independent of the ClickHouse schema."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, overload

import numpy as np

INDICATORS = (
    "macd",
    "macd_signal",
    "macd_hist",
    "ema12",
    "ema26",
    "rsi14",
    "boll_mid",
    "boll_upper",
    "boll_lower",
    "vwap_session",
    "vwap_w5m",
    "imbalance_spread",
    "imbalance_bid_px",
    "imbalance_ask_px",
    "vol_realized_w60s",
)


@dataclass(frozen=True, slots=True)
class Signal:
    """One accepted TA row. `price` is the best current price estimate (vwap_w5m, else boll_mid)."""

    symbol: str
    event_ts: datetime
    seq: int
    source: str
    window_size: str
    price: float
    macd: float
    macd_signal: float
    macd_hist: float
    ema12: float
    ema26: float
    rsi14: float
    boll_mid: float
    boll_upper: float
    boll_lower: float
    vwap_session: float
    vwap_w5m: float
    imbalance_spread: float
    imbalance_bid_px: float
    imbalance_ask_px: float
    vol_realized_w60s: float

    @property
    def key(self) -> tuple[str, datetime, int]:
        return (self.symbol, self.event_ts, self.seq)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# Columns a batch answers by name besides the indicators (what `decide_vectorised` reads).
_BATCH_COLUMNS = ("symbol", "price", *INDICATORS)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class SignalBatch(Sequence[Signal]):
    """Accepted signals column by column: what ingest hands the consumer without building a `Signal`
    per row. Indexing materialises one `Signal`; a batch made from `Signal` objects hands those back.
    """

    __slots__ = ("symbols", "ts_us", "seqs", "sources", "window_sizes", "prices", "indicators", "_objects")

    def __init__(
        self,
        *,
        symbols: np.ndarray,
        ts_us: np.ndarray,
        seqs: np.ndarray,
        sources: np.ndarray,
        window_sizes: np.ndarray,
        prices: np.ndarray,
        indicators: np.ndarray,
        objects: Sequence[Signal] | None = None,
    ) -> None:
        self.symbols = symbols.astype(str) if symbols.dtype.kind != "U" else symbols
        self.ts_us = ts_us.astype(np.int64, copy=False)  # event time, microseconds since the epoch (UTC)
        self.seqs = seqs.astype(np.int64, copy=False)
        self.sources = sources
        self.window_sizes = window_sizes
        self.prices = prices.astype(np.float64, copy=False)
        self.indicators = indicators.astype(np.float64, copy=False)  # one row per signal, columns in INDICATORS order
        self._objects = objects

    @classmethod
    def empty(cls) -> SignalBatch:
        return cls.from_signals([])

    @classmethod
    def from_signals(cls, signals: Sequence[Signal]) -> SignalBatch:
        """The columnar form of `signals`; indexing it returns the very objects given."""
        signals = list(signals)
        return cls(
            symbols=np.array([s.symbol for s in signals], dtype=str),
            ts_us=np.array([(s.event_ts - _EPOCH) // _US for s in signals], dtype=np.int64),
            seqs=np.array([s.seq for s in signals], dtype=np.int64),
            sources=np.array([s.source for s in signals], dtype=object),
            window_sizes=np.array([s.window_size for s in signals], dtype=object),
            prices=np.array([s.price for s in signals], dtype=np.float64),
            indicators=np.array([[getattr(s, name) for name in INDICATORS] for s in signals], dtype=np.float64).reshape(
                len(signals), len(INDICATORS)
            ),
            objects=signals,
        )

    def __len__(self) -> int:
        return len(self.symbols)

    @overload
    def __getitem__(self, index: int) -> Signal: ...

    @overload
    def __getitem__(self, index: slice) -> SignalBatch: ...

    def __getitem__(self, index: int | slice) -> Signal | SignalBatch:
        if isinstance(index, slice):
            return self.take(np.arange(len(self))[index])
        if self._objects is not None:
            return self._objects[index]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return Signal(
            str(self.symbols[index]),
            _EPOCH + timedelta(microseconds=int(self.ts_us[index])),
            int(self.seqs[index]),
            _plain(self.sources[index]),
            _plain(self.window_sizes[index]),
            float(self.prices[index]),
            *self.indicators[index].tolist(),
        )

    def take(self, index: np.ndarray) -> SignalBatch:
        """The rows at `index` (integer positions), in that order."""
        objects = [self._objects[i] for i in index.tolist()] if self._objects is not None else None
        return SignalBatch(
            symbols=self.symbols[index],
            ts_us=self.ts_us[index],
            seqs=self.seqs[index],
            sources=self.sources[index],
            window_sizes=self.window_sizes[index],
            prices=self.prices[index],
            indicators=self.indicators[index],
            objects=objects,
        )

    def column(self, name: str) -> np.ndarray:
        """One column by field name: "symbol", "price" or an indicator."""
        if name == "symbol":
            return self.symbols
        if name == "price":
            return self.prices
        if name in INDICATORS:
            return self.indicators[:, INDICATORS.index(name)]
        raise KeyError(name)

    def columns(self) -> dict[str, np.ndarray]:
        return {name: self.column(name) for name in _BATCH_COLUMNS}
