-- The kill switch's one state -> admission table: what each state lets out (`allows`: 'all', 'reducing'
-- or 'none', as trading_order_admission() returns it) and what a refused order is told. Any other
-- state, or none at all, fails closed. The order gate reads it through trading_order_admission() below;
-- governance.killswitch.selectors reads it for the state the Redis mirror holds.
CREATE OR REPLACE FUNCTION governance_kill_switch_admission(p_state text) RETURNS TABLE (allows text, reason text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(a.allows, 'none'), COALESCE(a.reason, 'kill_switch_unreadable')
    FROM (SELECT p_state AS state) s
    LEFT JOIN (VALUES ('active', 'all', ''),
                      ('reducing', 'reducing', 'kill_switch_reducing'),
                      ('halted', 'none', 'kill_switch_halted')) a (state, allows, reason) ON a.state = s.state
$$;

-- The committed switch; no row means never engaged since install, which is active.
CREATE OR REPLACE FUNCTION governance_kill_switch_state() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT state FROM governance_killswitch WHERE id = 1), 'active')
$$;

-- Plugs the switch into trading's admission interface (trading/orders/sql/order_admission.sql).
CREATE OR REPLACE FUNCTION trading_order_admission() RETURNS TABLE (allows text, reason text)
LANGUAGE sql STABLE AS $$
    SELECT a.allows, a.reason FROM governance_kill_switch_admission(governance_kill_switch_state()) a
$$;
