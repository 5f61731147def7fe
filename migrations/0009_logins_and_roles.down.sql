-- Grants audited under the new subject stay (the audit is append-only): the old check
-- is restored for new rows only.
ALTER TABLE tradedesk.config_changes DROP CONSTRAINT config_changes_subject_check;
ALTER TABLE tradedesk.config_changes ADD CONSTRAINT config_changes_subject_check
    CHECK (subject IN ('risk_config', 'strategy')) NOT VALID;
DROP TABLE tradedesk.user_roles;
DROP TABLE tradedesk.login_failures;
DROP TABLE tradedesk.sessions;
