"""Promotion gates: data integrity, statistics, risk and operations, evaluated against a GatePolicy.

Each gate yields `pass`, `fail`, `not_evaluated` (the input it needs does not exist yet) or `error`
(the evaluation raised). Only `pass` ever counts in favour of a promotion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from research.robustness import STRESS_CASES, Robustness
from research.simulation import SimulationResult

PASS, FAIL, NOT_EVALUATED, ERROR = "pass", "fail", "not_evaluated", "error"


@dataclass(frozen=True)
class GateContext:
    result: SimulationResult
    window_start: datetime
    window_end: datetime
    expected_symbols: set[str]
    now: datetime
    last_drill_at: Callable[[], datetime | None]
    # Folds, stress, costs and uncertainty; None when not computed, with the reason when computing raised.
    robustness: Robustness | None = None
    robustness_error: str | None = None


def _at_most(observed: float, limit: float) -> str:
    return PASS if observed <= limit else FAIL


def _at_least(observed: float, limit: float) -> str:
    return PASS if observed >= limit else FAIL


def _null_rate(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["max_null_rate"])
    return _at_most(ctx.result.null_rate, limit), ctx.result.null_rate, limit


def _staleness(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["max_staleness_seconds"])
    if ctx.result.last_event_ts is None:
        return FAIL, None, limit
    age = (ctx.window_end - ctx.result.last_event_ts).total_seconds()
    return _at_most(age, limit), age, limit


def _coverage(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["min_symbol_coverage"])
    expected = ctx.expected_symbols | set(ctx.result.symbols)
    ratio = len(set(ctx.result.symbols)) / len(expected) if expected else 0.0
    return _at_least(ratio, limit), ratio, limit


def _min_trades(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["min_trades"])
    return _at_least(ctx.result.trades, limit), ctx.result.trades, limit


def _net_pnl(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["min_net_pnl"])
    return _at_least(ctx.result.net_pnl, limit), ctx.result.net_pnl, limit


def _drawdown(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["max_drawdown"])
    return _at_most(ctx.result.max_drawdown, limit), ctx.result.max_drawdown, limit


def _turnover(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["max_turnover"])
    return _at_most(ctx.result.turnover, limit), ctx.result.turnover, limit


def _rollback_drill(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["drill_max_age_hours"])
    drilled_at = ctx.last_drill_at()
    if drilled_at is None:
        return NOT_EVALUATED, None, limit
    age_hours = (ctx.now - drilled_at).total_seconds() / 3600.0
    return _at_most(age_hours, limit), age_hours, limit


def _robustness(ctx: GateContext) -> Robustness | None:
    if ctx.robustness_error:
        raise RuntimeError(f"robustness not computed: {ctx.robustness_error}")
    return ctx.robustness


def _negative_folds(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit, needed = float(t["max_negative_fold_ratio"]), int(t["walk_forward_min_active_folds"])
    robust = _robustness(ctx)
    active = [fold for fold in robust.folds if fold.trades] if robust else []
    if robust is None or len(active) < max(needed, 1):
        return NOT_EVALUATED, None, limit
    ratio = sum(1 for fold in active if fold.net_pnl < 0) / len(active)
    return _at_most(ratio, limit), ratio, limit


def _stress(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["min_stress_net_pnl"])
    named = [case for case in STRESS_CASES if float(t[f"stress_{case}"]) == 1.0]
    robust = _robustness(ctx)
    if robust is None or not named or ctx.result.trades == 0:
        return NOT_EVALUATED, None, limit
    worst = min(metric.net_pnl for metric in robust.stress if metric.case in named)
    return _at_least(worst, limit), worst, limit


def _cost_bps(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["max_cost_bps"])
    robust = _robustness(ctx)
    observed = robust.cost["observed_cost_bps"] if robust else None
    return (NOT_EVALUATED, None, limit) if observed is None else (_at_most(observed, limit), observed, limit)


def _slippage_bps(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["max_slippage_bps"])
    robust = _robustness(ctx)
    observed = robust.cost["observed_slippage_bps"] if robust else None
    return (NOT_EVALUATED, None, limit) if observed is None else (_at_most(observed, limit), observed, limit)


def _enough_trades(robust: Robustness | None, t: Mapping[str, Any]) -> bool:
    return robust is not None and robust.uncertainty["trades"] >= float(t["uncertainty_min_trades"])


def _bootstrap_lower(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["min_bootstrap_lower_bound"])
    robust = _robustness(ctx)
    low = robust.uncertainty["bootstrap_low"] if _enough_trades(robust, t) else None
    if low is None:
        return NOT_EVALUATED, None, limit
    return (PASS if low > limit else FAIL), low, limit  # strictly above: an interval touching zero is no edge


def _deflated_sharpe(ctx: GateContext, t: Mapping[str, Any]) -> tuple[str, Any, Any]:
    limit = float(t["min_deflated_sharpe"])
    robust = _robustness(ctx)
    dsr = robust.uncertainty["deflated_sharpe"] if _enough_trades(robust, t) else None
    if dsr is None:
        return NOT_EVALUATED, None, limit
    return _at_least(dsr["dsr"], limit), dsr["dsr"], limit


GATES: tuple[tuple[str, str, Callable[[GateContext, Mapping[str, Any]], tuple[str, Any, Any]]], ...] = (
    ("data_integrity", "null_rate", _null_rate),
    ("data_integrity", "staleness_seconds", _staleness),
    ("data_integrity", "symbol_coverage", _coverage),
    ("statistics", "min_trades", _min_trades),
    ("statistics", "net_pnl", _net_pnl),
    ("risk", "max_drawdown", _drawdown),
    ("risk", "turnover", _turnover),
    ("operations", "rollback_drill_age_hours", _rollback_drill),
    ("walk_forward", "negative_fold_ratio", _negative_folds),
    ("stress", "stress_net_pnl", _stress),
    ("costs", "cost_bps", _cost_bps),
    ("costs", "slippage_bps", _slippage_bps),
    ("uncertainty", "bootstrap_mean_return_lower", _bootstrap_lower),
    ("uncertainty", "deflated_sharpe_ratio", _deflated_sharpe),
)


def gates_evaluate(*, ctx: GateContext, thresholds: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Evaluate every gate; an exception inside one is recorded as `error` for that gate only."""
    report = []
    for category, name, check in GATES:
        try:
            status, observed, threshold = check(ctx, thresholds)
            entry = {"category": category, "name": name, "status": status, "observed": observed, "threshold": threshold}
        except Exception as exc:  # a broken gate is evidence, never a silent pass
            entry = {
                "category": category,
                "name": name,
                "status": ERROR,
                "observed": None,
                "threshold": None,
                "error": f"{type(exc).__name__}: {exc}",
            }
        report.append(entry)
    return report


def gates_verdict(gates: list[dict[str, Any]]) -> tuple[str, str]:
    """(status, recommendation): failed/deny on any fail or error; promote only when every gate passed."""
    statuses = {gate["status"] for gate in gates}
    if statuses & {FAIL, ERROR}:
        return "failed", "deny"
    if statuses == {PASS}:
        return "passed", "promote"
    return "passed", "hold"
