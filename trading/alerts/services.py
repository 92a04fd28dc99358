"""Alerts: open/close rows (one open alert per key), operator acknowledge/close (audited), and their
Alertmanager v2 webhook deliveries.

Every alert the system opens has a closing rule, registered by the package that opens it
(`alert_closing_rule_register`) and shown with the alert, so an operator knows what ends it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from torghut.core.metrics import Counter, counter_labels_init
from torghut.core.models import AuditEvent
from torghut.core.security import reason_problem
from trading.alerts.models import Alert, AlertNotification, Severity
from trading.alerts.tasks import notify_alertmanager

logger = logging.getLogger(__name__)
ALERT_TRANSITIONS = Counter(
    "torghut_alert_transitions_total", "Alerts opened, acknowledged and closed, by event and severity.", ["event", "severity"]
)
counter_labels_init(ALERT_TRANSITIONS, [{"event": e, "severity": s} for e in ("open", "acknowledge", "close") for s in Severity.values])
_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
ALERT_PERMISSION = "trading.manage_alert"
SYSTEM_ACTOR = "system"
# key prefix -> what closes an alert under it; the longest matching prefix wins.
_CLOSING_RULES: dict[str, str] = {}


class AlertError(Exception):
    """An acknowledge or close the rules refuse (no or too short a reason, already closed)."""


class AlertPermissionDenied(AlertError):
    """The actor lacks `trading.manage_alert`."""


def alert_closing_rule_register(*, prefix: str, rule: str) -> None:
    """Declare what closes the alerts whose key starts with `prefix` (called by the package that opens them)."""
    _CLOSING_RULES[prefix] = rule


def alert_closing_rule(*, key: str) -> str:
    """The closing rule of `key`; an operator close with a reason is always possible besides."""
    matches = [prefix for prefix in _CLOSING_RULES if key.startswith(prefix)]
    if not matches:
        return "no system rule: an operator closes it with a reason"
    return _CLOSING_RULES[max(matches, key=len)]


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or str(actor or SYSTEM_ACTOR)


def _operator_checked(*, actor, reason: str) -> str:
    if not (getattr(actor, "is_authenticated", False) and actor.has_perm(ALERT_PERMISSION)):
        raise AlertPermissionDenied(f"{_actor_name(actor)} lacks {ALERT_PERMISSION}")
    problem = reason_problem(reason)
    if problem:
        raise AlertError(problem)
    return reason.strip()


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


def _alert_close_locked(*, alert: Alert, now: datetime, actor: str, reason: str) -> None:
    alert.closed_at = max(now, alert.opened_at)
    alert.last_seen = now
    alert.closed_by, alert.close_reason = actor[:150], reason
    alert.save(update_fields=["closed_at", "last_seen", "closed_by", "close_reason"])
    _notification_queue(alert=alert, event=AlertNotification.Event.CLOSE)


def alert_close(*, key: str, now: datetime | None = None, actor: str = SYSTEM_ACTOR, reason: str = "") -> Alert | None:
    """Close the open alert `key` because its condition ended; returns it, or None when nothing was open.

    `actor` and `reason` say who or what ended it (for example the operator who resumed the kill switch).
    """
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(key=key, closed_at__isnull=True).first()
        if alert is None:
            return None
        _alert_close_locked(alert=alert, now=now, actor=actor, reason=reason or "condition cleared")
    ALERT_TRANSITIONS.labels(event="close", severity=alert.severity).inc()
    logger.info("alert closed: %s by %s", key, actor)
    return alert


def alert_acknowledge(*, alert_id: int, actor, reason: str) -> Alert:
    """An operator with `trading.manage_alert` says they are on it; the alert stays open (and still blocks
    the promotion checkpoint) until its condition ends or it is closed. Audited."""
    reason = _operator_checked(actor=actor, reason=reason)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.closed_at is not None:
            raise AlertError(f"alert {alert_id} is already closed")
        old = {"acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None, "by": alert.acknowledged_by}
        alert.acknowledged_at, alert.acknowledged_by, alert.acknowledge_reason = timezone.now(), _actor_name(actor), reason
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledge_reason"])
        AuditEvent.objects.create(
            actor=_actor_name(actor),
            action="alert.acknowledge",
            object_type="Alert",
            object_id=str(alert.pk),
            old=old,
            new={"acknowledged_at": alert.acknowledged_at.isoformat(), "by": alert.acknowledged_by},
            reason=reason,
        )
    ALERT_TRANSITIONS.labels(event="acknowledge", severity=alert.severity).inc()
    return alert


def alert_close_by_operator(*, alert_id: int, actor, reason: str) -> Alert:
    """An operator with `trading.manage_alert` closes an open alert with a reason (audited). If the
    condition still holds, the system opens a new alert for the key at its next evaluation."""
    reason = _operator_checked(actor=actor, reason=reason)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.closed_at is not None:
            raise AlertError(f"alert {alert_id} is already closed")
        _alert_close_locked(alert=alert, now=timezone.now(), actor=_actor_name(actor), reason=reason)
        AuditEvent.objects.create(
            actor=_actor_name(actor),
            action="alert.close",
            object_type="Alert",
            object_id=str(alert.pk),
            old={"closed_at": None},
            new={"closed_at": alert.closed_at.isoformat(), "key": alert.key},
            reason=reason,
        )
    ALERT_TRANSITIONS.labels(event="close", severity=alert.severity).inc()
    logger.info("alert %s closed by %s: %s", alert.key, alert.closed_by, reason)
    return alert
