"""Reads of alerts for the API, status pages and evidence packages."""

from __future__ import annotations

from trading.alerts.models import Alert
from trading.alerts.services import alert_closing_rule


def _alert_dict(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "key": alert.key,
        "reason": alert.reason,
        "severity": alert.severity,
        "opened_at": alert.opened_at.isoformat(),
        "closed_at": alert.closed_at.isoformat() if alert.closed_at else None,
        "last_seen": alert.last_seen.isoformat(),
        "payload": alert.payload,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledge_reason": alert.acknowledge_reason,
        "closed_by": alert.closed_by,
        "close_reason": alert.close_reason,
        "closing_rule": alert_closing_rule(key=alert.key),
    }


def alert_get(*, alert_id: int) -> dict:
    """One alert by id (raises Alert.DoesNotExist)."""
    return _alert_dict(Alert.objects.get(pk=alert_id))


def alerts_open(*, severity: str | None = None) -> list[dict]:
    """Open alerts (any app's), newest first, optionally of one severity. Acknowledged alerts are still open."""
    qs = Alert.objects.filter(closed_at__isnull=True)
    if severity:
        qs = qs.filter(severity=severity)
    return [_alert_dict(a) for a in qs.order_by("-opened_at", "-id")]


def alerts_list(*, state: str | None = None, severity: str | None = None, limit: int = 200) -> list[dict]:
    """Alerts newest first; `state` is open, closed or None for both."""
    qs = Alert.objects.all()
    if state == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif state == "closed":
        qs = qs.filter(closed_at__isnull=False)
    if severity:
        qs = qs.filter(severity=severity)
    return [_alert_dict(a) for a in qs.order_by("-opened_at", "-id")[: max(0, limit)]]
