"""One ingest poll: lock the cursor, read the next rows, validate, hand off, advance, record telemetry.

Everything a poll writes to Postgres (the consumer's work, the cursor, the IngestWindow row) commits
in one transaction while the cursor row is locked, so two workers never read the same rows and a
crash never moves the cursor past unprocessed work.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from torghut.core import clickhouse
from torghut.core.metrics import Counter, Histogram
from trading.signals import lateness
from trading.signals import source as signal_source
from trading.signals.models import IngestCursor, IngestReason, IngestWindow, SignalMinuteTally
from trading.signals.source import CursorKey, SignalColumns, from_epoch_us
from trading.signals.types import INDICATORS, SignalBatch
from trading.signals.universe import Universe, universe_resolve

logger = logging.getLogger(__name__)

INGEST_SECONDS = Histogram(
    "torghut_signal_ingest_seconds",
    "Duration of one ingest poll (fetch, validate, hand-off, cursor and telemetry commit).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ROWS = Counter("torghut_signal_rows_total", "Signal rows read by ingest, by outcome (accepted or the rejection reason).", ["outcome"])
REASONS = Counter("torghut_signal_no_signal_reason_total", "Ingest polls by reason (one reason per poll).", ["reason"])
LATE_ROWS = Counter(
    "torghut_signal_late_rows_total", "Signal rows that arrived later than the allowed lateness (counted, not processed).", ["symbol"]
)
LATE_PROCESSED = Counter(
    "torghut_signal_late_rows_processed_total", "Signal rows found behind the cursor within the allowed lateness and processed."
)

# Rejection reasons of single rows (bad rows never stop a poll).
NULL_SYMBOL = "null_symbol"
BAD_INDICATOR = "bad_indicator"
FUTURE_TIMESTAMP = "future_timestamp"
OUTSIDE_UNIVERSE = "outside_universe"

_VWAP_W5M = INDICATORS.index("vwap_w5m")
_BOLL_MID = INDICATORS.index("boll_mid")


@dataclass
class BatchResult:
    accepted: SignalBatch = field(default_factory=SignalBatch.empty)
    rejected: Tally = field(default_factory=Tally)
    last_key: CursorKey | None = None  # last row the cursor may move past (future rows excluded)
    newest: datetime | None = None
    passed: int = 0  # leading rows of the fetch the cursor moves past (accepted or counted as rejects)


def _blank(symbols: np.ndarray) -> np.ndarray:
    if symbols.dtype.kind == "U":
        return (symbols == "") | np.strings.isspace(symbols)
    # Nullable(String) columns arrive as objects, with None for NULL.
    return np.fromiter((not s or not str(s).strip() for s in symbols), dtype=bool, count=len(symbols))


def batch_validate(cols: SignalColumns, *, universe: frozenset[str], future_limit: datetime) -> BatchResult:
    """Split a fetched batch into accepted signals (columnar) and counted rejects; find how far the cursor may move.

    Rows come ordered by event time, so rows stamped past `future_limit` are a suffix: they are counted
    and left for a later poll, and the cursor stops before them. Every other bad row is passed.
    """
    result = BatchResult()
    limit_us = (future_limit - from_epoch_us(0)) // timedelta(microseconds=1)
    future = cols.ts_us > limit_us
    cut = int(np.argmax(future)) if future.any() else len(cols)
    if cut < len(cols):
        result.rejected[FUTURE_TIMESTAMP] = len(cols) - cut
    result.passed = cut
    if cut == 0:
        return result
    symbols = cols.symbols[:cut]
    indicators = cols.indicators[:cut]
    blank = _blank(symbols)
    finite = np.isfinite(indicators).all(axis=1)
    known = np.isin(symbols, sorted(universe)) if universe else np.zeros(cut, dtype=bool)
    ok = ~blank & finite & known
    for reason, count in (
        (NULL_SYMBOL, blank.sum()),
        (BAD_INDICATOR, (~blank & ~finite).sum()),
        (OUTSIDE_UNIVERSE, (~blank & finite & ~known).sum()),
    ):
        if count:
            result.rejected[reason] = int(count)
    index = np.flatnonzero(ok)
    if len(index):
        picked = indicators[index]
        result.accepted = SignalBatch(
            symbols=symbols[index],
            ts_us=cols.ts_us[:cut][index],
            seqs=cols.seqs[:cut][index],
            sources=cols.sources[:cut][index],
            window_sizes=cols.window_sizes[:cut][index],
            prices=np.where(picked[:, _VWAP_W5M] > 0, picked[:, _VWAP_W5M], picked[:, _BOLL_MID]),
            indicators=picked,
        )
    last = cut - 1
    result.newest = from_epoch_us(cols.ts_us[last])
    result.last_key = CursorKey(at=result.newest, symbol=str(cols.symbols[last]), seq=int(cols.seqs[last]))
    return result


@dataclass
class PollOutcome:
    reason: str
    cursor: CursorKey | None
    rows_fetched: int = 0
    batch: BatchResult = field(default_factory=BatchResult)
    lag_seconds: float | None = None
    detail: str = ""
    rows: SignalColumns | None = None


def _lock_cursor(*, source: str, account: str, shard: int) -> IngestCursor:
    IngestCursor.objects.get_or_create(source=source, account=account, shard=shard)
    return IngestCursor.objects.select_for_update().get(source=source, account=account, shard=shard)


def _stored_key(row: IngestCursor) -> CursorKey | None:
    if row.cursor_at is None:
        return None
    return CursorKey(at=row.cursor_at, symbol=row.cursor_symbol, seq=row.cursor_seq)


def _probe(now: datetime) -> signal_source.TailProbe | None:
    try:
        return signal_source.latest_event_ts(now=now)
    except clickhouse.ClickHouseError:
        return None


def _lag(now: datetime, *candidates: datetime | None) -> float | None:
    known = [c for c in candidates if c is not None]
    return max(0.0, (now - max(known)).total_seconds()) if known else None


def _ch_reason(exc: clickhouse.ClickHouseError) -> str:
    if isinstance(exc, clickhouse.ClickHouseTimeout):
        return IngestReason.CLICKHOUSE_QUERY_TIMEOUT
    return IngestReason.CLICKHOUSE_UNAVAILABLE


def _poll(*, stored: CursorKey | None, universe: Universe, now: datetime, batch_size: int, shard: int) -> PollOutcome:
    lookback = timedelta(seconds=settings.TRADING_SIGNAL_LOOKBACK_SECONDS)
    if not universe.usable:
        probe = _probe(now)
        return PollOutcome(
            reason=IngestReason.UNIVERSE_SOURCE_UNAVAILABLE,
            cursor=stored,
            lag_seconds=_lag(now, probe.latest if probe else None),
            detail=universe.reason,
        )
    future_limit = now + timedelta(seconds=settings.TRADING_SIGNAL_FUTURE_TOLERANCE_SECONDS)
    try:
        precision = signal_source.table_shape().time_precision
        # With a settle time, rows of a time unit that may still be getting written stay unread: a poll that
        # read part of a unit would otherwise pass, for good, that unit's rows written after it.
        settle = settings.TRADING_SIGNAL_SETTLE_SECONDS
        hold_from = signal_source.settled_until(now=now, settle_seconds=settle, precision=precision) if settle > 0 else None
        probe = _probe(now)
        latest = probe.latest if probe else None
        # Start at, or fast-forward to, now - lookback; never past the stream's tail, so a quiet stream
        # does not make our own fast-forward look like a cursor ahead of the stream.
        floor_at = now - lookback if latest is None else min(now - lookback, latest)
        floor_key = CursorKey(at=signal_source.floor_to_precision(floor_at, precision))
        cursor = stored
        if cursor is None or (cursor.at, cursor.symbol, cursor.seq) < (floor_key.at, floor_key.symbol, floor_key.seq):
            cursor = floor_key
        only = signal_source.shard_filter(universe=universe.symbols, shard=shard, shards=settings.TRADING_INGEST_SHARDS)
        rows = signal_source.fetch_after(
            cursor, limit=batch_size, shard=only, hold=(hold_from, future_limit) if hold_from is not None else None
        )
    except clickhouse.ClickHouseError as exc:
        return PollOutcome(reason=_ch_reason(exc), cursor=stored, detail=str(exc)[:500])

    batch, fetched = BatchResult(), 0
    if rows is not None:
        batch, fetched = batch_validate(rows, universe=universe.symbols, future_limit=future_limit), len(rows)
        if batch.last_key is not None:
            reason = IngestReason.SIGNALS_PRESENT if batch.accepted else IngestReason.NO_SIGNALS_IN_WINDOW
            return PollOutcome(
                reason=reason,
                cursor=batch.last_key,
                rows_fetched=fetched,
                batch=batch,
                lag_seconds=_lag(now, latest, batch.newest),
                rows=rows,
            )

    # Nothing the cursor may pass (no rows, or only rows stamped in the future): classify the tail.
    lag = _lag(now, latest)

    def outcome(reason: str, moved_to: CursorKey | None, detail: str = "") -> PollOutcome:
        return PollOutcome(reason=reason, cursor=moved_to, rows_fetched=fetched, batch=batch, lag_seconds=lag, detail=detail, rows=rows)

    if latest is None:
        if probe is not None:
            # An empty table and a cursor older than the lookback: it moves up (as on a quiet stream) instead of
            # reporting an empty window forever.
            advance_to = signal_source.floor_to_precision(now - timedelta(seconds=settings.TRADING_SIGNAL_EMPTY_ADVANCE_SECONDS), precision)
            if stored is not None and stored.at < now - lookback and advance_to > stored.at:
                return outcome(IngestReason.EMPTY_BATCH_ADVANCED, CursorKey(at=advance_to), "signal table is empty")
        return outcome(IngestReason.NO_SIGNALS_IN_WINDOW, cursor, "" if probe else "tail probe failed")
    if cursor.at > latest + lookback:
        try:
            rewound = signal_source.last_row_key(not_after=future_limit)
        except clickhouse.ClickHouseError as exc:
            return PollOutcome(reason=_ch_reason(exc), cursor=stored, lag_seconds=lag, detail=str(exc)[:500])
        return outcome(
            IngestReason.CURSOR_AHEAD_OF_STREAM,
            rewound or cursor,
            f"cursor {cursor.at.isoformat()} was past tail {latest.isoformat()} + lookback; rewound",
        )
    # Rows still settling are not behind the cursor: caught up means caught up with what is readable.
    readable = latest if hold_from is None else min(latest, hold_from)
    if cursor.at >= readable:
        advance_to = signal_source.floor_to_precision(
            min(now - timedelta(seconds=settings.TRADING_SIGNAL_EMPTY_ADVANCE_SECONDS), latest + lookback), precision
        )
        if hold_from is not None:
            advance_to = min(advance_to, hold_from)  # never past rows that may still be arriving
        if advance_to > cursor.at:
            return outcome(IngestReason.EMPTY_BATCH_ADVANCED, CursorKey(at=advance_to))
        return outcome(IngestReason.CURSOR_TAIL_STABLE, cursor)
    return outcome(IngestReason.NO_SIGNALS_IN_WINDOW, cursor, "tail probe is newer than the readable rows")


@dataclass
class LateOutcome:
    rows: SignalColumns | None = None  # unseen rows inside the horizon (processed this poll)
    batch: BatchResult = field(default_factory=BatchResult)
    too_late: dict[str, int] = field(default_factory=dict)
    too_late_keys: lateness.Keys | None = None
    detail: str = ""


def _late_reread(*, row: IngestCursor, stored: CursorKey | None, universe: Universe, now: datetime, shard: int) -> LateOutcome:
    """Re-read the lateness horizon behind the cursor and keep what no earlier poll processed."""
    band_from = now - 2 * lateness.horizon()
    if stored is None or stored.at <= band_from or not universe.usable:
        return LateOutcome()
    try:
        only = signal_source.shard_filter(universe=universe.symbols, shard=shard, shards=settings.TRADING_INGEST_SHARDS)
        again = signal_source.fetch_after(stored, limit=0, shard=only, horizon_from=band_from)
    except clickhouse.ClickHouseError as exc:
        # Nothing is remembered as seen, so the next poll re-reads the same horizon.
        return LateOutcome(detail=f"lateness re-read failed: {str(exc)[:200]}")
    split = lateness.late_split(again, seen=lateness.seen_load(cursor=row, since=band_from), process_from=now - lateness.horizon())
    out = LateOutcome(rows=split.late, too_late=split.too_late, too_late_keys=split.too_late_keys)
    if split.late is not None:
        future_limit = now + timedelta(seconds=settings.TRADING_SIGNAL_FUTURE_TOLERANCE_SECONDS)
        out.batch = batch_validate(split.late, universe=universe.symbols, future_limit=future_limit)
    return out


def _concat(first: SignalBatch, second: SignalBatch) -> SignalBatch:
    if not first:
        return second
    if not second:
        return first
    return SignalBatch(
        **{
            name: np.concatenate([getattr(first, name), getattr(second, name)])
            for name in ("symbols", "ts_us", "seqs", "sources", "window_sizes", "prices", "indicators")
        }
    )


def _tally(*, source: str, account: str, parts: list[lateness.Keys]) -> None:
    """Add this poll's processed rows to the per-(symbol, minute) counts the audit compares with ClickHouse."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return
    symbols = np.concatenate([p.symbols.astype(str) for p in parts])
    minutes = np.concatenate([p.ts_us for p in parts]) // 60_000_000
    names, codes = np.unique(symbols, return_inverse=True)
    groups, counts = np.unique(codes.astype(np.int64) * (1 << 32) + minutes, return_counts=True)
    table = connection.ops.quote_name(SignalMinuteTally._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (source, account, symbol, minute, rows) "
            "SELECT %s, %s, s, to_timestamp(m * 60), n FROM unnest(%s::text[], %s::bigint[], %s::int[]) AS t(s, m, n) "
            f"ON CONFLICT (source, account, symbol, minute) DO UPDATE SET rows = {table}.rows + EXCLUDED.rows",
            [source, account, names[groups >> 32].tolist(), (groups & 0xFFFFFFFF).tolist(), counts.tolist()],
        )


