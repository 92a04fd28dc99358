-- The pre-trade gate: lock, risk checks and the `submitted` claim of one decision in one statement.
-- PL/pgSQL because each statement inside a volatile function reads a fresh snapshot: the book is read
-- after the account lock is held, so two workers of one account cannot both pass the rate and position
-- limits, and the whole gate is one round trip that commits by itself. `trading.orders.risk.decision_gate`
-- is its only caller. The limits come in as arguments (settings stay where they live); which orders may
-- leave is asked of `trading_order_admission()` (order_admission.sql) after the lock, so no order passes
-- once a halt has committed, at no round trip of its own.
-- An order planned for the simulator is filled here too, by the simulator's rule passed in as arguments
-- (`trading.orders.adapters.simulated.in_database_fill`): claim, execution row and fill commit together.
CREATE OR REPLACE FUNCTION trading_order_gate(
    p_decision_id bigint,
    p_max_order_notional numeric,
    p_max_position_notional numeric,
    p_max_orders_per_second integer,
    p_ttl_seconds double precision,
    p_fill_adapter text,           -- orders planned for this adapter are filled here; NULL: none are
    p_fill_slippage_bps numeric,   -- against the order, as `simulated_fill_price` (half away from zero)
    p_fill_order_prefix text       -- broker order id = prefix || client order id
) RETURNS TABLE (gate text, strategy_adapter text, decision trading_decision, execution trading_execution)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    d trading_decision;
    x trading_execution;
    v_now timestamptz;
    v_position numeric;
    v_after numeric;
    v_reduces boolean;
    v_reason text := '';
    v_kill_allows text;
    v_kill_reason text;
    v_opposite_open boolean;
    v_recent bigint;
BEGIN
    -- One account's orders pass the gate one at a time; the statements below see what the previous one committed.
    PERFORM pg_advisory_xact_lock(hashtext('torghut-orders:' || t.account)) FROM trading_decision t WHERE t.id = p_decision_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO d FROM trading_decision t WHERE t.id = p_decision_id FOR UPDATE;
    IF d.expected_adapter = '' THEN
        -- Planned without a route (not by a strategy run): the caller routes by the strategy's override.
        SELECT s.parameters ->> 'adapter' INTO strategy_adapter FROM trading_strategy s WHERE s.id = d.strategy_id;
    END IF;
    IF d.status <> 'planned' THEN
        gate := 'not_planned'; decision := d; RETURN NEXT; RETURN;
    END IF;
    v_now := clock_timestamp();
    IF v_now - d.decided_at > p_ttl_seconds * interval '1 second' THEN
        -- The signal behind it is old news; trading on it now would be a different decision.
        UPDATE trading_decision t SET status = 'expired', reject_reason = 'decision_stale', updated_at = v_now
        WHERE t.id = d.id RETURNING t.* INTO d;
        gate := 'expired'; decision := d; RETURN NEXT; RETURN;
    END IF;

    -- The book and the switch in one read: position, an open order on the other side, orders in the last second.
    SELECT p.position, k.allows, k.reason, o.open, r.recent INTO v_position, v_kill_allows, v_kill_reason, v_opposite_open, v_recent
    FROM (SELECT COALESCE(SUM(CASE WHEN e.side = 'buy' THEN e.filled_quantity ELSE -e.filled_quantity END), 0) AS position
          FROM trading_execution e WHERE e.account = d.account AND e.symbol = d.symbol) p,
         trading_order_admission() k,
         (SELECT EXISTS (SELECT 1 FROM trading_decision o
                         WHERE o.account = d.account AND o.symbol = d.symbol AND o.status = 'submitted'
                           AND o.side = CASE WHEN d.side = 'buy' THEN 'sell' ELSE 'buy' END AND o.id <> d.id) AS open) o,
         (SELECT count(*) AS recent FROM trading_decision r
          WHERE r.account = d.account AND r.submitted_at >= v_now - interval '1 second') r;
    v_after := v_position + CASE WHEN d.side = 'buy' THEN d.quantity ELSE -d.quantity END;
    v_reduces := abs(v_after) < abs(v_position);

    IF COALESCE(v_kill_allows, '') NOT IN ('all', 'reducing') OR (v_kill_allows = 'reducing' AND NOT v_reduces) THEN
        v_reason := COALESCE(NULLIF(v_kill_reason, ''), 'kill_switch_unreadable');
    ELSIF d.quantity * d.price > p_max_order_notional THEN
        v_reason := 'max_order_notional';
    ELSIF NOT v_reduces AND abs(v_after) * d.price > p_max_position_notional THEN
        v_reason := 'max_position';
    ELSIF v_opposite_open THEN
        v_reason := 'opposite_side_open_order';
    ELSIF v_recent >= p_max_orders_per_second THEN
        v_reason := 'orders_per_second';
    END IF;

    IF v_reason <> '' THEN
        UPDATE trading_decision t SET status = 'rejected', reject_reason = v_reason, updated_at = v_now
        WHERE t.id = d.id RETURNING t.* INTO d;
        gate := 'rejected'; decision := d; RETURN NEXT; RETURN;
    END IF;
    IF p_fill_adapter IS NOT NULL AND d.expected_adapter = p_fill_adapter AND d.lane <> 'live' THEN
        WITH filled AS (
            INSERT INTO trading_execution AS e (
                decision_id, client_order_id, broker_order_id, account, symbol, side, expected_adapter, actual_adapter,
                fallback_reason, fallback_count, route_tag, quantity, filled_quantity, avg_fill_price, status,
                decided_at, submitted_at, filled_at, error_category, error_detail, created_at, updated_at)
            VALUES (
                d.id, d.decision_hash, p_fill_order_prefix || d.decision_hash, d.account, d.symbol, d.side, d.expected_adapter, d.expected_adapter,
                '', 0, 'live', d.quantity, d.quantity,
                round(d.price * (1 + (CASE WHEN d.side = 'buy' THEN 1 ELSE -1 END) * p_fill_slippage_bps / 10000), 6), 'filled',
                d.decided_at, v_now, v_now, '', '', v_now, v_now)
            ON CONFLICT DO NOTHING
            RETURNING e.*
        ), decided AS (
            UPDATE trading_decision t SET status = 'filled', submitted_at = v_now, updated_at = v_now
            WHERE t.id = d.id AND EXISTS (SELECT 1 FROM filled)
        )
        SELECT * INTO x FROM filled;
        IF FOUND THEN
            gate := 'filled'; execution := x; RETURN NEXT; RETURN;  -- the fill says all the caller needs
        END IF;
        -- The order has a row already (reconciliation's): the router path records onto it.
    END IF;
    UPDATE trading_decision t SET status = 'submitted', submitted_at = v_now, updated_at = v_now
    WHERE t.id = d.id RETURNING t.* INTO d;
    gate := 'claimed'; decision := d; RETURN NEXT;
END
$$;
