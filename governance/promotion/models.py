"""Promotion of strategies between lanes: the checkpoint policy, requests, approvals and the capital ramp.

Postgres enforces the parts that must hold whatever code runs (migration `promotion`): a strategy
becomes `live` only in the transaction that applies an approved request, request statuses move only
forward, approvals and ramp ledger rows are append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


def _default_ramp_schedule() -> list[float]:
    return [0.10, 0.25, 0.50, 1.00]


class CheckpointPolicy(models.Model):
    """The pre-live checkpoint and capital-ramp thresholds (one row, id 1). Every edit is an AuditEvent."""

    SINGLETON_ID = 1

    min_paper_runs = models.PositiveIntegerField(default=3, help_text="Passed paper simulations of this strategy version.")
    min_shadow_hours = models.FloatField(default=24.0, help_text="Hours the version has been in the shadow lane.")
    min_shadow_decisions = models.PositiveIntegerField(default=1, help_text="Decisions the version made while in shadow.")
    min_gate_non_error_ratio = models.FloatField(default=0.95, help_text="Share of gate evaluations that did not error.")
    drill_max_age_hours = models.FloatField(default=72.0, help_text="A rollback drill must have passed within this many hours.")
    forbid_open_critical_alert = models.BooleanField(default=True, help_text="No critical continuity alert may be open.")
    ramp_schedule = models.JSONField(default=_default_ramp_schedule, help_text="Fractions of target capital, one step per trading day.")
    ramp_max_drawdown_fraction = models.FloatField(
        default=0.02, help_text="A day losing more than this share of allocated capital is a breach."
    )
    ramp_max_fallback_ratio = models.FloatField(default=0.25, help_text="A day with a higher execution fallback ratio is a breach.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name_plural = "checkpoint policy"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="checkpointpolicy_singleton"),
            models.CheckConstraint(
                condition=models.Q(min_gate_non_error_ratio__gte=0, min_gate_non_error_ratio__lte=1), name="checkpointpolicy_ratio_0_1"
            ),
            models.CheckConstraint(
                condition=models.Q(min_shadow_hours__gte=0, drill_max_age_hours__gt=0), name="checkpointpolicy_hours_valid"
            ),
        ]

    def __str__(self) -> str:
        return "checkpoint policy"


class PromotionStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    APPLIED = "applied"


AUTONOMY_ACTOR = "autonomy"


class PromotionRequest(models.Model):
    """A request to move one strategy version from one lane to another, with its checkpoint evidence."""

    strategy = models.ForeignKey("trading.Strategy", on_delete=models.PROTECT, related_name="promotion_requests")
    version = models.CharField(max_length=40)
    from_lane = models.CharField(max_length=16)
    to_lane = models.CharField(max_length=16)
    requester = models.CharField(max_length=150, help_text="Username, or `autonomy` for the research lane.")
    # Four eyes compare this id, never the name: a renamed account is still the same requester.
    requester_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty for autonomy."
    )
    reason = models.TextField(blank=True)
    research_run_ids = models.JSONField(default=list, blank=True, help_text="Research runs cited as evidence.")
    checkpoint_at_request = models.JSONField(default=dict, blank=True)
    checkpoint_at_approval = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=PromotionStatus.choices, default=PromotionStatus.PENDING, db_index=True)
    approvals_required = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_txid = models.BigIntegerField(null=True, blank=True, editable=False, help_text="Set by Postgres when applied.")
    lane_change = models.ForeignKey("governance.LaneChange", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_promotionrequest", "Can approve or reject promotion requests")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=[s.value for s in PromotionStatus]), name="promotion_status_valid"),
            models.CheckConstraint(condition=models.Q(approvals_required__gte=1), name="promotion_needs_an_approval"),
            models.CheckConstraint(condition=~models.Q(from_lane=models.F("to_lane")), name="promotion_changes_lane"),
            models.CheckConstraint(
                condition=~models.Q(status="applied") | models.Q(applied_at__isnull=False), name="promotion_applied_has_time"
            ),
            # At most one open request per strategy: two could otherwise be approved against each other.
            models.UniqueConstraint(fields=["strategy"], condition=models.Q(status="pending"), name="promotion_one_pending_per_strategy"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} strategy {self.strategy_id}@{self.version} {self.from_lane} -> {self.to_lane} [{self.status}]"


class ApprovalDecision(models.TextChoices):
    APPROVE = "approve"
    REJECT = "reject"


class Approval(models.Model):
    """One approver's decision on one request, with the reason they gave: append-only."""

    request = models.ForeignKey(PromotionRequest, on_delete=models.PROTECT, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promotion_approvals")
    decision = models.CharField(max_length=8, choices=ApprovalDecision.choices)
    reason = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "approver"], name="approval_one_per_approver"),
            models.CheckConstraint(condition=models.Q(decision__in=[d.value for d in ApprovalDecision]), name="approval_decision_valid"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="approval_reason_required"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} of request {self.request_id} by {self.approver_id}"


class RampStatus(models.TextChoices):
    ACTIVE = "active"
    STOPPED = "stopped"


class CapitalRamp(models.Model):
    """The capital ramp of one live promotion: where on its schedule the strategy stands."""

    request = models.OneToOneField(PromotionRequest, on_delete=models.PROTECT, related_name="capital_ramp")
    strategy = models.ForeignKey("trading.Strategy", on_delete=models.PROTECT, related_name="capital_ramps")
    version = models.CharField(max_length=40)
    schedule = models.JSONField()
    step = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=RampStatus.choices, default=RampStatus.ACTIVE, db_index=True)
    started_at = models.DateTimeField()
    last_day = models.DateField(null=True, blank=True, help_text="The last trading day evaluated.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["strategy"], condition=models.Q(status="active"), name="capitalramp_one_active_per_strategy"),
        ]

    @property
    def fraction(self) -> float:
        return float(self.schedule[self.step])

    def __str__(self) -> str:
        return f"ramp of strategy {self.strategy_id}@{self.version}: step {self.step} ({self.fraction:.0%}) [{self.status}]"


class RampCause(models.TextChoices):
    START = "start"
    CLEAN_DAY = "clean_day"
    BREACH = "breach"
    HOLD = "hold"
    STOP = "stop"


class CapitalRampStep(models.Model):
    """One ledger row per ramp decision (start, each evaluated trading day, stop): append-only."""

    ramp = models.ForeignKey(CapitalRamp, on_delete=models.PROTECT, related_name="steps")
    trading_day = models.DateField(null=True, blank=True)
    from_step = models.PositiveIntegerField(null=True, blank=True)
    to_step = models.PositiveIntegerField()
    from_fraction = models.FloatField(null=True, blank=True)
    to_fraction = models.FloatField()
    cause = models.CharField(max_length=16, choices=RampCause.choices)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ramp", "trading_day"], name="capitalrampstep_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"ramp {self.ramp_id} {self.trading_day or ''} {self.cause}: {self.from_step} -> {self.to_step}"
