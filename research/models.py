"""Research runs (one row per promotion attempt, whatever its outcome) and versioned gate policies."""

from __future__ import annotations

from django.db import models

# Thresholds a new policy starts from; operators change them in admin (each edit audited).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "max_null_rate": 0.01,
    "max_staleness_seconds": 600.0,
    "min_symbol_coverage": 0.8,
    "min_trades": 2.0,
    "min_net_pnl": 0.0,
    "max_drawdown": 0.05,
    "max_turnover": 20.0,
    "drill_max_age_hours": 72.0,
}


class GatePolicy(models.Model):
    """Gate thresholds stored as data. Every edit bumps `version` and writes an AuditEvent."""

    name = models.CharField(max_length=100, unique=True)
    version = models.PositiveIntegerField(default=1)
    thresholds = models.JSONField(default=dict)
    active = models.BooleanField(default=False, help_text="The policy the autonomous lane uses; at most one is active.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "gate policies"
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="gatepolicy_one_active"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="gatepolicy_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}{' (active)' if self.active else ''}"


class ResearchRun(models.Model):
    """One paper-simulation attempt: its inputs, metrics, gate report and recommendation with trace ids."""

    class Status(models.TextChoices):
        RUNNING = "running"
        PASSED = "passed"
        FAILED = "failed"
        SKIPPED = "skipped"

    class Recommendation(models.TextChoices):
        PROMOTE = "promote"
        HOLD = "hold"
        DENY = "deny"

    class Trigger(models.TextChoices):
        AUTONOMOUS = "autonomous"
        MANUAL = "manual"
        DRILL = "drill"

    run_id = models.CharField(max_length=24, unique=True, help_text="sha256 of strategy version, window, policy version and target lane.")
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.AUTONOMOUS)
    strategy = models.ForeignKey("trading.Strategy", on_delete=models.PROTECT, related_name="research_runs")
    strategy_name = models.CharField(max_length=100)
    strategy_version = models.CharField(max_length=40, db_index=True)
    strategy_kind = models.CharField(max_length=60)
    parameters = models.JSONField(default=dict, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    source_table = models.CharField(max_length=200)
    target_lane = models.CharField(max_length=16)
    policy_name = models.CharField(max_length=100)
    policy_version = models.PositiveIntegerField()
    signals = models.PositiveBigIntegerField(default=0)
    decisions = models.PositiveBigIntegerField(default=0)
    trades = models.PositiveBigIntegerField(default=0)
    net_pnl = models.FloatField(default=0.0)
    max_drawdown = models.FloatField(default=0.0, help_text="Largest fall of cumulative PnL, as a fraction of capital.")
    turnover = models.FloatField(default=0.0, help_text="Traded notional as a multiple of capital.")
    win_rate = models.FloatField(null=True, blank=True)
    errors = models.PositiveIntegerField(default=0)
    gate_report = models.JSONField()
    gate_report_trace_id = models.CharField(max_length=64)
    recommendation = models.CharField(max_length=16, choices=Recommendation.choices)
    recommendation_trace_id = models.CharField(max_length=64)
    failure_reason = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["strategy", "strategy_version", "status"], name="researchrun_strategy_status")]
        constraints = [
            models.CheckConstraint(condition=models.Q(run_id__regex=r"^[0-9a-f]{24}$"), name="researchrun_run_id_hex24"),
            models.CheckConstraint(
                condition=models.Q(status__in=["running", "passed", "failed", "skipped"]), name="researchrun_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(recommendation__in=["promote", "hold", "deny"]), name="researchrun_recommendation_valid"
            ),
            # Phase B: no run without both trace ids and the minimum evidence.
            models.CheckConstraint(condition=models.Q(gate_report_trace_id__regex=r"^[0-9a-f]{64}$"), name="researchrun_gate_trace_id"),
            models.CheckConstraint(
                condition=models.Q(recommendation_trace_id__regex=r"^[0-9a-f]{64}$"), name="researchrun_recommendation_trace_id"
            ),
            models.CheckConstraint(condition=models.Q(gate_report__has_key="gates"), name="researchrun_gate_report_has_gates"),
            models.CheckConstraint(condition=models.Q(window_end__gt=models.F("window_start")), name="researchrun_window_ordered"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["failed", "skipped"]) | ~models.Q(failure_reason=""),
                name="researchrun_failed_or_skipped_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status="running") | models.Q(finished_at__isnull=False), name="researchrun_finished_has_time"
            ),
            models.CheckConstraint(
                condition=~models.Q(recommendation="promote") | models.Q(status="passed"), name="researchrun_promote_only_when_passed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.strategy_name}@{self.strategy_version} {self.status}"
