-- From this migration on, names are qualified: tradedesk keeps its own objects in schema
-- `tradedesk` (src/store/migrate.rs says how migrations 2-4, which name them unqualified,
-- come to create them there), and what follows should not depend on any search_path.

-- config_changes is an audit trail like decision_history: TRUNCATE is refused too, by the
-- same function (migration 0003 refuses it on decision_history).
CREATE TRIGGER config_changes_no_truncate
    BEFORE TRUNCATE ON tradedesk.config_changes
    FOR EACH STATEMENT EXECUTE FUNCTION tradedesk.tradedesk_refuse_history_change();

-- The trigger functions run with the search_path of whoever fires them: the platform's
-- Python sessions (the default path), tradedesk, or anyone with a path of their own, and
-- PL/pgSQL resolves names when it runs. Each gets a fixed path, pg_temp last so that a
-- temporary table cannot stand in for a real one:
-- - the kill switch reads risk_config, which must be the platform's, in public;
-- - the other three name no table at all, only built-in functions, so public is left out.
ALTER FUNCTION tradedesk.tradedesk_guard_auto_execution()
    SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION tradedesk.tradedesk_refuse_history_change()
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tradedesk.tradedesk_keep_cancelled()
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tradedesk.tradedesk_notify_change()
    SET search_path = pg_catalog, pg_temp;
