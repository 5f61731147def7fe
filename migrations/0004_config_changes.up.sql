-- Who changed which setting, when, from what to what: risk limits and strategies.
-- decisionaction has no label for such edits, and adding one would break the platform's
-- SQLAlchemy enum, so they are audited here; flips of ai_trading_enabled still go to
-- decision_history as ai_halted / ai_resumed. No foreign key: the audit of a deleted
-- strategy outlives it.
CREATE TABLE config_changes (
    id           UUID        NOT NULL PRIMARY KEY,
    changed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    operator     TEXT        NOT NULL,
    -- 'risk_config' or 'strategy'.
    subject      TEXT        NOT NULL,
    subject_id   UUID,
    subject_name TEXT,
    -- What was done, e.g. `max_lot_size=0.50 halt_on_drawdown=false`, `enabled`, `deleted`.
    change       TEXT        NOT NULL,
    before       JSONB,
    after        JSONB,
    CONSTRAINT config_changes_subject_check CHECK (subject IN ('risk_config', 'strategy'))
);
CREATE INDEX idx_config_changes_subject_changed ON config_changes (subject, changed_at);

CREATE TRIGGER config_changes_append_only
    BEFORE UPDATE OR DELETE ON config_changes
    FOR EACH ROW EXECUTE FUNCTION tradedesk_refuse_history_change();
