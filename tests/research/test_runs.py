"""Research runs from the autonomous lane: deterministic ids, every attempt persisted with its trace ids
(skipped, failed and passed), and the Phase B guarantees enforced by the database itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from research import selectors
from research.gates import GATES
from research.models import DEFAULT_THRESHOLDS, GatePolicy, ResearchRun
from research.services import gate_policy_create, gate_policy_update, research_lane_run, research_run_id
from tests.factories import research_run_create
from tests.signals import crossing_rows, insert_signals
from torghut.core.models import AuditEvent

NOW = datetime(2026, 3, 2, 15, 17, 12, tzinfo=UTC)  # lane window: [15:00, 15:15)
IN_WINDOW = datetime(2026, 3, 2, 15, 10, tzinfo=UTC)
HEX64 = re.compile(r"^[0-9a-f]{64}$")

pytestmark = pytest.mark.django_db


@pytest.fixture
def lane_table(signal_table, settings):
    settings.RESEARCH_SOURCE_TABLE = signal_table
    return signal_table


def _profitable_window(table: str) -> None:
    insert_signals(
        table,
        crossing_rows("AAPL", IN_WINDOW, [100, 101, 102, 104, 103], [-1, 1, 1, -1, -1])
        + crossing_rows("MSFT", IN_WINDOW, [50, 50, 50], [1, 1, 1]),
    )


def _assert_evidence(run: ResearchRun) -> None:
    assert HEX64.match(run.gate_report_trace_id) and HEX64.match(run.recommendation_trace_id)
    assert run.recommendation in {"promote", "hold", "deny"}
    assert run.gate_report["run_id"] == run.run_id
    assert run.gate_report["policy"]["version"] == run.policy_version
    assert run.gate_report["window"] == {
        "start": run.window_start.isoformat(),
        "end": run.window_end.isoformat(),
        "source_table": run.source_table,
    }
    assert "gates" in run.gate_report
    assert run.finished_at is not None


def test_run_ids_are_deterministic_24_hex_over_version_window_policy_and_target_lane():
    start, end = datetime(2026, 3, 2, 15, tzinfo=UTC), datetime(2026, 3, 2, 15, 15, tzinfo=UTC)
    args = dict(
        strategy_name="macd",
        strategy_version="1",
        window_start=start,
        window_end=end,
        policy_name="default",
        policy_version=1,
        target_lane="shadow",
        source_table="ta_signals",
    )
    run_id = research_run_id(**args)
    assert re.fullmatch(r"[0-9a-f]{24}", run_id)
    assert research_run_id(**args) == run_id
    assert research_run_id(**{**args, "window_start": start.astimezone(ZoneInfo("America/New_York"))}) == run_id
    for change in ({"strategy_version": "2"}, {"window_end": end + timedelta(minutes=5)}, {"policy_version": 2}, {"target_lane": "live"}):
        assert research_run_id(**{**args, **change}) != run_id


def test_a_lane_pass_over_a_profitable_window_persists_a_passed_run_held_until_a_drill_exists(lane_table, make_strategy):
    strategy = make_strategy("macd", lane="paper")
    _profitable_window(lane_table)
    outcomes = research_lane_run(now=NOW)
    assert [o.persisted for o in outcomes] == [True]
    run = ResearchRun.objects.get()
    assert run.run_id == outcomes[0].run_id
    assert (run.status, run.recommendation, run.target_lane) == ("passed", "hold", "shadow")
    assert (run.window_start, run.window_end) == (datetime(2026, 3, 2, 15, tzinfo=UTC), datetime(2026, 3, 2, 15, 15, tzinfo=UTC))
    assert run.signals == 8 and run.trades == 2 and run.net_pnl > 0 and run.win_rate == 1.0
    assert run.strategy == strategy and run.source_table == lane_table
    statuses = {g["name"]: g["status"] for g in run.gate_report["gates"]}
    assert statuses["rollback_drill_age_hours"] == "not_evaluated"
    assert set(statuses.values()) == {"pass", "not_evaluated"}
    _assert_evidence(run)
    assert selectors.passed_paper_runs(strategy_id=strategy.pk, version="1") == 1


def test_an_empty_window_persists_a_skipped_run_with_reason_and_trace_ids(lane_table, make_strategy):
    make_strategy("macd", lane="shadow")
    research_lane_run(now=NOW)
    run = ResearchRun.objects.get()
    assert (run.status, run.recommendation, run.failure_reason) == ("skipped", "hold", "no_signals_in_window")
    assert run.target_lane == "live" and run.signals == 0
    _assert_evidence(run)


def test_a_breaking_strategy_and_a_missing_table_each_persist_a_failed_run_with_the_error(lane_table, make_strategy, settings):
    make_strategy("ghost", kind="no_such_kind", lane="paper")
    _profitable_window(lane_table)
    research_lane_run(now=NOW)
    run = ResearchRun.objects.get(strategy_name="ghost")
    assert (run.status, run.recommendation) == ("failed", "deny")
    assert "unknown strategy kind 'no_such_kind'" in run.failure_reason
    assert run.gate_report["error"] == run.failure_reason
    _assert_evidence(run)

    settings.RESEARCH_SOURCE_TABLE = "table_that_does_not_exist"
    make_strategy("macd", lane="paper")
    research_lane_run(now=NOW)
    missing = ResearchRun.objects.get(strategy_name="macd")
    assert missing.status == "failed" and "ClickHouseQueryError" in missing.failure_reason
    _assert_evidence(missing)


def test_every_lane_attempt_is_persisted_and_strategies_outside_paper_and_shadow_are_not_attempted(lane_table, make_strategy):
    make_strategy("a", lane="paper")
    make_strategy("b", lane="shadow")
    make_strategy("c", kind="no_such_kind", lane="shadow")
    make_strategy("d", lane="research")
    make_strategy("e", lane="live")
    disabled = make_strategy("f", lane="paper")
    disabled.enabled = False
    disabled.save()
    _profitable_window(lane_table)
    outcomes = research_lane_run(now=NOW)
    assert len(outcomes) == 3
    runs = list(ResearchRun.objects.all())
    assert sorted(r.strategy_name for r in runs) == ["a", "b", "c"]
    assert {r.run_id for r in runs} == {o.run_id for o in outcomes}
    for run in runs:
        _assert_evidence(run)
        evidence = selectors.research_run_evidence(run=run)
        assert evidence["gate_report"] and evidence["metrics"] and evidence["dataset"]["source_table"] == lane_table
        assert evidence["policy"] == {"name": "default", "version": 1}


def test_rerunning_the_same_slot_rewrites_the_same_run_instead_of_adding_one(lane_table, make_strategy):
    make_strategy("macd", lane="paper")
    _profitable_window(lane_table)
    first = research_lane_run(now=NOW)[0].run_id
    second = research_lane_run(now=NOW + timedelta(seconds=40))[0].run_id
    assert first == second and ResearchRun.objects.count() == 1
    third = research_lane_run(now=NOW + timedelta(minutes=5))[0].run_id
    assert third != first and ResearchRun.objects.count() == 2


def test_a_policy_missing_a_threshold_records_the_gate_as_error_and_lowers_the_non_error_ratio(lane_table, make_strategy):
    strategy = make_strategy("macd", lane="paper")
    broken = {k: v for k, v in DEFAULT_THRESHOLDS.items() if k != "max_drawdown"}
    GatePolicy.objects.create(name="legacy", version=3, thresholds=broken, active=True)
    _profitable_window(lane_table)
    research_lane_run(now=NOW)
    run = ResearchRun.objects.get()
    gates = {g["name"]: g for g in run.gate_report["gates"]}
    assert gates["max_drawdown"]["status"] == "error" and "KeyError" in gates["max_drawdown"]["error"]
    assert (run.status, run.recommendation, run.policy_name, run.policy_version) == ("failed", "deny", "legacy", 3)
    assert selectors.gate_non_error_ratio(strategy_id=strategy.pk, version="1") == pytest.approx((len(GATES) - 1) / len(GATES))


def test_the_database_refuses_a_run_without_both_trace_ids_or_a_gate_report(make_strategy):
    strategy = make_strategy("macd")
    base = dict(
        run_id="a" * 24,
        status="failed",
        strategy=strategy,
        strategy_name="macd",
        strategy_version="1",
        strategy_kind="macd_rsi",
        window_start=NOW - timedelta(minutes=15),
        window_end=NOW,
        source_table="t",
        target_lane="shadow",
        policy_name="default",
        policy_version=1,
        gate_report={"gates": []},
        gate_report_trace_id="b" * 64,
        recommendation="deny",
        recommendation_trace_id="c" * 64,
        failure_reason="boom",
        started_at=NOW,
        finished_at=NOW,
    )
    for broken in (
        {"gate_report_trace_id": ""},
        {"recommendation_trace_id": ""},
        {"gate_report": {}},
        {"failure_reason": ""},
        {"recommendation": "promote"},
        {"finished_at": None},
        {"run_id": "xyz"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ResearchRun.objects.create(**{**base, **broken})
    ResearchRun.objects.create(**base)


def test_selectors_report_the_failure_streak_latest_gate_reports_and_passed_runs(lane_table, make_strategy):
    strategy = make_strategy("macd", lane="paper")
    research_lane_run(now=NOW - timedelta(minutes=10))  # empty window: skipped, neither counts nor breaks
    _profitable_window(lane_table)
    research_lane_run(now=NOW)  # passed
    assert selectors.research_failure_streak() == 0
    strategy.kind = "no_such_kind"
    strategy.save()
    research_lane_run(now=NOW + timedelta(minutes=5))
    research_lane_run(now=NOW + timedelta(minutes=10))
    assert selectors.research_failure_streak() == 2
    # A run whose gates fail is the lane working: it ends the streak of runs that could not run.
    gates_failed = research_run_create(strategy=strategy, status="failed", gate_statuses=("pass", "fail"))
    assert ResearchRun.objects.order_by("-started_at").first() == gates_failed
    assert selectors.research_failure_streak() == 0
    latest = selectors.gate_reports_latest(limit=2)
    assert [r["status"] for r in latest] == ["failed", "failed"]
    assert all(HEX64.match(r["gate_report_trace_id"]) and HEX64.match(r["recommendation_trace_id"]) for r in latest)
    assert selectors.passed_paper_runs(strategy_id=strategy.pk, version="1") == 1
    assert selectors.gate_non_error_ratio(strategy_id=strategy.pk, version="1") == pytest.approx(
        (len(GATES) + 2) / (len(GATES) + 2 + 2)
    )  # + the pass/fail run


def test_no_finished_run_means_a_non_error_ratio_of_zero(make_strategy):
    assert selectors.gate_non_error_ratio(strategy_id=make_strategy("x").pk, version="1") == 0.0


def test_gate_policy_edits_bump_the_version_and_are_audited_with_old_and_new_values(db):
    policy = gate_policy_create(name="strict", thresholds=dict(DEFAULT_THRESHOLDS), actor="alice", active=True)
    updated = gate_policy_update(
        policy_id=policy.pk, thresholds={**DEFAULT_THRESHOLDS, "min_trades": 10}, actor="bob", reason="fewer lucky runs"
    )
    assert updated.version == 2
    event = AuditEvent.objects.filter(action="gate_policy.update", object_id=str(policy.pk)).get()
    assert event.actor == "bob" and event.reason == "fewer lucky runs"
    assert event.old["thresholds"]["min_trades"] == 2.0 and event.new["thresholds"]["min_trades"] == 10.0
    assert (event.old["version"], event.new["version"]) == (1, 2)
    assert gate_policy_update(policy_id=policy.pk, thresholds={**DEFAULT_THRESHOLDS, "min_trades": 10}, actor="bob").version == 2
    with pytest.raises(ValueError, match="missing"):
        gate_policy_update(policy_id=policy.pk, thresholds={"min_trades": 1}, actor="bob")
    other = gate_policy_create(name="loose", thresholds=dict(DEFAULT_THRESHOLDS), actor="carol", active=True)
    policy.refresh_from_db()
    assert other.active and not policy.active and policy.version == 3


def test_the_running_marker_never_overwrites_a_finished_run_of_the_same_id(lane_table, make_strategy):
    from research.services import research_run_persist

    make_strategy("macd", lane="paper")
    _profitable_window(lane_table)
    research_lane_run(now=NOW)
    finished = ResearchRun.objects.get()
    marker = {
        field: getattr(finished, field)
        for field in (
            "run_id",
            "trigger",
            "strategy_id",
            "strategy_name",
            "strategy_version",
            "strategy_kind",
            "parameters",
            "source_table",
            "target_lane",
            "policy_name",
            "policy_version",
        )
    }
    marker.update(
        window_start=finished.window_start.isoformat(),
        window_end=finished.window_end.isoformat(),
        started_at=finished.started_at.isoformat(),
        finished_at=None,
        status="running",
        recommendation="hold",
        gate_report={"gates": []},
        gate_report_trace_id="a" * 64,
        recommendation_trace_id="b" * 64,
        failure_reason="",
    )
    research_run_persist(payload=marker, only_if_absent=True)
    finished.refresh_from_db()
    assert finished.status == "passed" and finished.gate_report["gates"]


def test_the_lane_is_scheduled_every_five_minutes_on_the_research_queue_over_fifteen_minute_windows():
    from research.services import lane_window
    from torghut.schedule import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["research-autonomous-lane"]
    assert (entry["task"], entry["schedule"], entry["options"]["queue"]) == ("research.run_autonomous_lane", 300.0, "research")
    assert lane_window(now=NOW) == (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), datetime(2026, 3, 2, 15, 15, tzinfo=UTC))
