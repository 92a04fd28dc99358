"""Allowed lateness: rows written after the cursor passed their key are processed once, or counted.

A row is on time when it is written within TRADING_SIGNAL_ALLOWED_LATENESS_SECONDS of its event time.
Each poll re-reads the rows behind the cursor stamped after `now - horizon` (horizon = allowed lateness
plus one ingest interval, so a row written at the last allowed moment is still seen by the next poll)
and skips the keys earlier polls processed (`IngestSeenKeys`, only keys still inside the horizon are
kept). Unseen rows in the horizon are processed; unseen rows in the band behind it (one more horizon)
are counted per symbol as too late and remembered, so each is counted once. Anything later is found by
the audit (`signals_audit`). On-time rows are never held back: the cursor still moves at the head.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone

from trading.alerts.models import Severity
from trading.alerts.services import alert_close, alert_closing_rule_register, alert_open
from trading.signals.models import IngestCursor, IngestSeenKeys, IngestWindow
from trading.signals.source import SignalColumns, from_epoch_us

LATE_ALERT_PREFIX = "signal_late_rows"
LATE_ALERT_WINDOW = timedelta(minutes=10)
alert_closing_rule_register(prefix=f"{LATE_ALERT_PREFIX}:", rule="closes after 10 minutes without rows later than the allowed lateness")


def horizon() -> timedelta:
    """How far behind `now` (event time) a row is still processed if it was not yet."""
    return timedelta(seconds=settings.TRADING_SIGNAL_ALLOWED_LATENESS_SECONDS + settings.TRADING_INGEST_INTERVAL_SECONDS)


def _epoch_us(at: datetime) -> int:
    return (at - from_epoch_us(0)) // timedelta(microseconds=1)


@dataclass(frozen=True)
class Keys:
    symbols: np.ndarray
    ts_us: np.ndarray
    seqs: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_us)

    def pack(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, symbols=self.symbols.astype(str), ts_us=self.ts_us.astype(np.int64), seqs=self.seqs.astype(np.int64))
        return buffer.getvalue()

    @classmethod
    def unpack(cls, raw: bytes) -> Keys:
        with np.load(io.BytesIO(bytes(raw))) as data:
            return cls(symbols=data["symbols"], ts_us=data["ts_us"], seqs=data["seqs"])


def seen_load(*, cursor: IngestCursor, since: datetime) -> set[tuple[str, int, int]]:
    """Keys processed (or counted too late) by earlier polls with event times after `since`."""
    seen: set[tuple[str, int, int]] = set()
    for raw in IngestSeenKeys.objects.filter(cursor=cursor, newest_at__gt=since).values_list("keys", flat=True):
        keys = Keys.unpack(raw)
        seen.update(zip(keys.symbols.tolist(), keys.ts_us.tolist(), keys.seqs.tolist(), strict=True))
    return seen


def seen_store(*, cursor: IngestCursor, parts: list[Keys], since: datetime) -> None:
    """Remember this poll's keys stamped after `since`; forget rows whose keys all left the band."""
    IngestSeenKeys.objects.filter(cursor=cursor, newest_at__lte=since).delete()
    floor = _epoch_us(since)
    kept = [k for k in parts if len(k)]
    if not kept:
        return
    symbols = np.concatenate([k.symbols.astype(str) for k in kept])
    ts_us = np.concatenate([k.ts_us for k in kept])
    seqs = np.concatenate([k.seqs for k in kept])
    recent = ts_us > floor
    if not recent.any():
        return  # catching up on old rows: nothing can still arrive late behind them
    keys = Keys(symbols=symbols[recent], ts_us=ts_us[recent], seqs=seqs[recent])
    IngestSeenKeys.objects.create(cursor=cursor, newest_at=from_epoch_us(int(keys.ts_us.max())), keys=keys.pack())


def keys_of(cols: SignalColumns, upto: int | None = None) -> Keys:
    stop = len(cols) if upto is None else upto
    return Keys(symbols=np.asarray(cols.symbols[:stop]), ts_us=cols.ts_us[:stop], seqs=np.asarray(cols.seqs[:stop]))


