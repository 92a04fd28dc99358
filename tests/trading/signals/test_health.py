"""/trading/health: 200 healthy, 503 with reason codes, anonymous, no detail, documented with both answers."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator

from torghut.core import clickhouse
from trading import ports
from trading.signals.continuity import continuity_evaluate
from trading.signals.models import IngestCursor
from trading.signals.universe import universe_resolve

pytestmark = pytest.mark.django_db


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_healthy_system_answers_200_to_an_anonymous_probe_with_no_detail(anon_client, static_universe):
    universe_resolve()
    response = anon_client.get("/trading/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "reasons": []}


def test_before_the_universe_was_read_the_system_is_degraded(anon_client):
    response = anon_client.get("/trading/health")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "reasons": ["universe_unavailable"]}


def test_an_unreachable_clickhouse_is_a_503_naming_it(anon_client, static_universe):
    universe_resolve()
    clickhouse.reset_connections()
    try:
        with override_settings(CLICKHOUSE_URL=f"clickhouse://default@127.0.0.1:{_dead_port()}/torghut_test", READYZ_TIMEOUT=0.5):
            response = anon_client.get("/trading/health")
    finally:
        clickhouse.reset_connections()
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "reasons": ["clickhouse_unavailable"]}


def test_an_alerting_signal_stream_and_an_unavailable_jangar_are_both_named(anon_client, jangar, settings):
    jangar.stop()
    universe_resolve()
    IngestCursor.objects.create(
        source=settings.TRADING_SIGNAL_SOURCE,
        account=settings.TRADING_ACCOUNT,
        shard=0,
        last_reason="cursor_ahead_of_stream",
        streaks={"cursor_ahead_of_stream": settings.TRADING_SIGNAL_STREAK_ALERT_THRESHOLD},
    )
    continuity_evaluate()

    body = anon_client.get("/trading/health").json()

    assert body == {"status": "degraded", "reasons": ["signal_continuity_alerting", "universe_unavailable"]}


def test_a_continuity_below_its_thresholds_is_degraded(anon_client, static_universe, settings):
    universe_resolve()
    IngestCursor.objects.create(
        source=settings.TRADING_SIGNAL_SOURCE,
        account=settings.TRADING_ACCOUNT,
        shard=0,
        last_reason="clickhouse_query_timeout",
        streaks={"clickhouse_query_timeout": 1},
    )
    response = anon_client.get("/trading/health")
    assert response.status_code == 503 and response.json()["reasons"] == ["signal_continuity_degraded"]


def test_a_kill_switch_nobody_can_read_is_a_503(anon_client, static_universe, monkeypatch):
    universe_resolve()
    # The port as it stands when governance has not plugged in: the state cannot be read.
    monkeypatch.setattr(ports, "_emergency_stop_state", None)
    response = anon_client.get("/trading/health")
    assert response.status_code == 503 and response.json()["reasons"] == ["kill_switch_unreadable"]


def test_the_openapi_schema_documents_both_answers_and_no_credentials():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/trading/health"]["get"]
    assert set(operation["responses"]) == {"200", "503"}
    assert "security" not in schema and not operation.get("security"), "probes call it without credentials"
    body = operation["responses"]["503"]["content"]["application/json"]["schema"]
    assert body == operation["responses"]["200"]["content"]["application/json"]["schema"]
