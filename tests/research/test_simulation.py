"""The paper simulation: fill model arithmetic on a hand-computed case, and the ClickHouse round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from research.simulation import FillModel, paper_simulate, simulate, window_columns
from tests.signals import COLUMNS, crossing_rows, insert_signals, neutral_signal_row
from trading.strategies.kinds import strategy_kind

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
FILL = FillModel(slippage_bps=10.0, fee_bps=2.0, notional=1000.0, capital=10000.0)


def _hand_case_rows() -> list[tuple]:
    # AAPL: buy at 101 (hist crosses up on row 1), sell at 104 (crosses down on row 3).
    # MSFT: buy at 49 on row 1, still open at the end, marked at 48.
    return crossing_rows("AAPL", T0, [100, 101, 102, 104, 103], [-1, 1, 1, -1, -1]) + crossing_rows("MSFT", T0, [50, 49, 48], [-1, 1, 1])


def _columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    rows = sorted(rows, key=lambda r: (r[0], r[1], r[2]))
    return {name: np.array([row[i] for row in rows]) for i, name in enumerate(COLUMNS)}


# Hand computation (slippage 0.1 %, fee 0.02 % of each fill's notional, 1000 per entry):
#   AAPL entry 101 × 1.001 = 101.101, qty = 1000 / 101.101 = 9.891099; exit 104 × 0.999 = 103.896
#        pnl = 9.891099 × (103.896 − 101.101) − 0.0002 × (1000 + 9.891099 × 103.896) = 27.240093
#   MSFT entry 49 × 1.001 = 49.049, qty = 20.387775; marked at 48 with no exit cost
#        pnl = 20.387775 × (48 − 49.049) − 0.0002 × 1000 = −21.586776
#   net = 5.653316; the MSFT mark (t+20 s) comes before the AAPL exit (t+30 s), so the drawdown is
#   21.586776 / 10000; turnover = (1000 + 1000 + 9.891099 × 103.896) / 10000 = 0.302765.
def test_the_simulated_pnl_matches_a_hand_computed_case():
    result = simulate(_columns(_hand_case_rows()), kind=strategy_kind("macd_rsi"), params={}, fill=FILL)
    assert result.signals == 8
    assert result.decisions == 3
    assert result.trades == 3 and result.round_trips == 1 and result.open_positions == 1
    assert result.net_pnl == pytest.approx(27.240093 - 21.586776, abs=1e-5)
    assert result.max_drawdown == pytest.approx(21.586776 / 10000, abs=1e-8)
    assert result.turnover == pytest.approx(0.302765, abs=1e-6)
    assert result.win_rate == 1.0
    assert result.symbols == ["AAPL", "MSFT"]
    assert result.errors == 0 and result.null_rate == 0.0


def test_a_sell_without_a_position_and_a_repeated_buy_do_not_trade():
    rows = crossing_rows("IBM", T0, [10, 11, 12, 13, 14, 15], [1, -1, 1, -1, 1, 1])
    # Row 1 sells while flat (nothing), row 2 buys at 12, row 3 sells at 13, row 4 buys at 14 (open).
    result = simulate(_columns(rows), kind=strategy_kind("macd_rsi"), params={}, fill=FillModel(0.0, 0.0, 1200.0, 10000.0))
    assert result.trades == 3 and result.round_trips == 1 and result.open_positions == 1
    assert result.net_pnl == pytest.approx(100.0 * (13 - 12) + (1200 / 14) * (15 - 14))


def test_a_decision_on_a_row_without_a_usable_price_is_counted_as_an_error_not_filled():
    rows = crossing_rows("IBM", T0, [10, 11, 12], [-1, 1, 1])
    rows[1] = neutral_signal_row("IBM", T0 + timedelta(seconds=10), 1, price=float("nan"), macd_hist=1.0)
    result = simulate(_columns(rows), kind=strategy_kind("macd_rsi"), params={}, fill=FILL)
    assert result.errors == 1 and result.trades == 0
    assert result.null_rate == pytest.approx(1 / 3)


def test_price_falls_back_to_boll_mid_when_vwap_is_missing():
    rows = crossing_rows("IBM", T0, [10, 10, 12], [-1, 1, -1])
    rows[1] = neutral_signal_row("IBM", T0 + timedelta(seconds=10), 1, price=10.0, vwap_w5m=float("nan"), boll_mid=11.0, macd_hist=1.0)
    result = simulate(_columns(rows), kind=strategy_kind("macd_rsi"), params={}, fill=FillModel(0.0, 0.0, 1100.0, 10000.0))
    assert result.net_pnl == pytest.approx(100.0 * (12 - 11))


def test_the_clickhouse_round_trip_gives_the_hand_computed_result_and_ignores_duplicates(signal_table):
    rows = _hand_case_rows()
    insert_signals(signal_table, rows)
    insert_signals(signal_table, rows[:3])  # an unmerged re-delivery of the same keys
    insert_signals(
        signal_table, [neutral_signal_row("AAPL", T0 - timedelta(hours=1), 0), neutral_signal_row("AAPL", T0 + timedelta(hours=1), 0)]
    )
    lines: list[str] = []
    result = paper_simulate(
        table=signal_table,
        start=T0,
        end=T0 + timedelta(minutes=5),
        kind=strategy_kind("macd_rsi"),
        params={},
        fill=FILL,
        progress=lines.append,
    )
    assert result.signals == 8
    assert result.net_pnl == pytest.approx(5.653316, abs=1e-5)
    assert result.last_event_ts == T0 + timedelta(seconds=40)
    assert any("fetched 11 signal rows" in line for line in lines)


def test_an_empty_window_simulates_to_zero_signals(signal_table):
    cols = window_columns(table=signal_table, start=T0, end=T0 + timedelta(minutes=1), columns=("vwap_w5m",))
    result = simulate(cols, kind=strategy_kind("macd_rsi"), params={}, fill=FILL)
    assert result.signals == 0 and result.trades == 0 and result.last_event_ts is None
