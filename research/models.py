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
    # Walk-forward: folds, mode (0 rolling, 1 anchored), folds with trades needed to judge, the gate.
    "walk_forward_folds": 5.0,
    "walk_forward_anchored": 0.0,
    "walk_forward_min_active_folds": 2.0,
    "max_negative_fold_ratio": 0.5,
    # Stress: 1.0 names a case the stress gate holds to `min_stress_net_pnl`.
    "stress_costs_x2": 1.0,
    "stress_slippage_x2": 0.0,
    "stress_latency_1bar": 0.0,
    "min_stress_net_pnl": 0.0,
    # Cost model: the least commission and slippage a run charges per fill (a strategy may declare more).
    "commission_bps": 1.0,
    "slippage_bps": 5.0,
    "max_cost_bps": 35.0,
    "max_slippage_bps": 25.0,
    # Uncertainty: the bootstrap, the sample it needs, its lower-bound gate, the deflated Sharpe gate.
    "bootstrap_samples": 2000.0,
    "bootstrap_confidence": 0.95,
    "uncertainty_min_trades": 10.0,
    "min_bootstrap_lower_bound": 0.0,
    "min_deflated_sharpe": 0.95,
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
    equity_curve = models.JSONField(
        default=list, blank=True, help_text="[close epoch, cumulative PnL] after each trade, thinned; the pictures are drawn from it."
    )
    llm_review = models.JSONField(
        default=dict, blank=True, help_text="The optional LLM reviewer's verdict (or why it has none), as stored at the run."
    )
    llm_review_trace_id = models.CharField(max_length=64, blank=True)
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


class ResearchFoldMetric(models.Model):
    """One walk-forward fold of a run, judged by its own trades only."""

    run = models.ForeignKey(ResearchRun, on_delete=models.CASCADE, related_name="folds")
    fold = models.PositiveSmallIntegerField()
    mode = models.CharField(max_length=16, help_text="rolling: the fold replayed alone; anchored: state carried from the window start.")
    start = models.DateTimeField()
    end = models.DateTimeField()
    trades = models.PositiveIntegerField()
    net_pnl = models.FloatField()
    sharpe = models.FloatField(null=True, blank=True, help_text="Mean over standard deviation of per-trade returns (not annualised).")
    max_drawdown = models.FloatField(help_text="As a fraction of capital.")
    hit_rate = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["run", "fold"]
        constraints = [models.UniqueConstraint(fields=["run", "fold"], name="researchfoldmetric_one_per_fold")]

    def __str__(self) -> str:
        return f"{self.run_id} fold {self.fold}"


class ResearchStressMetric(models.Model):
    """A run's replay under one stress case (costs x2, slippage x2, one bar of latency)."""

    run = models.ForeignKey(ResearchRun, on_delete=models.CASCADE, related_name="stress")
    case = models.CharField(max_length=32)
    commission_bps = models.FloatField()
    slippage_bps = models.FloatField()
    latency_bars = models.PositiveSmallIntegerField()
    trades = models.PositiveIntegerField()
    net_pnl = models.FloatField()
    max_drawdown = models.FloatField()

    class Meta:
        ordering = ["run", "case"]
        constraints = [models.UniqueConstraint(fields=["run", "case"], name="researchstressmetric_one_per_case")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.case}"


class ResearchRunPicture(models.Model):
    """A chart of a run (SVG, rendered server-side after the run is written), kept with the run."""

    class Kind(models.TextChoices):
        EQUITY = "equity"
        DRAWDOWN = "drawdown"
        FOLDS = "folds"

    run = models.ForeignKey(ResearchRun, on_delete=models.CASCADE, related_name="pictures")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    media_type = models.CharField(max_length=40, default="image/svg+xml")
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    rendered_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "kind"]
        constraints = [models.UniqueConstraint(fields=["run", "kind"], name="researchrunpicture_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind}"
