"""A bounded run of bench/load.py: 8k signals/s over 500 symbols, two ingest workers (TORGHUT_LOAD_SECONDS, 20 s here)."""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.timeout(300)]


def test_two_workers_ingest_8k_signals_a_second_over_500_symbols_exactly_once_with_lag_p99_under_5_s():
    from bench.load import LAG_P99_TARGET, load_run

    result, _source = load_run(seconds=float(os.environ.get("TORGHUT_LOAD_SECONDS", "20")))

    assert result.rows_failed == 0
    assert result.rows_in_clickhouse == result.rows_written > 0.9 * 8000 * result.seconds
    assert result.chain_breaks == []
    assert result.rows_accepted == result.rows_fetched == result.rows_in_clickhouse, result.reasons
    assert result.lag_p99 < LAG_P99_TARGET, f"lag p50 {result.lag_p50:.2f} s, p99 {result.lag_p99:.2f} s"
