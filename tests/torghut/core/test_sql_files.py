"""The database holds what the shipped SQL files say: applying every `<package>/sql/*.sql` file again,
lower layers first (a higher layer's file may replace a lower one's function: it plugs into it),
changes no function and no trigger."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from torghut.core.sql import sql_file_apply, sql_file_statements, sql_function_definitions, sql_trigger_definitions

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
LAYERS = ("torghut", "trading", "research", "governance")
SQL_FILES = [path for layer in LAYERS for path in sorted((ROOT / layer).glob("**/sql/*.sql"))]


def _catalog() -> tuple[dict[str, str], dict[str, str]]:
    return sql_function_definitions(), sql_trigger_definitions()


def test_the_sql_files_are_shipped_and_every_statement_replaces_in_place():
    assert {path.relative_to(ROOT).as_posix() for path in SQL_FILES} >= {
        "trading/orders/sql/order_admission.sql",
        "trading/orders/sql/order_gate.sql",
        "governance/sql/append_only.sql",
        "governance/promotion/sql/promotion_guards.sql",
        "governance/killswitch/sql/order_admission.sql",
    }
    for path in SQL_FILES:
        statements = sql_file_statements(path)
        assert statements, path
        for statement in statements:
            assert "CREATE OR REPLACE " in statement.upper(), (path, statement)


def test_the_database_holds_what_every_sql_file_says():
    before = _catalog()
    with transaction.atomic():
        for path in SQL_FILES:
            sql_file_apply(path=path)
        after = _catalog()
        transaction.set_rollback(True)
    assert after == before


def test_the_comparison_sees_the_one_function_a_higher_layer_replaces():
    # Trading's fail-closed default differs from governance's body: applied alone, it shows as a change.
    before = _catalog()
    with transaction.atomic():
        sql_file_apply(path=ROOT / "trading" / "orders" / "sql" / "order_admission.sql")
        drifted = _catalog()
        transaction.set_rollback(True)
    assert drifted != before
    [changed] = [name for name in before[0] if before[0][name] != drifted[0][name]]
    assert changed == "trading_order_admission()"
