-- PostgreSQL cannot drop a label from an enum: the type is made again without `sent`
-- (migration 12's down script refuses while an order is sent, so no row holds it). The
-- index, the check and the trigger that depend on the column are dropped around the
-- change and made again as migrations 3 and 6 made them.
DROP TRIGGER executions_keep_cancelled ON tradedesk.executions;
DROP INDEX tradedesk.idx_executions_open;
ALTER TABLE tradedesk.executions DROP CONSTRAINT executions_closed_after_fill;
ALTER TYPE tradedesk.executionstate RENAME TO executionstate_with_sent;
CREATE TYPE tradedesk.executionstate AS ENUM ('pending', 'filled', 'failed', 'cancelled');
ALTER TABLE tradedesk.executions
    ALTER COLUMN state DROP DEFAULT,
    ALTER COLUMN state TYPE tradedesk.executionstate
        USING state::text::tradedesk.executionstate,
    ALTER COLUMN state SET DEFAULT 'pending';
DROP TYPE tradedesk.executionstate_with_sent;
ALTER TABLE tradedesk.executions
    ADD CONSTRAINT executions_closed_after_fill CHECK (
        closed_at IS NULL OR (state = 'filled' AND close_price IS NOT NULL AND realized_pl IS NOT NULL));
CREATE INDEX idx_executions_open ON tradedesk.executions (requested_at)
    WHERE closed_at IS NULL AND state IN ('pending', 'filled');
CREATE TRIGGER executions_keep_cancelled
    BEFORE UPDATE OF state ON tradedesk.executions
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_keep_cancelled();
