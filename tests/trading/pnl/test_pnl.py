"""Rolling daily PnL: realized cash plus open positions marked at the newest signal price, by strategy
version and in total, with the share of executions whose strategy version passed its gates."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from research.models import ResearchRun
from tests.trading.conftest import signal_row
from tests.trading.execution_fixtures import make_strategy
from torghut.core import clickhouse
from trading.orders.models import Decision, Execution
from trading.pnl.selectors import pnl_rolling_daily

pytestmark = pytest.mark.django_db


def _fill(coid: str, strategy, *, side: str, qty: int, price: str, symbol: str = "AAPL", ago: timedelta = timedelta(minutes=5)):
    at = timezone.now() - ago
    decision = Decision.objects.create(
        strategy=strategy, strategy_version=strategy.version, lane=strategy.lane, account="paper", symbol=symbol, side=side,
        quantity=qty, price=Decimal(price), signal_symbol=symbol, signal_event_ts=at, signal_seq=int(hashlib.md5(coid.encode()).hexdigest()[:6], 16),
        decision_hash=coid, status="filled", decided_at=at, submitted_at=at,
    )
    return Execution.objects.create(
        decision=decision, client_order_id=coid, account="paper", symbol=symbol, side=side, expected_adapter="simulated",
        actual_adapter="simulated", route_tag="live", quantity=qty, filled_quantity=qty, avg_fill_price=Decimal(price),
        status="filled", filled_at=at,
    )


def _passed_run(strategy) -> None:
    now = timezone.now()
    ResearchRun.objects.create(
        run_id=hashlib.sha256(strategy.name.encode()).hexdigest()[:24], status="passed", strategy=strategy,
        strategy_name=strategy.name, strategy_version=strategy.version, strategy_kind=strategy.kind,
        window_start=now - timedelta(minutes=15), window_end=now, source_table="ta_signals", target_lane="shadow",
        policy_name="default", policy_version=1, gate_report={"gates": []}, gate_report_trace_id="a" * 64,
        recommendation="hold", recommendation_trace_id="b" * 64, started_at=now, finished_at=now,
    )


def test_realized_and_marked_pnl_by_strategy_with_gate_coverage(signal_table, settings):
    settings.TRADING_ACCOUNT_CAPITAL = 100_000
    gated, ungated = make_strategy(name="gated"), make_strategy(name="ungated", kind="bollinger_reversion")
    _passed_run(gated)
    _fill("g-buy", gated, side="buy", qty=10, price="100")
    _fill("g-sell", gated, side="sell", qty=4, price="105")  # realized +20 on 4 shares; 6 still open
    _fill("u-buy", ungated, side="buy", qty=5, price="50", symbol="MSFT")
    _fill("old", ungated, side="buy", qty=100, price="1", ago=timedelta(hours=30))  # outside the 24 h window
    now = timezone.now()
    signal_table.insert([signal_row("AAPL", now - timedelta(minutes=2), 1, vwap_w5m=110.0),
                         signal_row("AAPL", now - timedelta(minutes=1), 2, vwap_w5m=108.0),
                         signal_row("MSFT", now - timedelta(minutes=1), 1, vwap_w5m=45.0)])

    pnl = pnl_rolling_daily()

    rows = {row["strategy"]: row for row in pnl.as_dict()["by_strategy"]}
    # gated: cash -1000 + 420 = -580; 6 AAPL marked at the newest signal price 108 = 648 -> +68
    assert rows["gated@1"]["pnl"] == pytest.approx(68.0)
    # ungated: cash -250; 5 MSFT at 45 = 225 -> -25
    assert rows["ungated@1"]["pnl"] == pytest.approx(-25.0)
    assert pnl.total == pytest.approx(43.0)
    assert pnl.mark_source == "signals"
    assert pnl.executions == 3
    assert pnl.gate_coverage == pytest.approx(2 / 3)
    assert rows["ungated@1"]["gate_coverage"] == 0.0
    assert pnl.drawdown_ratio == 0.0


def test_positions_are_marked_at_the_last_fill_when_clickhouse_cannot_answer(settings):
    settings.TRADING_ACCOUNT_CAPITAL = 1_000
    strategy = make_strategy(name="solo")
    _fill("s-buy", strategy, side="buy", qty=10, price="100")
    _fill("s-sell", strategy, side="sell", qty=5, price="90")
    with override_settings(CLICKHOUSE_URL="clickhouse://default@127.0.0.1:1/torghut_test"):
        clickhouse.reset_connections()
        pnl = pnl_rolling_daily()
    clickhouse.reset_connections()
    assert pnl.mark_source == "last_fill"
    assert pnl.total == pytest.approx(-1000 + 450 + 5 * 90)
    # -100 of loss against 10% of 1,000 allocated
    assert pnl.allocated_capital == pytest.approx(100.0)
    assert pnl.drawdown_ratio == pytest.approx(1.0)


def test_no_executions_means_zero_pnl_and_full_coverage(api_client):
    body = api_client.get("/trading/pnl").json()
    assert body["total"] == 0 and body["executions"] == 0 and body["gate_coverage"] == 1.0 and body["by_strategy"] == []


def test_the_pnl_endpoint_and_metrics_report_the_same_figures(api_client, client, signal_table):
    strategy = make_strategy(name="api")
    _fill("a-buy", strategy, side="buy", qty=2, price="10")
    _fill("a-sell", strategy, side="sell", qty=2, price="12")
    body = api_client.get("/trading/pnl").json()
    assert body["total"] == pytest.approx(4.0)
    assert [row["strategy"] for row in body["by_strategy"]] == ["api@1"]
    metrics = client.get("/metrics").content.decode()
    assert 'torghut_pnl_daily{strategy="api@1"} 4.0' in metrics
    assert "torghut_pnl_gate_coverage_ratio 0.0" in metrics
    assert "torghut_pnl_daily_drawdown_ratio 0.0" in metrics
