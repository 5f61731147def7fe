-- The drawdown guard names ids by their first 8 digits again (migration 12's).
DO $do$
DECLARE
    def  text := pg_get_functiondef('tradedesk.tradedesk_guard_day_limits()'::regprocedure);
    was  text := 'string_agg(right(replace(x::text, ''-'', ''''), 8), '', ''';
    will text := 'string_agg(left(replace(x::text, ''-'', ''''), 8), '', ''';
BEGIN
    IF position(was IN def) = 0 THEN
        RAISE EXCEPTION 'tradedesk.tradedesk_guard_day_limits() is not migration 16''s: '
                        'it does not name ids by %', was;
    END IF;
    EXECUTE replace(def, was, will);
END
$do$;
DROP INDEX public.idx_strategies_short_id;
DROP INDEX public.idx_trade_ideas_short_id;
DROP INDEX public.idx_decision_history_short_id;
