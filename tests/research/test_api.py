"""Research API (runs with filters, detail with the gate report, evidence) and admin (runs read-only,
gate policies editable with an audit trail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from research.models import DEFAULT_THRESHOLDS, GatePolicy, ResearchRun
from research.services import research_lane_run
from tests.signals import crossing_rows, insert_signals
from torghut.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 15, 17, tzinfo=UTC)


@pytest.fixture
def runs(signal_table, settings, make_strategy):
    settings.RESEARCH_SOURCE_TABLE = signal_table
    make_strategy("macd", lane="paper")
    make_strategy("ghost", kind="no_such_kind", lane="shadow")
    insert_signals(
        signal_table, crossing_rows("AAPL", datetime(2026, 3, 2, 15, 10, tzinfo=UTC), [100, 101, 102, 104, 103], [-1, 1, 1, -1, -1])
    )
    research_lane_run(now=NOW)
    return {run.strategy_name: run for run in ResearchRun.objects.all()}


def test_runs_are_listed_newest_first_and_filtered_by_strategy_status_and_recommendation(api_client, runs):
    body = api_client.get("/research/runs").json()
    assert body["count"] == 2 and {r["strategy_name"] for r in body["results"]} == {"macd", "ghost"}
    assert "gate_report" not in body["results"][0]
    failed = api_client.get("/research/runs", {"status": "failed"}).json()
    assert [r["strategy_name"] for r in failed["results"]] == ["ghost"]
    assert api_client.get("/research/runs", {"strategy": "macd", "recommendation": "hold"}).json()["count"] == 1
    assert api_client.get("/research/runs", {"since": (NOW + timedelta(hours=1)).isoformat()}).json()["count"] == 0
    assert api_client.get("/research/runs", {"status": "bogus"}).status_code == 400


def test_a_run_detail_carries_the_gate_report_and_both_trace_ids(api_client, runs):
    run = runs["macd"]
    body = api_client.get(f"/research/runs/{run.run_id}").json()
    assert body["gate_report"]["gates"][0]["name"] == "null_rate"
    assert body["gate_report_trace_id"] == run.gate_report_trace_id
    assert body["recommendation_trace_id"] == run.recommendation_trace_id
    assert api_client.get("/research/runs/ffffffffffffffffffffffff").status_code == 404


def test_the_evidence_endpoint_returns_gate_report_metrics_dataset_policy_and_trace_ids(api_client, runs):
    run = runs["ghost"]
    body = api_client.get(f"/research/runs/{run.run_id}/evidence").json()
    assert body["gate_report"]["error"].startswith("ValueError")
    assert body["metrics"]["signals"] == 0 and body["failure_reason"] == run.failure_reason
    assert body["dataset"]["source_table"] == run.source_table
    assert body["policy"] == {"name": "default", "version": 1}
    assert len(body["gate_report_trace_id"]) == 64 and len(body["recommendation_trace_id"]) == 64


def test_anonymous_callers_cannot_read_runs(anon_client, runs):
    assert anon_client.get("/research/runs").status_code in (401, 403)


def test_runs_are_read_only_in_admin(admin_client, runs):
    run = runs["macd"]
    page = admin_client.get(f"/admin/research/researchrun/{run.pk}/change/")
    assert page.status_code == 200 and run.gate_report_trace_id in page.content.decode()
    assert admin_client.post(f"/admin/research/researchrun/{run.pk}/change/", {"status": "passed"}).status_code == 403
    assert admin_client.get("/admin/research/researchrun/add/").status_code == 403
    assert admin_client.post(f"/admin/research/researchrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403


def test_editing_a_gate_policy_in_admin_bumps_its_version_and_audits_who_old_and_new(admin_client, admin_user):
    import json

    form = {"name": "strict", "thresholds": json.dumps(DEFAULT_THRESHOLDS), "active": "on", "reason": "first"}
    assert admin_client.post("/admin/research/gatepolicy/add/", form).status_code == 302
    policy = GatePolicy.objects.get(name="strict")
    changed = {**DEFAULT_THRESHOLDS, "max_drawdown": 0.02}
    response = admin_client.post(
        f"/admin/research/gatepolicy/{policy.pk}/change/", {"thresholds": json.dumps(changed), "active": "on", "reason": "tighter risk"}
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.version == 2 and policy.thresholds["max_drawdown"] == 0.02 and policy.updated_by == admin_user.username
    event = AuditEvent.objects.get(action="gate_policy.update", object_id=str(policy.pk))
    assert (event.actor, event.reason) == (admin_user.username, "tighter risk")
    assert event.old["thresholds"]["max_drawdown"] == 0.05 and event.new["thresholds"]["max_drawdown"] == 0.02
    page = admin_client.get(f"/admin/research/gatepolicy/{policy.pk}/change/").content.decode()
    assert "tighter risk" in page

    bad = admin_client.post(
        f"/admin/research/gatepolicy/{policy.pk}/change/", {"thresholds": json.dumps({"min_trades": "many"}), "active": "on"}
    )
    assert bad.status_code == 200 and "missing" in bad.content.decode()
    policy.refresh_from_db()
    assert policy.version == 2
