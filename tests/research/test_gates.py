"""Gates: each category passes and fails on its threshold; operations is not evaluated without a drill;
an exception inside a gate is an error, never a pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from research.gates import GateContext, gates_evaluate, gates_verdict
from research.models import DEFAULT_THRESHOLDS
from research.robustness import FoldMetric, Robustness, StressMetric
from research.simulation import SimulationResult

END = datetime(2026, 3, 2, 15, 15, tzinfo=UTC)


def _result(**overrides) -> SimulationResult:
    values = dict(
        signals=100,
        decisions=6,
        trades=6,
        round_trips=3,
        net_pnl=12.5,
        max_drawdown=0.01,
        turnover=1.5,
        win_rate=0.66,
        null_rate=0.0,
        symbols=["AAPL", "MSFT"],
        last_event_ts=END - timedelta(seconds=30),
    )
    values.update(overrides)
    return SimulationResult(**values)


def healthy_robustness(*, fold_pnl=(5.0, 3.0, 2.0, 1.5, 1.0), stress_pnl=4.0, cost_bps=6.0, low=0.001, dsr=0.99) -> Robustness:
    """Walk-forward, stress, cost and uncertainty figures that pass the default policy."""
    folds = [
        FoldMetric(fold=i, start=END, end=END, trades=4, net_pnl=p, sharpe=0.5, max_drawdown=0.001, hit_rate=0.75)
        for i, p in enumerate(fold_pnl)
    ]
    stress = [
        StressMetric(case=c, commission_bps=2, slippage_bps=5, latency_bars=0, trades=6, net_pnl=stress_pnl, max_drawdown=0.01)
        for c in ("costs_x2", "slippage_x2", "latency_1bar")
    ]
    return Robustness(
        fold_mode="rolling",
        folds=folds,
        stress=stress,
        cost={"observed_cost_bps": cost_bps, "observed_slippage_bps": 5.0},
        uncertainty={"trades": 30, "bootstrap_low": low, "bootstrap_high": 0.01, "deflated_sharpe": {"dsr": dsr}},
        benchmark={},
        equity_curve=[],
    )


def _ctx(result=None, *, expected=("AAPL", "MSFT"), drill=None, robustness=None) -> GateContext:
    return GateContext(
        result=result or _result(),
        window_start=END - timedelta(minutes=15),
        window_end=END,
        expected_symbols=set(expected),
        now=END,
        last_drill_at=lambda: drill,
        robustness=robustness or healthy_robustness(),
    )


def _by_name(gates):
    return {gate["name"]: gate for gate in gates}


def test_a_healthy_run_passes_every_gate_except_operations_which_is_not_evaluated_without_a_drill():
    gates = _by_name(gates_evaluate(ctx=_ctx(), thresholds=DEFAULT_THRESHOLDS))
    assert {name: g["status"] for name, g in gates.items()} == {
        "null_rate": "pass",
        "staleness_seconds": "pass",
        "symbol_coverage": "pass",
        "min_trades": "pass",
        "net_pnl": "pass",
        "max_drawdown": "pass",
        "turnover": "pass",
        "rollback_drill_age_hours": "not_evaluated",
        "negative_fold_ratio": "pass",
        "stress_net_pnl": "pass",
        "cost_bps": "pass",
        "slippage_bps": "pass",
        "bootstrap_mean_return_lower": "pass",
        "deflated_sharpe_ratio": "pass",
    }
    assert gates_verdict(list(gates.values())) == ("passed", "hold")


def test_a_drill_within_72_hours_passes_the_operations_gate_and_allows_promote():
    gates = gates_evaluate(ctx=_ctx(drill=END - timedelta(hours=71)), thresholds=DEFAULT_THRESHOLDS)
    assert _by_name(gates)["rollback_drill_age_hours"]["status"] == "pass"
    assert gates_verdict(gates) == ("passed", "promote")


def test_a_drill_older_than_72_hours_fails_the_operations_gate():
    gates = gates_evaluate(ctx=_ctx(drill=END - timedelta(hours=73)), thresholds=DEFAULT_THRESHOLDS)
    assert _by_name(gates)["rollback_drill_age_hours"]["status"] == "fail"
    assert gates_verdict(gates) == ("failed", "deny")


@pytest.mark.parametrize(
    ("result", "expected", "gate"),
    [
        (_result(null_rate=0.2), ("AAPL", "MSFT"), "null_rate"),
        (_result(last_event_ts=END - timedelta(hours=1)), ("AAPL", "MSFT"), "staleness_seconds"),
        (_result(), ("AAPL", "MSFT", "IBM", "GOOG", "NVDA"), "symbol_coverage"),
        (_result(trades=1), ("AAPL", "MSFT"), "min_trades"),
        (_result(net_pnl=-0.01), ("AAPL", "MSFT"), "net_pnl"),
        (_result(max_drawdown=0.2), ("AAPL", "MSFT"), "max_drawdown"),
        (_result(turnover=50.0), ("AAPL", "MSFT"), "turnover"),
    ],
)
def test_each_gate_fails_past_its_threshold_and_the_run_is_denied(result, expected, gate):
    gates = gates_evaluate(ctx=_ctx(result, expected=expected), thresholds=DEFAULT_THRESHOLDS)
    failed = [g["name"] for g in gates if g["status"] == "fail"]
    assert failed == [gate]
    assert gates_verdict(gates) == ("failed", "deny")


def test_an_exception_inside_a_gate_is_recorded_as_error_and_the_run_never_passes():
    def broken_drill_reader():
        raise ConnectionError("governance unreachable")

    thresholds = {k: v for k, v in DEFAULT_THRESHOLDS.items() if k != "max_turnover"}  # a policy missing a threshold
    ctx = GateContext(
        result=_result(),
        window_start=END - timedelta(minutes=15),
        window_end=END,
        expected_symbols={"AAPL", "MSFT"},
        now=END,
        last_drill_at=broken_drill_reader,
    )
    gates = _by_name(gates_evaluate(ctx=ctx, thresholds=thresholds))
    assert gates["turnover"]["status"] == "error" and "KeyError" in gates["turnover"]["error"]
    assert gates["rollback_drill_age_hours"]["status"] == "error"
    assert "governance unreachable" in gates["rollback_drill_age_hours"]["error"]
    assert gates["min_trades"]["status"] == "pass"
    assert gates_verdict(list(gates.values())) == ("failed", "deny")


@pytest.mark.django_db
def test_the_governance_drill_selector_keeps_the_operations_gate_not_evaluated_until_a_drill_passes():
    from research.ports import last_passing_drill_at

    ctx = GateContext(
        result=_result(),
        window_start=END - timedelta(minutes=15),
        window_end=END,
        expected_symbols={"AAPL", "MSFT"},
        now=END,
        last_drill_at=last_passing_drill_at,
    )
    gates = _by_name(gates_evaluate(ctx=ctx, thresholds=DEFAULT_THRESHOLDS))
    assert gates["rollback_drill_age_hours"]["status"] == "not_evaluated"
