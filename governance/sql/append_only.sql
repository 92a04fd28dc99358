-- Append-only tables: the lane ledger, kill-switch history, promotion approvals and the capital-ramp
-- ledger refuse UPDATE and DELETE; the kill-switch row refuses DELETE (TRUNCATE, used by test flushes,
-- is not a row operation).
CREATE OR REPLACE FUNCTION governance_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER governance_lanechange_append_only BEFORE UPDATE OR DELETE ON governance_lanechange
    FOR EACH ROW EXECUTE FUNCTION governance_refuse_change();
CREATE OR REPLACE TRIGGER governance_killswitchtransition_append_only BEFORE UPDATE OR DELETE ON governance_killswitchtransition
    FOR EACH ROW EXECUTE FUNCTION governance_refuse_change();
CREATE OR REPLACE TRIGGER governance_killswitch_append_only BEFORE DELETE ON governance_killswitch
    FOR EACH ROW EXECUTE FUNCTION governance_refuse_change();
CREATE OR REPLACE TRIGGER governance_approval_append_only BEFORE UPDATE OR DELETE ON governance_approval
    FOR EACH ROW EXECUTE FUNCTION governance_refuse_change();
CREATE OR REPLACE TRIGGER governance_capitalrampstep_append_only BEFORE UPDATE OR DELETE ON governance_capitalrampstep
    FOR EACH ROW EXECUTE FUNCTION governance_refuse_change();
