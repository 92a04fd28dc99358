"""Charts of a research run (equity curve, drawdown, per-fold PnL) as SVG, drawn server-side with matplotlib.

Drawn from what the run stored (its thinned equity curve, at most `EQUITY_CURVE_POINTS` points, and its
fold rows), by a task after the run is written, so the replay never waits on a chart. The object API
(`Figure`, no pyplot) keeps no global state and picks the SVG writer from the format: no GUI backend.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import matplotlib
import numpy as np
from matplotlib.figure import Figure

matplotlib.rcParams["svg.hashsalt"] = "torghut"  # stable element ids: the same run always draws the same bytes

SIZE = (8.0, 3.0)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _times(curve: list[list[float]]) -> list[datetime]:
    return [datetime.fromtimestamp(point[0], tz=UTC) for point in curve]


def equity_svg(*, curve: list[list[float]], title: str) -> str:
    figure = Figure(figsize=SIZE, layout="constrained")
    axes = figure.add_subplot()
    if curve:
        axes.step(_times(curve), [point[1] for point in curve], where="post", color="#1f77b4")
    axes.axhline(0.0, color="#888", linewidth=0.8)
    axes.set(title=f"{title}: cumulative net PnL after each trade", ylabel="PnL")
    return _svg(figure)


def drawdown_svg(*, curve: list[list[float]], capital: float, title: str) -> str:
    figure = Figure(figsize=SIZE, layout="constrained")
    axes = figure.add_subplot()
    if curve:
        equity = np.r_[0.0, [point[1] for point in curve]]
        drawdown = (np.maximum.accumulate(equity) - equity)[1:] / capital * 100.0
        axes.fill_between(_times(curve), -drawdown, step="post", color="#d62728", alpha=0.5)
    axes.set(title=f"{title}: drawdown (% of capital)", ylabel="%")
    return _svg(figure)


def folds_svg(*, folds: list[dict], title: str) -> str:
    figure = Figure(figsize=SIZE, layout="constrained")
    axes = figure.add_subplot()
    pnl = [fold["net_pnl"] for fold in folds]
    numbers = [fold["fold"] + 1 for fold in folds]
    axes.bar(numbers, pnl, color=["#2ca02c" if value > 0 else "#d62728" for value in pnl] or None)
    axes.set_xticks(numbers)
    axes.axhline(0.0, color="#888", linewidth=0.8)
    mode = folds[0]["mode"] if folds else "-"
    axes.set(title=f"{title}: net PnL per walk-forward fold ({mode})", xlabel="fold", ylabel="PnL")
    return _svg(figure)
