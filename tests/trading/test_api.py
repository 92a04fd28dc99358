"""/trading/status, /trading/autonomy and /trading/alerts over real polls, and the signal metrics."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.signals import now_utc, seconds_ago, signal_row
from trading.alerts.models import Alert
from trading.alerts.services import alert_close, alert_open
from trading.signals.ingest import signals_ingest

pytestmark = pytest.mark.django_db


def test_status_carries_the_ingest_reason_telemetry(api_client, signal_table, static_universe):
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 5), 1), signal_row("BAD", seconds_ago(now, 5), 2)])
    for _ in range(3):
        signals_ingest(source="ta", account="paper", now=now)

    body = api_client.get("/trading/status").json()["signals"]

    assert body["last_reason"] == "cursor_tail_stable"
    assert body["streaks"] == {"cursor_tail_stable": 2}
    assert body["cursor"]["symbol"] == "BAD" and body["cursor"]["seq"] == 2
    assert body["last_window"]["reason"] == "cursor_tail_stable"
    assert body["lag_seconds"] == pytest.approx(5, abs=2)
    assert body["thresholds"] == {"streak": 2, "lag_seconds": 300.0, "clear_polls": 2}
    assert body["universe"] == {
        "source": "static",
        "status": "static",
        "reason": "",
        "symbols": 4,
        "cache_age_seconds": body["universe"]["cache_age_seconds"],
        "rejected": [],
    }
    assert body["continuity_state"] in {"degraded", "suppressed"}
    assert isinstance(body["market_open"], bool)
    assert body["open_alerts"] == []


def test_autonomy_shows_the_emergency_stop_state_and_whether_the_universe_is_authoritative(api_client, static_universe):
    body = api_client.get("/trading/autonomy").json()
    assert body["universe_authoritative"] is False
    assert body["autonomy_enabled"] is False
    assert body["emergency_stop"]["state"] in {"active", "reducing", "halted"}
    assert body["signals"]["last_reason"] is None


def test_alerts_can_be_filtered_by_state_and_severity(api_client):
    alert_open(key="a", reason="lag", severity="warning", payload={})
    alert_open(key="b", reason="ahead", severity="critical", payload={})
    alert_close(key="a")

    open_keys = [a["key"] for a in api_client.get("/trading/alerts?state=open").json()]
    closed_keys = [a["key"] for a in api_client.get("/trading/alerts?state=closed").json()]
    critical = api_client.get("/trading/alerts?severity=critical").json()

    assert (open_keys, closed_keys) == (["b"], ["a"])
    assert [a["key"] for a in critical] == ["b"]
    assert api_client.get("/trading/alerts?state=sleeping").status_code == 400


def test_the_signal_endpoints_need_authentication(anon_client):
    for url in ("/trading/status", "/trading/autonomy", "/trading/alerts"):
        assert anon_client.get(url).status_code in {401, 403}


def test_the_openapi_schema_describes_the_signal_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    for path in ("/trading/status", "/trading/autonomy", "/trading/alerts"):
        assert path in schema["paths"]
    assert "continuity_state" in schema["components"]["schemas"]["Continuity"]["properties"]


def test_metrics_expose_rows_reasons_streaks_lag_universe_and_alerts(client, signal_table, static_universe):
    now = now_utc()
    signal_table.insert([signal_row("AAPL", seconds_ago(now, 5), 1), signal_row("NOPE", seconds_ago(now, 5), 2)])
    signals_ingest(source="ta", account="paper", now=now)
    Alert.objects.create(
        key="signal_continuity:ta:paper:0", reason="x", severity="warning", opened_at=timezone.now(), last_seen=timezone.now()
    )

    text = client.get("/metrics").content.decode()

    assert 'torghut_signal_rows_total{outcome="accepted"}' in text
    assert 'torghut_signal_rows_total{outcome="outside_universe"}' in text
    assert 'torghut_signal_no_signal_reason_total{reason="signals_present"}' in text
    assert 'torghut_signal_reason_streak{account="paper",reason="signals_present",shard="0",source="ta"} 1.0' in text
    assert 'torghut_signal_lag_seconds{account="paper",shard="0",source="ta"}' in text
    assert "torghut_signal_ingest_seconds_bucket" in text
    assert "torghut_signal_continuity_alert_active 1.0" in text
    assert 'torghut_universe_symbols{source="static"} 4.0' in text
    assert 'torghut_universe_status{source="static"} 1.0' in text
