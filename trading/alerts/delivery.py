"""Alertmanager v2 webhook delivery of alert opens and closes, one row per attempt's outcome."""

from __future__ import annotations

import requests
from django.conf import settings
from django.utils import timezone

from torghut.core.metrics import Counter, counter_labels_init
from trading.alerts.models import Alert, AlertNotification

ALERT_NOTIFICATIONS = Counter(
    "torghut_alert_notifications_total", "Alertmanager webhook deliveries by event and outcome (sent, retry, failed).", ["event", "outcome"]
)
counter_labels_init(
    ALERT_NOTIFICATIONS, [{"event": e, "outcome": o} for e in AlertNotification.Event.values for o in ("sent", "retry", "failed")]
)


class AlertmanagerError(Exception):
    """Alertmanager did not accept a delivery (network error or non-2xx answer); transient."""


def alertmanager_payload(*, alert: Alert, event: str) -> list[dict]:
    """The alert in Alertmanager's v2 `postableAlerts` shape; a close carries `endsAt` (resolved)."""
    labels = {"alertname": "TorghutAlert", "service": "torghut", "key": alert.key, "reason": alert.reason, "severity": alert.severity}
    for name in ("source", "account", "current_reason"):
        if name in alert.payload:
            labels[name] = str(alert.payload[name])
    body = {
        "labels": labels,
        "annotations": {"summary": f"torghut {alert.reason}", "description": str(alert.payload.get("description", alert.reason))},
        "startsAt": alert.opened_at.isoformat(),
    }
    if event == AlertNotification.Event.CLOSE and alert.closed_at is not None:
        body["endsAt"] = alert.closed_at.isoformat()
    return [body]


def alert_notification_deliver(*, notification_id: int, final_attempt: bool) -> str:
    """POST one notification to Alertmanager. Raises AlertmanagerError (transient) unless it was the last try."""
    notification = AlertNotification.objects.select_related("alert").get(pk=notification_id)
    if notification.status == AlertNotification.Status.SENT:
        return notification.status
    url = settings.ALERTMANAGER_URL.rstrip("/") + "/api/v2/alerts"
    timeout = settings.ALERTMANAGER_TIMEOUT_SECONDS
    error = ""
    try:
        response = requests.post(
            url, json=alertmanager_payload(alert=notification.alert, event=notification.event), timeout=(timeout, timeout)
        )
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    notification.attempts += 1
    if not error:
        notification.status = AlertNotification.Status.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
    else:
        notification.last_error = error
        if final_attempt:
            notification.status = AlertNotification.Status.FAILED
    notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if not error:
        ALERT_NOTIFICATIONS.labels(event=notification.event, outcome="sent").inc()
        return notification.status
    ALERT_NOTIFICATIONS.labels(event=notification.event, outcome="failed" if final_attempt else "retry").inc()
    raise AlertmanagerError(f"alertmanager delivery {notification_id} failed: {error}")
