"""`/trading/status` and `/trading/autonomy` carry the emergency-stop state next to the ingest telemetry."""

import pytest

from governance.killswitch.services import kill_switch_engage, kill_switch_resume

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/trading/status", "/trading/autonomy"])
def test_status_shows_the_kill_switch_state_reason_and_since(api_client, admin_user, operator, path):
    assert api_client.get(path).json()["emergency_stop"]["state"] == "active"
    kill_switch_engage(state="halted", reason="operator drill of the status page", actor=admin_user)
    body = api_client.get(path).json()["emergency_stop"]
    assert body["state"] == "halted"
    assert body["reason"] == "operator drill of the status page"
    assert body["since"]
    kill_switch_resume(reason="done, for the test", actor=operator)  # four eyes: not the user who engaged
    assert api_client.get(path).json()["emergency_stop"]["state"] == "active"


def test_the_market_session_gauge_is_exported(client):
    body = client.get("/metrics").content.decode()
    assert any(line.startswith("torghut_market_session_open ") for line in body.splitlines())
