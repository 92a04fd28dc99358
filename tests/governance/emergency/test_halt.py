import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from governance.emergency.services import emergency_stop_evaluate
from governance.errors import GovernanceError
from governance.evidence.models import EvidencePackage
from governance.evidence.selectors import evidence_chain_verify
from governance.evidence.services import REQUIRED_SECTIONS
from governance.lanes.models import LaneChange
from governance.lanes.services import strategy_lane_change
from tests.factories import healthy_inputs

pytestmark = pytest.mark.django_db


def _halt(**breach):
    breach = breach or {"universe_status": "unavailable"}
    emergency_stop_evaluate(inputs=healthy_inputs(**breach))
    result = emergency_stop_evaluate(inputs=healthy_inputs(**breach))
    assert result.halt is not None
    return result


def test_a_halt_demotes_every_live_strategy_to_shadow_with_rollback_ledger_rows(make_strategy):
    live = [make_strategy(name="a", lane="live"), make_strategy(name="b", version="2", lane="live")]
    paper = make_strategy(name="c", lane="paper")
    result = _halt()
    for strategy in live:
        strategy.refresh_from_db()
        assert strategy.lane == "shadow"
    paper.refresh_from_db()
    assert paper.lane == "paper"
    rows = LaneChange.objects.filter(cause="rollback").order_by("strategy__name")
    assert [(r.strategy.name, r.version, r.from_lane, r.to_lane, r.cause, r.actor) for r in rows] == [
        ("a", "1", "live", "shadow", "rollback", "emergency_stop"),
        ("b", "2", "live", "shadow", "rollback", "emergency_stop"),
    ]
    assert {c["strategy_id"] for c in result.halt.lane_changes} == {s.pk for s in live}


