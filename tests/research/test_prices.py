"""The real-price loader on the data shipped in bokeh-sampledata, and `manage.py research_run` on it."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from research.models import ResearchRun
from research.prices import daily_bars, ema, indicators, rolling_mean_std, rsi, shipped_rows
from research.simulation import window_columns
from trading.signals.types import INDICATORS


def test_indicator_helpers_match_their_definitions_on_small_inputs():
    assert ema(np.array([1.0, 2.0, 3.0]), 3).tolist() == [1.0, 1.5, 2.25]
    mean, std = rolling_mean_std(np.array([1.0, 3.0, 5.0, 7.0]), 2)
    assert mean.tolist() == [1.0, 2.0, 4.0, 6.0] and std.tolist() == [0.0, 1.0, 1.0, 1.0]
    assert rsi(np.array([10.0, 11.0, 12.0]))[-1] == 100.0
    assert rsi(np.array([10.0, 10.0]))[-1] == 50.0


def test_the_shipped_ibm_bars_load_as_signal_rows_with_consistent_indicators(signal_table):
    out = io.StringIO()
    call_command("research_load_prices", "--table", signal_table, "--symbols", "IBM", stdout=out)
    shipped = shipped_rows("IBM")
    assert f"IBM: {len(shipped)} daily bars loaded into {signal_table}" in out.getvalue()

    cols = window_columns(
        table=signal_table, start=datetime(1990, 1, 1, tzinfo=UTC), end=datetime(2030, 1, 1, tzinfo=UTC), columns=INDICATORS
    )
    assert len(cols["symbol"]) == len(shipped) == 3270
    assert set(cols["symbol"]) == {"IBM"}
    last = {row["Date"]: row for row in shipped}["2013-03-01"]
    assert cols["vwap_w5m"][-1] == pytest.approx(float(last["Adj Close"]))
    assert np.all(np.isfinite(np.vstack([cols[name] for name in INDICATORS])))
    assert np.allclose(cols["macd"], cols["ema12"] - cols["ema26"])
    assert np.allclose(cols["macd_hist"], cols["macd"] - cols["macd_signal"])
    assert np.all((cols["rsi14"] >= 0) & (cols["rsi14"] <= 100))
    assert np.all(cols["boll_lower"] <= cols["boll_mid"]) and np.all(cols["boll_mid"] <= cols["boll_upper"])
    bars = daily_bars("IBM")
    assert np.allclose(cols["rsi14"], indicators(bars)["rsi14"])


def test_research_run_prints_progress_metrics_and_the_gate_report_and_persists_the_run(signal_table, make_strategy):
    call_command("research_load_prices", "--table", signal_table, "--symbols", "AAPL,MSFT", stdout=io.StringIO())
    make_strategy("macd", lane="paper")
    out = io.StringIO()
    call_command("research_run", "--strategy", "macd", "--from", "2010-01-01", "--to", "2011-01-01", "--table", signal_table, stdout=out)
    text = out.getvalue()
    assert "fetched 504 signal rows; simulating" in text  # 252 trading days of 2010 × 2 symbols
    assert "metrics: {" in text and "rollback_drill_age_hours" in text and "not_evaluated" in text
    run = ResearchRun.objects.get()
    assert run.trigger == "manual" and run.signals == 504 and run.trades > 0
    assert f"run_id: {run.run_id}" in text and run.gate_report_trace_id in text
    assert run.window_start == datetime(2010, 1, 1, tzinfo=UTC)


def test_research_run_refuses_an_unknown_strategy_by_name(db):
    with pytest.raises(CommandError, match="no strategy 'nope'"):
        call_command("research_run", "--strategy", "nope", "--from", "2010-01-01", "--to", "2011-01-01")
