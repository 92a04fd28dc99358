"""The lane ledger: one append-only row per lane change of a strategy ("what was live when")."""

from __future__ import annotations

from django.db import models


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
