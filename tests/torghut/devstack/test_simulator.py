"""The market simulator: realistic indicators, live mode switches, and its jangar-compatible endpoint."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command

from tests.signals import COLUMNS, now_utc
from torghut.core import clickhouse
from torghut.devstack.simulator import TRADING_SECONDS_PER_YEAR, MarketSimulator, serve_control
from trading.signals.ingest import signals_ingest
from trading.signals.types import INDICATORS
from trading.signals.universe import universe_resolve

pytestmark = pytest.mark.django_db


def _named(row: tuple) -> dict:
    return dict(zip(COLUMNS, row))


def test_simulated_rows_have_increasing_seqs_and_coherent_indicators():
    simulator = MarketSimulator(symbols=["AAPL", "SPY"], seed=7)
    start = now_utc()
    rows = [r for i in range(600) for r in simulator.tick(at=start + timedelta(seconds=i))]
    by_symbol: dict[str, list[dict]] = {}
    for row in rows:
        by_symbol.setdefault(row[0], []).append(_named(row))
    for series in by_symbol.values():
        assert [r["seq"] for r in series] == list(range(1, 601))
        for r in series:
            assert all(math.isfinite(r[c]) for c in INDICATORS)
            assert 0 <= r["rsi14"] <= 100
            assert r["boll_lower"] <= r["boll_mid"] <= r["boll_upper"]
            assert r["imbalance_bid_px"] < r["imbalance_ask_px"]
            assert abs(r["macd_hist"] - (r["macd"] - r["macd_signal"])) < 1e-9
        assert 0.5 < series[-1]["vwap_w5m"] / series[-1]["ema12"] < 1.5


def test_price_volatility_matches_the_symbols_annualised_daily_volatility():
    simulator = MarketSimulator(symbols=["SPY"], seed=11)
    start = now_utc()
    simulator.tick(at=start)
    state = simulator.states["SPY"]
    log_returns = []
    last = state.price
    for i in range(1, 20_001):
        simulator.tick(at=start + timedelta(seconds=i))
        log_returns.append(math.log(state.price / last))
        last = state.price
    mean = sum(log_returns) / len(log_returns)
    per_second = math.sqrt(sum((r - mean) ** 2 for r in log_returns) / (len(log_returns) - 1))
    assert per_second * math.sqrt(TRADING_SECONDS_PER_YEAR) == pytest.approx(0.16, rel=0.05)


def test_modes_pause_future_and_malformed_show_their_reasons_in_ingest(signal_table, settings):
    simulator = MarketSimulator(symbols=["AAPL", "MSFT", "NVDA"], seed=3)
    server = serve_control(simulator, host="127.0.0.1", port=0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TRADING_UNIVERSE_SOURCE = "jangar"
    settings.JANGAR_SYMBOLS_URL = base + "/api/torghut/symbols"
    insert = f"INSERT INTO ta_signals ({', '.join(COLUMNS)}) VALUES"
    now = now_utc()
    try:
        clickhouse.execute("t", insert, simulator.tick(at=now - timedelta(seconds=2)))
        assert signals_ingest(source="ta", account="paper", now=now).rows_accepted == 3

        requests.get(base + "/control?mode=malformed", timeout=2).raise_for_status()
        clickhouse.execute("t", insert, simulator.tick(at=now - timedelta(seconds=1)))
        malformed = signals_ingest(source="ta", account="paper", now=now)
        assert malformed.rows_accepted == 0
        assert set(malformed.rejected_by_reason) == {"null_symbol", "bad_indicator", "outside_universe"}

        requests.post(base + "/control?mode=future", timeout=2).raise_for_status()
        clickhouse.execute("t", insert, simulator.tick(at=now))
        assert signals_ingest(source="ta", account="paper", now=now).rejected_by_reason == {"future_timestamp": 3}

        requests.get(base + "/control?mode=pause", timeout=2).raise_for_status()
        assert simulator.tick(at=now + timedelta(seconds=1)) == []

        assert requests.get(base + "/control?mode=sideways", timeout=2).status_code == 400
        requests.get(base + "/control?mode=jangar_down", timeout=2).raise_for_status()
        assert requests.get(base + "/api/torghut/symbols", timeout=2).status_code == 503
        settings.TRADING_UNIVERSE_CACHE_SECONDS = 0
        assert universe_resolve().status == "degraded"
    finally:
        server.shutdown()
        server.server_close()


def test_the_command_writes_rows_and_serves_the_universe_for_its_duration(signal_table):
    call_command("simulate_market", "--symbols", "AAPL,MSFT", "--rate", "10", "--duration", "0.6", "--port", "0", "--seed", "1")
    [(count, symbols)] = clickhouse.query("t", "SELECT count(), uniqExact(symbol) FROM ta_signals")
    assert count >= 4 and symbols == 2
