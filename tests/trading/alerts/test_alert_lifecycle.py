"""Operators acknowledge and close alerts with a reason (admin and API, audited); every alert says what closes it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import user_create
from torghut.core.models import AuditEvent
from trading.alerts.models import Alert
from trading.alerts.selectors import alerts_open
from trading.alerts.services import AlertError, AlertPermissionDenied, alert_acknowledge, alert_close_by_operator, alert_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert_manager_user():
    return user_create(username="oncall", staff=True, perms=("trading.manage_alert", "trading.view_alert"))


@pytest.fixture
def critical_alert():
    return alert_open(key="signal_continuity:ta:paper:0", reason="cursor_ahead_of_stream", severity="critical", payload={})


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_acknowledged_alert_stays_open_and_still_counts_as_an_open_critical_alert(alert_manager_user, critical_alert):
    alert = alert_acknowledge(alert_id=critical_alert.pk, actor=alert_manager_user, reason="looking at the feed")
    assert alert.closed_at is None and alert.acknowledged_by == "oncall" and alert.acknowledge_reason == "looking at the feed"
    assert [a["id"] for a in alerts_open(severity="critical")] == [critical_alert.pk]
    event = AuditEvent.objects.get(action="alert.acknowledge")
    assert (event.actor, event.object_id, event.reason) == ("oncall", str(critical_alert.pk), "looking at the feed")


def test_an_operator_close_records_who_and_why_and_is_audited(alert_manager_user, critical_alert):
    alert = alert_close_by_operator(alert_id=critical_alert.pk, actor=alert_manager_user, reason="feed repaired by hand")
    assert alert.closed_at is not None and (alert.closed_by, alert.close_reason) == ("oncall", "feed repaired by hand")
    assert alerts_open() == []
    assert AuditEvent.objects.get(action="alert.close").reason == "feed repaired by hand"
    with pytest.raises(AlertError, match="already closed"):
        alert_close_by_operator(alert_id=critical_alert.pk, actor=alert_manager_user, reason="closing it once more")


def test_acknowledge_and_close_need_the_permission_and_a_reason(critical_alert, alert_manager_user):
    reader = user_create(username="reader-only")
    with pytest.raises(AlertPermissionDenied, match="trading.manage_alert"):
        alert_close_by_operator(alert_id=critical_alert.pk, actor=reader, reason="no reason given here")
    with pytest.raises(AlertPermissionDenied):
        alert_acknowledge(alert_id=critical_alert.pk, actor=reader, reason="no reason given here")
    with pytest.raises(AlertError, match="reason"):
        alert_close_by_operator(alert_id=critical_alert.pk, actor=alert_manager_user, reason="  ")
    with pytest.raises(AlertError, match="at least"):
        alert_acknowledge(alert_id=critical_alert.pk, actor=alert_manager_user, reason="ok")
    assert Alert.objects.get(pk=critical_alert.pk).is_open
    assert not AuditEvent.objects.filter(action__startswith="alert.").exists()


def test_the_api_acknowledges_and_closes_with_a_reason(alert_manager_user, critical_alert):
    client = _client(alert_manager_user)
    ack = client.post(f"/trading/alerts/{critical_alert.pk}/acknowledge", {"reason": "on it, looking now"}, format="json")
    assert ack.status_code == 200, ack.content
    assert ack.json()["acknowledged_by"] == "oncall" and ack.json()["closed_at"] is None
    closed = client.post(f"/trading/alerts/{critical_alert.pk}/close", {"reason": "fixed the feed"}, format="json")
    assert closed.status_code == 200, closed.content
    assert (closed.json()["closed_by"], closed.json()["close_reason"]) == ("oncall", "fixed the feed")
    again = client.post(f"/trading/alerts/{critical_alert.pk}/close", {"reason": "fixed the feed"}, format="json")
    assert again.status_code == 400 and "already closed" in again.json()["detail"]
    assert client.post("/trading/alerts/999999/close", {"reason": "a reason long enough"}, format="json").status_code == 404
    assert client.post(f"/trading/alerts/{critical_alert.pk}/close", {}, format="json").status_code == 400


def test_the_api_refuses_a_close_without_the_permission(critical_alert):
    response = _client(user_create(username="reader-only")).post(
        f"/trading/alerts/{critical_alert.pk}/close", {"reason": "a reason long enough"}, format="json"
    )
    assert response.status_code == 403 and "trading.manage_alert" in response.json()["detail"]
    assert Alert.objects.get(pk=critical_alert.pk).is_open


def test_the_alert_list_says_what_closes_each_alert_and_filters_open_ones(api_client, critical_alert):
    alert_open(key="something.else", reason="x", severity="info", payload={})
    rows = api_client.get("/trading/alerts", {"state": "open", "severity": "critical"}).json()
    assert [r["id"] for r in rows] == [critical_alert.pk]
    assert "signal-bearing polls" in rows[0]["closing_rule"]


def test_the_admin_closes_selected_alerts_with_a_reason_after_a_confirmation_page(client, alert_manager_user, critical_alert):
    client.force_login(alert_manager_user)
    url = "/admin/trading/alert/"
    confirm = client.post(url, {"action": "close_selected", "_selected_action": [critical_alert.pk]})
    assert confirm.status_code == 200 and b"alert-act-form" in confirm.content and b"signal-bearing polls" in confirm.content
    assert Alert.objects.get(pk=critical_alert.pk).is_open
    done = client.post(
        url, {"action": "close_selected", "_selected_action": [critical_alert.pk], "confirm": "yes", "reason": "agreed on the ops call"}
    )
    assert done.status_code == 302
    alert = Alert.objects.get(pk=critical_alert.pk)
    assert not alert.is_open and (alert.closed_by, alert.close_reason) == ("oncall", "agreed on the ops call")


def test_the_admin_filters_alerts_by_state(client, alert_manager_user, critical_alert):
    closed = alert_open(key="old", reason="x", severity="warning", payload={})
    alert_close_by_operator(alert_id=closed.pk, actor=alert_manager_user, reason="done with this one")
    client.force_login(alert_manager_user)
    open_page = client.get("/admin/trading/alert/", {"state": "open"}).content.decode()
    closed_page = client.get("/admin/trading/alert/", {"state": "closed"}).content.decode()
    assert "signal_continuity:ta:paper:0" in open_page and ">old<" not in open_page
    assert ">old<" in closed_page and "signal_continuity:ta:paper:0" not in closed_page


def test_without_the_permission_the_admin_offers_no_alert_actions(client, critical_alert):
    viewer = user_create(username="viewer", staff=True, perms=("trading.view_alert",))
    client.force_login(viewer)
    page = client.get("/admin/trading/alert/").content.decode()
    assert "close_selected" not in page and "acknowledge_selected" not in page
