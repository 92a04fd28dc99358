"""The signal row as the rest of the system sees it, independent of the ClickHouse schema."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

INDICATORS = (
    "macd", "macd_signal", "macd_hist", "ema12", "ema26", "rsi14", "boll_mid", "boll_upper", "boll_lower",
    "vwap_session", "vwap_w5m", "imbalance_spread", "imbalance_bid_px", "imbalance_ask_px", "vol_realized_w60s",
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
