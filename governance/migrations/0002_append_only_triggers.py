"""Postgres triggers: the lane ledger and kill-switch history refuse UPDATE and DELETE, and the
kill-switch row refuses DELETE (TRUNCATE, used by test flushes, is not a row operation)."""

from django.db import migrations

_FUNCTION = """
CREATE OR REPLACE FUNCTION governance_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

_TRIGGERS = [
    ("governance_lanechange", "UPDATE OR DELETE"),
    ("governance_killswitchtransition", "UPDATE OR DELETE"),
    ("governance_killswitch", "DELETE"),
]


def _create() -> list[str]:
    return [_FUNCTION] + [
        f"CREATE TRIGGER {table}_append_only BEFORE {ops} ON {table} FOR EACH ROW EXECUTE FUNCTION governance_refuse_change();"
        for table, ops in _TRIGGERS
    ]


def _drop() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table, _ in _TRIGGERS] + [
        "DROP FUNCTION IF EXISTS governance_refuse_change();"
    ]


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_kill_switch_emergency_stop")]

    operations = [migrations.RunSQL(sql=_create(), reverse_sql=_drop())]
