"""Hypothesis over signal rows: bad-row classification never crashes and never stalls the cursor."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.signals import UNIVERSE, signal_row
from trading.signals.ingest import BAD_INDICATOR, FUTURE_TIMESTAMP, NULL_SYMBOL, OUTSIDE_UNIVERSE, batch_validate
from trading.signals.source import SignalColumns
from trading.signals.types import INDICATORS

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
symbol_values = st.sampled_from([*UNIVERSE, "", "   ", "\t", "XAAPL", "aapl", "ÄPFEL"]) | st.none()
indicator_values = st.sampled_from([math.nan, math.inf, -math.inf, 0.0]) | st.floats(-1e6, 1e6)
rows = st.lists(
    st.tuples(symbol_values, st.integers(-600, 3600), st.lists(indicator_values, min_size=len(INDICATORS), max_size=len(INDICATORS))),
    max_size=60,
)


def _columns(raw: list[tuple], *, unicode_symbols: bool) -> SignalColumns:
    ordered = sorted(
        ((offset, sym if sym is not None else "", i, values, sym) for i, (sym, offset, values) in enumerate(raw)),
        key=lambda r: (r[0], r[1], r[2]),
    )
    symbols = [r[1] if unicode_symbols else r[4] for r in ordered]
    ts_us = [((NOW + timedelta(seconds=r[0])) - EPOCH) // timedelta(microseconds=1) for r in ordered]
    return SignalColumns(
        symbols=np.array(symbols, dtype=str if unicode_symbols else object) if symbols else np.array([], dtype=object),
        ts_us=np.array(ts_us, dtype=np.int64),
        seqs=np.array([r[2] for r in ordered], dtype=np.int64),
        sources=np.array(["fuzz"] * len(ordered), dtype=object),
        window_sizes=np.array(["1s"] * len(ordered), dtype=object),
        indicators=np.array([r[3] for r in ordered], dtype=np.float64).reshape(len(ordered), len(INDICATORS)),
    )


@settings(max_examples=300, deadline=None, database=None)
@given(raw=rows, unicode_symbols=st.booleans(), tolerance=st.integers(0, 60))
def test_every_row_is_accepted_or_counted_once_and_the_cursor_passes_every_row_not_in_the_future(raw, unicode_symbols, tolerance):
    cols = _columns(raw, unicode_symbols=unicode_symbols)
    limit = NOW + timedelta(seconds=tolerance)
    result = batch_validate(cols, universe=frozenset(UNIVERSE), future_limit=limit)

    assert len(result.accepted) + sum(result.rejected.values()) == len(cols)
    assert set(result.rejected) <= {NULL_SYMBOL, BAD_INDICATOR, FUTURE_TIMESTAMP, OUTSIDE_UNIVERSE}
    limit_us = (limit - EPOCH) // timedelta(microseconds=1)
    future = int((cols.ts_us > limit_us).sum())
    assert result.rejected.get(FUTURE_TIMESTAMP, 0) == future
    passable = len(cols) - future
    if passable == 0:
        assert result.last_key is None
    else:
        # The cursor moves to the last row it may pass: a batch of bad rows never holds it in place.
        last = passable - 1
        assert (result.last_key.symbol, result.last_key.seq) == (str(cols.symbols[last]), int(cols.seqs[last]))
    for signal in result.accepted:
        assert signal.symbol in UNIVERSE
        assert all(math.isfinite(getattr(signal, name)) for name in INDICATORS)


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    raw=st.lists(st.tuples(symbol_values.filter(lambda s: s is not None), indicator_values), min_size=1, max_size=80),
    batch=st.integers(1, 25),
)
def test_polling_a_table_of_fuzzed_rows_reads_each_once_and_reaches_the_tail(raw, batch, signal_table, static_universe):
    from trading.signals.ingest import signals_ingest

    signal_table.truncate()
    now = datetime.now(UTC).replace(microsecond=0)
    table_rows = [signal_row(sym, now - timedelta(seconds=100 - i // 4), i, rsi14=value) for i, (sym, value) in enumerate(raw)]
    signal_table.insert(table_rows)
    source = f"fuzz-{uuid.uuid4().hex[:8]}"
    good = sum(1 for sym, value in raw if sym in UNIVERSE and math.isfinite(value))
    accepted = rejected = polls = 0
    # Each poll must pass at least one row: len(raw)/batch polls read everything, one more sees the tail.
    for _ in range(len(raw) // batch + 2):
        window = signals_ingest(source=source, account="paper", now=now, batch_size=batch)
        polls += 1
        accepted, rejected = accepted + window.rows_accepted, rejected + window.rows_rejected
        if window.rows_fetched == 0:
            break
    assert window.rows_fetched == 0, f"cursor still short of the tail after {polls} polls of {batch}"
    assert (accepted, rejected) == (good, len(raw) - good)
