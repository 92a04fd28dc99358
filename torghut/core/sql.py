"""SQL kept in files beside the package that owns it (`<package>/sql/*.sql`), every statement written
with CREATE OR REPLACE, so applying a file again changes nothing: a migration applies a file, a later
one applies it again when it changes, and a test holds the database to what the files say."""

from __future__ import annotations

from pathlib import Path

import sqlparse
from django.db import connection, migrations


def sql_file_statements(path: Path) -> list[str]:
    """The statements of the file at `path`, as written (dollar-quoted bodies and their comments kept)."""
    statements = sqlparse.split(Path(path).read_text())
    # A trailing comment splits off as a statement of its own; Postgres refuses an empty query.
    return [s for s in statements if sqlparse.format(s, strip_comments=True).strip()]


def sql_file_apply(*, path: Path) -> None:
    """Run the file at `path` on the default connection, in the caller's transaction."""
    with connection.cursor() as cursor:
        for statement in sql_file_statements(path):
            cursor.execute(statement)


def sql_file_operation(*, path: Path, reverse_sql: str | list[str] = migrations.RunSQL.noop) -> migrations.RunSQL:
    """The migration operation that applies the file at `path`."""
    return migrations.RunSQL(sql=sql_file_statements(path), reverse_sql=reverse_sql)


def sql_function_definitions() -> dict[str, str]:
    """Every function and procedure of the current schema, signature -> `pg_get_functiondef`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p "
            "WHERE p.pronamespace = current_schema()::regnamespace AND p.prokind IN ('f', 'p')"
        )
        return dict(cursor.fetchall())


def sql_trigger_definitions() -> dict[str, str]:
    """Every trigger a user created, `table.trigger` -> `pg_get_triggerdef`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgrelid::regclass::text || '.' || t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal"
        )
        return dict(cursor.fetchall())
