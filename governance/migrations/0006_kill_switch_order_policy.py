"""The kill switch as the order gate applies it, in SQL: the gate (`trading_order_gate`) calls this in
the statement that holds the account's order lock, so the switch it obeys is the committed row, read
after the lock, at no extra round trip. The same mapping as `governance.selectors.kill_switch_order_policy`
(tests hold the two to each other)."""
from django.db import migrations

_CREATE = r"""
CREATE FUNCTION governance_kill_switch_order_policy(OUT allows text, OUT reason text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_state text;
BEGIN
    SELECT k.state INTO v_state FROM governance_killswitch k WHERE k.id = 1;
    IF NOT FOUND OR v_state = 'active' THEN
        allows := 'all'; reason := '';  -- never engaged since install is active
    ELSIF v_state = 'reducing' THEN
        allows := 'reducing'; reason := 'kill_switch_reducing';
    ELSIF v_state = 'halted' THEN
        allows := 'none'; reason := 'kill_switch_halted';
    ELSE
        allows := 'none'; reason := 'kill_switch_unreadable';
    END IF;
END
$$;
"""

_DROP = "DROP FUNCTION IF EXISTS governance_kill_switch_order_policy();"


class Migration(migrations.Migration):

    dependencies = [
        ("governance", "0005_drillrun_fault"),
    ]

    operations = [migrations.RunSQL(sql=_CREATE, reverse_sql=_DROP)]
