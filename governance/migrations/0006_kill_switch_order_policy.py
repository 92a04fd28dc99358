"""The kill switch as the order gate applies it, in SQL: the gate (`trading_order_gate`) calls this in
the statement that holds the account's order lock, so the switch it obeys is the committed row, read
after the lock, at no extra round trip. The same mapping as `governance.killswitch.selectors.kill_switch_order_policy`
(tests hold the two to each other)."""

from django.db import migrations

_CREATE = r"""
CREATE FUNCTION governance_kill_switch_order_policy() RETURNS TABLE (allows text, reason text)
LANGUAGE sql STABLE AS $$
    -- No row: never engaged since install, which is active.
    SELECT CASE COALESCE(k.state, 'active') WHEN 'active' THEN 'all' WHEN 'reducing' THEN 'reducing' ELSE 'none' END,
           CASE COALESCE(k.state, 'active') WHEN 'active' THEN '' WHEN 'reducing' THEN 'kill_switch_reducing'
                WHEN 'halted' THEN 'kill_switch_halted' ELSE 'kill_switch_unreadable' END
    FROM (SELECT (SELECT state FROM governance_killswitch WHERE id = 1) AS state) k
$$;
"""

_DROP = "DROP FUNCTION IF EXISTS governance_kill_switch_order_policy();"


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0005_drillrun_fault"),
    ]

    operations = [migrations.RunSQL(sql=_CREATE, reverse_sql=_DROP)]
