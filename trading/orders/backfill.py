"""Backfill of execution provenance: historical order rows become `Execution` rows tagged `backfill`.

Each batch is one set-based `INSERT ... SELECT` inside Postgres (no row crosses the wire), so it
runs at COPY-class speed; `ON CONFLICT DO NOTHING` on the client order id makes reruns no-ops
(a decision's own execution always carries its hash as client order id, so it wins the conflict).
Derivation rules, in SQL below: a missing actual adapter is read from the broker order id format
(`sim-` prefix: simulated; a UUID: Alpaca; anything else: the LEAN runner); a missing expected
adapter equals the actual one (no evidence of a fallback); when they differ the reason is
`fallback_from_<expected>_to_<actual>`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction

IMPORT_COLUMNS = (
    "client_order_id",
    "broker_order_id",
    "account",
    "symbol",
    "side",
    "expected_adapter",
    "actual_adapter",
    "quantity",
    "filled_quantity",
    "avg_fill_price",
    "status",
    "submitted_at",
    "filled_at",
)
_BATCH_SQL = """
INSERT INTO trading_execution (
    decision_id, client_order_id, broker_order_id, account, symbol, side, expected_adapter, actual_adapter, fallback_reason,
    fallback_count, route_tag, quantity, filled_quantity, avg_fill_price, status, decided_at, submitted_at, filled_at,
    error_category, error_detail, created_at, updated_at
)
SELECT s.decision_id, s.client_order_id, COALESCE(s.broker_order_id, ''), s.account, s.symbol, s.side, s.expected, s.actual,
       CASE WHEN s.expected <> s.actual THEN 'fallback_from_' || s.expected || '_to_' || s.actual ELSE '' END,
       CASE WHEN s.expected <> s.actual THEN 1 ELSE 0 END,
       'backfill', s.quantity, GREATEST(0, LEAST(s.filled_quantity, s.quantity)), s.avg_fill_price, s.status_out, s.decided_at,
       s.submitted_at, CASE WHEN s.status_out = 'filled' THEN COALESCE(s.filled_at, s.submitted_at) ELSE s.filled_at END,
       '', '', now(), now()
FROM (
    SELECT i.*, d.id AS decision_id, d.decided_at, COALESCE(NULLIF(i.expected_adapter, ''), a.actual) AS expected, a.actual,
           CASE
               WHEN i.status = 'filled' AND i.avg_fill_price IS NOT NULL AND COALESCE(i.filled_at, i.submitted_at) IS NOT NULL THEN 'filled'
               WHEN i.status IN ('submitted', 'partially_filled', 'canceled', 'rejected', 'expired') THEN i.status
               WHEN i.status IN ('new', 'accepted', 'pending_new') THEN 'submitted'
               ELSE 'unknown'
           END AS status_out
    FROM trading_executionimport i
    CROSS JOIN LATERAL (
        SELECT COALESCE(NULLIF(i.actual_adapter, ''),
                        CASE WHEN i.broker_order_id LIKE 'sim-%%' THEN 'simulated'
                             WHEN length(i.broker_order_id) = 36 AND i.broker_order_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN 'alpaca'
                             ELSE 'lean' END) AS actual
    ) a
    LEFT JOIN trading_decision d ON d.decision_hash = i.client_order_id
    WHERE i.id > %s AND i.id <= %s AND i.quantity > 0
    -- A fence: the adapter filter below stays out of the join's input, whose size Postgres then
    -- knows. Estimated through that filter it guessed 11 rows of 50,000 and joined the decisions
    -- by a nested loop over the whole (unanalysed) decision table, 50,000 times.
    OFFSET 0
) s
WHERE s.expected IN ('simulated', 'lean', 'alpaca') AND s.actual IN ('simulated', 'lean', 'alpaca')
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class BackfillResult:
    scanned: int
    inserted: int
    batches: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.inserted / self.seconds if self.seconds > 0 else 0.0


def execution_import_load_csv(*, path: Path) -> int:
    """COPY a CSV of historical orders (header: the import columns) into the import table."""
    columns = ", ".join(IMPORT_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor, path.open("rb") as source:
        with cursor.cursor.copy(f"COPY trading_executionimport ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true, NULL '')") as copy:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        return cursor.cursor.rowcount


def execution_provenance_backfill(*, batch_size: int = 50_000, progress: Callable[[str], None] | None = None) -> BackfillResult:
    """Turn every import row into a `backfill` execution with derived provenance; safe to rerun."""
    with connection.cursor() as cursor:
        # Fresh statistics: a just-loaded import table otherwise looks empty to the planner.
        cursor.execute("ANALYZE trading_executionimport")
        cursor.execute("SELECT COALESCE(min(id), 0), COALESCE(max(id), 0), count(*) FROM trading_executionimport")
        low, high, total = cursor.fetchone()
    started = time.perf_counter()
    inserted = batches = 0
    lower = low - 1
    while total and lower < high:
        upper = lower + batch_size
        with transaction.atomic(), connection.cursor() as cursor:
            # A batch lost to a crash is redone by the next (idempotent) run, so its commit need not wait for the disk.
            cursor.execute("SET LOCAL synchronous_commit TO off")
            cursor.execute(_BATCH_SQL, [lower, upper])
            added = max(cursor.rowcount, 0)
        inserted += added
        batches += 1
        lower = upper
        if progress:
            elapsed = time.perf_counter() - started
            progress(
                f"batch {batches}: ids <= {min(upper, high)} of {high}, +{added} rows ({inserted} new so far, "
                f"{inserted / elapsed if elapsed else 0:.0f} rows/s)"
            )
    return BackfillResult(scanned=total, inserted=inserted, batches=batches, seconds=time.perf_counter() - started)
