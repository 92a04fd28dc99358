"""ClickHouse DDL of the trading app, applied by `manage.py clickhouse_migrate`."""

from __future__ import annotations

from trading.signals.source import ddl_statements


def statements() -> list[str]:
    return ddl_statements()
