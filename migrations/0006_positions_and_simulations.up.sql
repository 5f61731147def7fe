-- Positions and simulations: what a broker reports after a fill, and which writes of a
-- database are tradedesk's simulated platform's. Additive, in schema tradedesk.

-- An order handed to execution becomes a position when filled, and the position is
-- closed at its stop, a target or its time limit. Phase 1 records no closes; the
-- simulated platform's paper broker does, and the Gate then counts only positions still
-- open (src/store/approve.rs).
ALTER TABLE tradedesk.executions
    ADD COLUMN closed_at   TIMESTAMPTZ,
    ADD COLUMN close_price NUMERIC(18,6),
    ADD COLUMN realized_pl NUMERIC(18,2),
    ADD CONSTRAINT executions_closed_after_fill CHECK (
        closed_at IS NULL OR (state = 'filled' AND close_price IS NOT NULL AND realized_pl IS NOT NULL));
CREATE INDEX idx_executions_open ON tradedesk.executions (requested_at)
    WHERE closed_at IS NULL AND state IN ('pending', 'filled');
-- The strategies pane's P/L today reads the positions closed since the day began.
CREATE INDEX idx_executions_closed ON tradedesk.executions (closed_at)
    WHERE closed_at IS NOT NULL;

-- Each run of the simulated platform (and the demo desk's seeding), so that `simulate`
-- can tell a database it wrote from one holding the platform's own data, which it refuses.
CREATE TABLE tradedesk.simulations (
    id          UUID        NOT NULL PRIMARY KEY,
    kind        TEXT        NOT NULL,
    seed        BIGINT,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    simulated_from TIMESTAMPTZ,
    CONSTRAINT simulations_kind_check CHECK (kind IN ('demo', 'simulate'))
);
