"""Shared infrastructure rows: dead letters of failed tasks and the audit trail of operator edits."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DeadLetter(models.Model):
    """A task that exhausted its retries or failed with a non-retryable error."""

    class Status(models.TextChoices):
        PENDING = "pending"
        REPLAYED = "replayed"
        DISCARDED = "discarded"

    task_name = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=64, unique=True)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=64)
    exception_class = models.CharField(max_length=300)
    exception_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    retries = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    spooled = models.BooleanField(default=False, help_text="Arrived through the local spool while Postgres was down.")
    replay_task_id = models.CharField(max_length=64, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_failed_at"]
        permissions = [("replay_deadletter", "Can replay or discard dead letters")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="replayed") | ~models.Q(replay_task_id=""),
                name="deadletter_replayed_has_task_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} [{self.task_id}] {self.status}"


class AuditEvent(models.Model):
    """Who changed what, when, from which value to which: append-only."""

    actor = models.CharField(max_length=150, help_text="Username, or a system actor such as `autonomy`.")
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=100)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type}:{self.object_id}"
