"""Governance's SQL moves to files beside its owners, applied from them: the append-only triggers
(governance/sql), the promotion guards (governance/promotion/sql) and the kill switch's one
state -> admission table, plugged into trading's `trading_order_admission()` (governance/killswitch/sql).
`governance_kill_switch_order_policy()`, whose only caller was the order gate, is dropped."""

from importlib import import_module
from pathlib import Path

from django.db import migrations

from torghut.core.sql import sql_file_operation, sql_file_statements

_GOVERNANCE = Path(__file__).resolve().parent.parent
_TRADING_ADMISSION = _GOVERNANCE.parent / "trading" / "orders" / "sql" / "order_admission.sql"
_POLICY_0006 = import_module("governance.migrations.0006_kill_switch_order_policy")


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0006_kill_switch_order_policy"),
        ("trading", "0006_order_admission"),
    ]

    operations = [
        sql_file_operation(path=_GOVERNANCE / "sql" / "append_only.sql"),
        sql_file_operation(path=_GOVERNANCE / "promotion" / "sql" / "promotion_guards.sql"),
        sql_file_operation(
            path=_GOVERNANCE / "killswitch" / "sql" / "order_admission.sql",
            # Reversed, trading's fail-closed default is back until the policy function below is.
            reverse_sql=sql_file_statements(_TRADING_ADMISSION)
            + [
                "DROP FUNCTION IF EXISTS governance_kill_switch_state();",
                "DROP FUNCTION IF EXISTS governance_kill_switch_admission(text);",
            ],
        ),
        migrations.RunSQL(sql=_POLICY_0006._DROP, reverse_sql=_POLICY_0006._CREATE),
    ]
