"""Real daily prices shipped in the `bokeh-sampledata` package, turned into ta_signals-layout rows.

The package carries public-domain daily OHLCV (AAPL, IBM, MSFT 2000–2013, GOOG from 2004, FB from
2012). Prices are split/dividend adjusted with the `Adj Close / Close` factor so indicators do not
jump at splits. Mapping onto the intraday signal columns:
  vwap_w5m      adjusted close (the price a simulation fills at, as `Signal.price`)
  vwap_session  adjusted typical price (high + low + close) / 3
  ema12/ema26/macd/macd_signal(9)/macd_hist, rsi14 (Wilder), boll_* (20 bars, 2 standard deviations)
  vol_realized_w60s  standard deviation of log returns over the last 20 bars (daily data has no 60 s)
  imbalance_*   no order book in daily bars: spread 0, bid and ask at the adjusted close
Each bar is stamped at 21:00 UTC of its date (the New York close in winter), seq 0, window P1D.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bokeh_sampledata
import numpy as np

from torghut.core import clickhouse
from trading.signals.types import INDICATORS

SOURCE = "bokeh-sampledata"
SYMBOLS = ("AAPL", "FB", "GOOG", "IBM", "MSFT")
COLUMNS = ("symbol", "event_ts", "seq", "ingest_ts", "source", "window_size", *INDICATORS)


@dataclass(frozen=True)
class DailyBars:
    symbol: str
    dates: list[str]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    adj_close: np.ndarray


def _data_dir() -> Path:

    return Path(bokeh_sampledata.package_dir())


def shipped_rows(symbol: str) -> list[dict[str, str]]:
    """The symbol's rows: newer releases ship one `stocks.csv.gz` with a Ticker column, older ones a CSV per symbol."""
    combined = _data_dir() / "stocks.csv.gz"
    if combined.exists():
        with gzip.open(combined, "rt", newline="") as handle:
            return [row for row in csv.DictReader(handle) if row["Ticker"] == symbol]
    with open(_data_dir() / f"{symbol}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def daily_bars(symbol: str) -> DailyBars:
    """Read one symbol's CSV from the installed package, oldest bar first."""
    if symbol not in SYMBOLS:
        raise ValueError(f"no shipped prices for {symbol!r}; available: {', '.join(SYMBOLS)}")
    rows = sorted(shipped_rows(symbol), key=lambda row: row["Date"])
    column = lambda name: np.array([float(row[name]) for row in rows])  # noqa: E731
    return DailyBars(
        symbol=symbol,
        dates=[row["Date"] for row in rows],
        open=column("Open"),
        high=column("High"),
        low=column("Low"),
        close=column("Close"),
        adj_close=column("Adj Close"),
    )


def ema(values: np.ndarray, span: float, *, alpha: float | None = None) -> np.ndarray:
    """Exponential moving average seeded with the first value."""
    a = alpha if alpha is not None else 2.0 / (span + 1.0)
    out = np.empty_like(values)
    acc = values[0]
    for i, value in enumerate(values):
        acc = value if i == 0 else a * value + (1 - a) * acc
        out[i] = acc
    return out


def rolling_mean_std(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population standard deviation over the last `window` values (fewer at the start)."""
    csum = np.cumsum(np.r_[0.0, values])
    csq = np.cumsum(np.r_[0.0, values * values])
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    count = idx - lo
    mean = (csum[idx] - csum[lo]) / count
    var = np.maximum((csq[idx] - csq[lo]) / count - mean * mean, 0.0)
    return mean, np.sqrt(var)


def rsi(values: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder's RSI; 50 on the first bar where no change exists yet."""
    change = np.diff(values, prepend=values[0])
    gain = ema(np.maximum(change, 0.0), period, alpha=1.0 / period)
    loss = ema(np.maximum(-change, 0.0), period, alpha=1.0 / period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 - 100.0 / (1.0 + gain / loss)
    out = np.where(loss == 0, np.where(gain == 0, 50.0, 100.0), out)
    return out


def indicators(bars: DailyBars) -> dict[str, np.ndarray]:
    """Every INDICATORS column for the bars, computed on adjusted prices."""
    factor = bars.adj_close / bars.close
    close, high, low = bars.adj_close, bars.high * factor, bars.low * factor
    ema12, ema26 = ema(close, 12), ema(close, 26)
    macd = ema12 - ema26
    macd_signal = ema(macd, 9)
    mid, std = rolling_mean_std(close, 20)
    log_returns = np.diff(np.log(close), prepend=np.log(close[0]))
    _, vol = rolling_mean_std(log_returns, 20)
    values = {
        "macd": macd,
        "macd_signal": macd_signal,
        "macd_hist": macd - macd_signal,
        "ema12": ema12,
        "ema26": ema26,
        "rsi14": rsi(close),
        "boll_mid": mid,
        "boll_upper": mid + 2 * std,
        "boll_lower": mid - 2 * std,
        "vwap_session": (high + low + close) / 3.0,
        "vwap_w5m": close,
        "imbalance_spread": np.zeros_like(close),
        "imbalance_bid_px": close,
        "imbalance_ask_px": close,
        "vol_realized_w60s": vol,
    }
    return {name: values[name] for name in INDICATORS}


def signal_rows(bars: DailyBars, *, ingest_ts: datetime) -> list[tuple]:
    values = indicators(bars)
    ingest = ingest_ts.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    rows = []
    for i, day in enumerate(bars.dates):
        event_ts = datetime.fromisoformat(day).replace(hour=21)
        rows.append((bars.symbol, event_ts, 0, ingest, SOURCE, "P1D", *(float(values[name][i]) for name in INDICATORS)))
    return rows


def prices_load(*, table: str, symbols: tuple[str, ...] = SYMBOLS, ingest_ts: datetime | None = None) -> dict[str, int]:
    """Insert the shipped daily bars of `symbols` into `table` as signal rows; rows per symbol.

    Reloading is harmless: the table is a ReplacingMergeTree on (symbol, event_ts, seq) and the
    simulation keeps one copy of a key.
    """
    ingest_ts = ingest_ts or datetime.now(UTC)
    sql = f"INSERT INTO {clickhouse.quote_identifier(table)} ({', '.join(COLUMNS)}) VALUES"
    loaded = {}
    for symbol in symbols:
        rows = signal_rows(daily_bars(symbol), ingest_ts=ingest_ts)
        clickhouse.execute("research_load_prices", sql, rows)
        loaded[symbol] = len(rows)
    return loaded
