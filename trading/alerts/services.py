"""Alerts: open/close rows (one open alert per key) and their Alertmanager v2 webhook deliveries."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from torghut.core.metrics import Counter
from trading.alerts.models import Alert, AlertNotification, Severity
from trading.alerts.tasks import notify_alertmanager

logger = logging.getLogger(__name__)
ALERT_TRANSITIONS = Counter("torghut_alert_transitions_total", "Alerts opened and closed, by event and severity.", ["event", "severity"])
_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def _notification_queue(*, alert: Alert, event: str) -> None:
    if not settings.ALERTMANAGER_URL:
        return
    notification = AlertNotification.objects.create(alert=alert, event=event)

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
