"""Reading TA signal rows from ClickHouse: DDL, column-type detection, tuple-ordered fetch, tail probe.

The table may declare the event time as `DateTime` (ClickHouse 18.16, the dev/test DDL) or
`DateTime64(3)` (production). Cursor values are sent as string literals at the column's precision,
which both versions compare against the column without DateTime64 functions.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import redis
from django.conf import settings

from torghut.core import clickhouse
from trading.signals.types import INDICATORS

# Columns read besides the key columns, in Signal field order.
VALUE_COLUMNS = ("source", "window_size", *INDICATORS)


def ddl_statements(table: str | None = None) -> list[str]:
    """DDL of the dev/test `ta_signals` table; runs on ClickHouse 18.16 and on current releases."""
    name = clickhouse.quote_identifier(table or settings.TRADING_SIGNAL_TABLE)
    sym, ts, seq = (clickhouse.quote_identifier(c) for c in _key_columns())
    indicators = ",\n    ".join(f"{clickhouse.quote_identifier(c)} Float64" for c in INDICATORS)
    return [
        f"""CREATE TABLE IF NOT EXISTS {name} (
    {sym} String,
    {ts} DateTime('UTC'),
    {seq} UInt64,
    ingest_ts DateTime('UTC'),
    source String,
    window_size String,
    {indicators}
) ENGINE = MergeTree()
PARTITION BY toDate({ts})
ORDER BY ({sym}, {ts}, {seq})"""
    ]


def _key_columns() -> tuple[str, str, str]:
    return settings.TRADING_SIGNAL_SYMBOL_COLUMN, settings.TRADING_SIGNAL_TIME_COLUMN, settings.TRADING_SIGNAL_SEQ_COLUMN


@dataclass(frozen=True, slots=True)
class CursorKey:
    """A position in the (event_ts, symbol, seq) order; rows strictly after it are unread."""

    at: datetime
    symbol: str = ""
    seq: int = 0

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "symbol": self.symbol, "seq": self.seq}


@dataclass(frozen=True)
class TableShape:
    table: str
    time_precision: int  # 0 for DateTime, 3 for DateTime64(3)
    replacing: bool = False  # a (Replicated)ReplacingMergeTree: read with FINAL so each key comes once, newest version
    has_is_final: bool = False  # the production column set: provisional rows (is_final = 0) are never read

    @property
    def final(self) -> str:
        return " FINAL" if self.replacing else ""

    @property
    def final_only(self) -> str:
        return " AND `is_final` = 1" if self.has_is_final else ""


_shape_cache: dict[tuple[str, str, str], TableShape] = {}


def time_precision_of(column_type: str) -> int:
    """Fractional digits of a ClickHouse DateTime/DateTime64 type name (Nullable/LowCardinality unwrapped)."""
    inner = column_type
    for wrapper in ("Nullable(", "LowCardinality("):
        if inner.startswith(wrapper):
            inner = inner[len(wrapper) : -1]
    if inner.startswith("DateTime64("):
        return int(inner[len("DateTime64(") :].split(",")[0].split(")")[0].strip())
    if inner.startswith("DateTime"):
        return 0
    raise ValueError(f"event time column has type {column_type!r}, expected DateTime or DateTime64")


def table_shape() -> TableShape:
    """The signal table and its event-time precision, read once per process from system.columns."""
    table = settings.TRADING_SIGNAL_TABLE
    key = (settings.CLICKHOUSE_URL, table, settings.TRADING_SIGNAL_TIME_COLUMN)
    shape = _shape_cache.get(key)
    if shape is None:
        database, _, name = table.rpartition(".")
        rows = clickhouse.query(
            "signals_time_type",
            "SELECT type FROM system.columns WHERE database = %(db)s AND table = %(t)s AND name = %(c)s",
            {"db": database or clickhouse.target().database, "t": name, "c": settings.TRADING_SIGNAL_TIME_COLUMN},
        )
        if not rows:
            raise clickhouse.ClickHouseQueryError(f"signals_time_type: column {settings.TRADING_SIGNAL_TIME_COLUMN} of {table} not found")
        engine = clickhouse.query(
            "signals_table_engine",
            "SELECT engine FROM system.tables WHERE database = %(db)s AND name = %(t)s",
            {"db": database or clickhouse.target().database, "t": name},
        )
        final = clickhouse.query(
            "signals_is_final_column",
            "SELECT count() FROM system.columns WHERE database = %(db)s AND table = %(t)s AND name = 'is_final'",
            {"db": database or clickhouse.target().database, "t": name},
        )
        shape = TableShape(
            table=table,
            time_precision=time_precision_of(rows[0][0]),
            replacing=bool(engine) and engine[0][0].endswith("ReplacingMergeTree"),
            has_is_final=bool(final and final[0][0]),
        )
        _shape_cache[key] = shape
    return shape


_precision_cache: dict[tuple[str, str], int] = {}


def time_precision_for(table: str, column: str = "event_ts") -> int:
    """Fractional digits of `column` of any table with the signal layout (research's price tables), cached."""
    key = (settings.CLICKHOUSE_URL, f"{table}.{column}")
    if key not in _precision_cache:
        database, _, name = table.rpartition(".")
        rows = clickhouse.query(
            "signals_time_type",
            "SELECT type FROM system.columns WHERE database = %(db)s AND table = %(t)s AND name = %(c)s",
            {"db": database or clickhouse.target().database, "t": name, "c": column},
        )
        if not rows:
            raise clickhouse.ClickHouseQueryError(f"signals_time_type: column {column} of {table} not found")
        _precision_cache[key] = time_precision_of(rows[0][0])
    return _precision_cache[key]


def forget_table_shape() -> None:
    """Drop cached column types (after the table was re-created with another type)."""
    _shape_cache.clear()
    _precision_cache.clear()


def floor_to_precision(at: datetime, precision: int) -> datetime:
    """Cut a timestamp to what the column can hold, so a cursor never sits between two storable values."""
    micro = at.microsecond - at.microsecond % (10 ** (6 - precision)) if precision < 6 else at.microsecond
    return at.replace(microsecond=micro)


def time_literal(at: datetime, precision: int) -> str:
    """The UTC string a DateTime(precision 0) or DateTime64(precision) column compares against."""
    at = at.astimezone(UTC)
    text = at.strftime("%Y-%m-%d %H:%M:%S")
    if precision:
        text += "." + f"{at.microsecond:06d}"[:precision]
    return text


def as_utc(value: datetime) -> datetime:
    """Rows come back naive (in UTC, the column's zone) or aware depending on driver settings."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class SignalColumns:
    """A fetched batch, column by column, in (event_ts, symbol, seq) order."""

    symbols: np.ndarray
    ts_us: np.ndarray  # event time, microseconds since the epoch (UTC)
    seqs: np.ndarray
    sources: np.ndarray
    window_sizes: np.ndarray
    indicators: np.ndarray  # float64, one row per signal, columns in INDICATORS order; NULL -> NaN

    def __len__(self) -> int:
        return len(self.symbols)


@dataclass(frozen=True)
class ShardFilter:
    """Which symbols one ingest shard reads: its own (crc32 % shards == shard); shard 0 also reads
    every symbol outside the universe, so bad rows are still counted exactly once."""

    symbols: tuple[str, ...]
    universe: tuple[str, ...]
    first: bool


def shard_filter(*, universe: frozenset[str], shard: int, shards: int) -> ShardFilter | None:
    """None when there is a single shard (no filter). crc32 runs here: ClickHouse 18.16 lacks it."""
    if shards <= 1:
        return None
    mine = tuple(sorted(s for s in universe if zlib.crc32(s.encode()) % shards == shard))
    return ShardFilter(symbols=mine, universe=tuple(sorted(universe)), first=shard == 0)


def _fetch_sql(shard: ShardFilter | None, *, hold: bool = False, horizon: bool = False) -> str:
    q = clickhouse.quote_identifier
    sym, ts, seq = (q(c) for c in _key_columns())
    columns = ", ".join([sym, ts, seq, *(q(c) for c in VALUE_COLUMNS)])
    where = f"({ts} > %(at)s OR ({ts} = %(at)s AND ({sym} > %(sym)s OR ({sym} = %(sym)s AND {seq} > %(seq)s))))"
    if horizon:
        # The lateness re-read: rows after the horizon's start and at or before the cursor.
        where = f"{ts} > %(horizon_from)s AND ({ts} < %(at)s OR ({ts} = %(at)s AND ({sym} < %(sym)s OR ({sym} = %(sym)s AND {seq} <= %(seq)s))))"
    if hold:
        # Rows still settling are left for a later poll; rows stamped in the future are still read (and refused).
        where += f" AND NOT ({ts} > %(hold_from)s AND {ts} <= %(hold_until)s)"
    if shard is not None:
        parts = [f"{sym} IN %(shard_symbols)s"] if shard.symbols else []
        if shard.first:
            parts.append(f"{sym} NOT IN %(universe)s")
        where += f" AND ({' OR '.join(parts)})"
    shape = table_shape()
    limit = "" if horizon else " LIMIT %(limit)s"
    return f"SELECT {columns} FROM {q(shape.table)}{shape.final} WHERE {where}{shape.final_only} ORDER BY {ts}, {sym}, {seq}{limit}"


def settled_until(*, now: datetime, settle_seconds: float, precision: int) -> datetime:
    """The newest event time whose unit (10**-precision s) ended at least `settle_seconds` before `now`."""
    unit = timedelta(microseconds=10 ** (6 - precision)) if precision < 6 else timedelta(microseconds=1)
    return floor_to_precision(now - timedelta(seconds=settle_seconds) - unit, precision)


def fetch_raw(
    cursor: CursorKey,
    *,
    limit: int,
    shard: ShardFilter | None = None,
    hold: tuple[datetime, datetime] | None = None,
    horizon_from: datetime | None = None,
) -> list:
    """The driver's numpy columns of the rows strictly after `cursor` ([] when there are none); with
    `hold` = (from, until), rows stamped in (from, until] are left out. With `horizon_from`, instead every
    row stamped after it and at or before `cursor` (the lateness re-read, unlimited: the horizon bounds it)."""
    if shard is not None and not shard.symbols and not shard.first:
        return []
    precision = table_shape().time_precision
    params = {"at": time_literal(cursor.at, precision), "sym": cursor.symbol, "seq": int(cursor.seq), "limit": int(limit)}
    if hold is not None and horizon_from is None:
        params.update(hold_from=time_literal(hold[0], precision), hold_until=time_literal(hold[1], precision))
    if horizon_from is not None:
        params["horizon_from"] = time_literal(horizon_from, precision)
    if shard is not None:
        params.update(shard_symbols=shard.symbols, universe=shard.universe)  # tuples render as IN lists
    sql = _fetch_sql(shard, hold=hold is not None and horizon_from is None, horizon=horizon_from is not None)
    return clickhouse.query("signals_refetch_horizon" if horizon_from else "signals_fetch", sql, params, columnar=True, use_numpy=True)


def fetch_after(
    cursor: CursorKey,
    *,
    limit: int,
    shard: ShardFilter | None = None,
    hold: tuple[datetime, datetime] | None = None,
    horizon_from: datetime | None = None,
) -> SignalColumns | None:
    """Rows strictly after `cursor` in (event_ts, symbol, seq) order, as columns; None when there are none.
    With `horizon_from`: the rows in (horizon_from, cursor] instead (see `fetch_raw`)."""
    columns = fetch_raw(cursor, limit=limit, shard=shard, hold=hold, horizon_from=horizon_from)
    if not columns or not len(columns[0]):
        return None
    return _dedup(_columns(columns))


def fetch_symbol_range(*, symbol: str, start: datetime, end: datetime) -> SignalColumns | None:
    """Every row of `symbol` stamped in [start, end), newest versions only (the audit's repair)."""
    shape = table_shape()
    q = clickhouse.quote_identifier
    sym, ts, seq = (q(c) for c in _key_columns())
    columns = ", ".join([sym, ts, seq, *(q(c) for c in VALUE_COLUMNS)])
    rows = clickhouse.query(
        "signals_fetch_symbol_range",
        f"SELECT {columns} FROM {q(shape.table)}{shape.final} WHERE {sym} = %(sym)s AND {ts} >= %(start)s AND {ts} < %(end)s"
        f"{shape.final_only} ORDER BY {ts}, {sym}, {seq}",
        {"sym": symbol, "start": time_literal(start, shape.time_precision), "end": time_literal(end, shape.time_precision)},
        columnar=True,
        use_numpy=True,
    )
    if not rows or not len(rows[0]):
        return None
    return _dedup(_columns(rows))


def _float_column(col) -> np.ndarray:
    # Nullable(Float64) arrives as objects with None; NaN makes the row a counted bad_indicator.
    arr = np.asarray(col)
    if arr.dtype == object:
        return np.array([np.nan if v is None else v for v in arr.tolist()], dtype=np.float64)
    return arr.astype(np.float64, copy=False)


def _columns(columns: list) -> SignalColumns:
    symbols, event_ts, seqs, sources, window_sizes, *indicators = columns
    return SignalColumns(
        symbols=symbols,
        ts_us=np.asarray(event_ts).astype("datetime64[us]").astype(np.int64),
        seqs=np.asarray(seqs),
        sources=sources,
        window_sizes=window_sizes,
        indicators=np.column_stack([_float_column(col) for col in indicators]),
    )


def _dedup(cols: SignalColumns) -> SignalColumns:
    """One row per (event_ts, symbol, seq): un-merged versions of a key (a table read without FINAL) are
    adjacent in the read order, and the last one read is kept."""
    if len(cols) < 2:
        return cols
    same = (cols.ts_us[1:] == cols.ts_us[:-1]) & (cols.seqs[1:] == cols.seqs[:-1]) & (cols.symbols[1:] == cols.symbols[:-1])
    if not same.any():
        return cols
    keep = np.append(~same, True)
    return SignalColumns(
        symbols=cols.symbols[keep],
        ts_us=cols.ts_us[keep],
        seqs=cols.seqs[keep],
        sources=cols.sources[keep],
        window_sizes=cols.window_sizes[keep],
        indicators=cols.indicators[keep],
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_epoch_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


def last_row_key(*, not_after: datetime) -> CursorKey | None:
    """The key of the newest row stamped no later than `not_after` (where a rewound cursor goes)."""
    shape = table_shape()
    q = clickhouse.quote_identifier
    sym, ts, seq = (q(c) for c in _key_columns())
    rows = clickhouse.query(
        "signals_last_key",
        f"SELECT {ts}, {sym}, {seq} FROM {q(shape.table)} WHERE {ts} <= %(until)s ORDER BY {ts} DESC, {sym} DESC, {seq} DESC LIMIT 1",
        {"until": time_literal(not_after, shape.time_precision)},
    )
    if not rows:
        return None
    return CursorKey(at=as_utc(rows[0][0]), symbol=rows[0][1], seq=int(rows[0][2]))


def _probe_key() -> str:
    return f"torghut:signals:latest:{clickhouse.target().database}:{settings.TRADING_SIGNAL_TABLE}"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)


@dataclass(frozen=True)
class TailProbe:
    latest: datetime | None
    probed_at: float  # epoch seconds of the query that produced `latest`
    stale: bool  # True when the query failed and an older value is reused


def latest_event_ts(*, now: datetime) -> TailProbe:
    """max(event_ts) of rows not stamped in the future, cached ~30 s across processes (Redis).

    On a ClickHouse error the last cached value is reused (stale=True); with nothing cached the error
    propagates.
    """
    cache_seconds = settings.TRADING_SIGNAL_PROBE_CACHE_SECONDS
    cached = _probe_cached()
    if cached is not None and time.time() - cached.probed_at < cache_seconds:
        return cached
    q = clickhouse.quote_identifier
    ts = q(settings.TRADING_SIGNAL_TIME_COLUMN)
    until = now + timedelta(seconds=settings.TRADING_SIGNAL_FUTURE_TOLERANCE_SECONDS)
    try:
        shape = table_shape()
        rows = clickhouse.query(
            "signals_probe_latest",
            f"SELECT max({ts}), count() FROM {q(shape.table)} WHERE {ts} <= %(until)s",
            {"until": time_literal(until, shape.time_precision)},
        )
    except clickhouse.ClickHouseError:
        if cached is not None:
            return TailProbe(latest=cached.latest, probed_at=cached.probed_at, stale=True)
        raise
    latest = as_utc(rows[0][0]) if rows and rows[0][1] else None
    probe = TailProbe(latest=latest, probed_at=time.time(), stale=False)
    _probe_store(probe)
    return probe


def _probe_cached() -> TailProbe | None:
    try:
        raw = _redis().get(_probe_key())
    except redis.RedisError:
        return None
    if not raw:
        return None
    data = json.loads(raw)
    latest = datetime.fromisoformat(data["latest"]) if data["latest"] else None
    return TailProbe(latest=latest, probed_at=float(data["probed_at"]), stale=False)


def _probe_store(probe: TailProbe) -> None:
    try:
        _redis().set(_probe_key(), json.dumps({"latest": probe.latest.isoformat() if probe.latest else None, "probed_at": probe.probed_at}))
    except redis.RedisError:
        pass  # the probe still answers; it is only not shared


def probe_forget() -> None:
    """Drop the cached tail probe (tests and the simulator re-arrange the table)."""
    try:
        _redis().delete(_probe_key())
    except redis.RedisError:
        pass


def latest_prices(*, symbols: list[str], since: datetime) -> dict[str, float]:
    """The newest `vwap_w5m` per symbol among rows stamped after `since` (marks positions to market)."""
    if not symbols:
        return {}
    shape = table_shape()
    q = clickhouse.quote_identifier
    sym, ts, _ = (q(c) for c in _key_columns())
    rows = clickhouse.query(
        "signals_latest_prices",
        # `vwap_w5m > 0` also drops NULL (production's column is Nullable): the newest usable price wins.
        f"SELECT {sym}, argMax(vwap_w5m, {ts}) FROM {q(shape.table)} "
        f"WHERE {sym} IN %(symbols)s AND {ts} >= %(since)s AND vwap_w5m > 0 GROUP BY {sym}",
        {"symbols": tuple(symbols), "since": time_literal(since, shape.time_precision)},
    )
    return {symbol: float(price) for symbol, price in rows if price is not None and price == price and price > 0}
