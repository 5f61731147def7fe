-- Every change audited, whoever makes it: the desk's own acts on the schema and the
-- data (migrations, archives, snapshot clean-up, simulations written into a live
-- database, set-up) are recorded in tradedesk.config_changes beside edits of limits,
-- strategies and roles.
ALTER TABLE tradedesk.config_changes DROP CONSTRAINT config_changes_subject_check;
ALTER TABLE tradedesk.config_changes ADD CONSTRAINT config_changes_subject_check
    CHECK (subject IN ('risk_config', 'strategy', 'user_role', 'schema', 'archive',
                       'retention', 'simulation', 'setup'));
