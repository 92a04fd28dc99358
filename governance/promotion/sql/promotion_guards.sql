-- Postgres guards of promotion, so no code path (raw SQL, admin, API, a service) reaches live unapproved.
-- Request statuses only move forward (pending -> approved | rejected | expired, approved -> applied), a new
-- request starts pending, and the applying transaction id is stamped by Postgres.
CREATE OR REPLACE FUNCTION governance_promotion_request_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'pending' THEN
            RAISE EXCEPTION 'a promotion request starts pending, not %', NEW.status USING ERRCODE = 'check_violation';
        END IF;
        NEW.applied_txid := NULL;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT ((OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'expired'))
                OR (OLD.status = 'approved' AND NEW.status = 'applied')) THEN
            RAISE EXCEPTION 'promotion request % may not go from % to %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status = 'applied' THEN
            NEW.applied_txid := txid_current();
        END IF;
    ELSIF NEW.applied_txid IS DISTINCT FROM OLD.applied_txid THEN
        RAISE EXCEPTION 'applied_txid is set by Postgres only' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.strategy_id <> OLD.strategy_id OR NEW.version <> OLD.version OR NEW.to_lane <> OLD.to_lane
       OR NEW.requester <> OLD.requester OR NEW.requester_user_id IS DISTINCT FROM OLD.requester_user_id
       OR NEW.approvals_required <> OLD.approvals_required THEN
        RAISE EXCEPTION 'what a promotion request asks for cannot change' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER governance_promotionrequest_guard BEFORE INSERT OR UPDATE ON governance_promotionrequest
    FOR EACH ROW EXECUTE FUNCTION governance_promotion_request_guard();

-- A strategy row becomes `live` (insert, lane change or version change while live) only in the transaction
-- that set an approved request for that version to `applied`, whose checkpoint at approval passed and which
-- has its required approvals from members of `approvers` other than the requester (compared by user id, so a
-- renamed account cannot approve its own request).
CREATE OR REPLACE FUNCTION governance_strategy_live_guard() RETURNS trigger AS $$
BEGIN
    IF NEW.lane = 'live' AND (TG_OP = 'INSERT' OR OLD.lane IS DISTINCT FROM 'live' OR OLD.version IS DISTINCT FROM NEW.version) THEN
        IF TG_OP = 'INSERT' OR NOT EXISTS (
            SELECT 1 FROM governance_promotionrequest r
            WHERE r.strategy_id = NEW.id AND r.version = NEW.version AND r.to_lane = 'live'
              AND r.status = 'applied' AND r.applied_txid = txid_current()
              AND COALESCE((r.checkpoint_at_approval ->> 'passed')::boolean, false)
              AND (
                  SELECT count(DISTINCT a.approver_id)
                  FROM governance_approval a
                  JOIN auth_user u ON u.id = a.approver_id
                  JOIN auth_user_groups ug ON ug.user_id = u.id
                  JOIN auth_group g ON g.id = ug.group_id AND g.name = 'approvers'
                  WHERE a.request_id = r.id AND a.decision = 'approve' AND a.approver_id IS DISTINCT FROM r.requester_user_id
              ) >= r.approvals_required
        ) THEN
            RAISE EXCEPTION 'strategy % may not become live without an applied, approved promotion request', NEW.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER trading_strategy_live_guard BEFORE INSERT OR UPDATE ON trading_strategy
    FOR EACH ROW EXECUTE FUNCTION governance_strategy_live_guard();
