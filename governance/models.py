"""Models of the governance app: the kill switch, emergency-stop policy and state, lane ledger,
evidence packages and drill runs."""
from __future__ import annotations

import json

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
    changed_at = models.DateTimeField()

    class Meta:
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


class Trigger(models.TextChoices):
    SIGNAL_LAG = "signal_lag"
    STALENESS_STREAK = "staleness_streak"
    UNIVERSE_UNAVAILABLE = "universe_unavailable"
    RESEARCH_FAILURES = "research_failures"
    FALLBACK_RATIO = "fallback_ratio"
    PNL_DRAWDOWN = "pnl_drawdown"


class EmergencyStopPolicy(models.Model):
    """Thresholds of one trigger, as data operators edit (every change is an AuditEvent)."""

    trigger = models.CharField(max_length=32, choices=Trigger.choices, unique=True)
    enabled = models.BooleanField(default=True)
    threshold = models.FloatField(help_text="Limit of the trigger's value (seconds, count, ratio or fraction of capital).")
    confirm_evaluations = models.PositiveIntegerField(default=2, help_text="Consecutive breaching evaluations before a halt.")
    clear_evaluations = models.PositiveIntegerField(default=3, help_text="Consecutive clean evaluations before a recoverable trigger clears.")
    warn_fraction = models.FloatField(default=0.8, help_text="A warning alert opens at this fraction of the threshold.")
    unreadable_is_breach = models.BooleanField(default=True, help_text="An input that cannot be read counts as a breach (fail closed).")
    params = models.JSONField(default=dict, blank=True, help_text="Trigger-specific settings, e.g. window_seconds and min_orders.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trigger"]
        verbose_name_plural = "emergency stop policies"
        constraints = [
            models.CheckConstraint(condition=models.Q(confirm_evaluations__gte=1), name="esp_confirm_at_least_one"),
            models.CheckConstraint(condition=models.Q(clear_evaluations__gte=1), name="esp_clear_at_least_one"),
            models.CheckConstraint(condition=models.Q(warn_fraction__gt=0, warn_fraction__lte=1), name="esp_warn_fraction_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.trigger} > {self.threshold}"


class TriggerState(models.Model):
    """Running state of one trigger between evaluations: streaks, last value, whether it fired."""

    trigger = models.CharField(max_length=32, choices=Trigger.choices, unique=True)
    breach_streak = models.PositiveIntegerField(default=0)
    clean_streak = models.PositiveIntegerField(default=0)
    firing = models.BooleanField(default=False, help_text="Confirmed breach that has not cleared (or been resumed) yet.")
    warning = models.BooleanField(default=False)
    last_value = models.FloatField(null=True, blank=True)
    last_status = models.CharField(max_length=20, blank=True, help_text="ok | warning | breach | unreadable | not_applicable")
    last_error = models.TextField(blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["trigger"]

    def __str__(self) -> str:
        return f"{self.trigger}: {self.last_status} (breach {self.breach_streak}, clean {self.clean_streak})"


class LaneChangeCause(models.TextChoices):
    REQUEST = "request"
    ROLLBACK = "rollback"
    DRILL = "drill"


class LaneChange(models.Model):
    """What lane a strategy version moved to, when and why: append-only (Postgres trigger)."""

    strategy = models.ForeignKey("trading.Strategy", on_delete=models.PROTECT, related_name="lane_changes")
    version = models.CharField(max_length=40)
    from_lane = models.CharField(max_length=16)
    to_lane = models.CharField(max_length=16)
    at = models.DateTimeField(db_index=True)
    cause = models.CharField(max_length=16, choices=LaneChangeCause.choices)
    actor = models.CharField(max_length=150)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(cause__in=[c.value for c in LaneChangeCause]), name="lanechange_cause_valid"),
            models.CheckConstraint(condition=~models.Q(from_lane=models.F("to_lane")), name="lanechange_changes_lane"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} strategy {self.strategy_id}@{self.version} {self.from_lane} -> {self.to_lane} ({self.cause})"


class EvidencePackage(models.Model):
    """What the system saw when it halted, as canonical JSON hashed into a chain.

    `body` holds the exact bytes hashed; it embeds `previous_sha256`, so editing any package breaks
    either its own hash or the link of the next one.
    """

    created_at = models.DateTimeField(db_index=True)
    triggers = models.JSONField(default=list)
    body = models.TextField()
    sha256 = models.CharField(max_length=64, unique=True)
    previous_sha256 = models.CharField(max_length=64, blank=True)
    missing_sources = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]

    @property
    def content(self) -> dict:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"evidence {self.pk} {self.created_at:%Y-%m-%d %H:%M:%S} {','.join(self.triggers)}"


class DrillRun(models.Model):
    """One synthetic drill of one trigger: timings and whether every check passed."""

    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(default=False)
    time_to_halt_seconds = models.FloatField(null=True, blank=True)
    time_to_cancel_seconds = models.FloatField(null=True, blank=True)
    evidence = models.ForeignKey(EvidencePackage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    checks = models.JSONField(default=dict, blank=True)
    fault = models.JSONField(default=dict, blank=True, help_text="What the drill did to the stack: the fault injected and how it was repaired.")
    error = models.TextField(blank=True)
    actor = models.CharField(max_length=150, default="drill")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"drill {self.trigger} {self.started_at:%Y-%m-%d %H:%M:%S} {'passed' if self.passed else 'failed'}"

from governance.models_promotion import *  # noqa: E402,F401,F403  promotion models live in their own module
