"""Alert rows and their Alertmanager v2 deliveries, against a real loopback Alertmanager stand-in."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from torghut.core.models import DeadLetter
from trading.alerts.delivery import AlertmanagerError, alert_notification_deliver
from trading.alerts.models import Alert, AlertNotification
from trading.alerts.services import alert_close, alert_open

pytestmark = pytest.mark.django_db


def test_opening_an_open_key_refreshes_it_and_raises_its_severity_instead_of_duplicating():
    first = alert_open(key="k1", reason="lag", severity="warning", payload={"n": 1})
    again = alert_open(key="k1", reason="lag", severity="critical", payload={"n": 2})
    assert again.pk == first.pk
    assert (again.severity, again.payload) == ("critical", {"n": 2})
    assert again.last_seen >= first.last_seen
    assert Alert.objects.filter(key="k1").count() == 1


def test_a_closed_key_reopens_as_a_new_alert():
    alert_open(key="k2", reason="lag", severity="info", payload={})
    closed = alert_close(key="k2")
    assert closed.closed_at is not None
    assert alert_close(key="k2") is None
    reopened = alert_open(key="k2", reason="lag", severity="info", payload={})
    assert reopened.pk != closed.pk


def test_the_database_refuses_a_second_open_alert_for_a_key():
    now = timezone.now()
    Alert.objects.create(key="k3", reason="x", severity="info", opened_at=now, last_seen=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(key="k3", reason="x", severity="info", opened_at=now, last_seen=now)


def test_an_unknown_severity_is_refused():
    with pytest.raises(ValueError):
        alert_open(key="k4", reason="x", severity="page-everyone", payload={})


def test_no_webhook_is_queued_when_alertmanager_is_not_configured(settings, django_capture_on_commit_callbacks):
    settings.ALERTMANAGER_URL = ""
    with django_capture_on_commit_callbacks() as callbacks:
        alert_open(key="k5", reason="x", severity="info", payload={})
    assert callbacks == [] and AlertNotification.objects.count() == 0


def test_open_and_close_are_posted_in_alertmanager_v2_format(alertmanager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alert = alert_open(
            key="signal_continuity:ta:paper:0",
            reason="cursor_ahead_of_stream",
            severity="critical",
            payload={"source": "ta", "account": "paper", "current_reason": "cursor_ahead_of_stream"},
        )
    assert len(callbacks) == 1, "the delivery is dispatched after commit"
    opened = AlertNotification.objects.get(alert=alert, event="open")
    assert alert_notification_deliver(notification_id=opened.pk, final_attempt=False) == "sent"

    alert_close(key=alert.key)
    closed = AlertNotification.objects.get(alert=alert, event="close")
    alert_notification_deliver(notification_id=closed.pk, final_attempt=False)

    posts = alertmanager.requests
    assert [p["path"] for p in posts] == ["/api/v2/alerts", "/api/v2/alerts"]
    [open_body], [close_body] = posts[0]["json"], posts[1]["json"]
    assert open_body["labels"]["alertname"] == "TorghutAlert"
    assert open_body["labels"]["severity"] == "critical"
    assert open_body["labels"]["reason"] == "cursor_ahead_of_stream"
    assert "startsAt" in open_body and "endsAt" not in open_body
    assert close_body["endsAt"] >= close_body["startsAt"]
    opened.refresh_from_db()
    assert (opened.status, opened.attempts) == ("sent", 1)


def test_a_failing_alertmanager_is_retried_then_dead_lettered(alertmanager, settings):
    from trading.alerts.tasks import notify_alertmanager

    alertmanager.status = 500
    alert = alert_open(key="k6", reason="x", severity="warning", payload={})
    notification = AlertNotification.objects.get(alert=alert)

    result = notify_alertmanager.apply(args=[notification.pk])

    assert result.failed()
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.attempts == notify_alertmanager.max_retries + 1 == len(alertmanager.requests)
    assert "HTTP 500" in notification.last_error
    letter = DeadLetter.objects.get(task_name="trading.notify_alertmanager")
    assert letter.args == [notification.pk]
    assert letter.exception_class.endswith("AlertmanagerError")


def test_a_delivery_error_is_transient_until_the_final_attempt(alertmanager):
    alertmanager.stop()
    alert = alert_open(key="k7", reason="x", severity="warning", payload={})
    notification = AlertNotification.objects.get(alert=alert)
    with pytest.raises(AlertmanagerError):
        alert_notification_deliver(notification_id=notification.pk, final_attempt=False)
    notification.refresh_from_db()
    assert notification.status == "pending" and notification.attempts == 1


def test_operators_can_read_alerts_and_their_deliveries_in_the_admin(admin_client, alertmanager):
    alert = alert_open(key="k8", reason="x", severity="warning", payload={})
    assert admin_client.get("/admin/trading/alert/").status_code == 200
    page = admin_client.get(f"/admin/trading/alert/{alert.pk}/change/")
    assert page.status_code == 200 and b"pending" in page.content
    for model in ("ingestwindow", "ingestcursor", "universesnapshot"):
        assert admin_client.get(f"/admin/trading/{model}/").status_code == 200
