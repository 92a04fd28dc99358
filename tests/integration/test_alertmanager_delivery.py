"""Alert opens and closes reach a local Alertmanager receiver in v2 format through the real worker."""

import time

import pytest

from trading.alerts.models import AlertNotification
from trading.alerts.services import alert_close, alert_open

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait(predicate, timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_open_and_close_are_delivered_in_alertmanager_v2_format_with_a_retry(celery_worker, alert_receiver, settings):
    settings.ALERTMANAGER_URL = alert_receiver.url
    key = "trading.signal_continuity:ta:paper:e2e"
    before = len(alert_receiver.posts)
    alert_receiver.failures_left = 1  # the first POST gets a 503: the task must retry, not drop it
    alert_open(key=key, reason="cursor_ahead_of_stream", severity="critical", payload={"lag_seconds": 900})
    _wait(lambda: AlertNotification.objects.filter(alert__key=key, event="open", status="sent").exists())
    opened = alert_receiver.posts[before][0]
    assert opened["labels"]["alertname"] and opened["labels"]["severity"] == "critical"
    assert any("cursor_ahead_of_stream" in str(value) for value in opened["labels"].values())
    assert opened["startsAt"] and "endsAt" not in opened
    assert AlertNotification.objects.get(alert__key=key, event="open").attempts == 2

    alert_close(key=key)
    _wait(lambda: AlertNotification.objects.filter(alert__key=key, event="close", status="sent").exists())
    closed = alert_receiver.posts[-1][0]
    assert closed["labels"] == opened["labels"]
    assert closed["endsAt"]
