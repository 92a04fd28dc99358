"""Session PnL gauges computed at scrape time (the metric names predate the session definition and stay)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from trading.pnl.selectors import pnl_session


def pnl_metrics():
    """Scrape-time gauges of the session PnL, its drawdown and its gate coverage."""
    pnl = pnl_session()
    by_strategy = GaugeMetricFamily("torghut_pnl_daily", "Session PnL (realized + marked) by strategy version.", labels=["strategy"])
    for entry in pnl.by_strategy.values():
        by_strategy.add_metric([entry.strategy], entry.pnl)
    yield by_strategy
    total = GaugeMetricFamily("torghut_pnl_daily_total", "Session PnL over every strategy.")
    total.add_metric([], pnl.total)
    yield total
    coverage = GaugeMetricFamily(
        "torghut_pnl_gate_coverage_ratio", "Share of the session's executions whose strategy version has passing gates."
    )
    coverage.add_metric([], pnl.gate_coverage)
    yield coverage
    drawdown = GaugeMetricFamily(
        "torghut_pnl_daily_drawdown_ratio",
        "Session loss as a share of allocated capital (0 when in profit, +Inf for a loss with no allocated capital).",
    )
    drawdown.add_metric([], pnl.drawdown_ratio)
    yield drawdown
