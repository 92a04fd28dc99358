"""Emergency-stop policies (one per trigger, thresholds as data) and each trigger's streak state."""

from __future__ import annotations

from django.db import models


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
    clear_evaluations = models.PositiveIntegerField(
        default=3, help_text="Consecutive clean evaluations before a recoverable trigger clears."
    )
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
