"""Postgres helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor


@contextmanager
def prepared_cursor() -> Iterator:
    """A Django cursor that binds parameters on the server, so psycopg prepares a statement it has run
    a few times on this connection and Postgres stops planning it on every call.

    For hand-written SQL run on every order; the ORM's SQL is built for client-side binding.
    """
    connection.ensure_connection()
    # _prepare_cursor wraps it as connection.cursor() would: query logging, execute wrappers, error mapping.
    cursor = connection._prepare_cursor(ServerBindingCursor(connection.connection))
    try:
        yield cursor
    finally:
        cursor.close()
