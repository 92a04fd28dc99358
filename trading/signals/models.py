"""Signal ingest state: the durable cursor, one telemetry row per poll, the universe snapshot, alerts."""

from __future__ import annotations

from django.db import models


class IngestReason(models.TextChoices):
    SIGNALS_PRESENT = "signals_present"
    NO_SIGNALS_IN_WINDOW = "no_signals_in_window"
    CURSOR_TAIL_STABLE = "cursor_tail_stable"
    CURSOR_AHEAD_OF_STREAM = "cursor_ahead_of_stream"
    EMPTY_BATCH_ADVANCED = "empty_batch_advanced"
    UNIVERSE_SOURCE_UNAVAILABLE = "universe_source_unavailable"
    CLICKHOUSE_UNAVAILABLE = "clickhouse_unavailable"
    CLICKHOUSE_QUERY_TIMEOUT = "clickhouse_query_timeout"


class IngestCursor(models.Model):
    """Where ingest of one (source, account, shard) stands: the last processed (event_ts, symbol, seq).

    The row is locked (SELECT ... FOR UPDATE) for the whole poll, so one ingest holds it at a time.
    `streaks` counts consecutive polls per reason (the current reason's run; every other is 0).
    """

    source = models.CharField(max_length=64)
    account = models.CharField(max_length=64)
    shard = models.PositiveSmallIntegerField(default=0)
    cursor_at = models.DateTimeField(null=True, blank=True)
    cursor_symbol = models.CharField(max_length=64, blank=True, default="")
    cursor_seq = models.BigIntegerField(default=0)
    last_reason = models.CharField(max_length=40, choices=IngestReason.choices, blank=True, default="")
    streaks = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "account", "shard"], name="ingest_cursor_key_unique"),
            models.CheckConstraint(condition=models.Q(cursor_seq__gte=0), name="ingest_cursor_seq_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.account}#{self.shard} @ {self.cursor_at} {self.cursor_symbol}:{self.cursor_seq}"

    def as_dict(self) -> dict:
        return {
            "at": self.cursor_at.isoformat() if self.cursor_at else None,
            "symbol": self.cursor_symbol,
            "seq": self.cursor_seq,
        }


class IngestWindow(models.Model):
    """Telemetry of one ingest poll: what was read, what was accepted, why, and where the cursor went."""

    source = models.CharField(max_length=64)
    account = models.CharField(max_length=64)
    shard = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(db_index=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    rows_fetched = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rejected_by_reason = models.JSONField(default=dict, blank=True)
    decisions = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=40, choices=IngestReason.choices)
    lag_seconds = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(default=0)
    cursor_before = models.JSONField(default=dict, blank=True)
    cursor_after = models.JSONField(default=dict, blank=True)
    universe_status = models.CharField(max_length=16, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    rows_late = models.PositiveIntegerField(default=0, help_text="Rows found behind the cursor within the allowed lateness, processed now.")
    rows_too_late = models.PositiveIntegerField(
        default=0, help_text="Rows found behind the cursor past the allowed lateness: not processed."
    )
    too_late_by_symbol = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["source", "account", "shard", "-id"], name="ingest_window_key_recent")]
        constraints = [
            models.CheckConstraint(condition=models.Q(reason__in=[c.value for c in IngestReason]), name="ingest_window_reason_valid"),
            models.CheckConstraint(
                condition=models.Q(rows_accepted__lte=models.F("rows_fetched")), name="ingest_window_accepted_le_fetched"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.reason} {self.rows_accepted}/{self.rows_fetched}"


class IngestSeenKeys(models.Model):
    """The keys one poll processed whose event time is still inside the lateness horizon (packed numpy
    arrays): the next polls re-read the horizon and skip these, so a late row is processed exactly once."""

    cursor = models.ForeignKey(IngestCursor, on_delete=models.CASCADE, related_name="seen_keys")
    newest_at = models.DateTimeField(help_text="Newest event time among the keys (the row goes once it leaves the horizon).")
    keys = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["cursor", "newest_at"], name="ingest_seen_cursor_newest")]


class SignalMinuteTally(models.Model):
    """Rows ingest processed per (source, account, symbol, minute of event time): what the audit compares
    with ClickHouse's count of the same minute."""

    source = models.CharField(max_length=64)
    account = models.CharField(max_length=64)
    symbol = models.CharField(max_length=64)
    minute = models.DateTimeField()
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "account", "symbol", "minute"], name="signal_minute_tally_key")]
        indexes = [models.Index(fields=["source", "account", "minute"], name="signal_minute_tally_minute")]


class SignalAuditRun(models.Model):
    """One reconciliation of ClickHouse rows against processed rows (`signals_audit`): the gaps it found
    per (symbol, minute) and whether it re-ingested them."""

    started_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=64)
    account = models.CharField(max_length=64)
    since = models.DateTimeField()
    until = models.DateTimeField()
    minutes_checked = models.PositiveIntegerField(default=0)
    missing_rows = models.PositiveIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True, help_text="[{symbol, minute, clickhouse, processed}] where ClickHouse holds more.")
    repaired_rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.source}/{self.account}: {self.missing_rows} missing"


class UniverseStatus(models.TextChoices):
    OK = "ok"
    DEGRADED = "degraded"
    UNAVAILABLE = "unavailable"
    STATIC = "static"


class UniverseSnapshot(models.Model):
    """The last symbol universe read from a source, shared by every process (the jangar cache)."""

    source = models.CharField(max_length=16, unique=True)
    symbols = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="When the symbols were last read successfully.")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="When the source was last asked.")
    status = models.CharField(max_length=16, choices=UniverseStatus.choices, default=UniverseStatus.UNAVAILABLE)
    reason = models.CharField(max_length=300, blank=True, default="")
    rejected = models.JSONField(
        default=list, blank=True, help_text="[{symbol, reason}] names of the last answer that failed validation (never queried)."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=[c.value for c in UniverseStatus]), name="universe_status_valid")
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.status} ({len(self.symbols)} symbols)"