def columns_take(cols: SignalColumns, mask: np.ndarray) -> SignalColumns:
    return SignalColumns(
        symbols=cols.symbols[mask],
        ts_us=cols.ts_us[mask],
        seqs=cols.seqs[mask],
        sources=cols.sources[mask],
        window_sizes=cols.window_sizes[mask],
        indicators=cols.indicators[mask],
    )


@dataclass
class LateSplit:
    late: SignalColumns | None  # unseen rows inside the horizon: process them now
    too_late: dict[str, int]  # unseen rows in the band behind it, per symbol: counted, not processed
    too_late_keys: Keys | None


def late_split(cols: SignalColumns | None, *, seen: set[tuple[str, int, int]], process_from: datetime) -> LateSplit:
    """Split a horizon re-read into rows not processed yet (inside the horizon) and rows too late."""
    if cols is None or not len(cols):
        return LateSplit(None, {}, None)
    unseen = np.fromiter(
        (
            key not in seen
            for key in zip(np.asarray(cols.symbols).tolist(), cols.ts_us.tolist(), np.asarray(cols.seqs).tolist(), strict=True)
        ),
        dtype=bool,
        count=len(cols),
    )
    inside = cols.ts_us > _epoch_us(process_from)
    late_mask, too_late_mask = unseen & inside, unseen & ~inside
    too_late: dict[str, int] = {}
    too_late_keys = None
    if too_late_mask.any():
        symbols, counts = np.unique(np.asarray(cols.symbols[too_late_mask]).astype(str), return_counts=True)
        too_late = {str(s): int(c) for s, c in zip(symbols.tolist(), counts.tolist(), strict=True)}
        too_late_keys = keys_of(columns_take(cols, too_late_mask))
    return LateSplit(columns_take(cols, late_mask) if late_mask.any() else None, too_late, too_late_keys)


def late_alert_key(cursor: IngestCursor) -> str:
    return f"{LATE_ALERT_PREFIX}:{cursor.source}:{cursor.account}:{cursor.shard}"


def late_rows_evaluate(*, now: datetime | None = None) -> list[dict]:
    """Open (or refresh) a warning per cursor whose polls counted at least TRADING_SIGNAL_LATE_ROWS_ALERT_THRESHOLD
    rows later than the allowed lateness in the last 10 minutes; close it after 10 quiet minutes."""
    now = now or timezone.now()
    threshold = settings.TRADING_SIGNAL_LATE_ROWS_ALERT_THRESHOLD
    verdicts = []
    for cursor in IngestCursor.objects.order_by("source", "account", "shard"):
        windows = IngestWindow.objects.filter(
            source=cursor.source, account=cursor.account, shard=cursor.shard, started_at__gt=now - LATE_ALERT_WINDOW, rows_too_late__gt=0
        )
        total, by_symbol = 0, {}
        for counted in windows.values_list("too_late_by_symbol", flat=True):
            for symbol, count in (counted or {}).items():
                by_symbol[symbol] = by_symbol.get(symbol, 0) + int(count)
                total += int(count)
        key = late_alert_key(cursor)
        action = "none"
        if threshold > 0 and total >= threshold:
            alert_open(
                key=key,
                reason="late_rows_beyond_allowed_lateness",
                severity=Severity.WARNING,
                now=now,
                payload={
                    "source": cursor.source,
                    "account": cursor.account,
                    "shard": cursor.shard,
                    "rows": total,
                    "by_symbol": by_symbol,
                    "allowed_lateness_seconds": settings.TRADING_SIGNAL_ALLOWED_LATENESS_SECONDS,
                    "description": f"{total} signal row(s) arrived later than the allowed lateness in the last 10 minutes; "
                    "`manage.py signals_audit --repair` re-ingests them",
                },
            )
            action = "open"
        elif total == 0 and alert_close(key=key, now=now, reason="no late rows for 10 minutes") is not None:
            action = "closed"
        verdicts.append({"key": key, "late_rows": total, "by_symbol": by_symbol, "action": action})
    return verdicts
