"""Every statement the project sends ClickHouse, on the 18.16 server and on current ClickHouse (chDB 26.x).

Each scenario runs the project's own functions (DDL, ingest fetch and tail probe, the lateness re-read,
shards, last key, audit counts, prices, research windows, the success-criteria insert) once per backend
and compares the answers where both can hold the table; the production shape with `DateTime64(3, 'UTC')`
and `LowCardinality(String)` runs on current ClickHouse only (18.16 has neither without experimental
settings), against expected values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.management import call_command

from research import clickhouse_ddl as research_ddl
from research import prices as research_prices
from research import simulation
from tests.clickhouse.chdb_client import CONTEXT, render
from tests.clickhouse.conftest import BACKENDS
from tests.signals import COLUMNS, signal_row
from torghut.core import clickhouse
from torghut.devstack.simulator import MarketSimulator
from trading.signals import audit
from trading.signals import source as signal_source
from trading.signals.audit import signals_audit
from trading.signals.ingest import signals_ingest
from trading.signals.source import CursorKey, shard_filter
from trading.signals.types import INDICATORS

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
S = timedelta(seconds=1)
RSI = INDICATORS.index("rsi14")
TABLE = "ch_statements"


def _prod_ddl(table: str, *, current: bool) -> str:
    """The production column set; `current` uses the types only current ClickHouse has."""
    ts = "DateTime64(3, 'UTC')" if current else "DateTime('UTC')"
    symbol = "LowCardinality(String)" if current else "String"
    indicators = ", ".join(f"{name} Nullable(Float64)" for name in INDICATORS)
    return (
        f"CREATE TABLE {table} (symbol {symbol}, event_ts {ts}, seq UInt64, ingest_ts {ts}, source String, window_size String, "
        f"is_final UInt8 DEFAULT 1, version UInt64 DEFAULT 0, window_start {ts} DEFAULT event_ts, window_end {ts} DEFAULT event_ts, "
        f"{indicators}) ENGINE = ReplacingMergeTree(ingest_ts) PARTITION BY toDate(event_ts) ORDER BY (symbol, event_ts, seq)"
    )


def _create(table: str, shape: str) -> None:
    clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {table}")
    statements = signal_source.ddl_statements(table) if shape == "dev" else [_prod_ddl(table, current=shape == "prod_current")]
    for statement in statements:
        clickhouse.execute("test_ddl", statement)
    clickhouse.execute("test_stop_merges", f"SYSTEM STOP MERGES {table}")


def _insert(table: str, rows: list[tuple], *, prod: bool, ingest_ts: datetime | None = None, is_final: int = 1) -> None:
    if prod:
        rows = [(*r[:3], ingest_ts or r[3], *r[4:], is_final) for r in rows]
    columns = ", ".join((*COLUMNS, "is_final") if prod else COLUMNS)
    clickhouse.execute("test_insert", f"INSERT INTO {table} ({columns}) VALUES", rows)
    signal_source.probe_forget()


def _keys(cols) -> list | None:
    if cols is None:
        return None
    return [
        (str(s), int(t), int(q), float(r)) for s, t, q, r in zip(cols.symbols, cols.ts_us, cols.seqs, cols.indicators[:, RSI], strict=True)
    ]


def _us(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def _ingest_answers() -> dict:
    """The answers of every ingest-side read on the configured table."""
    shape = signal_source.table_shape()
    fetch = signal_source.fetch_after
    return {
        "shape": (shape.time_precision, shape.replacing, shape.has_is_final),
        "all": _keys(fetch(CursorKey(at=T0 - S), limit=1000)),
        "page": _keys(fetch(CursorKey(at=T0 + S, symbol="AAPL", seq=2), limit=2)),
        "held": _keys(fetch(CursorKey(at=T0 - S), limit=1000, hold=(T0 + S, T0 + timedelta(hours=1)))),
        "horizon": _keys(fetch(CursorKey(at=T0 + 2 * S, symbol="AAPL", seq=3), limit=1, horizon_from=T0)),
        "shard": _keys(
            fetch(CursorKey(at=T0 - S), limit=1000, shard=shard_filter(universe=frozenset({"AAPL", "MSFT"}), shard=0, shards=2))
        ),
        "last_key": signal_source.last_row_key(not_after=T0 + S),
        "probe": signal_source.latest_event_ts(now=T0 + timedelta(hours=1)).latest,
        "prices": signal_source.latest_prices(symbols=["AAPL", "MSFT", "NVDA"], since=T0),
        "range": _keys(signal_source.fetch_symbol_range(symbol="AAPL", start=T0, end=T0 + 2 * S)),
        "audit": audit._clickhouse_counts(since=T0, until=T0 + timedelta(minutes=10)),
    }


def test_parameters_are_rendered_exactly_as_clickhouse_driver_renders_them(on):
    params = {
        "text": "it's a \\ back'slash",
        "n": 42,
        "x": 1.5,
        "symbols": ("AAPL", "BRK.B", "O'NEIL"),
        "at": "2026-03-02 14:30:00.999",
        "naive": datetime(2026, 3, 2, 14, 30, 1),
        "aware": datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC) + timedelta(hours=5),
        "none": None,
    }
    sql = "SELECT %(text)s, %(n)s, %(x)s, %(symbols)s, %(at)s, %(naive)s, %(aware)s, %(none)s"
    with on("server"):
        client = clickhouse._client()
        client.connection.force_connect()
        assert client.connection.server_info.get_timezone() in ("UTC", "Etc/UTC") and CONTEXT.server_info.get_timezone() == "UTC"
        assert render(sql, params) == client.substitute_params(sql, params, client.connection.context)


@pytest.mark.django_db
def test_the_project_ddl_applies_on_both(on):
    for backend in BACKENDS:
        with on(backend):
            call_command("clickhouse_migrate")
            types = dict(
                clickhouse.query(
                    "test_columns",
                    "SELECT name, type FROM system.columns WHERE database = %(db)s AND table = 'ta_signals'",
                    {"db": clickhouse.target().database},
                )
            )
            assert types["event_ts"] == "DateTime('UTC')" and types["seq"] == "UInt64", backend
            assert signal_source.table_shape().time_precision == 0


@pytest.mark.parametrize("shape", ["dev", "prod_1816"])
def test_ingest_reads_answer_the_same_on_18_16_and_current_clickhouse(on, settings, shape):
    settings.TRADING_SIGNAL_TABLE = TABLE
    prod = shape != "dev"
    answers = {}
    for backend in BACKENDS:
        with on(backend):
            _create(TABLE, shape)
            base = [signal_row(sym, T0 + i * S, i + 1, rsi14=40.0 + i) for i in range(3) for sym in ("AAPL", "MSFT")]
            _insert(TABLE, [*base, signal_row("BAD", T0 + S, 1), signal_row("NVDA", T0 + 3 * S, 4, vwap_w5m=0.0)], prod=prod)
            if prod:
                # Three versions of one key in three parts (merges stopped), and a provisional row never made final.
                for version in range(3):
                    _insert(
                        TABLE, [signal_row("AAPL", T0, 1, rsi14=10.0 + version)], prod=True, ingest_ts=T0 + timedelta(minutes=version + 1)
                    )
                _insert(TABLE, [signal_row("MSFT", T0 + 4 * S, 9, vwap_w5m=None)], prod=True, is_final=0)
                _insert(TABLE, [signal_row("AAPL", T0 + 4 * S, 9, vwap_w5m=None)], prod=True)
            answers[backend] = _ingest_answers()
            clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {TABLE}")

    assert answers["server"] == answers["chdb"]
    got = answers["chdb"]
    assert got["shape"] == (0, prod, prod)
    aapl_first = [k for k in got["all"] if k[:3] == ("AAPL", _us(T0), 1)]
    assert aapl_first == [("AAPL", _us(T0), 1, 12.0 if prod else 40.0)], "one row per key, the newest version"
    assert ("MSFT", _us(T0 + 4 * S), 9) not in [k[:3] for k in got["all"]], "a provisional row is never read"
    assert [k[:3] for k in got["page"]] == [("BAD", _us(T0 + S), 1), ("MSFT", _us(T0 + S), 2)]
    assert got["held"] and all(k[1] <= _us(T0 + S) for k in got["held"]), "rows still settling are left for later"
    assert [k[:3] for k in got["horizon"]][-1] == ("AAPL", _us(T0 + 2 * S), 3)
    mine = set(shard_filter(universe=frozenset({"AAPL", "MSFT"}), shard=0, shards=2).symbols)
    assert {k[0] for k in got["shard"]} == mine | {"BAD", "NVDA"}, "shard 0 reads its symbols and every one outside the universe"
    assert got["last_key"] == CursorKey(at=T0 + S, symbol="MSFT", seq=2)
    assert got["probe"] == T0 + (4 if prod else 3) * S
    assert got["prices"] == {"AAPL": 100.0 + 3 % 7, "MSFT": 100.0 + 3 % 7}, "NULL and zero prices are skipped"
    assert got["audit"][("AAPL", T0)] == (4 if prod else 3)


def test_the_current_production_shape_reads_every_millisecond(on, settings):
    settings.TRADING_SIGNAL_TABLE = TABLE
    step = timedelta(milliseconds=50)
    rows = []
    for i in range(220):  # 20 rows a second for 11 s: the last second of the window holds 20 of them
        at = T0 + i * step
        row = signal_row("AAPL", T0, i, rsi14=float(i))
        rows.append((row[0], at, i, at, *row[4:]))
    with on("chdb"):
        _create(TABLE, "prod_current")
        _insert(TABLE, rows[:110], prod=True)
        _insert(TABLE, rows[110:], prod=True)
        _insert(TABLE, [(*rows[219][:3], T0 + timedelta(minutes=5), *rows[219][4:])], prod=True)  # a second version
        null_last = signal_row("AAPL", T0, 500, vwap_w5m=None)
        _insert(TABLE, [(null_last[0], T0 + 11 * S, 500, T0 + 11 * S, *null_last[4:])], prod=True)

        shape = signal_source.table_shape()
        everything = signal_source.fetch_after(CursorKey(at=T0 - S), limit=10_000)
        page = signal_source.fetch_after(CursorKey(at=T0 + timedelta(milliseconds=5_450), symbol="AAPL", seq=109), limit=3)
        late = signal_source.fetch_after(
            CursorKey(at=T0 + 10 * S, symbol="AAPL", seq=200), limit=0, horizon_from=T0 + timedelta(milliseconds=9_900)
        )
        window = simulation.window_columns(table=TABLE, start=T0, end=T0 + 11 * S, columns=("vwap_w5m",))
        symbols = simulation.expected_symbols(table=TABLE, since=T0, end=T0 + 11 * S)
        counts = audit._clickhouse_counts(since=T0, until=T0 + timedelta(minutes=1))
        probe = signal_source.latest_event_ts(now=T0 + timedelta(hours=1)).latest
        last = signal_source.last_row_key(not_after=T0 + timedelta(milliseconds=5_525))
        prices = signal_source.latest_prices(symbols=["AAPL"], since=T0)
        clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {TABLE}")

    assert (shape.time_precision, shape.replacing, shape.has_is_final) == (3, True, True)
    assert len(everything) == 221 and len(set(everything.ts_us.tolist())) == 221, "FINAL: the second version is one row"
    assert everything.ts_us[219] == _us(T0 + 219 * step)
    assert page.seqs.tolist() == [110, 111, 112] and page.ts_us[0] == _us(T0 + timedelta(milliseconds=5_500))
    assert late.seqs.tolist() == [199, 200], "the re-read holds the rows in (horizon start, cursor]"
    # Research reads without FINAL (its simulation keeps one copy of a key): 220 keys, one of them twice.
    assert len(np.unique(window["event_ts"])) == 220, "string bounds keep the last second of a DateTime64(3) window"
    assert window["event_ts"].astype("datetime64[ms]")[-1] == np.datetime64("2026-03-02T14:30:10.950")
    assert symbols == {"AAPL"}
    assert counts == {("AAPL", T0): 221}
    assert probe == T0 + 11 * S
    assert last == CursorKey(at=T0 + timedelta(milliseconds=5_500), symbol="AAPL", seq=110)
    assert prices == {"AAPL": 100.0 + 219 % 7}, "the newest non-NULL price"


def test_research_prices_load_and_window_reads_answer_the_same_on_both(on):
    table = "ch_research_prices"
    answers = {}
    for backend in BACKENDS:
        with on(backend):
            clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {table}")
            clickhouse.execute("research_prices_ddl", research_ddl.signal_table_ddl(table))
            loaded = research_prices.prices_load(table=table, symbols=("AAPL", "IBM"), ingest_ts=T0)
            start, end = datetime(2010, 1, 1, tzinfo=UTC), datetime(2011, 1, 1, tzinfo=UTC)
            window = simulation.window_columns(table=table, start=start, end=end, columns=("vwap_w5m", "rsi14"))
            answers[backend] = {
                "loaded": loaded,
                "rows": len(window["symbol"]),
                "first": (str(window["symbol"][0]), str(window["event_ts"][0])[:19]) if len(window["symbol"]) else None,
                "vwap": round(float(np.nansum(np.asarray(window["vwap_w5m"], dtype=np.float64))), 6),
                "symbols": simulation.expected_symbols(table=table, since=start, end=end),
            }
            clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {table}")
    assert answers["server"] == answers["chdb"]
    assert answers["chdb"]["rows"] > 0


@pytest.mark.django_db
def test_a_simulated_stream_ingests_and_audits_the_same_on_both(on, settings):
    table = "ch_success_stream"
    names = ["SC00", "SC01", "SC02"]
    settings.TRADING_SIGNAL_TABLE = table
    settings.TRADING_UNIVERSE_SOURCE = "static"
    settings.TRADING_UNIVERSE_STATIC_SYMBOLS = names
    settings.TRADING_INGEST_SHARDS = 1
    # The success-criteria insert: the simulator's rows in the order torghut/console/success.py writes them.
    insert = f"INSERT INTO {table} (symbol, event_ts, seq, ingest_ts, source, window_size, {', '.join(INDICATORS)}) VALUES"
    start = T0 - timedelta(seconds=90)
    answers = {}
    for backend in BACKENDS:
        settings.TRADING_SIGNAL_SOURCE = settings.TRADING_ACCOUNT = f"ch-{backend}"
        with on(backend):
            clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {table}")
            for statement in signal_source.ddl_statements(table):
                clickhouse.execute("success_ddl", statement)
            simulator = MarketSimulator(symbols=names, seed=7)
            for block in range(9):  # ten seconds of ticks per insert, as success.py writes a poll interval
                rows = [row for k in range(10) for row in simulator.tick(at=start + (block * 10 + k) * S)]
                clickhouse.execute("success_insert", insert, rows)
            signal_source.probe_forget()
            windows = [
                signals_ingest(source=f"ch-{backend}", account=f"ch-{backend}", now=T0 + k * 5 * S, batch_size=200) for k in range(3)
            ]
            run = signals_audit(since=start - timedelta(minutes=1), now=T0 + timedelta(minutes=30))
            answers[backend] = {
                "windows": [(w.reason, w.rows_fetched, w.rows_accepted, w.rows_late, w.rows_too_late, w.cursor_after) for w in windows],
                "audit": (run.minutes_checked, run.missing_rows),
            }
            clickhouse.execute("test_drop", f"DROP TABLE IF EXISTS {table}")
    assert answers["server"] == answers["chdb"]
    assert sum(w[2] for w in answers["chdb"]["windows"]) == 270
    assert answers["chdb"]["audit"][0] >= 1 and answers["chdb"]["audit"][1] == 0