class SignalConsumer(Protocol):
    """What ingest hands accepted signals to, inside its transaction (the order path plugs in here)."""

    def __call__(self, *, signals: SignalBatch, account: str) -> Any: ...  # returns an object with `decisions`


_consumer: SignalConsumer | None = None


def signal_consumer_register(consumer: SignalConsumer) -> None:
    """Set the one consumer of accepted signals (`trading.apps` plugs in the order path)."""
    global _consumer
    _consumer = consumer


def signals_hand_off(*, signals: SignalBatch, account: str) -> int:
    """Give accepted signals to the registered consumer (inside the caller's transaction); returns decisions made."""
    if _consumer is None:
        raise RuntimeError("no signal consumer registered: the trading app is not ready")
    return int(_consumer(signals=signals, account=account).decisions or 0)


def signals_ingest(
    *, source: str, account: str, shard: int = 0, now: datetime | None = None, batch_size: int | None = None
) -> IngestWindow:
    """Run one ingest poll for the (source, account, shard) cursor and return its telemetry row.

    Accepted signals go to the registered consumer in the same transaction as the cursor move, so a
    failure leaves both undone. With no consumer registered a poll with signals fails (nothing is lost).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    universe = universe_resolve(now=now)
    with transaction.atomic():
        row = _lock_cursor(source=source, account=account, shard=shard)
        stored = _stored_key(row)
        before = row.as_dict()
        outcome = _poll(stored=stored, universe=universe, now=now, batch_size=batch_size or settings.TRADING_INGEST_BATCH_SIZE, shard=shard)
        late = _late_reread(row=row, stored=stored, universe=universe, now=now, shard=shard)
        # Late rows are older than the head batch: they go first, as ingest hands rows in event-time order.
        accepted = _concat(late.batch.accepted, outcome.batch.accepted)
        if late.batch.accepted and outcome.reason in (
            IngestReason.NO_SIGNALS_IN_WINDOW,
            IngestReason.CURSOR_TAIL_STABLE,
            IngestReason.EMPTY_BATCH_ADVANCED,
        ):
            outcome.reason = IngestReason.SIGNALS_PRESENT
        decisions = 0
        if accepted:
            decisions = signals_hand_off(signals=accepted, account=account)
        processed = [lateness.keys_of(outcome.rows, outcome.batch.passed)] if outcome.rows is not None else []
        if late.rows is not None:
            processed.append(lateness.keys_of(late.rows, late.batch.passed))
        _tally(source=source, account=account, parts=processed)
        seen = processed + ([late.too_late_keys] if late.too_late_keys is not None else [])
        lateness.seen_store(cursor=row, parts=seen, since=now - 2 * lateness.horizon())
        if outcome.cursor is not None:
            row.cursor_at, row.cursor_symbol, row.cursor_seq = outcome.cursor.at, outcome.cursor.symbol, outcome.cursor.seq
        row.streaks = {outcome.reason: int((row.streaks or {}).get(outcome.reason, 0)) + 1}
        row.last_reason = outcome.reason
        row.save(update_fields=["cursor_at", "cursor_symbol", "cursor_seq", "streaks", "last_reason", "updated_at"])
        batch = outcome.batch
        rejected = Tally(batch.rejected) + late.batch.rejected
        window = IngestWindow.objects.create(
            source=source,
            account=account,
            shard=shard,
            started_at=now,
            window_start=stored.at if stored else None,
            window_end=outcome.cursor.at if outcome.cursor else None,
            rows_fetched=outcome.rows_fetched + (len(late.rows) if late.rows is not None else 0),
            rows_accepted=len(accepted),
            rows_rejected=sum(rejected.values()),
            rejected_by_reason=dict(rejected),
            rows_late=len(late.rows) if late.rows is not None else 0,
            rows_too_late=sum(late.too_late.values()),
            too_late_by_symbol=late.too_late,
            decisions=decisions,
            reason=outcome.reason,
            lag_seconds=outcome.lag_seconds,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            cursor_before=before,
            cursor_after=row.as_dict(),
            universe_status=universe.status,
            detail="; ".join(d for d in (outcome.detail, late.detail) if d),
        )
    elapsed = time.perf_counter() - started
    INGEST_SECONDS.observe(elapsed)
    REASONS.labels(reason=outcome.reason).inc()
    if accepted:
        ROWS.labels(outcome="accepted").inc(len(accepted))
    for why, count in rejected.items():
        ROWS.labels(outcome=why).inc(count)
    if late.rows is not None:
        LATE_PROCESSED.inc(len(late.rows))
    for symbol, count in late.too_late.items():
        LATE_ROWS.labels(symbol=symbol).inc(count)
        logger.warning("ingest %s/%s#%s: %d row(s) of %s later than the allowed lateness", source, account, shard, count, symbol)
    if outcome.reason != IngestReason.SIGNALS_PRESENT:
        logger.info("ingest %s/%s#%s: %s %s", source, account, shard, outcome.reason, outcome.detail)
    return window


# Advisory-lock class of "a poll of this cursor is running" (the key is the cursor's crc32).
_POLL_LOCK_CLASS = 7_000_801
POLLS_SKIPPED = Counter("torghut_signal_polls_skipped_total", "Ingest polls skipped because a poll of the same cursor was running.")


def signals_ingest_unless_busy(*, source: str, account: str, shard: int = 0) -> IngestWindow | None:
    """One poll of the cursor, unless another poll of it is running: then None at once.

    A second poll would only queue on the first one's cursor lock and then find nothing new, while it holds a
    worker process that polls of the other shards are waiting for (they expire in the queue behind it). A
    poll that takes longer than the polling interval must cost one worker, not all of them.
    """
    key = zlib.crc32(f"{source}|{account}|{shard}".encode()) % 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_POLL_LOCK_CLASS, key])
        if not cursor.fetchone()[0]:
            POLLS_SKIPPED.inc()
            return None
    try:
        return signals_ingest(source=source, account=account, shard=shard)
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_POLL_LOCK_CLASS, key])
        except DatabaseError:
            connection.close()  # a broken connection releases its session locks with it


def ingest_windows_prune(*, older_than: datetime, batch_size: int = 10_000) -> int:
    """Delete IngestWindow rows of polls started before `older_than`, oldest first, in batches (each its
    own short transaction, so ingest never waits long on them). Returns how many went."""
    table = connection.ops.quote_name(IngestWindow._meta.db_table)
    deleted = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE started_at < %s ORDER BY started_at LIMIT %s)",
                [older_than, batch_size],
            )
            count = cursor.rowcount
        deleted += count
        if count < batch_size:
            break
    if deleted:
        logger.info("pruned %d ingest windows started before %s", deleted, older_than.isoformat())
    return deleted