def test_the_lane_ledger_refuses_update_and_delete(make_strategy):
    strategy = make_strategy(lane="shadow")
    strategy_lane_change(strategy_id=strategy.pk, to_lane="paper", cause="request", actor="approver")
    for statement in ("UPDATE governance_lanechange SET actor = 'someone else'", "DELETE FROM governance_lanechange"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert LaneChange.objects.get().actor == "approver"


def test_a_lane_change_to_the_current_lane_writes_nothing_and_bad_causes_are_refused(make_strategy):
    strategy = make_strategy(lane="paper")
    assert strategy_lane_change(strategy_id=strategy.pk, to_lane="paper", cause="request", actor="x") is None
    with pytest.raises(GovernanceError):
        strategy_lane_change(strategy_id=strategy.pk, to_lane="shadow", cause="whim", actor="x")
    with pytest.raises(GovernanceError):
        strategy_lane_change(strategy_id=strategy.pk, to_lane="moon", cause="request", actor="x")
    assert not LaneChange.objects.exists()


def _populate_every_evidence_source(strategy) -> None:
    """Real rows in each source an evidence package reads: an ingest window, an alert, an execution, a run."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from research.services import gate_policy_ensure_active, research_run_execute
    from trading.alerts.services import alert_open
    from trading.orders.models import Execution
    from trading.signals.ingest import signals_ingest

    now = timezone.now()
    signals_ingest(source="ta", account="paper", shard=0)
    alert_open(key="evidence-test", reason="cursor_ahead_of_stream", severity="critical", payload={})
    Execution.objects.create(
        client_order_id="evidence-1",
        account="paper",
        symbol="AAPL",
        side="buy",
        expected_adapter="lean",
        actual_adapter="simulated",
        fallback_reason="lean_http_503",
        fallback_count=1,
        route_tag="backfill",
        quantity=1,
        filled_quantity=1,
        avg_fill_price=100,
        status="filled",
        filled_at=now,
    )
    research_run_execute(
        strategy_id=strategy.pk,
        window_start=now - timedelta(minutes=15),
        window_end=now,
        source_table=settings.RESEARCH_SOURCE_TABLE,
        policy=gate_policy_ensure_active(),
    )


def test_the_evidence_package_carries_every_section_and_records_missing_sources(make_strategy):
    _populate_every_evidence_source(make_strategy(name="paper-one", lane="paper"))
    make_strategy(lane="live")
    result = _halt(pnl_total=-9_000.0)
    package = EvidencePackage.objects.get(pk=result.halt.evidence_id)
    content = json.loads(package.body)
    for section in REQUIRED_SECTIONS:
        assert section in content, section
    assert content["triggers"] == ["pnl_drawdown"] == package.triggers
    assert {p["trigger"] for p in content["thresholds"]} >= {"pnl_drawdown", "signal_lag"}
    assert content["metric_snapshot"]["inputs"]["pnl_total"] == -9_000.0
    assert "torghut_kill_switch_state" in content["metric_snapshot"]["metrics"]
    assert content["cancel_results"] == json.loads(json.dumps(result.halt.cancel_results)) and content["cancel_results"]
    assert [c["to_lane"] for c in content["lane_changes"]] == ["shadow"]
    assert sorted(s["lane"] for s in content["strategies"]) == ["paper", "shadow"]
    assert content["kill_switch"]["state"] == "halted"
    assert content["kill_switch_transitions"][0]["to_state"] == "halted"
    assert len(content["config_hash"]) == 64
    # Every source answered with the rows arranged above; nothing is missing.
    for section in ("ingest_windows", "executions", "open_alerts", "gate_reports"):
        assert content[section], section
    assert content["executions"][0]["fallback_reason"] == "lean_http_503"
    assert content["gate_reports"][0]["gate_report_trace_id"]
    assert not content["missing_sources"] and not package.missing_sources


def test_cancel_results_are_recorded_even_when_cancelling_fails():
    result = _halt()
    assert result.halt.cancel_results, "a halt must record what happened to open orders"
    for item in result.halt.cancel_results:
        assert "adapter" in item
        assert item.get("ok") is True or item.get("error") or item.get("status")


def test_packages_form_a_hash_chain():
    first = EvidencePackage.objects.get(pk=_halt().halt.evidence_id)
    second = EvidencePackage.objects.get(pk=_halt(research_failure_streak=9).halt.evidence_id)
    assert first.previous_sha256 == ""
    assert second.previous_sha256 == first.sha256
    assert json.loads(second.body)["previous_sha256"] == first.sha256
    assert hashlib.sha256(second.body.encode()).hexdigest() == second.sha256
    assert evidence_chain_verify() == []
    call_command("verify_evidence")


def test_verify_evidence_catches_an_edited_package():
    first = _halt().halt.evidence_id
    _halt(research_failure_streak=9)
    content = json.loads(EvidencePackage.objects.get(pk=first).body)
    content["triggers"] = ["nothing_happened"]
    EvidencePackage.objects.filter(pk=first).update(body=json.dumps(content, sort_keys=True, separators=(",", ":")))
    with pytest.raises(CommandError, match="evidence chain broken"):
        call_command("verify_evidence")
    assert any(f"package {first}" in p for p in evidence_chain_verify())


def test_verify_evidence_catches_a_package_rewritten_with_a_fresh_hash():
    first = _halt().halt.evidence_id
    _halt(research_failure_streak=9)
    forged = json.loads(EvidencePackage.objects.get(pk=first).body)
    forged["cancel_results"] = []
    body = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    EvidencePackage.objects.filter(pk=first).update(body=body, sha256=hashlib.sha256(body.encode()).hexdigest())
    problems = evidence_chain_verify()
    assert any("does not match the chain" in p for p in problems)


def _sample(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix + " ")]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


def test_kill_switch_state_and_emergency_stops_reach_the_metrics_endpoint(client):
    counter = 'torghut_emergency_stop_total{trigger="fallback_ratio"}'
    before = client.get("/metrics").content.decode()
    assert _sample(before, "torghut_kill_switch_state") == 0.0
    _halt(fallback_ratio=0.9, fallback_orders=40)
    after = client.get("/metrics").content.decode()
    assert _sample(after, "torghut_kill_switch_state") == 2.0
    assert _sample(after, counter) == _sample(before, counter) + 1


def test_verify_evidence_catches_the_newest_package_rewritten_with_a_fresh_hash():
    _halt()
    newest = _halt(research_failure_streak=9).halt.evidence_id
    forged = json.loads(EvidencePackage.objects.get(pk=newest).body)
    forged["triggers"] = ["nothing_happened"]
    body = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    EvidencePackage.objects.filter(pk=newest).update(body=body, sha256=hashlib.sha256(body.encode()).hexdigest())
    assert any(f"package {newest}: sha256 differs from the one recorded" in p for p in evidence_chain_verify())
