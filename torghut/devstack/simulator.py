"""A market simulator for development: TA rows for a symbol universe, and a jangar stand-in.

Prices are geometric random walks whose per-second volatility is scaled from each symbol's typical
annualised daily-return volatility; every indicator is computed from those prices the way a TA
pipeline would (EMA12/26, MACD(12,26,9), Wilder RSI14, Bollinger(20, 2), session and 5-minute VWAP,
a quoted spread, 60-second realised volatility). Modes make each ingest reason observable live:
`normal`, `pause` (write nothing: a gap), `future` (rows stamped an hour ahead), `malformed` (empty
symbols, NaN/inf indicators, symbols outside the universe) and `jangar_down` (the symbols endpoint
answers 503).
"""

from __future__ import annotations

import json
import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from trading.signals.types import INDICATORS

MODES = ("normal", "pause", "future", "malformed", "jangar_down")
# Typical annualised volatility of daily returns and a recent price level, per symbol.
PROFILES: dict[str, tuple[float, float]] = {
    "SPY": (0.16, 590.0),
    "QQQ": (0.21, 510.0),
    "AAPL": (0.27, 230.0),
    "MSFT": (0.25, 420.0),
    "NVDA": (0.50, 140.0),
    "AMZN": (0.32, 200.0),
    "META": (0.38, 580.0),
    "TSLA": (0.60, 340.0),
}
TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600


def _ema(prev: float | None, value: float, span: int) -> float:
    alpha = 2.0 / (span + 1)
    return value if prev is None else prev + alpha * (value - prev)


@dataclass
class SymbolState:
    symbol: str
    price: float
    sigma_per_second: float
    seq: int = 0
    ema12: float | None = None
    ema26: float | None = None
    macd_signal: float | None = None
    avg_gain: float | None = None
    avg_loss: float | None = None
    last_price: float | None = None
    closes: deque = field(default_factory=lambda: deque(maxlen=20))
    returns: deque = field(default_factory=lambda: deque(maxlen=60))
    window5m: deque = field(default_factory=deque)
    pv5: float = 0.0  # running sums over window5m: a 16 Hz symbol keeps 4,800 entries there
    v5: float = 0.0
    session_pv: float = 0.0
    session_v: float = 0.0

    def step(self, *, at: datetime, dt: float, rng: random.Random) -> dict[str, float]:
        shock = rng.gauss(0.0, 1.0) * self.sigma_per_second * math.sqrt(dt)
        self.price *= math.exp(shock - 0.5 * (self.sigma_per_second**2) * dt)
        price = self.price
        self.seq += 1
        self.ema12 = _ema(self.ema12, price, 12)
        self.ema26 = _ema(self.ema26, price, 26)
        macd = self.ema12 - self.ema26
        self.macd_signal = _ema(self.macd_signal, macd, 9)
        if self.last_price is not None:
            change = price - self.last_price
            gain, loss = max(change, 0.0), max(-change, 0.0)
            # Wilder smoothing (period 14).
            self.avg_gain = gain if self.avg_gain is None else (self.avg_gain * 13 + gain) / 14
            self.avg_loss = loss if self.avg_loss is None else (self.avg_loss * 13 + loss) / 14
            self.returns.append(math.log(price / self.last_price))
        self.last_price = price
        if self.avg_loss is None or (self.avg_gain == 0 and self.avg_loss == 0):
            rsi = 50.0
        elif self.avg_loss == 0:
            rsi = 100.0
        else:
            rsi = 100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)
        self.closes.append(price)
        mid = sum(self.closes) / len(self.closes)
        std = math.sqrt(sum((c - mid) ** 2 for c in self.closes) / len(self.closes))
        volume = max(1.0, rng.lognormvariate(4.0, 0.8))
        self.session_pv += price * volume
        self.session_v += volume
        self.window5m.append((at, price * volume, volume))
        self.pv5 += price * volume
        self.v5 += volume
        while self.window5m and (at - self.window5m[0][0]).total_seconds() > 300:
            _, old_pv, old_v = self.window5m.popleft()
            self.pv5 -= old_pv
            self.v5 -= old_v
        pv5, v5 = self.pv5, max(self.v5, volume)
        half_spread = price * rng.uniform(0.5, 3.0) / 10_000
        vol60 = 0.0
        if len(self.returns) > 1:
            mean = sum(self.returns) / len(self.returns)
            vol60 = math.sqrt(sum((r - mean) ** 2 for r in self.returns) / (len(self.returns) - 1))
        return {
            "macd": macd,
            "macd_signal": self.macd_signal,
            "macd_hist": macd - self.macd_signal,
            "ema12": self.ema12,
            "ema26": self.ema26,
            "rsi14": rsi,
            "boll_mid": mid,
            "boll_upper": mid + 2 * std,
            "boll_lower": mid - 2 * std,
            "vwap_session": self.session_pv / self.session_v,
            "vwap_w5m": pv5 / v5,
            "imbalance_spread": 2 * half_spread,
            "imbalance_bid_px": price - half_spread,
            "imbalance_ask_px": price + half_spread,
            "vol_realized_w60s": vol60,
        }


