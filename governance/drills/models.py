"""Models of the governance app: the kill switch, emergency-stop policy and state, lane ledger,
evidence packages and drill runs."""

from __future__ import annotations

from django.db import models

from governance.emergency.models import Trigger
from governance.evidence.models import EvidencePackage


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
    fault = models.JSONField(
        default=dict, blank=True, help_text="What the drill did to the stack: the fault injected and how it was repaired."
    )
    error = models.TextField(blank=True)
    actor = models.CharField(max_length=150, default="drill")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"drill {self.trigger} {self.started_at:%Y-%m-%d %H:%M:%S} {'passed' if self.passed else 'failed'}"
