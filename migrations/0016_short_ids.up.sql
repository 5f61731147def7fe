-- Short ids as tradedesk shows them. tradedesk prints an id by its last 8 hex digits (the
-- random part of a UUIDv7 as of a UUIDv4; src/format.rs), lengthened in a listing where
-- two would be equal, and a trader gives them back to `replay`, `ideas show`, `strategies
-- show`…: an ending of the id, which the primary key cannot find without reading the whole
-- table. These indexes hold each id read backwards (its hex digits from the last, as a
-- uuid: 16 bytes, like the primary key's), so that the ids ending with given digits are one
-- range of an index (src/store/resolve.rs, whose expression must stay this one exactly).
-- On the tables whose rows are named by id; additive. Built inside the migration's
-- transaction: each table takes no writes for the seconds it takes, once.
CREATE INDEX idx_decision_history_short_id
    ON public.decision_history ((reverse(replace(id::text, '-', ''))::uuid));
CREATE INDEX idx_trade_ideas_short_id
    ON public.trade_ideas ((reverse(replace(id::text, '-', ''))::uuid));
CREATE INDEX idx_strategies_short_id
    ON public.strategies ((reverse(replace(id::text, '-', ''))::uuid));

-- The drawdown guard (migration 12) names what its halt stopped as store/halt.rs does,
-- which now names each id by its short id: the guard's one expression that names an id by
-- its first 8 digits takes its last 8 instead. The function is otherwise left exactly as
-- it is (its definition as stored, with that expression replaced), and one that is not
-- migration 12's is refused rather than guessed at.
DO $do$
DECLARE
    def  text := pg_get_functiondef('tradedesk.tradedesk_guard_day_limits()'::regprocedure);
    was  text := 'string_agg(left(replace(x::text, ''-'', ''''), 8), '', ''';
    will text := 'string_agg(right(replace(x::text, ''-'', ''''), 8), '', ''';
BEGIN
    IF position(was IN def) = 0 THEN
        RAISE EXCEPTION 'tradedesk.tradedesk_guard_day_limits() is not migration 12''s: '
                        'it does not name ids by %', was;
    END IF;
    EXECUTE replace(def, was, will);
END
$do$;
