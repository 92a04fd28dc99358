"""Phase B on the real stack (beat, worker, Postgres, Redis, ClickHouse): simulated signals -> decisions ->
executions -> a triggered emergency stop -> operator recovery, watched through the REST API."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from governance.emergency.services import emergency_stop_policy_update
from governance.evidence.models import EvidencePackage
from tests.signals import signal_row
from trading.strategies.models import Strategy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FAST_BEAT = {
    "TRADING_INGEST_INTERVAL_SECONDS": "1",
    "TRADING_STALENESS_INTERVAL_SECONDS": "1",
    "GOVERNANCE_EMERGENCY_STOP_INTERVAL": "1",
}


def _wait(what: str, probe, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _macd_cross(symbol: str, at: datetime, seq: int) -> list[tuple]:
    return [
        signal_row(symbol, at, seq, macd_hist=-0.2, rsi14=50.0),
        signal_row(symbol, at + timedelta(seconds=1), seq + 1, macd_hist=0.3, rsi14=50.0),
    ]


def _filled(api, **filters) -> list[dict]:
    executions = api.get("/trading/executions", {"status": "filled", **filters}).json()["results"]
    return executions


def test_signals_flow_to_fills_then_a_lost_universe_halts_and_an_operator_resumes(
    celery_worker, start_beat, jangar_server, signal_table, api_client, django_user_model
):
    operator = django_user_model.objects.create_user("operator", password="operator-pass-123")
    operator.user_permissions.add(Permission.objects.get(codename="engage_killswitch"))
    # Reads need view permissions (issue 18); an operator who resumes also reads the status.
    operator.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    Strategy.objects.create(name="macd", version="1", kind="macd_rsi", lane="paper", capital_fraction="0.1")
    # This test feeds a few signals, not a stream: while NYSE is open the quiet polls between them would
    # (rightly) trip the staleness trigger first. The universe is the fault under test, so staleness waits longer.
    emergency_stop_policy_update(
        trigger="staleness_streak", actor=operator, reason="phase B test feeds sparse signals", changes={"threshold": 10_000.0}
    )
    jangar_server.symbols = ["AAPL", "MSFT"]
    try:
        start_beat(**FAST_BEAT)

        # 1. Signals -> decisions -> simulated fills, every execution with its route provenance.
        now = datetime.now(UTC).replace(microsecond=0)
        signal_table.insert(_macd_cross("AAPL", now - timedelta(seconds=5), 1))
        fills = _wait("a filled execution", lambda: _filled(api_client, symbol="AAPL"))
        assert fills[0]["expected_adapter"] == fills[0]["actual_adapter"] == "simulated"
        assert fills[0]["route_tag"] == "live"
        decisions = api_client.get("/trading/decisions", {"symbol": "AAPL"}).json()["results"]
        assert [d["side"] for d in decisions] == ["buy"] and decisions[0]["status"] == "filled"
        autonomy = api_client.get("/trading/autonomy").json()
        assert autonomy["signals"]["universe"]["status"] == "ok"
        assert autonomy["emergency_stop"]["state"] == "active"

        # 2. The jangar universe goes away: ingest fails closed and the emergency stop halts trading.
        jangar_server.symbols = None
        halted = _wait(
            "a halt", lambda: (body := api_client.get("/trading/autonomy").json())["emergency_stop"]["state"] == "halted" and body
        )
        assert "universe_unavailable" in halted["emergency_stop"]["firing"]
        assert halted["signals"]["last_reason"] == "universe_source_unavailable"
        package = _wait("the evidence package", lambda: EvidencePackage.objects.order_by("-id").first())
        assert "universe_unavailable" in package.triggers

        # 3. Signals while halted make no new orders.
        jangar_server.symbols = ["AAPL", "MSFT"]
        signal_table.insert(_macd_cross("MSFT", datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2), 1))
        _wait("ingest to see the universe again", lambda: api_client.get("/trading/status").json()["signals"]["universe"]["status"] == "ok")
        time.sleep(3)
        assert not _filled(api_client, symbol="MSFT")
        assert api_client.get("/trading/autonomy").json()["emergency_stop"]["state"] == "halted"

        # 4. Only an operator resume (with a reason, by a permitted user) returns to active; orders flow again.
        api_client.force_authenticate(operator)
        response = api_client.post("/governance/kill-switch/resume", {"reason": "jangar restored, verified by operator"}, format="json")
        assert response.status_code == 200, response.content
        assert api_client.get("/trading/autonomy").json()["emergency_stop"]["state"] == "active"
        signal_table.insert(_macd_cross("MSFT", datetime.now(UTC).replace(microsecond=0), 10))
        resumed = _wait("a fill after resume", lambda: _filled(api_client, symbol="MSFT"))
        assert resumed[0]["actual_adapter"] == "simulated"
    finally:
        jangar_server.symbols = None
