"""PnL gauges computed at scrape time."""
from __future__ import annotations

from trading.pnl.selectors import pnl_rolling_daily


def pnl_metrics():
    """Scrape-time gauges of the rolling daily PnL and its gate coverage."""
    from prometheus_client.core import GaugeMetricFamily

    pnl = pnl_rolling_daily()
    by_strategy = GaugeMetricFamily("torghut_pnl_daily", "Rolling 24 h PnL (realized + marked) by strategy version.", labels=["strategy"])
    for entry in pnl.by_strategy.values():
        by_strategy.add_metric([entry.strategy], entry.pnl)
    yield by_strategy
    total = GaugeMetricFamily("torghut_pnl_daily_total", "Rolling 24 h PnL over every strategy.")
    total.add_metric([], pnl.total)
    yield total
    coverage = GaugeMetricFamily("torghut_pnl_gate_coverage_ratio", "Share of the window's executions whose strategy version has passing gates.")
    coverage.add_metric([], pnl.gate_coverage)
    yield coverage
    drawdown = GaugeMetricFamily("torghut_pnl_daily_drawdown_ratio", "Rolling 24 h loss as a share of allocated capital (0 when in profit).")
    drawdown.add_metric([], pnl.drawdown_ratio)
    yield drawdown
