"""Current ClickHouse (chDB, in-process) behind the project's ClickHouse module, for the statement tests.

`ChdbClient` answers `execute(sql, params, columnar=, settings=)` like clickhouse-driver's `Client`, and
`torghut.core.clickhouse.client_factory_use` routes every statement of the project to it. A SELECT's
`%(name)s` parameters are substituted exactly as clickhouse-driver does client-side (`render`, the driver's
own escaping); an INSERT's row tuples, which the driver sends as native blocks, become a VALUES list of
literals. Results come back in the driver's shapes (rows as tuples; columns as numpy arrays with
`use_numpy`), and server errors as the driver's `ServerException` with ClickHouse's code, so the project's
timing, counting and error mapping run unchanged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
from chdb import session as chdb_session
from clickhouse_driver import errors as ch_errors
from clickhouse_driver.util.escape import escape_param, escape_params


class _ServerInfo:
    def get_timezone(self) -> str:
        return "UTC"


class _Context:
    """What the driver's escaping reads from a connection: the server time zone (UTC, like the test server)."""

    server_info = _ServerInfo()


CONTEXT = _Context()
_CODE = re.compile(r"Code: (\d+)\.")


def render(sql: str, params: dict[str, Any] | None) -> str:
    """The SQL text clickhouse-driver sends for `sql` with client-side `params` (Client.substitute_params)."""
    return sql % escape_params(params, CONTEXT) if params else sql


def _literal(value: Any) -> str:
    # Row values of an INSERT: the driver sends them natively (full precision), so datetimes keep their
    # fraction here; everything else is the driver's own literal.
    if isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return "'" + value.strftime("%Y-%m-%d %H:%M:%S.%f") + "'"
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, np.generic):
        return _literal(value.item())
    return str(escape_param(value, CONTEXT))


def insert_text(sql: str, rows: list) -> str:
    """`INSERT ... VALUES` with its rows as literals."""
    return sql.rstrip() + " " + ",".join("(" + ",".join(_literal(v) for v in row) + ")" for row in rows)


class ChdbSession:
    """One chDB session (its own data directory) shared by the clients of a test module."""

    def __init__(self, path: str) -> None:
        self.session = chdb_session.Session(path)
        self.database: str | None = None
        self.statements: list[str] = []

    def run(self, text: str, *, database: str) -> pa.Table | None:
        if database != self.database:
            self.session.query(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            self.session.query(f"USE `{database}`")
            self.database = database
        self.statements.append(text)
        try:
            result = self.session.query(text, "ArrowStream")
        except Exception as exc:  # chDB raises its own error type: give the driver's, with ClickHouse's code
            match = _CODE.search(str(exc))
            raise ch_errors.ServerException(str(exc), code=int(match.group(1)) if match else None) from exc
        raw = result.bytes() if result is not None else b""
        table = pa.ipc.open_stream(raw).read_all() if raw else None
        if table is not None and any(pa.types.is_uint32(f.type) for f in table.schema):
            table = self._datetimes(text, table)
        return table

    def _datetimes(self, text: str, table: pa.Table) -> pa.Table:
        # ClickHouse writes a DateTime as UInt32 seconds in Arrow; the driver gives datetimes: ask the types.
        described = self.session.query(f"DESCRIBE ({text})", "ArrowStream").bytes()
        types = pa.ipc.open_stream(described).read_all().column("type").to_pylist()
        columns = []
        for column, kind in zip(table.columns, types, strict=True):
            inner = kind.removeprefix("Nullable(").removeprefix("LowCardinality(")
            if inner == "DateTime" or inner.startswith("DateTime("):
                column = column.cast(pa.int64()).cast(pa.timestamp("s", tz="UTC"))
            columns.append(column)
        return pa.Table.from_arrays(columns, names=table.column_names)

    def close(self) -> None:
        self.session.close()


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_timestamp(column.type):
        # The driver's numpy columns carry naive UTC datetime64 values.
        return column.cast(pa.timestamp(column.type.unit)).to_numpy()
    if column.null_count and pa.types.is_floating(column.type):
        return np.array(column.to_pylist(), dtype=object)  # Nullable(Float64): objects with None, as the driver gives
    return column.to_numpy(zero_copy_only=False)


def _python(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo else value


class ChdbClient:
    """A clickhouse-driver `Client` stand-in that runs the statement text in a chDB session."""

    def __init__(self, session: ChdbSession, *, database: str, use_numpy: bool) -> None:
        self.session, self.database, self.use_numpy = session, database, use_numpy

    def execute(self, sql: str, params: Any = None, *, columnar: bool = False, settings: dict | None = None) -> Any:
        if isinstance(params, list | tuple) and sql.lstrip().upper().startswith("INSERT"):
            if not params:
                return 0
            self.session.run(insert_text(sql, list(params)), database=self.database)
            return len(params)
        table = self.session.run(render(sql, params), database=self.database)
        if table is None or not table.num_columns:
            return []
        if columnar:
            if not table.num_rows:
                return []
            if self.use_numpy:
                return [_numpy(col) for col in table.columns]
            return [tuple(_python(v) for v in col.to_pylist()) for col in table.columns]
        columns = [[_python(v) for v in col.to_pylist()] for col in table.columns]
        return list(zip(*columns, strict=True))

    def disconnect(self) -> None:
        pass
