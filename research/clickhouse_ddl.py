"""ClickHouse DDL of the research app: the table real prices are loaded into.

It has the `ta_signals` column layout (DESIGN §2, `DateTime` so it also runs on 18.16), so a paper
simulation reads it exactly as it reads the production signal table. Partitioned by year so that one
insert of 13 years of daily bars stays under ClickHouse's partitions-per-insert limit.
"""

from __future__ import annotations

from django.conf import settings

from torghut.core.clickhouse import quote_identifier
from trading.signals.types import INDICATORS


def signal_table_ddl(table: str) -> str:
    """CREATE TABLE for a table with the ta_signals layout, named `table` (a setting, never input)."""
    indicators = ",\n    ".join(f"{name} Float64" for name in INDICATORS)
    return (
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(table)} (\n"
        "    symbol String,\n"
        "    event_ts DateTime('UTC'),\n"
        "    seq UInt64,\n"
        "    ingest_ts DateTime('UTC'),\n"
        "    source String,\n"
        "    window_size String,\n"
        f"    {indicators}\n"
        ") ENGINE = ReplacingMergeTree(ingest_ts)\n"
        "PARTITION BY toYear(event_ts)\n"
        "ORDER BY (symbol, event_ts, seq)"
    )


def statements() -> list[str]:
    return [signal_table_ddl(settings.RESEARCH_PRICES_TABLE)]
