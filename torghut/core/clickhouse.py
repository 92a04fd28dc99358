"""The one module that talks to ClickHouse.

Every query goes through `query()` (or `execute()` for DDL and inserts): parameterised by the driver,
named, timed into a histogram, counted on error, and mapped to project exceptions so callers never
see driver types. SQL sent from here must run on ClickHouse 18.16 and on current releases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors
from django.conf import settings

from torghut.core import metrics

QUERY_SECONDS = metrics.Histogram(
    "torghut_clickhouse_query_seconds",
    "ClickHouse query latency by query name.",
    ["query"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUERY_ERRORS = metrics.Counter(
    "torghut_clickhouse_query_errors_total", "ClickHouse query failures by query name and kind.", ["query", "kind"]
)
ERROR_KINDS = ("timeout", "unavailable", "query")
# Query names whose error counters this process already exported at 0 (see metrics.counter_labels_init).
_ERRORS_INITIALISED: set[str] = set()
# Server error codes: 159 TIMEOUT_EXCEEDED, 209 SOCKET_TIMEOUT, 210 NETWORK_ERROR.
_TIMEOUT_CODES = {159, 209}
_UNAVAILABLE_CODES = {210}


class ClickHouseError(Exception):
    """Base of the project's ClickHouse errors."""


class ClickHouseUnavailable(ClickHouseError):
    """The server could not be reached or the connection broke."""


class ClickHouseTimeout(ClickHouseError):
    """The query ran past max_execution_time or the socket timeout."""


class ClickHouseQueryError(ClickHouseError):
    """The server rejected the query (syntax, unknown table or column, type error)."""


@dataclass(frozen=True)
class ClickHouseTarget:
    host: str
    port: int
    database: str
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> ClickHouseTarget:
        parsed = urlparse(url)
        if parsed.scheme not in {"clickhouse", "clickhouses"}:
            raise ValueError(f"CLICKHOUSE_URL must start with clickhouse://, got {url!r}")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 9000,
            database=(parsed.path or "/").lstrip("/") or "default",
            user=unquote(parsed.username or "default"),
            password=unquote(parsed.password or ""),
        )


_local = threading.local()
# Makes the client every statement runs on; None is clickhouse-driver. Tests plug in a client that runs the
# same SQL text in chDB (current ClickHouse, in-process) through `client_factory_use`.
ClientFactory = Callable[..., Any]
_client_factory: ClientFactory | None = None


@contextmanager
def client_factory_use(factory: ClientFactory) -> Iterator[None]:
    """Run every statement of this process on `factory(database=..., use_numpy=...)` clients until the block ends.

    The client must answer `execute(sql, params, columnar=..., settings=...)` like clickhouse-driver's;
    statements, parameters, timing, counting and error mapping stay exactly as in production.
    """
    global _client_factory
    previous, _client_factory = _client_factory, factory
    try:
        yield
    finally:
        _client_factory = previous


def target() -> ClickHouseTarget:
    return ClickHouseTarget.from_url(settings.CLICKHOUSE_URL)


def _client(*, database: str | None = None, connect_timeout: float | None = None, use_numpy: bool = False) -> Client:
    tgt = target()
    if _client_factory is not None:
        return _client_factory(database=tgt.database if database is None else database, use_numpy=use_numpy)
    key = (tgt, database, connect_timeout, use_numpy)
    cached = getattr(_local, "clients", {})
    client = cached.get(key)
    if client is None:
        client = Client(
            host=tgt.host,
            port=tgt.port,
            database=tgt.database if database is None else database,
            user=tgt.user,
            password=tgt.password,
            connect_timeout=connect_timeout or settings.CLICKHOUSE_CONNECT_TIMEOUT,
            send_receive_timeout=settings.CLICKHOUSE_SEND_RECEIVE_TIMEOUT,
            sync_request_timeout=settings.CLICKHOUSE_CONNECT_TIMEOUT,
            # use_numpy is a client setting: it picks the result class that returns numpy arrays.
            settings={"max_execution_time": settings.CLICKHOUSE_MAX_EXECUTION_TIME, "use_numpy": use_numpy},
        )
        cached[key] = client
        _local.clients = cached
    return client


