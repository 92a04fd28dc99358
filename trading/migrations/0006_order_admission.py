"""The order gate and its admission interface move to trading/orders/sql/ (applied from the files):
the gate asks `trading_order_admission()`, which trading owns and which refuses every order until
governance plugs the kill switch into it (governance 0007)."""

from importlib import import_module
from pathlib import Path

from django.db import migrations

from torghut.core.sql import sql_file_operation

_SQL = Path(__file__).resolve().parent.parent / "orders" / "sql"
# Reversed, the gate asks governance's policy function again, as migration 0005 wrote it.
_GATE_0005 = import_module("trading.migrations.0005_order_gate")._CREATE.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


class Migration(migrations.Migration):
    dependencies = [
        ("trading", "0005_order_gate"),
    ]

    operations = [
        sql_file_operation(path=_SQL / "order_admission.sql", reverse_sql="DROP FUNCTION IF EXISTS trading_order_admission();"),
        sql_file_operation(path=_SQL / "order_gate.sql", reverse_sql=_GATE_0005),
    ]
