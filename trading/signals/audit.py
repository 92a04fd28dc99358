"""Reconciliation: does every row ClickHouse holds for a minute show up as processed by ingest?

`signals_audit` compares, per (symbol, minute of event time), ClickHouse's count of distinct keys
(newest versions only, final rows only on the production column set) with `SignalMinuteTally`, over
whole minutes that every cursor has passed by more than twice the lateness horizon (rows still
inside it may yet be processed). With `repair`, each gap's rows are read again and handed to the
consumer in one transaction with the tally update; the consumer drops rows it already decided on
(its per-symbol memory and the unique decision hash), so a repair never decides a row twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone

from torghut.core import clickhouse
from trading.signals import ingest, lateness
from trading.signals import source as signal_source
from trading.signals.models import IngestCursor, SignalAuditRun, SignalMinuteTally
from trading.signals.universe import universe_resolve

logger = logging.getLogger(__name__)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _clickhouse_counts(*, since: datetime, until: datetime) -> dict[tuple[str, datetime], int]:
    shape = signal_source.table_shape()
    q = clickhouse.quote_identifier
    sym, ts, seq = (
        q(c) for c in (settings.TRADING_SIGNAL_SYMBOL_COLUMN, settings.TRADING_SIGNAL_TIME_COLUMN, settings.TRADING_SIGNAL_SEQ_COLUMN)
    )
    rows = clickhouse.query(
        "signals_audit_counts",
        f"SELECT {sym}, toStartOfMinute({ts}) AS m, uniqExact({ts}, {seq}) FROM {q(shape.table)}{shape.final} "
        f"WHERE {ts} >= %(since)s AND {ts} < %(until)s{shape.final_only} GROUP BY {sym}, m",
        {
            "since": signal_source.time_literal(since, shape.time_precision),
            "until": signal_source.time_literal(until, shape.time_precision),
        },
        timeout=120,
    )
    return {(str(symbol), signal_source.as_utc(minute)): int(count) for symbol, minute, count in rows}


def _audit_until(*, source: str, account: str, now: datetime) -> datetime:
    oldest = IngestCursor.objects.filter(source=source, account=account).aggregate(at=Min("cursor_at"))["at"]
    settled = now - 2 * lateness.horizon()
    return _minute(min(settled, oldest) if oldest else settled)


def _repair(*, source: str, account: str, symbol: str, minute: datetime, clickhouse_rows: int) -> int:
    cols = signal_source.fetch_symbol_range(symbol=symbol, start=minute, end=minute + timedelta(minutes=1))
    if cols is None:
        return 0
    now = timezone.now()
    batch = ingest.batch_validate(cols, universe=universe_resolve(now=now).symbols, future_limit=now)
    with transaction.atomic():
        if batch.accepted:
            ingest.signals_hand_off(signals=batch.accepted, account=account)
        SignalMinuteTally.objects.update_or_create(
            source=source, account=account, symbol=symbol, minute=minute, defaults={"rows": clickhouse_rows}
        )
    return len(cols)


def signals_audit(*, since: datetime, until: datetime | None = None, repair: bool = False, now: datetime | None = None) -> SignalAuditRun:
    """Compare ClickHouse row counts per symbol and minute in [since, until) with the rows ingest processed;
    record the gaps (and with `repair`, re-ingest them) as a `SignalAuditRun`."""
    now = now or timezone.now()
    source, account = settings.TRADING_SIGNAL_SOURCE, settings.TRADING_ACCOUNT
    since = _minute(since)
    limit = _audit_until(source=source, account=account, now=now)
    until = min(_minute(until), limit) if until else limit
    gaps: list[dict] = []
    minutes = 0
    if until > since:
        counts = _clickhouse_counts(since=since, until=until)
        processed = {
            (row["symbol"], row["minute"]): int(row["total"])
            for row in SignalMinuteTally.objects.filter(source=source, account=account, minute__gte=since, minute__lt=until)
            .values("symbol", "minute")
            .annotate(total=Sum("rows"))
        }
        minutes = len(counts)
        for (symbol, minute), rows in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0])):
            done = processed.get((symbol, minute), 0)
            if rows > done:
                gaps.append({"symbol": symbol, "minute": minute.isoformat(), "clickhouse": rows, "processed": done})
    repaired = 0
    if repair:
        for gap in gaps:
            repaired += _repair(
                source=source,
                account=account,
                symbol=gap["symbol"],
                minute=datetime.fromisoformat(gap["minute"]),
                clickhouse_rows=gap["clickhouse"],
            )
    run = SignalAuditRun.objects.create(
        started_at=now,
        source=source,
        account=account,
        since=since,
        until=max(since, until),
        minutes_checked=minutes,
        missing_rows=sum(g["clickhouse"] - g["processed"] for g in gaps),
        gaps=gaps,
        repaired_rows=repaired,
    )
    if run.missing_rows:
        logger.warning("signals audit %s..%s: %d row(s) missing in %d minute(s)", since, until, run.missing_rows, len(gaps))
    return run
