"""Run the project's ClickHouse statements on the 18.16 server and on current ClickHouse (chDB, in-process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.clickhouse.chdb_client import ChdbClient, ChdbSession
from torghut.core import clickhouse
from trading.signals import source as signal_source

BACKENDS = ("server", "chdb")


@pytest.fixture(scope="module")
def chdb_session(tmp_path_factory) -> Iterator[ChdbSession]:
    session = ChdbSession(str(tmp_path_factory.mktemp("chdb")))
    yield session
    session.close()


def _forget() -> None:
    # Both backends sit behind the same CLICKHOUSE_URL: cached column types and the tail probe are per backend.
    signal_source.forget_table_shape()
    signal_source.probe_forget()


@pytest.fixture
def on(chdb_session, settings) -> Callable:
    """`with on("server"):` / `with on("chdb"):` runs every project statement in the block on that backend."""
    settings.TRADING_SIGNAL_PROBE_CACHE_SECONDS = 0

    @contextmanager
    def use(backend: str) -> Iterator[None]:
        _forget()
        if backend == "server":
            clickhouse.reset_connections()
            yield
        else:
            sent = len(chdb_session.statements)
            with clickhouse.client_factory_use(
                lambda *, database, use_numpy: ChdbClient(chdb_session, database=database, use_numpy=use_numpy)
            ):
                yield
            assert len(chdb_session.statements) > sent, "the block sent nothing to chDB"
        _forget()

    return use
