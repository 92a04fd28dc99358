-- Which orders may leave now, as the order gate (order_gate.sql) asks it: `allows` is 'all', 'reducing'
-- (exposure-reducing orders only) or 'none'; `reason` is what a refused order is told.
-- Trading owns the interface; governance replaces the body with the kill switch's answer
-- (governance/killswitch/sql/order_admission.sql). Until it does, no order passes.
CREATE OR REPLACE FUNCTION trading_order_admission() RETURNS TABLE (allows text, reason text)
LANGUAGE sql STABLE AS $$
    SELECT 'none'::text, 'kill_switch_unplugged'::text
$$;
