"""Evidence that one lucky window cannot buy: walk-forward folds, stress replays, the cost model, the bootstrap
interval and the deflated Sharpe ratio, the benchmark, and their gates; then a whole run over ClickHouse with
its fold and stress rows, pictures, API and OpenAPI entries."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.apps import apps

from research.gates import GateContext, gates_evaluate
from research.models import DEFAULT_THRESHOLDS, GatePolicy, ResearchFoldMetric, ResearchRun, ResearchRunPicture, ResearchStressMetric
from research.robustness import bootstrap_mean_interval, deflated_sharpe, robustness_evaluate
from research.services import gate_policy_ensure_active, research_run_execute, research_run_pictures_render
from research.simulation import FillModel, simulate
from tests.signals import COLUMNS, crossing_rows, insert_signals
from torghut.core.models import AuditEvent
from trading.strategies.kinds import strategy_kind

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
FOLD = timedelta(minutes=10)
END = T0 + 5 * FOLD
MACD = strategy_kind("macd_rsi")


def _columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    rows = sorted(rows, key=lambda r: (r[0], r[1], r[2]))
    return {name: np.array([row[i] for row in rows]) for i, name in enumerate(COLUMNS)}


def _round_trip(symbol: str, start: datetime, entry: float, exit_: float, seq0: int) -> list[tuple]:
    """Buy at `entry` (MACD histogram crosses up) and sell at `exit_` (crosses down), one minute apart."""
    rows = crossing_rows(symbol, start, [entry, entry, exit_], [-1, 1, -1], step=timedelta(seconds=30))
    return [(*row[:2], seq0 + i, *row[3:]) for i, row in enumerate(rows)]


def _fold_rows(gains: list[float]) -> list[tuple]:
    """One AAPL round trip per fold, 100 -> 100 + gain."""
    rows = []
    for fold, gain in enumerate(gains):
        rows += _round_trip("AAPL", T0 + fold * FOLD + timedelta(minutes=1), 100.0, 100.0 + gain, fold * 10)
    return rows


def _evaluate(rows, *, fill, thresholds=DEFAULT_THRESHOLDS, trials=1):
    cols = _columns(rows)
    result = simulate(cols, kind=MACD, params={}, fill=fill)
    robust = robustness_evaluate(
        cols, result=result, kind=MACD, params={}, fill=fill, start=T0, end=END, thresholds=thresholds, trials=trials
    )
    ctx = GateContext(
        result=result,
        window_start=T0,
        window_end=END,
        expected_symbols={"AAPL"},
        now=END,
        last_drill_at=lambda: END,
        robustness=robust,
    )
    return result, robust, {g["name"]: g for g in gates_evaluate(ctx=ctx, thresholds=thresholds)}


CHEAP = FillModel(slippage_bps=1.0, fee_bps=1.0, notional=1000.0, capital=10_000.0)


def test_a_strategy_that_only_wins_in_one_fold_fails_the_fold_gate_though_its_total_is_positive():
    result, robust, gates = _evaluate(_fold_rows([20.0, -1.0, -1.0, -1.0, -1.0]), fill=CHEAP)
    assert result.net_pnl > 0 and gates["net_pnl"]["status"] == "pass"
    assert [f.trades for f in robust.folds] == [1, 1, 1, 1, 1]
    assert [f.net_pnl > 0 for f in robust.folds] == [True, False, False, False, False]
    assert gates["negative_fold_ratio"] == {
        "category": "walk_forward",
        "name": "negative_fold_ratio",
        "status": "fail",
        "observed": 0.8,
        "threshold": 0.5,
    }
    _, _, steady = _evaluate(_fold_rows([2.0, 1.0, 3.0, -1.0, 2.0]), fill=CHEAP)
    assert steady["negative_fold_ratio"]["status"] == "pass" and steady["negative_fold_ratio"]["observed"] == 0.2


def test_anchored_folds_count_each_trade_where_it_closes_and_agree_with_rolling_on_fold_local_trades():
    anchored = {**DEFAULT_THRESHOLDS, "walk_forward_anchored": 1.0}
    _, rolling, _ = _evaluate(_fold_rows([2.0, -1.0, 3.0, 1.0, -2.0]), fill=CHEAP)
    _, carried, _ = _evaluate(_fold_rows([2.0, -1.0, 3.0, 1.0, -2.0]), fill=CHEAP, thresholds=anchored)
    assert (rolling.fold_mode, carried.fold_mode) == ("rolling", "anchored")
    assert [f.net_pnl for f in carried.folds] == pytest.approx([f.net_pnl for f in rolling.folds])
    assert [f.hit_rate for f in carried.folds] == [1.0, 0.0, 1.0, 1.0, 0.0]


def test_too_few_active_folds_leave_the_fold_gate_not_evaluated():
    rows = _round_trip("AAPL", T0 + timedelta(minutes=1), 100.0, 101.0, 0)
    _, robust, gates = _evaluate(rows, fill=CHEAP)
    assert sum(1 for f in robust.folds if f.trades) == 1
    assert gates["negative_fold_ratio"]["status"] == "not_evaluated"


def test_doubling_the_costs_turns_a_thin_edge_negative_and_fails_the_stress_gate_the_policy_names():
    thin = FillModel(slippage_bps=0.0, fee_bps=20.0, notional=1000.0, capital=10_000.0)  # 40 bps a round trip
    rows = _fold_rows([0.5, 0.5, 0.5, 0.5, 0.5])  # +50 bps a round trip before costs
    result, robust, gates = _evaluate(rows, fill=thin)
    stress = {m.case: m for m in robust.stress}
    assert result.net_pnl > 0 and stress["costs_x2"].net_pnl < 0
    assert (stress["costs_x2"].commission_bps, stress["slippage_x2"].slippage_bps) == (40.0, 0.0)
    assert stress["slippage_x2"].net_pnl == pytest.approx(result.net_pnl)  # no slippage to double
    assert gates["stress_net_pnl"]["status"] == "fail"
    assert gates["stress_net_pnl"]["observed"] == pytest.approx(stress["costs_x2"].net_pnl)

    only_slippage = {**DEFAULT_THRESHOLDS, "stress_costs_x2": 0.0, "stress_slippage_x2": 1.0}
    _, _, named = _evaluate(rows, fill=thin, thresholds=only_slippage)
    assert named["stress_net_pnl"]["status"] == "pass"
    nothing_named = {**DEFAULT_THRESHOLDS, "stress_costs_x2": 0.0}
    assert _evaluate(rows, fill=thin, thresholds=nothing_named)[2]["stress_net_pnl"]["status"] == "not_evaluated"


def test_one_bar_of_latency_fills_every_decision_at_the_next_rows_price():
    rows = crossing_rows("AAPL", T0, [100, 101, 102, 104, 103], [-1, 1, 1, -1, -1])
    free = FillModel(slippage_bps=0.0, fee_bps=0.0, notional=1000.0, capital=10_000.0)
    on_time = simulate(_columns(rows), kind=MACD, params={}, fill=free)
    late = simulate(_columns(rows), kind=MACD, params={}, fill=free, latency_bars=1)
    assert on_time.net_pnl == pytest.approx(1000 / 101 * (104 - 101))  # bought at row 1, sold at row 3
    assert late.net_pnl == pytest.approx(1000 / 102 * (103 - 102))  # bought at row 2, sold at row 4


def test_the_cost_gates_read_the_charged_cost_per_traded_notional():
    rows = _fold_rows([2.0, 1.0, 3.0, 1.0, 2.0])
    _, robust, gates = _evaluate(rows, fill=FillModel(slippage_bps=5.0, fee_bps=1.0, notional=1000.0, capital=10_000.0))
    assert robust.cost["observed_slippage_bps"] == pytest.approx(5.0, abs=0.05)
    assert robust.cost["observed_cost_bps"] == pytest.approx(6.0, abs=0.05)
    assert (gates["cost_bps"]["status"], gates["slippage_bps"]["status"]) == ("pass", "pass")
    _, dear, gates = _evaluate(rows, fill=FillModel(slippage_bps=30.0, fee_bps=10.0, notional=1000.0, capital=10_000.0))
    assert dear.cost["observed_cost_bps"] == pytest.approx(40.0, abs=0.2)
    assert (gates["cost_bps"]["status"], gates["slippage_bps"]["status"]) == ("fail", "fail")


def test_a_known_series_gives_the_expected_bootstrap_interval_and_the_same_one_every_time():
    assert bootstrap_mean_interval(np.full(50, 0.002), samples=500, confidence=0.95) == pytest.approx((0.002, 0.002))
    series = np.random.default_rng(7).normal(0.001, 0.01, 400)
    low, high = bootstrap_mean_interval(series, samples=4000, confidence=0.95)
    half_width = 1.96 * series.std(ddof=1) / np.sqrt(len(series))  # the normal interval the bootstrap approximates
    assert (low + high) / 2 == pytest.approx(series.mean(), abs=0.1 * half_width)
    assert (high - low) / 2 == pytest.approx(half_width, rel=0.1)
    assert bootstrap_mean_interval(series, samples=4000, confidence=0.95) == (low, high)
    assert bootstrap_mean_interval(series[:1], samples=100, confidence=0.95) is None


def test_the_deflated_sharpe_ratio_falls_as_more_variants_were_tried():
    returns = np.random.default_rng(3).normal(0.002, 0.01, 250)
    figures = [deflated_sharpe(returns, trials=n) for n in (1, 2, 10, 100, 1000)]
    dsr = [f["dsr"] for f in figures]
    assert dsr == sorted(dsr, reverse=True) and len(set(dsr)) == 5
    assert figures[0]["sr0"] == 0.0 and figures[-1]["sr0"] > figures[1]["sr0"] > 0
    # One trial: the probabilistic Sharpe ratio against zero, i.e. Phi(SR * sqrt(T - 1)) for near-normal returns.
    assert dsr[0] == pytest.approx(0.99, abs=0.02) and dsr[-1] < 0.95


def test_the_uncertainty_gates_need_a_sample_and_then_hold_the_lower_bound_and_dsr_to_the_policy():
    few = _fold_rows([2.0, 1.0, 3.0, 1.0, 2.0])
    _, _, gates = _evaluate(few, fill=CHEAP)
    assert gates["bootstrap_mean_return_lower"]["status"] == gates["deflated_sharpe_ratio"]["status"] == "not_evaluated"
    steady = {**DEFAULT_THRESHOLDS, "uncertainty_min_trades": 5.0}
    _, robust, gates = _evaluate(few, fill=CHEAP, thresholds=steady)
    assert robust.uncertainty["bootstrap_low"] > 0 and gates["bootstrap_mean_return_lower"]["status"] == "pass"
    assert gates["deflated_sharpe_ratio"]["observed"] == pytest.approx(robust.uncertainty["deflated_sharpe"]["dsr"])
    _, _, many_trials = _evaluate(few, fill=CHEAP, thresholds=steady, trials=1000)
    assert many_trials["deflated_sharpe_ratio"]["observed"] < gates["deflated_sharpe_ratio"]["observed"]
    _, _, mixed = _evaluate(_fold_rows([2.0, -3.0, 3.0, -2.5, 0.2]), fill=CHEAP, thresholds=steady)
    assert mixed["bootstrap_mean_return_lower"]["status"] == "fail"


def test_the_benchmark_is_equal_weight_buy_and_hold_of_the_same_symbols_over_the_window():
    rows = crossing_rows("AAPL", T0, [100, 101, 102, 104, 110], [-1, 1, 1, -1, -1]) + crossing_rows("MSFT", T0, [50, 50, 45], [1, 1, 1])
    _, robust, _ = _evaluate(rows, fill=CHEAP)
    assert robust.benchmark["buy_and_hold_return"] == pytest.approx((0.10 + -0.10) / 2)
    assert robust.benchmark["excess_return"] == pytest.approx(robust.benchmark["strategy_return"])


def test_a_robustness_figure_that_raises_is_an_error_on_its_gates_not_a_pass():
    ctx = GateContext(
        result=simulate(_columns(_fold_rows([1.0] * 5)), kind=MACD, params={}, fill=CHEAP),
        window_start=T0,
        window_end=END,
        expected_symbols={"AAPL"},
        now=END,
        last_drill_at=lambda: END,
        robustness_error="KeyError: 'walk_forward_folds'",
    )
    gates = {g["name"]: g for g in gates_evaluate(ctx=ctx, thresholds=DEFAULT_THRESHOLDS)}
    for name in ("negative_fold_ratio", "stress_net_pnl", "cost_bps", "slippage_bps", "deflated_sharpe_ratio"):
        assert gates[name]["status"] == "error" and "walk_forward_folds" in gates[name]["error"]


@pytest.mark.django_db
def test_a_run_over_clickhouse_stores_folds_stress_and_pictures_and_serves_them(signal_table, make_strategy, api_client, admin_client):
    strategy = make_strategy("macd", lane="paper")
    insert_signals(signal_table, _fold_rows([2.0, -1.0, 3.0, 1.0, 2.0]))
    outcome = research_run_execute(
        strategy_id=strategy.pk, window_start=T0, window_end=END, source_table=signal_table, policy=gate_policy_ensure_active(), now=END
    )
    run = ResearchRun.objects.get(run_id=outcome.run_id)
    names = [g["name"] for g in run.gate_report["gates"]]
    assert names[-6:] == [
        "negative_fold_ratio",
        "stress_net_pnl",
        "cost_bps",
        "slippage_bps",
        "bootstrap_mean_return_lower",
        "deflated_sharpe_ratio",
    ]
    assert {g["name"]: g["threshold"] for g in run.gate_report["gates"]}["cost_bps"] == 35.0
    assert ResearchFoldMetric.objects.filter(run=run).count() == 5
    assert set(ResearchStressMetric.objects.filter(run=run).values_list("case", flat=True)) == {"costs_x2", "slippage_x2", "latency_1bar"}
    assert run.gate_report["robustness"]["benchmark"]["symbols"] == 1 and len(run.equity_curve) == 5

    # A replayed write leaves exactly its own rows.
    research_run_execute(
        strategy_id=strategy.pk, window_start=T0, window_end=END, source_table=signal_table, policy=gate_policy_ensure_active(), now=END
    )
    assert ResearchFoldMetric.objects.filter(run=run).count() == 5 and ResearchStressMetric.objects.filter(run=run).count() == 3

    assert api_client.get(f"/research/runs/{run.run_id}/pictures/equity").status_code == 404
    assert sorted(research_run_pictures_render(run_id=run.run_id)) == ["drawdown", "equity", "folds"]
    equity = ResearchRunPicture.objects.get(run=run, kind="equity")
    assert equity.content.lstrip().startswith("<?xml") and "<svg" in equity.content
    research_run_pictures_render(run_id=run.run_id)
    assert ResearchRunPicture.objects.get(run=run, kind="equity").sha256 == equity.sha256  # same run, same bytes

    detail = api_client.get(f"/research/runs/{run.run_id}").json()
    assert [f["fold"] for f in detail["folds"]] == [0, 1, 2, 3, 4] and detail["folds"][1]["net_pnl"] < 0
    assert {s["case"] for s in detail["stress"]} == {"costs_x2", "slippage_x2", "latency_1bar"}
    assert detail["llm_review"] == {} and detail["llm_review_trace_id"] == ""
    links = {p["kind"]: p for p in detail["pictures"]}
    download = api_client.get(links["folds"]["url"])
    assert download.status_code == 200 and download["Content-Type"] == "image/svg+xml"
    assert download["Content-Disposition"] == f'attachment; filename="{run.run_id}-folds.svg"'
    evidence = api_client.get(f"/research/runs/{run.run_id}/evidence").json()
    assert len(evidence["folds"]) == 5 and {p["kind"] for p in evidence["pictures"]} == {"equity", "drawdown", "folds"}

    page = admin_client.get(f"/admin/research/researchrun/{run.pk}/change/").content.decode()
    assert page.count("data:image/svg+xml;base64,") == 3 and "latency_1bar" in page and "reviewer off" in page


@pytest.mark.django_db
def test_the_openapi_schema_describes_folds_stress_review_and_the_picture_download(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    detail = schema["components"]["schemas"]["RunDetail"]["properties"]
    assert {"folds", "stress", "llm_review", "llm_review_trace_id", "pictures"} <= set(detail)
    picture = schema["paths"]["/research/runs/{run_id}/pictures/{kind}"]["get"]
    assert "image/svg+xml" in picture["responses"]["200"]["content"]
    verdict = schema["components"]["schemas"]["LlmReview"]["properties"]["verdict"]
    verdict = schema["components"]["schemas"][verdict["$ref"].rsplit("/", 1)[-1]] if "$ref" in verdict else verdict
    assert verdict["enum"] == ["approve", "concerns", "veto"]


@pytest.mark.django_db
def test_the_migration_gives_an_existing_policy_the_new_thresholds_as_an_audited_new_version():
    migration = importlib.import_module("research.migrations.0003_robustness_pictures_review")
    old = {k: v for k, v in DEFAULT_THRESHOLDS.items() if k not in migration.NEW_THRESHOLDS}
    policy = GatePolicy.objects.create(name="legacy", version=4, thresholds=old, active=True)
    migration.policies_extend(apps, None)
    migration.policies_extend(apps, None)  # a second pass finds nothing missing
    policy.refresh_from_db()
    assert policy.thresholds == DEFAULT_THRESHOLDS and policy.version == 5
    event = AuditEvent.objects.get(object_type="GatePolicy", object_id=str(policy.pk))
    assert (event.actor, event.old["version"], event.new["version"]) == ("migration", 4, 5)
