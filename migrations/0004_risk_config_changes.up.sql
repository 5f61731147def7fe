-- Who changed which risk limit, when, from what to what. decisionaction has no label for
-- a limit edit, and adding one would break the platform's SQLAlchemy enum, so edits are
-- audited here; flips of ai_trading_enabled still go to decision_history as
-- ai_halted / ai_resumed.
CREATE TABLE risk_config_changes (
    id         UUID        NOT NULL PRIMARY KEY,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    operator   TEXT        NOT NULL,
    -- The edit as typed, e.g. `max_lot_size=0.50 halt_on_drawdown=false`.
    changes    TEXT        NOT NULL,
    before     JSONB       NOT NULL,
    after      JSONB       NOT NULL
);
CREATE INDEX idx_risk_config_changes_changed ON risk_config_changes (changed_at);

CREATE TRIGGER risk_config_changes_append_only
    BEFORE UPDATE OR DELETE ON risk_config_changes
    FOR EACH ROW EXECUTE FUNCTION tradedesk_refuse_history_change();
