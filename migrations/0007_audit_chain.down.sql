DROP TRIGGER config_changes_audit_archive ON tradedesk.config_changes;
DROP TRIGGER config_changes_audit_seal ON tradedesk.config_changes;
DROP TRIGGER config_changes_zz_audit_link ON tradedesk.config_changes;
DROP TRIGGER decision_history_audit_archive ON public.decision_history;
DROP TRIGGER decision_history_audit_seal ON public.decision_history;
DROP TRIGGER decision_history_zz_audit_link ON public.decision_history;
DROP FUNCTION tradedesk.tradedesk_audit_archive();
DROP FUNCTION tradedesk.tradedesk_audit_seal();
DROP FUNCTION tradedesk.tradedesk_audit_link();
DROP FUNCTION tradedesk.tradedesk_audit_lock_head(text);
DROP AGGREGATE tradedesk.tradedesk_audit_fold(bytea);
DROP FUNCTION tradedesk.tradedesk_audit_step(bytea, bytea);
DROP FUNCTION tradedesk.tradedesk_audit_canonical_config(tradedesk.config_changes, bigint);
DROP FUNCTION tradedesk.tradedesk_audit_canonical_decision(public.decision_history, bigint);
DROP TABLE tradedesk.audit_heads;
DROP INDEX tradedesk.idx_config_changes_audit_seq;
DROP INDEX public.idx_decision_history_audit_seq;
-- Migration 3's append-only function, as it was.
CREATE OR REPLACE FUNCTION tradedesk.tradedesk_refuse_history_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tradedesk.archiving', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'APPEND_ONLY: % is an audit trail; its rows cannot be %d', TG_TABLE_NAME, lower(TG_OP)
        USING HINT = 'Record a new row instead.';
END
$$;
ALTER TABLE tradedesk.config_changes DROP COLUMN audit_hash, DROP COLUMN audit_seq;
ALTER TABLE public.decision_history DROP COLUMN audit_hash, DROP COLUMN audit_seq;
