"""The kill switch (one row) and its append-only transition history."""

from __future__ import annotations

from django.db import models


class KillSwitchState(models.TextChoices):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class KillSwitchSource(models.TextChoices):
    OPERATOR = "operator"
    EMERGENCY_STOP = "emergency_stop"
    RECOVERY = "recovery"
    DRILL = "drill"


class KillSwitch(models.Model):
    """The one kill switch (primary key 1). Postgres is its truth; Redis mirrors the state."""

    SINGLETON_ID = 1

    state = models.CharField(max_length=16, choices=KillSwitchState.choices, default=KillSwitchState.ACTIVE)
    reason = models.TextField(blank=True)
    actor = models.CharField(max_length=150, help_text="Username, or a system actor such as `emergency_stop`.")
    source = models.CharField(max_length=20, choices=KillSwitchSource.choices, default=KillSwitchSource.OPERATOR)
    engaged_by = models.CharField(max_length=150, blank=True, help_text="Who moved it away from active (for four-eyes resume).")
    engaged_by_user_id = models.IntegerField(null=True, blank=True, help_text="User id of engaged_by; four-eyes resume compares it.")
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "kill switches"  # Django's default appends "s": "kill switchs"
        permissions = [("engage_killswitch", "Can engage and resume the kill switch")]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=[s.value for s in KillSwitchState]), name="killswitch_state_valid"),
            models.CheckConstraint(condition=models.Q(id=1), name="killswitch_singleton"),
        ]

    def __str__(self) -> str:
        return f"kill switch: {self.state}"


class KillSwitchTransition(models.Model):
    """One change of the kill switch: append-only (a Postgres trigger refuses UPDATE and DELETE)."""

    from_state = models.CharField(max_length=16, choices=KillSwitchState.choices)
    to_state = models.CharField(max_length=16, choices=KillSwitchState.choices)
    reason = models.TextField(blank=True)
    actor = models.CharField(max_length=150)
    source = models.CharField(max_length=20, choices=KillSwitchSource.choices)
    triggers = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.from_state} -> {self.to_state} by {self.actor}"
