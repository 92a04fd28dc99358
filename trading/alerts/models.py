"""Alerts (at most one open per key) and their Alertmanager deliveries."""

from __future__ import annotations

from django.db import models


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Alert(models.Model):
    """An operational alert: at most one open row per key; `last_seen` moves while the condition holds.

    Every key has a closing rule (see `trading.alerts.services.ALERT_CLOSING_RULES`): the system closes it
    when the condition ends, or an operator closes it with a reason. `closed_by`/`close_reason` say which.
    """

    key = models.CharField(max_length=200)
    reason = models.CharField(max_length=100)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True, default="")
    acknowledge_reason = models.TextField(blank=True, default="")
    closed_by = models.CharField(max_length=150, blank=True, default="")
    close_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [("manage_alert", "Can acknowledge and close alerts")]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=models.Q(closed_at__isnull=True), name="alert_one_open_per_key"),
            models.CheckConstraint(condition=models.Q(severity__in=[c.value for c in Severity]), name="alert_severity_valid"),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | models.Q(closed_at__gte=models.F("opened_at")), name="alert_closed_after_open"
            ),
        ]

    def __str__(self) -> str:
        state = "closed" if self.closed_at is not None else "acknowledged" if self.acknowledged_at is not None else "open"
        return f"{self.key} [{self.severity}] {state}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class AlertNotification(models.Model):
    """One Alertmanager delivery (open or close of an alert), so delivery failures are visible as rows."""

    class Event(models.TextChoices):
        OPEN = "open"
        CLOSE = "close"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=8, choices=Event.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.alert.key} {self.event}: {self.status} after {self.attempts} attempt(s)"
