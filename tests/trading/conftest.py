"""Signal fixtures: a clean ta_signals table on the real ClickHouse, row factories, and small real HTTP
servers standing in for jangar and Alertmanager."""
from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from torghut.core import clickhouse
from trading.signals import source as signal_source
from trading.signals.types import INDICATORS

UNIVERSE = ["AAPL", "MSFT", "NVDA", "SPY"]
COLUMNS = ("symbol", "event_ts", "seq", "ingest_ts", "source", "window_size", *INDICATORS)


def signal_row(symbol: str, event_ts: datetime, seq: int, **overrides: float) -> tuple:
    """A plausible TA row; `overrides` replace indicator values (NaN, inf ...)."""
    price = 100.0 + seq % 7
    values = {
        "macd": 0.1, "macd_signal": 0.05, "macd_hist": 0.05, "ema12": price, "ema26": price - 0.2, "rsi14": 55.0,
        "boll_mid": price, "boll_upper": price + 1, "boll_lower": price - 1, "vwap_session": price, "vwap_w5m": price,
        "imbalance_spread": 0.01, "imbalance_bid_px": price - 0.01, "imbalance_ask_px": price + 0.01, "vol_realized_w60s": 0.2,
    }
    values.update(overrides)
    return (symbol, event_ts.replace(microsecond=0), seq, event_ts.replace(microsecond=0), "ta", "1s", *(values[c] for c in INDICATORS))


@dataclass
class SignalTable:
    def insert(self, rows: list[tuple]) -> None:
        clickhouse.execute("test_insert", f"INSERT INTO ta_signals ({', '.join(COLUMNS)}) VALUES", rows)
        signal_source.probe_forget()

    def truncate(self) -> None:
        clickhouse.execute("test_truncate", "TRUNCATE TABLE ta_signals")
        signal_source.probe_forget()


@pytest.fixture
def signal_table(settings) -> Iterator[SignalTable]:
    settings.TRADING_SIGNAL_PROBE_CACHE_SECONDS = 0
    clickhouse.reset_connections()
    signal_source.forget_table_shape()
    table = SignalTable()
    table.truncate()
    yield table
    table.truncate()
    clickhouse.reset_connections()
    signal_source.forget_table_shape()


@pytest.fixture
def static_universe(settings):
    settings.TRADING_UNIVERSE_SOURCE = "static"
    settings.TRADING_UNIVERSE_STATIC_SYMBOLS = list(UNIVERSE)
    return UNIVERSE


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def seconds_ago(now: datetime, seconds: float) -> datetime:
    return now - timedelta(seconds=seconds)


@dataclass
class FakeHttp:
    """A loopback HTTP server whose answers the test sets; it records every request body."""

    status: int = 200
    body: object = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Take the server down (connections are refused afterwards)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _serve(fake: FakeHttp) -> FakeHttp:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            fake.requests.append({"method": self.command, "path": self.path, "json": json.loads(raw) if raw else None})
            payload = json.dumps(fake.body).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, *args) -> None:
            return

    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return fake


@pytest.fixture
def jangar(settings) -> Iterator[FakeHttp]:
    fake = _serve(FakeHttp(body={"symbols": list(UNIVERSE)}))
    settings.TRADING_UNIVERSE_SOURCE = "jangar"
    settings.JANGAR_SYMBOLS_URL = fake.url + "/api/torghut/symbols"
    yield fake
    fake.stop()


@pytest.fixture
def alertmanager(settings) -> Iterator[FakeHttp]:
    fake = _serve(FakeHttp(body={}))
    settings.ALERTMANAGER_URL = fake.url
    yield fake
    fake.stop()


NAN = math.nan
INF = math.inf
