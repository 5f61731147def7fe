DROP TABLE tradedesk.simulations;
DROP INDEX tradedesk.idx_executions_closed;
DROP INDEX tradedesk.idx_executions_open;
ALTER TABLE tradedesk.executions
    DROP CONSTRAINT executions_closed_after_fill,
    DROP COLUMN realized_pl,
    DROP COLUMN close_price,
    DROP COLUMN closed_at;
