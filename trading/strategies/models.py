"""Strategies: a versioned kind with parameters, a lane and a capital fraction."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q


class Lane(models.TextChoices):
    RESEARCH = "research"
    PAPER = "paper"
    SHADOW = "shadow"
    LIVE = "live"


class Strategy(models.Model):
    """A versioned trading strategy: its kind (the code that decides), parameters and lane."""

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=40)
    kind = models.CharField(max_length=60, help_text="Key in trading.strategies.kinds.STRATEGY_KINDS, e.g. macd_rsi.")
    parameters = models.JSONField(default=dict, blank=True)
    lane = models.CharField(max_length=16, choices=Lane.choices, default=Lane.RESEARCH, db_index=True)
    capital_fraction = models.DecimalField(max_digits=6, decimal_places=5, default=0, help_text="Target share of capital, 0..1.")
    enabled = models.BooleanField(default=True)
    drill = models.BooleanField(
        default=False,
        db_default=False,
        editable=False,
        help_text="Created by the rollback drill: its orders, fills and research runs never feed the emergency stop outside a drill.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="strategy_name_version_unique"),
            models.CheckConstraint(
                condition=models.Q(capital_fraction__gte=0, capital_fraction__lte=1), name="strategy_capital_fraction_0_1"
            ),
            models.CheckConstraint(condition=models.Q(lane__in=[c.value for c in Lane]), name="strategy_lane_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.version} [{self.lane}]"


def drill_rows_hidden(*, drill_since: datetime | None, flag: str, at: str) -> Q:
    """The drill strategies' rows an evaluation must not see (`flag` is the path to `Strategy.drill`, `at`
    the row's time): all of them outside a drill; during one, those from before it began."""
    hidden = Q(**{flag: True})
    if drill_since is not None:
        hidden &= Q(**{f"{at}__lt": drill_since})
    return hidden
