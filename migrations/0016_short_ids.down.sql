DROP INDEX public.idx_strategies_short_id;
DROP INDEX public.idx_trade_ideas_short_id;
DROP INDEX public.idx_decision_history_short_id;
