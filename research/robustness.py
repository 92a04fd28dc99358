"""Evidence beyond one replay: walk-forward folds, stress replays, the cost model, uncertainty and a benchmark.

Everything here works on the columns the run already fetched (no second ClickHouse read) and on the
per-trade arrays of `SimulationResult`. A *trade* is an entry with its exit, or its mark at the end of
the replay; its return is its PnL over the entry notional.

- Walk-forward: the window is cut into N equal time folds. Strategies here are fixed rules (nothing is
  fitted), so "out of sample" means a fold is judged only by its own trades. `rolling` replays each fold
  alone, starting flat (positions open at its end are marked there); `anchored` replays from the window
  start, so state carries over, and counts each trade in the fold where it closes.
- Stress: the same columns replayed with commission ×2, slippage ×2, and every decision one bar late.
- Uncertainty: a percentile bootstrap interval of the mean trade return (seeded, so a run's evidence
  is reproducible) and the deflated Sharpe ratio of Bailey & López de Prado (2014).
- Benchmark: equal-weight buy-and-hold of the run's symbols from their first to their last price in
  the window, against the run's return on the same capital.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any

import numpy as np

from research.simulation import FillModel, SimulationResult, simulate
from trading.strategies.kinds import StrategyKind

EULER_GAMMA = 0.5772156649015329
BOOTSTRAP_SEED = 20_140_901  # fixed: the same trades always give the same interval (and gate report trace id)
BOOTSTRAP_CHUNK_DRAWS = 4_000_000  # draws held in memory at once
# A run's total draws: with many trades the policy's sample count is cut (never below the floor), which
# bounds a large run's time while its interval, narrow and near-normal by then, barely moves.
BOOTSTRAP_DRAW_BUDGET, BOOTSTRAP_MIN_SAMPLES = 8_000_000, 500
EQUITY_CURVE_POINTS = 500  # the stored curve the pictures are drawn from; enough for a 1000 px chart

# name -> (commission factor, slippage factor, latency bars)
STRESS_CASES: dict[str, tuple[float, float, int]] = {
    "costs_x2": (2.0, 1.0, 0),
    "slippage_x2": (1.0, 2.0, 0),
    "latency_1bar": (1.0, 1.0, 1),
}
_NORMAL = NormalDist()


@dataclass(frozen=True)
class FoldMetric:
    fold: int
    start: datetime
    end: datetime
    trades: int
    net_pnl: float
    sharpe: float | None
    max_drawdown: float
    hit_rate: float | None


@dataclass(frozen=True)
class StressMetric:
    case: str
    commission_bps: float
    slippage_bps: float
    latency_bars: int
    trades: int
    net_pnl: float
    max_drawdown: float


@dataclass(frozen=True)
class Robustness:
    fold_mode: str
    folds: list[FoldMetric]
    stress: list[StressMetric]
    cost: dict[str, Any]
    uncertainty: dict[str, Any]
    benchmark: dict[str, Any]
    equity_curve: list[list[float]]

    def report(self) -> dict[str, Any]:
        """JSON-ready figures for the gate report (datetimes as ISO strings)."""
        data = asdict(self)
        for fold in data["folds"]:
            fold["start"], fold["end"] = fold["start"].isoformat(), fold["end"].isoformat()
        data.pop("equity_curve")
        return data


def trade_sharpe(returns: np.ndarray) -> float | None:
    """Mean over standard deviation of per-trade returns (not annualised); None below two trades or no spread."""
    if len(returns) < 2:
        return None
    std = float(np.std(returns, ddof=1))
    return float(np.mean(returns)) / std if std > 0 else None


def _drawdown(pnl: np.ndarray) -> float:
    if not len(pnl):
        return 0.0
    equity = np.r_[0.0, np.cumsum(pnl)]
    return float(np.max(np.maximum.accumulate(equity) - equity))


def bootstrap_mean_interval(
    returns: np.ndarray, *, samples: int, confidence: float, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of `returns`; None without at least two values."""
    n = len(returns)
    if n < 2 or samples < 1:
        return None
    samples = bootstrap_samples_used(trades=n, samples=samples)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(samples, BOOTSTRAP_CHUNK_DRAWS // n))
    means = np.empty(samples)
    for begin in range(0, samples, chunk):
        size = min(chunk, samples - begin)
        picks = rng.integers(0, n, size=(size, n), dtype=np.int32 if n < 2**31 else np.int64)
        means[begin : begin + size] = returns[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_samples_used(*, trades: int, samples: int) -> int:
    """The policy's sample count within the draw budget (see BOOTSTRAP_DRAW_BUDGET)."""
    return min(samples, max(BOOTSTRAP_MIN_SAMPLES, BOOTSTRAP_DRAW_BUDGET // max(trades, 1)))


def expected_max_sharpe(*, trials: int, observations: int) -> float:
    """SR0: the largest Sharpe ratio `trials` skill-less variants would show by luck.

    The cross-sectional variance of their estimated Sharpe ratios is that of the estimator under a true
    Sharpe of zero, 1 / (T - 1): the variants' own figures are not all known to us.
    """
    if trials <= 1 or observations < 2:
        return 0.0
    spread = math.sqrt(1.0 / (observations - 1))
    return spread * (
        (1.0 - EULER_GAMMA) * _NORMAL.inv_cdf(1.0 - 1.0 / trials) + EULER_GAMMA * _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
    )


def deflated_sharpe(returns: np.ndarray, *, trials: int) -> dict[str, Any] | None:
    """The deflated Sharpe ratio: P(true Sharpe > SR0) given skew, kurtosis, sample length and trials."""
    n = len(returns)
    sharpe = trade_sharpe(returns)
    if sharpe is None:
        return None
    centred = returns - returns.mean()
    sigma = float(np.sqrt(np.mean(centred**2)))
    skew = float(np.mean(centred**3)) / sigma**3
    kurtosis = float(np.mean(centred**4)) / sigma**4
    sr0 = expected_max_sharpe(trials=trials, observations=n)
    # Mertens' variance of the Sharpe estimator with non-normal returns; floored so a pathological
    # sample (tiny n, extreme skew) cannot make it negative.
    variance = max(1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2, 1e-12)
    dsr = _NORMAL.cdf((sharpe - sr0) * math.sqrt(n - 1) / math.sqrt(variance))
    return {"dsr": dsr, "sharpe": sharpe, "sr0": sr0, "trials": trials, "observations": n, "skew": skew, "kurtosis": kurtosis}


def _row_epochs(event_ts: np.ndarray) -> np.ndarray:
    if np.issubdtype(event_ts.dtype, np.datetime64):
        return event_ts.astype("datetime64[s]").astype(np.int64)
    return np.array([int((v if v.tzinfo else v.replace(tzinfo=UTC)).timestamp()) for v in event_ts], dtype=np.int64)


def _fold_bounds(*, start: datetime, end: datetime, folds: int) -> list[tuple[int, int]]:
    first, last = int(start.timestamp()), int(end.timestamp())
    edges = [first + (last - first) * i // folds for i in range(folds + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _fold_metric(index: int, bounds: tuple[int, int], pnl: np.ndarray, fill: FillModel) -> FoldMetric:
    returns = pnl / fill.notional
    return FoldMetric(
        fold=index,
        start=datetime.fromtimestamp(bounds[0], tz=UTC),
        end=datetime.fromtimestamp(bounds[1], tz=UTC),
        trades=len(pnl),
        net_pnl=float(pnl.sum()),
        sharpe=trade_sharpe(returns),
        max_drawdown=_drawdown(pnl) / fill.capital,
        hit_rate=float(np.mean(pnl > 0)) if len(pnl) else None,
    )


def walk_forward(
    cols: Mapping[str, np.ndarray],
    *,
    result: SimulationResult,
    epochs: np.ndarray,
    kind: StrategyKind,
    params: Mapping[str, Any],
    fill: FillModel,
    start: datetime,
    end: datetime,
    folds: int,
    anchored: bool,
) -> list[FoldMetric]:
    """Per-fold figures over `folds` equal slices of [start, end) (see the module docstring for the modes)."""
    out = []
    for index, bounds in enumerate(_fold_bounds(start=start, end=end, folds=folds)):
        if anchored:
            inside = (result.trade_closed_at >= bounds[0]) & (result.trade_closed_at < bounds[1])
            if index == folds - 1:  # positions marked at the window's end close in the last fold
                inside |= result.trade_closed_at >= bounds[1]
            pnl = result.trade_pnl[inside]
        else:
            keep = (epochs >= bounds[0]) & (epochs < bounds[1])
            pnl = simulate({k: v[keep] for k, v in cols.items()}, kind=kind, params=params, fill=fill).trade_pnl
        out.append(_fold_metric(index, bounds, pnl, fill))
    return out


def stress_replays(cols: Mapping[str, np.ndarray], *, kind: StrategyKind, params: Mapping[str, Any], fill: FillModel) -> list[StressMetric]:
    """The replay under each STRESS_CASES case."""
    out = []
    for case, (commission_factor, slippage_factor, latency) in STRESS_CASES.items():
        stressed = replace(fill, fee_bps=fill.fee_bps * commission_factor, slippage_bps=fill.slippage_bps * slippage_factor)
        res = simulate(cols, kind=kind, params=params, fill=stressed, latency_bars=latency)
        out.append(
            StressMetric(
                case=case,
                commission_bps=stressed.fee_bps,
                slippage_bps=stressed.slippage_bps,
                latency_bars=latency,
                trades=res.trades,
                net_pnl=res.net_pnl,
                max_drawdown=res.max_drawdown,
            )
        )
    return out


def cost_report(result: SimulationResult, *, fill: FillModel) -> dict[str, Any]:
    """The cost model charged and what it cost per unit of traded notional, in basis points."""
    traded = result.trade_notional
    return {
        "commission_bps": fill.fee_bps,
        "slippage_bps": fill.slippage_bps,
        "traded_notional": traded,
        "fees": result.fees,
        "slippage_cost": result.slippage_cost,
        "observed_cost_bps": (result.fees + result.slippage_cost) / traded * 10_000 if traded else None,
        "observed_slippage_bps": result.slippage_cost / traded * 10_000 if traded else None,
    }


def benchmark_report(cols: Mapping[str, np.ndarray], *, result: SimulationResult, fill: FillModel) -> dict[str, Any]:
    """Buy-and-hold of the same symbols over the same window (equal weights) against the run's return."""
    symbols = cols["symbol"]
    vwap = np.asarray(cols["vwap_w5m"], dtype=np.float64)
    mid = np.asarray(cols["boll_mid"], dtype=np.float64)
    price = np.where(np.isfinite(vwap) & (vwap > 0), vwap, mid)
    usable = np.isfinite(price) & (price > 0)
    returns = []
    for symbol in np.unique(symbols[usable]) if usable.any() else []:
        prices = price[usable & (symbols == symbol)]
        returns.append(prices[-1] / prices[0] - 1.0)
    strategy_return = result.net_pnl / fill.capital
    benchmark = float(np.mean(returns)) if returns else None
    return {
        "strategy_return": strategy_return,
        "buy_and_hold_return": benchmark,
        "excess_return": strategy_return - benchmark if benchmark is not None else None,
        "symbols": len(returns),
    }


def equity_curve(result: SimulationResult, *, points: int = EQUITY_CURVE_POINTS) -> list[list[float]]:
    """[(close epoch, cumulative PnL)] after each trade, thinned to at most `points` (the last always kept)."""
    if not len(result.trade_pnl):
        return []
    equity = np.cumsum(result.trade_pnl)
    picks = np.unique(np.linspace(0, len(equity) - 1, min(points, len(equity))).astype(np.int64))
    return [[float(result.trade_closed_at[i]), float(equity[i])] for i in picks]


def robustness_evaluate(
    cols: Mapping[str, np.ndarray],
    *,
    result: SimulationResult,
    kind: StrategyKind,
    params: Mapping[str, Any],
    fill: FillModel,
    start: datetime,
    end: datetime,
    thresholds: Mapping[str, Any],
    trials: int,
) -> Robustness:
    """Every robustness figure of one run; the policy's thresholds choose folds, mode and bootstrap size."""
    folds = max(1, int(thresholds["walk_forward_folds"]))
    anchored = bool(thresholds["walk_forward_anchored"])
    returns = result.trade_pnl / fill.notional
    interval = bootstrap_mean_interval(
        returns, samples=int(thresholds["bootstrap_samples"]), confidence=float(thresholds["bootstrap_confidence"])
    )
    return Robustness(
        fold_mode="anchored" if anchored else "rolling",
        folds=walk_forward(
            cols,
            result=result,
            epochs=_row_epochs(cols["event_ts"]),
            kind=kind,
            params=params,
            fill=fill,
            start=start,
            end=end,
            folds=folds,
            anchored=anchored,
        ),
        stress=stress_replays(cols, kind=kind, params=params, fill=fill),
        cost=cost_report(result, fill=fill),
        uncertainty={
            "trades": len(returns),
            "mean_trade_return": float(returns.mean()) if len(returns) else None,
            "bootstrap_confidence": float(thresholds["bootstrap_confidence"]),
            "bootstrap_samples": bootstrap_samples_used(trades=len(returns), samples=int(thresholds["bootstrap_samples"])),
            "bootstrap_low": interval[0] if interval else None,
            "bootstrap_high": interval[1] if interval else None,
            "deflated_sharpe": deflated_sharpe(returns, trials=trials),
        },
        benchmark=benchmark_report(cols, result=result, fill=fill),
        equity_curve=equity_curve(result),
    )
