-- Decisions by their idea. Every trade_ideas row `tradedesk archive` removes makes
-- PostgreSQL check that no decision still refers to it (the Phase-1 foreign key), and the
-- replay of an idea finds who decided it: without this index each is a scan of the whole
-- of decision_history, which over a year of history turns an archive's idea clean-up into
-- hours. (Migration 3's unique index covers only decisions with an operator.) Built
-- inside the migration's transaction: decision_history takes no inserts for the seconds it
-- takes, once.
CREATE INDEX idx_decision_history_trade_idea ON public.decision_history (trade_idea_id);
