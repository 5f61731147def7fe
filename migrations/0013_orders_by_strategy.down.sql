DROP INDEX tradedesk.idx_executions_open_by_strategy;
DROP TRIGGER executions_strategy ON tradedesk.executions;
DROP FUNCTION tradedesk.tradedesk_order_strategy();
ALTER TABLE tradedesk.executions DROP COLUMN strategy_id;
