-- Which strategy each order counts against, on the order itself, so that an approval's
-- check of the strategy's open positions (max_concurrent_positions) is one range of an
-- index instead of a join over every trade idea: that join read the whole trade_ideas
-- table, which grows without bound, on every approval (cargo bench --bench approve).
-- The strategy is the idea's when the order is written, set here by the database for
-- every writer (tradedesk's approvals, the simulated engine, a broker bridge, psql): a
-- writer cannot give an order another strategy than its idea's. Additive: a nullable
-- column (an idea without a strategy gives none), a trigger, an index.
ALTER TABLE tradedesk.executions ADD COLUMN strategy_id UUID;

-- The orders already there, without announcing each row on the console's channel.
ALTER TABLE tradedesk.executions DISABLE TRIGGER executions_notify;
UPDATE tradedesk.executions e SET strategy_id = i.strategy_id
  FROM public.trade_ideas i
 WHERE i.id = e.trade_idea_id AND i.strategy_id IS NOT NULL;
ALTER TABLE tradedesk.executions ENABLE TRIGGER executions_notify;

CREATE FUNCTION tradedesk.tradedesk_order_strategy() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.strategy_id := (SELECT i.strategy_id FROM public.trade_ideas i WHERE i.id = NEW.trade_idea_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER executions_strategy
    BEFORE INSERT OR UPDATE OF trade_idea_id, strategy_id ON tradedesk.executions
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_order_strategy();

-- A strategy's open orders of the day (the same open states as idx_executions_open).
CREATE INDEX idx_executions_open_by_strategy ON tradedesk.executions (strategy_id, requested_at)
    WHERE closed_at IS NULL AND state IN ('pending', 'sent', 'filled');
