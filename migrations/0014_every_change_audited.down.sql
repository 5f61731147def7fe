-- The audit is append-only: rows of the subjects migration 14 added stay, so the old
-- check is put back for new rows only.
ALTER TABLE tradedesk.config_changes DROP CONSTRAINT config_changes_subject_check;
ALTER TABLE tradedesk.config_changes ADD CONSTRAINT config_changes_subject_check
    CHECK (subject IN ('risk_config', 'strategy', 'user_role')) NOT VALID;

DROP TRIGGER risk_config_switch_audit_insert ON public.risk_config;
DROP TRIGGER risk_config_switch_audit ON public.risk_config;
DROP TRIGGER decision_history_switch_noted ON public.decision_history;
DROP TRIGGER user_roles_audit ON tradedesk.user_roles;
DROP TRIGGER strategies_audit ON public.strategies;
DROP TRIGGER risk_config_audit_update ON public.risk_config;
DROP TRIGGER risk_config_audit_insert_delete ON public.risk_config;
DROP FUNCTION tradedesk.tradedesk_audit_switch_flip();
DROP FUNCTION tradedesk.tradedesk_own_xid(xid);
DROP FUNCTION tradedesk.tradedesk_note_switch_decision();
DROP FUNCTION tradedesk.tradedesk_audit_user_role();
DROP FUNCTION tradedesk.tradedesk_audit_strategy();
DROP FUNCTION tradedesk.tradedesk_strategy_json(public.strategies);
DROP FUNCTION tradedesk.tradedesk_json_kept(json);
DROP FUNCTION tradedesk.tradedesk_audit_risk_config();
DROP FUNCTION tradedesk.tradedesk_limits_json(public.risk_config);
DROP FUNCTION tradedesk.tradedesk_change_words(text);
DROP FUNCTION tradedesk.tradedesk_change_operator();
