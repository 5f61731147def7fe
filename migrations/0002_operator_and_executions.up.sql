-- tradedesk's first additions. Additive only, so the platform's own writers keep working:
-- a nullable column and a new table; nothing of Phase 1 is renamed or removed.

-- Who acted: the operator behind every human decision (PLATFORM.md §3). NULL for the
-- AI's own rows and for rows written before tradedesk.
ALTER TABLE decision_history ADD COLUMN operator TEXT;

-- The executions store of the blueprint: an order handed to execution after a human
-- approval, and what became of it at the broker.
CREATE TYPE executionstate AS ENUM ('pending', 'filled', 'failed', 'cancelled');

CREATE TABLE executions (
    id              UUID           NOT NULL PRIMARY KEY,
    trade_idea_id   UUID           NOT NULL REFERENCES trade_ideas (id),
    lot_size        NUMERIC(10,2)  NOT NULL,
    requested_by    TEXT           NOT NULL,
    requested_at    TIMESTAMPTZ    NOT NULL DEFAULT now(),
    state           executionstate NOT NULL DEFAULT 'pending',
    broker_order_id TEXT,
    fill_price      NUMERIC(18,6),
    updated_at      TIMESTAMPTZ    NOT NULL DEFAULT now(),
    -- An idea is executed at most once, whoever asks.
    CONSTRAINT executions_one_per_idea UNIQUE (trade_idea_id),
    CONSTRAINT executions_lot_size_positive CHECK (lot_size > 0)
);
CREATE INDEX idx_executions_state_requested ON executions (state, requested_at);