class MarketSimulator:
    """Produces insert-ready rows (symbol, event_ts, seq, ingest_ts, source, window_size, *indicators)."""

    def __init__(self, *, symbols: list[str], seed: int | None = None, mode: str = "normal") -> None:

        self.indicators = INDICATORS
        self.rng = random.Random(seed)
        self.states = {}
        for symbol in symbols:
            annual_vol, price = PROFILES.get(symbol, (0.30, 100.0))
            self.states[symbol] = SymbolState(symbol=symbol, price=price, sigma_per_second=annual_vol / math.sqrt(TRADING_SECONDS_PER_YEAR))
        self.lock = threading.Lock()
        self.mode = mode
        self.last_at: datetime | None = None

    @property
    def symbols(self) -> list[str]:
        return list(self.states)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        with self.lock:
            self.mode = mode

    def tick(self, *, at: datetime) -> list[tuple]:
        """One row per symbol at `at` (none while paused); prices advance even during a pause."""
        with self.lock:
            mode = self.mode
        dt = 1.0 if self.last_at is None else max(0.001, (at - self.last_at).total_seconds())
        self.last_at = at
        rows = []
        for position, state in enumerate(self.states.values()):
            values = state.step(at=at, dt=dt, rng=self.rng)
            if mode == "pause":
                continue
            stamp = at + timedelta(hours=1) if mode == "future" else at
            symbol = state.symbol
            if mode == "malformed":
                kind = (state.seq + position) % 3
                if kind == 0:
                    symbol = ""
                elif kind == 1:
                    values = {**values, "rsi14": math.nan, "macd": math.inf}
                else:
                    symbol = f"X{symbol}"
            rows.append((symbol, stamp, state.seq, at, "simulator", "1s", *(values[c] for c in self.indicators)))
        return rows


def serve_control(simulator: MarketSimulator, *, host: str, port: int) -> ThreadingHTTPServer:
    """Serve `GET /api/torghut/symbols` (jangar-compatible) and `GET|POST /control?mode=...` in a thread."""

    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self) -> None:
            url = urlparse(self.path)
            if url.path == "/api/torghut/symbols":
                if simulator.mode == "jangar_down":
                    self._json(503, {"error": "simulated jangar outage"})
                else:
                    self._json(200, {"symbols": simulator.symbols})
            elif url.path == "/control":
                mode = (parse_qs(url.query).get("mode") or [None])[0]
                if mode is not None:
                    try:
                        simulator.set_mode(mode)
                    except ValueError as exc:
                        self._json(400, {"error": str(exc)})
                        return
                self._json(200, {"mode": simulator.mode, "modes": list(MODES), "symbols": simulator.symbols})
            else:
                self._json(404, {"error": "not found"})

        do_GET = _route
        do_POST = _route

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="simulator-http", daemon=True).start()
    return server


def now_utc() -> datetime:
    return datetime.now(UTC)