def reset_connections() -> None:
    """Drop this thread's cached clients (after a settings change in tests, or a broken socket)."""
    for client in getattr(_local, "clients", {}).values():
        try:
            client.disconnect()
        except Exception:  # already broken; nothing to release
            pass
    _local.clients = {}


@contextmanager
def _measured(name: str) -> Iterator[None]:
    if name not in _ERRORS_INITIALISED:
        metrics.counter_labels_init(QUERY_ERRORS, [{"query": name, "kind": kind} for kind in ERROR_KINDS])
        _ERRORS_INITIALISED.add(name)
    started = time.perf_counter()
    try:
        yield
    except ch_errors.ServerException as exc:
        kind = "timeout" if exc.code in _TIMEOUT_CODES else "unavailable" if exc.code in _UNAVAILABLE_CODES else "query"
        QUERY_ERRORS.labels(query=name, kind=kind).inc()
        if kind == "timeout":
            raise ClickHouseTimeout(f"{name}: {exc.message}") from exc
        if kind == "unavailable":
            reset_connections()
            raise ClickHouseUnavailable(f"{name}: {exc.message}") from exc
        raise ClickHouseQueryError(f"{name}: code {exc.code}: {exc.message.splitlines()[0] if exc.message else ''}") from exc
    except (ch_errors.SocketTimeoutError, TimeoutError) as exc:
        QUERY_ERRORS.labels(query=name, kind="timeout").inc()
        reset_connections()
        raise ClickHouseTimeout(f"{name}: socket timeout") from exc
    except (ch_errors.NetworkError, ch_errors.UnexpectedPacketFromServerError, EOFError, OSError) as exc:
        QUERY_ERRORS.labels(query=name, kind="unavailable").inc()
        reset_connections()
        raise ClickHouseUnavailable(f"{name}: {exc}") from exc
    except ch_errors.Error as exc:
        QUERY_ERRORS.labels(query=name, kind="query").inc()
        raise ClickHouseQueryError(f"{name}: {exc}") from exc
    finally:
        QUERY_SECONDS.labels(query=name).observe(time.perf_counter() - started)


def query(
    name: str,
    sql: str,
    params: dict[str, Any] | None = None,
    *,
    timeout: int | None = None,
    columnar: bool = False,
    use_numpy: bool = False,
    database: str | None = None,
    connect_timeout: float | None = None,
) -> list[tuple] | list[Sequence]:
    """Run a SELECT with client-side `%(name)s` parameters and return its rows (or columns)."""
    query_settings: dict[str, Any] = {"max_execution_time": timeout or settings.CLICKHOUSE_MAX_EXECUTION_TIME}
    with _measured(name):
        return _client(database=database, connect_timeout=connect_timeout, use_numpy=use_numpy).execute(
            sql, params or {}, columnar=columnar, settings=query_settings
        )


def execute(name: str, sql: str, params: Any = None, *, database: str | None = None) -> Any:
    """Run DDL or an INSERT (`params` may be a list of row tuples)."""
    with _measured(name):
        return _client(database=database).execute(sql, params) if params is not None else _client(database=database).execute(sql)


def ping(*, timeout: float) -> None:
    """Raise ClickHouseUnavailable unless `SELECT 1` answers within `timeout` seconds."""
    query("ping", "SELECT 1", database="default", connect_timeout=timeout, timeout=max(1, int(timeout)))


def ensure_database() -> None:
    execute("create_database", f"CREATE DATABASE IF NOT EXISTS {quote_identifier(target().database)}", database="default")


def quote_identifier(name: str) -> str:
    """Backquote a table, column or database name taken from settings (never from request input)."""
    if not name or "`" in name or "\x00" in name:
        raise ValueError(f"invalid ClickHouse identifier {name!r}")
    return ".".join(f"`{part}`" for part in name.split("."))
