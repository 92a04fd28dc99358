"""Alerts: open/close rows (one open alert per key) and their Alertmanager v2 webhook deliveries."""
from __future__ import annotations

import logging
from datetime import datetime

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from torghut.metrics import Counter
from trading.models import Alert, AlertNotification, Severity

logger = logging.getLogger(__name__)

ALERT_TRANSITIONS = Counter("torghut_alert_transitions_total", "Alerts opened and closed, by event and severity.", ["event", "severity"])
ALERT_NOTIFICATIONS = Counter(
    "torghut_alert_notifications_total", "Alertmanager webhook deliveries by event and outcome (sent, retry, failed).", ["event", "outcome"]
)

_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class AlertmanagerError(Exception):
    """Alertmanager did not accept a delivery (network error or non-2xx answer); transient."""


def _notification_queue(*, alert: Alert, event: str) -> None:
    if not settings.ALERTMANAGER_URL:
        return
    notification = AlertNotification.objects.create(alert=alert, event=event)
    from trading.tasks import notify_alertmanager

    transaction.on_commit(lambda: notify_alertmanager.delay(notification.pk))


def alert_open(*, key: str, reason: str, severity: str, payload: dict, now: datetime | None = None) -> Alert:
    """Open the alert `key`, or refresh `last_seen`/payload (and raise severity) of the one already open."""
    if severity not in Severity.values:
        raise ValueError(f"severity must be one of {Severity.values}, got {severity!r}")
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(key=key, closed_at__isnull=True).first()
        if alert is not None:
            alert.last_seen = now
            alert.payload = payload
            if _SEVERITY_RANK[severity] > _SEVERITY_RANK[alert.severity]:
                alert.severity = severity
            alert.save(update_fields=["last_seen", "payload", "severity"])
            return alert
        try:
            with transaction.atomic():
                alert = Alert.objects.create(key=key, reason=reason, severity=severity, opened_at=now, last_seen=now, payload=payload)
        except IntegrityError:
            # Another process opened it between our read and insert: refresh theirs instead.
            alert = Alert.objects.select_for_update().get(key=key, closed_at__isnull=True)
            alert.last_seen = now
            alert.save(update_fields=["last_seen"])
            return alert
        _notification_queue(alert=alert, event=AlertNotification.Event.OPEN)
    ALERT_TRANSITIONS.labels(event="open", severity=severity).inc()
    logger.warning("alert opened: %s (%s, %s)", key, reason, severity)
    return alert


def alert_close(*, key: str, now: datetime | None = None) -> Alert | None:
    """Close the open alert `key`; returns it, or None when nothing was open."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(key=key, closed_at__isnull=True).first()
        if alert is None:
            return None
        alert.closed_at = max(now, alert.opened_at)
        alert.last_seen = now
        alert.save(update_fields=["closed_at", "last_seen"])
        _notification_queue(alert=alert, event=AlertNotification.Event.CLOSE)
    ALERT_TRANSITIONS.labels(event="close", severity=alert.severity).inc()
    logger.info("alert closed: %s", key)
    return alert


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
        response = requests.post(url, json=alertmanager_payload(alert=notification.alert, event=notification.event), timeout=(timeout, timeout))
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
