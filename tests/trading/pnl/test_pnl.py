"""Session PnL: realized cash plus open positions marked at the latest trade price since the NYSE session
open, by strategy version and in total, with drawdown and the share of executions whose version passed its gates."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from research.models import ResearchRun
from tests.factories import make_strategy
from tests.signals import signal_row
from torghut.core import clickhouse
from trading.orders.models import Decision, Execution
from trading.pnl.selectors import pnl_session
from trading.strategies.models import Strategy

pytestmark = pytest.mark.django_db

OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # Tuesday 09:30 America/New_York
NOW = OPEN + timedelta(hours=2, minutes=30)


def _fill(coid: str, strategy, *, side: str, qty: int, price: str, symbol: str = "AAPL", at: datetime | None = None):
    at = at or timezone.now()
    decision = Decision.objects.create(
        strategy=strategy,
        strategy_version=strategy.version,
        lane=strategy.lane,
        account="paper",
        symbol=symbol,
        side=side,
        quantity=qty,
        price=Decimal(price),
        signal_symbol=symbol,
        signal_event_ts=at,
        signal_seq=int(hashlib.md5(coid.encode()).hexdigest()[:6], 16),
        decision_hash=coid,
        status="filled",
        decided_at=at,
        submitted_at=at,
    )
    return Execution.objects.create(
        decision=decision,
        client_order_id=coid,
        account="paper",
        symbol=symbol,
        side=side,
        expected_adapter="simulated",
        actual_adapter="simulated",
        route_tag="live",
        quantity=qty,
        filled_quantity=qty,
        avg_fill_price=Decimal(price),
        status="filled",
        filled_at=at,
    )


def _passed_run(strategy) -> None:
    now = timezone.now()
    ResearchRun.objects.create(
        run_id=hashlib.sha256(strategy.name.encode()).hexdigest()[:24],
        status="passed",
        strategy=strategy,
        strategy_name=strategy.name,
        strategy_version=strategy.version,
        strategy_kind=strategy.kind,
        window_start=now - timedelta(minutes=15),
        window_end=now,
        source_table="ta_signals",
        target_lane="shadow",
        policy_name="default",
        policy_version=1,
        gate_report={"gates": []},
        gate_report_trace_id="a" * 64,
        recommendation="hold",
        recommendation_trace_id="b" * 64,
        started_at=now,
        finished_at=now,
    )


def test_realized_and_marked_pnl_by_strategy_with_gate_coverage(signal_table, settings):
    settings.TRADING_ACCOUNT_CAPITAL = 100_000
    gated, ungated = make_strategy(name="gated"), make_strategy(name="ungated", kind="bollinger_reversion")
    _passed_run(gated)
    _fill("g-buy", gated, side="buy", qty=10, price="100", at=NOW - timedelta(minutes=5))
    _fill("g-sell", gated, side="sell", qty=4, price="105", at=NOW - timedelta(minutes=4))  # realized +20 on 4 shares; 6 open
    _fill("u-buy", ungated, side="buy", qty=5, price="50", symbol="MSFT", at=NOW - timedelta(minutes=5))
    _fill("old", ungated, side="buy", qty=100, price="1", at=OPEN - timedelta(minutes=1))  # pre-market: the last session's
    signal_table.insert(
        [
            signal_row("AAPL", NOW - timedelta(minutes=2), 1, vwap_w5m=110.0),
            signal_row("AAPL", NOW - timedelta(minutes=1), 2, vwap_w5m=108.0),
            signal_row("MSFT", NOW - timedelta(minutes=1), 1, vwap_w5m=45.0),
        ]
    )

    pnl = pnl_session(now=NOW)

    assert pnl.session_start == OPEN
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


def test_positions_are_marked_at_the_symbols_last_fill_when_clickhouse_cannot_answer(settings):
    settings.TRADING_ACCOUNT_CAPITAL = 1_000
    solo, other = make_strategy(name="solo"), make_strategy(name="other")
    Strategy.objects.filter(pk=other.pk).update(enabled=False)
    _fill("s-buy", solo, side="buy", qty=10, price="100", at=NOW - timedelta(minutes=3))
    _fill("s-sell", solo, side="sell", qty=5, price="90", at=NOW - timedelta(minutes=2))
    _fill("o-buy", other, side="buy", qty=1, price="80", at=NOW - timedelta(minutes=1))  # the symbol's last trade
    with override_settings(CLICKHOUSE_URL="clickhouse://default@127.0.0.1:1/torghut_test"):
        clickhouse.reset_connections()
        pnl = pnl_session(now=NOW)
    clickhouse.reset_connections()
    assert pnl.mark_source == "last_fill"
    # Every open AAPL position is marked at 80, whichever strategy traded it last.
    assert pnl.by_strategy["solo@1"].pnl == pytest.approx(-1000 + 450 + 5 * 80)
    assert pnl.by_strategy["other@1"].pnl == pytest.approx(0.0)
    # -150 of loss against 10% of 1,000 allocated (the disabled strategy has none)
    assert pnl.allocated_capital == pytest.approx(100.0)
    assert pnl.drawdown_ratio == pytest.approx(1.5)


def test_symbols_without_a_signal_price_are_marked_at_their_last_fill(signal_table):
    strategy = make_strategy(name="mixed")
    _fill("m-aapl", strategy, side="buy", qty=2, price="10", at=NOW - timedelta(minutes=3))
    _fill("m-msft", strategy, side="buy", qty=1, price="20", symbol="MSFT", at=NOW - timedelta(minutes=3))
    signal_table.insert(
        [
            signal_row("AAPL", NOW - timedelta(minutes=1), 1, vwap_w5m=11.0),
            signal_row("MSFT", OPEN - timedelta(minutes=5), 1, vwap_w5m=99.0),
        ]
    )  # before the session: no mark
    pnl = pnl_session(now=NOW)
    assert pnl.mark_source == "signals_and_last_fill"
    assert pnl.total == pytest.approx(-40 + 2 * 11.0 + 1 * 20.0)


def test_the_session_runs_from_the_open_and_the_closed_market_belongs_to_the_last_session(signal_table):
    strategy = make_strategy(name="session")
    previous_open = OPEN - timedelta(days=1)  # Monday
    _fill("before-monday", strategy, side="buy", qty=1, price="1", at=previous_open - timedelta(minutes=1))
    _fill("monday", strategy, side="buy", qty=1, price="2", at=previous_open + timedelta(hours=1))
    _fill("after-hours", strategy, side="buy", qty=1, price="4", at=previous_open + timedelta(hours=8))
    _fill("pre-market", strategy, side="buy", qty=1, price="8", at=OPEN - timedelta(hours=1))
    _fill("tuesday", strategy, side="buy", qty=1, price="16", at=OPEN + timedelta(minutes=1))

    pre_market = pnl_session(now=OPEN - timedelta(minutes=30))
    assert pre_market.session_start == previous_open
    assert pre_market.executions == 3  # Monday's session, its after-hours and Tuesday's pre-market
    in_session = pnl_session(now=NOW)
    assert in_session.session_start == OPEN
    assert in_session.executions == 1
    weekend = pnl_session(now=datetime(2026, 11, 29, 12, tzinfo=UTC))
    assert weekend.session_start == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)  # Friday after Thanksgiving
    assert weekend.executions == 0


def test_with_no_signal_price_positions_are_marked_at_the_last_fill_by_strategy(signal_table, settings):
    settings.TRADING_ACCOUNT_CAPITAL = 100_000.0
    alpha = make_strategy(name="alpha")
    beta = make_strategy(name="beta", lane="shadow")
    _fill("a1", alpha, side="buy", qty=10, price="100", at=NOW - timedelta(minutes=3))
    _fill("a2", alpha, side="sell", qty=5, price="110", at=NOW - timedelta(minutes=2))  # +50 realised, 5 left marked at 110: +50
    _fill("b1", beta, side="sell", qty=2, price="110", at=NOW - timedelta(minutes=1))  # flat at the mark
    pnl = pnl_session(now=NOW)
    assert pnl.mark_source == "signals_and_last_fill"
    assert {key: entry.pnl for key, entry in pnl.by_strategy.items()} == {"alpha@1": pytest.approx(100.0), "beta@1": pytest.approx(0.0)}
    assert pnl.total == pytest.approx(100.0)
    assert pnl.allocated_capital == pytest.approx(10_000.0)  # shadow strategies get no capital


def test_one_aggregate_query_over_the_fills_whatever_their_number():
    strategy = make_strategy(name="many")
    for i in range(30):
        _fill(f"many-{i}", strategy, side="buy" if i % 2 else "sell", qty=1, price=str(10 + i), at=NOW - timedelta(minutes=40 - i))
    with CaptureQueriesContext(connection) as queries:
        pnl = pnl_session(now=NOW)
    on_executions = [q["sql"] for q in queries.captured_queries if Execution._meta.db_table in q["sql"]]
    assert len(on_executions) == 1 and "GROUP BY" in on_executions[0]
    assert pnl.executions == 30
    # 15 sells at 10, 12, ..., 38 and 15 buys at 11, 13, ..., 39: flat, 15 of cash lost
    assert pnl.total == pytest.approx(-15.0)


def test_drill_fills_count_only_in_the_drills_own_evaluation_from_its_start():
    strategy = make_strategy(name="drill-losses")
    Strategy.objects.filter(pk=strategy.pk).update(drill=True)
    started = NOW - timedelta(minutes=10)
    _fill("d-before", strategy, side="buy", qty=1, price="50", at=started - timedelta(minutes=1))
    _fill("d-buy", strategy, side="buy", qty=1, price="100", at=started + timedelta(minutes=1))
    _fill("d-sell", strategy, side="sell", qty=1, price="50", at=started + timedelta(minutes=2))
    assert pnl_session(now=NOW).by_strategy == {}
    drill = pnl_session(now=NOW, drill_since=started)
    assert drill.executions == 2 and drill.total == pytest.approx(-50.0)


def test_fills_without_a_decision_are_unattributed(signal_table):
    Execution.objects.create(
        client_order_id="backfilled",
        account="paper",
        symbol="AAPL",
        side="sell",
        expected_adapter="lean",
        actual_adapter="lean",
        route_tag="backfill",
        quantity=2,
        filled_quantity=2,
        avg_fill_price=Decimal("30"),
        status="filled",
        filled_at=NOW,
    )
    pnl = pnl_session(now=NOW)
    assert list(pnl.by_strategy) == ["unattributed"]
    # cash +60; -2 AAPL marked at the last fill, 30 -> 0
    assert pnl.total == pytest.approx(0.0)


def test_no_executions_means_zero_pnl_and_full_coverage(api_client):
    body = api_client.get("/trading/pnl").json()
    assert body["total"] == 0 and body["executions"] == 0 and body["gate_coverage"] == 1.0 and body["by_strategy"] == []
    assert body["drawdown_ratio"] == 0.0 and body["session_start"] == body["window_start"]


def test_the_pnl_endpoint_and_metrics_report_the_same_figures(api_client, client, signal_table):
    strategy = make_strategy(name="api")
    _fill("a-buy", strategy, side="buy", qty=2, price="10")
    _fill("a-sell", strategy, side="sell", qty=2, price="12")
    body = api_client.get("/trading/pnl").json()
    assert body["total"] == pytest.approx(4.0)
    assert [row["strategy"] for row in body["by_strategy"]] == ["api@1"]
    metrics = client.get("/metrics").content.decode()
    assert 'torghut_pnl_daily{strategy="api@1"} 4.0' in metrics
    assert "torghut_pnl_daily_total 4.0" in metrics
    assert "torghut_pnl_gate_coverage_ratio 0.0" in metrics
    assert "torghut_pnl_daily_drawdown_ratio 0.0" in metrics


def test_a_loss_with_no_allocated_capital_is_unbounded_drawdown_not_zero(api_client, client):
    strategy = make_strategy(name="unfunded", lane="shadow")
    _fill("n-buy", strategy, side="buy", qty=1, price="10")
    _fill("n-sell", strategy, side="sell", qty=1, price="9")
    pnl = pnl_session()
    assert pnl.allocated_capital == 0.0 and math.isinf(pnl.drawdown_ratio)
    body = api_client.get("/trading/pnl").json()
    assert body["total"] == pytest.approx(-1.0) and body["drawdown_ratio"] is None
    assert "torghut_pnl_daily_drawdown_ratio +Inf" in client.get("/metrics").content.decode()
