"""Decisions (what a strategy wants) and executions (what happened at a venue, with provenance)."""

from __future__ import annotations

from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import F, Q

from trading.orders.adapters import ADAPTER_NAMES


class Side(models.TextChoices):
    BUY = "buy"
    SELL = "sell"


class OrderType(models.TextChoices):
    MARKET = "market"
    LIMIT = "limit"


class DecisionStatus(models.TextChoices):
    PLANNED = "planned"
    SUBMITTED = "submitted"
    FILLED = "filled"
    REJECTED = "rejected"
    CANCELED = "canceled"
    EXPIRED = "expired"
    SHADOW = "shadow"


class Decision(models.Model):
    """One strategy's intent for one signal. `decision_hash` is the broker client order id."""

    strategy = models.ForeignKey("trading.Strategy", on_delete=models.PROTECT, related_name="decisions")
    strategy_version = models.CharField(max_length=40)
    lane = models.CharField(max_length=16)
    account = models.CharField(max_length=64)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.DecimalField(max_digits=20, decimal_places=6)
    order_type = models.CharField(max_length=8, choices=OrderType.choices, default=OrderType.MARKET)
    price = models.DecimalField(max_digits=20, decimal_places=6, help_text="Signal price the decision was made at.")
    rationale = models.JSONField(default=dict)
    signal_symbol = models.CharField(max_length=32)
    signal_event_ts = models.DateTimeField()
    signal_seq = models.BigIntegerField()
    decision_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.PLANNED)
    reject_reason = models.CharField(max_length=64, blank=True, default="")
    expected_adapter = models.CharField(max_length=16, blank=True, default="")
    shadow_fill_price = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    decided_at = models.DateTimeField(db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["symbol", "-id"], name="decision_symbol_id"),
            # Risk checks and reconciliation look only at orders in flight.
            models.Index(fields=["account", "symbol"], condition=Q(status=DecisionStatus.SUBMITTED), name="decision_in_flight"),
            models.Index(fields=["account", "submitted_at"], name="decision_account_submitted"),
        ]
        constraints = [
            # A constraint rather than unique=True: no extra LIKE index on a hash nobody searches by prefix.
            models.UniqueConstraint(fields=["decision_hash"], name="decision_hash_unique"),
            models.UniqueConstraint(
                fields=["strategy", "account", "signal_symbol", "signal_event_ts", "signal_seq"], name="decision_one_per_strategy_signal"
            ),
            models.CheckConstraint(condition=Q(status__in=[c.value for c in DecisionStatus]), name="decision_status_valid"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="decision_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(status=DecisionStatus.REJECTED) | ~Q(reject_reason=""), name="decision_rejection_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status=DecisionStatus.SHADOW) | Q(shadow_fill_price__isnull=False), name="decision_shadow_has_fill"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.symbol} [{self.status}] {self.decision_hash}"


class ExecutionStatus(models.TextChoices):
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


FINAL_EXECUTION_STATUSES = (ExecutionStatus.FILLED, ExecutionStatus.CANCELED, ExecutionStatus.REJECTED, ExecutionStatus.EXPIRED)


class RouteTag(models.TextChoices):
    LIVE = "live"
    RECONCILED = "reconciled"
    BACKFILL = "backfill"


class Execution(models.Model):
    """An order at a venue. Provenance (expected vs actual adapter, why they differ) is enforced by Postgres."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="execution")
    client_order_id = models.CharField(max_length=64)
    broker_order_id = models.CharField(max_length=64, blank=True, default="")
    account = models.CharField(max_length=64)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4, choices=Side.choices)
    expected_adapter = models.CharField(max_length=16)
    actual_adapter = models.CharField(max_length=16)
    fallback_reason = models.CharField(max_length=200, blank=True, default="")
    fallback_count = models.PositiveSmallIntegerField(default=0)
    route_tag = models.CharField(max_length=12, choices=RouteTag.choices)
    quantity = models.DecimalField(max_digits=20, decimal_places=6)
    filled_quantity = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    avg_fill_price = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices)
    decided_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    error_category = models.CharField(max_length=40, blank=True, default="")
    error_detail = models.TextField(blank=True, default="")
    reconciled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        # Few indexes on purpose: every one is paid by each insert, and backfills insert millions.
        indexes = [
            models.Index(fields=["symbol", "-id"], name="execution_symbol_id"),
            # Rows arrive in time order, so a BRIN index serves time windows at almost no insert cost.
            BrinIndex(fields=["created_at"], name="execution_created_brin"),
            models.Index(fields=["id"], condition=~Q(status__in=["filled", "canceled", "rejected", "expired"]), name="execution_open"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["client_order_id"], name="execution_client_order_id_unique"),
            models.CheckConstraint(condition=Q(expected_adapter__in=ADAPTER_NAMES), name="execution_expected_adapter_known"),
            models.CheckConstraint(condition=Q(actual_adapter__in=ADAPTER_NAMES), name="execution_actual_adapter_known"),
            # The heart of provenance: a reason exactly when the order went somewhere other than planned.
            models.CheckConstraint(
                condition=(Q(expected_adapter=F("actual_adapter")) & Q(fallback_reason="") & Q(fallback_count=0))
                | (~Q(expected_adapter=F("actual_adapter")) & ~Q(fallback_reason__regex=r"^\s*$") & Q(fallback_count__gte=1)),
                name="execution_fallback_reason_iff_adapters_differ",
            ),
            models.CheckConstraint(condition=Q(route_tag__in=[c.value for c in RouteTag]), name="execution_route_tag_valid"),
            models.CheckConstraint(condition=Q(status__in=[c.value for c in ExecutionStatus]), name="execution_status_valid"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, filled_quantity__gte=0, filled_quantity__lte=F("quantity")),
                name="execution_filled_within_quantity",
            ),
            models.CheckConstraint(
                condition=~Q(status=ExecutionStatus.FILLED) | Q(filled_at__isnull=False, avg_fill_price__isnull=False),
                name="execution_filled_has_time_and_price",
            ),
            models.CheckConstraint(condition=~Q(route_tag=RouteTag.LIVE) | Q(decision__isnull=False), name="execution_live_has_decision"),
        ]

    def __str__(self) -> str:
        return f"{self.client_order_id} {self.expected_adapter}->{self.actual_adapter} [{self.status}]"


class ExecutionImport(models.Model):
    """Order history recorded before provenance existed (broker statements, the previous system).

    Adapters may be missing; `manage.py backfill_execution_provenance` turns each row into an
    `Execution` tagged `backfill` with provenance derived from what is known.
    """

    client_order_id = models.CharField(max_length=64)
    broker_order_id = models.CharField(max_length=64, null=True, blank=True)
    account = models.CharField(max_length=64)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=4, choices=Side.choices)
    expected_adapter = models.CharField(max_length=16, null=True, blank=True)
    actual_adapter = models.CharField(max_length=16, null=True, blank=True)
    quantity = models.DecimalField(max_digits=20, decimal_places=6)
    filled_quantity = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    avg_fill_price = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    status = models.CharField(max_length=16)
    submitted_at = models.DateTimeField(null=True, blank=True)
    filled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["client_order_id"], name="execution_import_client_order_id_unique")]


class SignalMemory(models.Model):
    """The last signal the strategies saw per (account, symbol): the `prev` of the next decision, and
    the replay guard (a signal at or before it was already consumed)."""

    account = models.CharField(max_length=64)
    symbol = models.CharField(max_length=32)
    event_ts = models.DateTimeField()
    seq = models.BigIntegerField()
    values = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "symbol"], name="signal_memory_account_symbol")]
