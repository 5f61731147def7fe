-- The audit is append-only: rows of the subjects migration 14 added stay, so the old
-- check is put back for new rows only.
ALTER TABLE tradedesk.config_changes DROP CONSTRAINT config_changes_subject_check;
ALTER TABLE tradedesk.config_changes ADD CONSTRAINT config_changes_subject_check
    CHECK (subject IN ('risk_config', 'strategy', 'user_role')) NOT VALID;
