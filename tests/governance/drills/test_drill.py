"""The rollback drill on a real paper stack: a market simulator process writing to ClickHouse, the local
LEAN and Alpaca venues over HTTP, Postgres and Redis. Each drill breaks that stack for real."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from governance.drills.models import DrillRun
from governance.drills.selectors import last_passing_drill_at
from governance.drills.services import DRILL_TRIGGERS, drill_in_progress, drill_run
from governance.emergency.measures import emergency_inputs_collect
from governance.emergency.models import TriggerState
from governance.errors import GovernanceError
from governance.killswitch.models import KillSwitch, KillSwitchTransition
from governance.killswitch.selectors import kill_switch_order_policy
from governance.killswitch.services import kill_switch_engage
from governance.lanes.models import LaneChange
from tests.conftest import worker_env
from tests.faults.services import free_port, wait_until

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
SYMBOLS = ["SPY", "QQQ"]


@pytest.fixture
def simulator(settings, signal_table, tmp_path):
    """`manage.py simulate_market` as its own process, writing the test ClickHouse, control on a free port."""
    port = free_port()
    env = worker_env(database_name=django_settings.DATABASES["default"]["NAME"])
    log = open(tmp_path / "simulator.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "simulate_market",
            "--symbols",
            ",".join(SYMBOLS),
            "--rate",
            "4",
            "--port",
            str(port),
            "--duration",
            "300",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    settings.GOVERNANCE_DRILL_SIMULATOR_URL = f"http://127.0.0.1:{port}/control"
    settings.TRADING_UNIVERSE_SOURCE = "static"
    settings.TRADING_UNIVERSE_STATIC_SYMBOLS = list(SYMBOLS)
    from torghut.core import clickhouse

    wait_until(lambda: clickhouse.query("count", "SELECT count() FROM ta_signals")[0][0] > 0, timeout=30, what="simulated rows")
    yield proc
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def paper_stack(settings, simulator, venues):
    settings.GOVERNANCE_DRILL_TICK_SECONDS = 0.5
    settings.GOVERNANCE_DRILL_SIGNAL_LAG_SECONDS = 3.0
    settings.GOVERNANCE_DRILL_PHASE_TIMEOUT_SECONDS = 30.0
    settings.TRADING_EXECUTION_FALLBACK_CHAIN = ["lean", "alpaca", "simulated"]
    return venues


def test_no_drill_means_no_last_passing_drill():
    assert last_passing_drill_at() is None


def test_last_passing_drill_is_the_newest_passed_run_only():
    now = timezone.now()
    DrillRun.objects.create(
        trigger="signal_lag", started_at=now - dt.timedelta(hours=5), finished_at=now - dt.timedelta(hours=5), passed=True
    )
    DrillRun.objects.create(
        trigger="signal_lag", started_at=now - dt.timedelta(hours=1), finished_at=now - dt.timedelta(hours=1), passed=False
    )
    DrillRun.objects.create(
        trigger="pnl_drawdown", started_at=now - dt.timedelta(hours=3), finished_at=now - dt.timedelta(hours=3), passed=True
    )
    assert last_passing_drill_at() == now - dt.timedelta(hours=3)


def _measurement(run: DrillRun, trigger: str) -> dict:
    return next(m for m in json.loads(run.evidence.body)["measurements"] if m["trigger"] == trigger)


def _assert_passed_and_clean(run: DrillRun, trigger: str) -> None:
    assert run.passed, (run.checks, run.error, run.fault)
    assert set(run.checks) == {
        "healthy_before",
        "halted",
        "order_path_refuses",
        "evidence_complete",
        "cancel_complete",
        "evidence_chain_valid",
        "recovery_path",
        "resumed",
    }
    assert 0 < run.time_to_halt_seconds <= run.time_to_cancel_seconds < 30
    assert trigger in run.evidence.triggers and trigger in run.fault["fired"]
    assert run.finished_at is not None and not run.error
    # Back to trading, and nothing the drill made feeds the next production evaluation.
    assert KillSwitch.objects.get().state == "active"
    assert kill_switch_order_policy().allows == "all"
    assert not TriggerState.objects.filter(firing=True).exists()
    assert not drill_in_progress()


def test_lag_drill_pauses_the_simulator_halts_and_recovers_to_reducing(paper_stack):
    run = drill_run(trigger="signal_lag")
    _assert_passed_and_clean(run, "signal_lag")
    assert run.fault["simulator_mode"] == "pause" and run.fault["repaired"] == "simulator mode normal"
    assert run.fault["recovery"]["state"] == "reducing"
    lag = _measurement(run, "signal_lag")
    assert lag["status"] == "breach" and lag["value"] > 3.0 and lag["threshold"] == 3.0
    # The recovery went through `reducing` before the drill's release returned the switch to active.
    states = list(KillSwitchTransition.objects.order_by("id").values_list("to_state", flat=True))
    assert "reducing" in states[states.index("halted") :] and states[-1] == "active"


def test_staleness_drill_counts_stale_polls_of_the_paused_feed(paper_stack):
    run = drill_run(trigger="staleness_streak")
    _assert_passed_and_clean(run, "staleness_streak")
    streak = _measurement(run, "staleness_streak")
    assert streak["status"] == "breach" and streak["value"] >= 3


@pytest.mark.django_db(transaction=True)  # orders: Postgres now() must move (rate limit)
def test_fallback_drill_fails_the_lean_venue_and_orders_fall_back(paper_stack):
    from trading.orders.models import Execution

    lean, _alpaca = paper_stack
    run = drill_run(trigger="fallback_ratio")
    _assert_passed_and_clean(run, "fallback_ratio")
    drill_orders = Execution.objects.filter(decision__strategy__name="drill-venue")
    assert drill_orders.count() == run.fault["orders_sent"] >= 20
    assert set(drill_orders.values_list("expected_adapter", "actual_adapter", "fallback_reason")) == {("lean", "alpaca", "lean_http_503")}
    assert run.fault["repaired"] == "venue answers again"
    assert lean.switches.fail_status == 0 and lean.orders_received == 0
    inputs = emergency_inputs_collect()
    assert (inputs.fallback_ratio, inputs.fallback_orders) == (0.0, 0), "drill orders must not count outside the drill"


@pytest.mark.django_db(transaction=True)  # orders: Postgres now() must move (rate limit)
def test_drawdown_drill_books_losses_through_the_order_path(paper_stack, make_strategy):
    from trading.orders.models import Execution
    from trading.strategies.models import Strategy

    make_strategy(name="paper-book", lane="paper")
    Strategy.objects.filter(name="paper-book").update(capital_fraction="0.5")
    run = drill_run(trigger="pnl_drawdown")
    _assert_passed_and_clean(run, "pnl_drawdown")
    assert run.fault["loss"] > 0.02 * run.fault["allocated_capital"] == 0.02 * 50_000
    fills = Execution.objects.filter(decision__strategy__name="drill-losses", status="filled")
    assert fills.count() == 2 * run.fault["losing_round_trips"] and set(fills.values_list("actual_adapter", flat=True)) == {"simulated"}
    assert emergency_inputs_collect().pnl_total == 0.0, "drill losses must not count outside the drill"
    from trading.pnl.selectors import pnl_session

    assert not any(key.startswith("drill-") for key in pnl_session().by_strategy)
    assert pnl_session(drill_since=run.started_at).total == pytest.approx(-run.fault["loss"], abs=0.01), (
        "the drill's own evaluation sees them"
    )


def test_research_drill_runs_research_on_a_missing_table_and_needs_an_operator(paper_stack):
    from research.models import ResearchRun
    from research.selectors import research_failure_streak

    run = drill_run(trigger="research_failures")
    _assert_passed_and_clean(run, "research_failures")
    failed = ResearchRun.objects.filter(run_id__in=run.fault["failed_runs"])
    assert failed.count() == 3 and set(failed.values_list("status", "trigger")) == {("failed", "drill")}
    assert "torghut_drill_missing_source" in run.fault["failure_reason"]
    # Not a recoverable trigger: after the repair it stays halted until the (drill's) release.
    assert run.fault["recovery"]["state"] == "halted"
    assert research_failure_streak() == 0 and research_failure_streak(drill_since=run.started_at) == 3


def test_a_drill_without_its_fault_endpoint_is_refused_and_records_nothing(settings):
    settings.GOVERNANCE_DRILL_SIMULATOR_URL = f"http://127.0.0.1:{free_port()}/control"
    with pytest.raises(GovernanceError, match="cannot be injected"):
        drill_run(trigger="signal_lag")
    assert not DrillRun.objects.exists()


def test_a_drill_refuses_to_run_with_live_strategies(make_strategy):
    make_strategy(lane="live")
    with pytest.raises(GovernanceError, match="live"):
        drill_run(trigger="research_failures")
    assert not DrillRun.objects.exists() and not LaneChange.objects.exclude(cause="request").exists()


def test_a_drill_refuses_to_run_over_a_real_halt(operator):
    kill_switch_engage(actor=operator, state="halted", reason="real incident")
    with pytest.raises(GovernanceError, match="not active"):
        drill_run(trigger="pnl_drawdown")
    assert KillSwitch.objects.get().reason == "real incident"


def test_the_beat_evaluation_yields_while_a_drill_runs():
    from governance.tasks import evaluate_emergency_stop

    open_run = DrillRun.objects.create(trigger="signal_lag", started_at=timezone.now())
    assert evaluate_emergency_stop.run() == {"state": None, "skipped": "drill in progress"}
    assert not TriggerState.objects.exists()
    open_run.finished_at = timezone.now()
    open_run.save()
    assert evaluate_emergency_stop.run()["state"] is not None
    assert TriggerState.objects.count() == len(DRILL_TRIGGERS) + 1  # every trigger, the universe one included


def test_the_drill_command_prints_progress_and_records_the_run(paper_stack, capsys):
    call_command("drill", "--trigger", "lane_failures")
    out = capsys.readouterr().out
    assert "injecting the fault: run research on a missing source" in out and "lane_failures: passed" in out
    assert list(DrillRun.objects.values_list("trigger", "passed")) == [("research_failures", True)]


@pytest.mark.django_db(transaction=True)  # orders: Postgres now() must move (rate limit)
def test_a_failing_drill_makes_the_command_fail(settings, simulator):
    # No venues: the halt's cancel-all cannot reach LEAN or Alpaca, so the drill fails and says so.
    settings.TRADING_LEAN_URL = f"http://127.0.0.1:{free_port()}"
    settings.GOVERNANCE_DRILL_PHASE_TIMEOUT_SECONDS = 20.0
    with pytest.raises(CommandError, match="drill failed for: drawdown"):
        call_command("drill", "--trigger", "drawdown")
    run = DrillRun.objects.get()
    assert run.checks["halted"] and not run.checks["cancel_complete"] and not run.passed


def test_a_trigger_already_breaching_before_the_fault_fails_the_drill(paper_stack, operator):
    from governance.emergency.services import emergency_stop_policy_update

    # A limit of zero failed research runs breaches with no fault at all.
    emergency_stop_policy_update(trigger="research_failures", actor=operator, reason="test, for the test", changes={"threshold": 0.0})
    run = drill_run(trigger="research_failures")
    assert not run.passed and run.checks == {"healthy_before": False, "completed": False}
    assert "already breach before the fault" in run.error and "failed_runs" not in run.fault
    assert KillSwitch.objects.get().state == "active", "a drill that never injected must not leave a halt"


def test_every_drill_name_maps_to_a_fault():
    from governance.drills.services import FAULTS

    assert set(DRILL_TRIGGERS.values()) == set(FAULTS)
    assert set(DRILL_TRIGGERS) >= {"lag", "fallback", "drawdown", "lane_failures"}


def test_the_drill_time_to_halt_reaches_the_metrics_endpoint(paper_stack, client):
    drill_run(trigger="research_failures")
    text = client.get("/metrics").content.decode()
    assert 'torghut_drill_time_to_halt_seconds{trigger="research_failures"}' in text


def test_drill_runs_are_listed_through_the_api(paper_stack, api_client):
    run = drill_run(trigger="research_failures")
    listed = api_client.get("/governance/drills").json()
    assert [(r["id"], r["trigger"], r["passed"], r["evidence_id"]) for r in listed] == [
        (run.pk, "research_failures", True, run.evidence_id)
    ]
    assert listed[0]["fault"]["failed_runs"] == run.fault["failed_runs"]


@pytest.mark.django_db(transaction=True)  # orders: Postgres now() must move (rate limit)
def test_a_drill_does_not_see_the_rows_of_an_earlier_drill(paper_stack):
    first = drill_run(trigger="research_failures")
    second = drill_run(trigger="pnl_drawdown")
    assert first.passed and second.passed, (first.checks, second.checks, second.error)
    assert second.fault["fired"] == ["pnl_drawdown"] and second.evidence.triggers == ["pnl_drawdown"]
