-- The database halts AI trading at the day's limits by itself (docs/platform.md §3): as an
-- account snapshot is inserted, whoever inserts it, the day's P/L and drawdown are worked
-- out exactly as src/domain/pnl.rs `day_state` does with the default trading day (UTC
-- midnight), and a breached limit switches AI trading off in the same transaction, as
-- the store's `halt_by_limit` does. Additive: a table, two functions and four triggers, in
-- schema tradedesk but for the triggers on snapshot_account.
--
-- Decisions:
-- - The day is judged as of its newest capture. A statement is judged only when it holds
--   the latest capture (no row has a later captured_at; an equal one counts as latest),
--   and then with the figures as of that capture, every row of the statement counted. An
--   older row arriving out of order (or a late backfill) moves the day's opening and peak
--   as it should, but halts nothing by itself: the next capture is judged with them.
-- - The halt is a limit's halt, as `halt_by_limit` writes it: ai_trading_enabled false,
--   last_halt_reason `max_drawdown` or `daily_target_reached` (the drawdown first when
--   both apply), waiting ideas `halted_by_risk`, pending orders cancelled (rows someone
--   holds are skipped), an `ai_halted` row with symbol NULL, risk_check_result
--   `fail:<reason>` and the figures as rationale, and one `ai_halted` row per idea stopped
--   and order pulled. Its operator is `database`; it happens at the capture's captured_at
--   (the time the simulated platform gives `halt_by_limit` too); ids are UUIDv7 by the
--   clock, in the order the store writes them. Nothing happens while AI trading is off.
-- - Cheap per insert: the day's opening and peak are kept in one row of
--   tradedesk.account_day, folded forward by each capture in order (a few index probes);
--   a row out of order, captures that went in with the triggers off, or a change of
--   snapshot_account by UPDATE, DELETE or TRUNCATE that may touch the day make the next
--   insert work them out again from idx_snapshot_account_captured (one index range over
--   the day). A DELETE or UPDATE behind the triggers' back is not seen: `UPDATE
--   tradedesk.account_day SET valid = false` after one.
-- - Captures dated more than 5 minutes ahead of the database's clock are left out (a
--   WARNING says so): day_state reads none after its now, and one such row taken as the
--   day's latest would leave every real capture unjudged until the clock caught up.
-- - Locks: an insert locks the tradedesk.account_day row, SKIP LOCKED: while another
--   writer's transaction holds it (a backfill not yet committed), the insert works the
--   day out from the index and leaves the row alone, so ingestion never waits for
--   ingestion (no approval or halt touches the row). It locks risk_config only when a
--   halt is due, after a
--   plain read said so: approvals and halts lock risk_config first and never wait for
--   account_day, so the two never wait on each other in a circle. A transaction that holds
--   risk_config and then inserts snapshots (the demo's seeding, on an empty database)
--   takes them the other way round; should a concurrent breach make that a deadlock,
--   PostgreSQL aborts one side: the guard's halt (its snapshot kept, see below) or that
--   transaction.
-- - Ingestion never fails for the guard's sake: a halt that fails (a deadlock, a
--   serialization failure under REPEATABLE READ) is undone alone, a WARNING says why, the
--   snapshot commits, and the next capture tries again. The function runs as its owner
--   (SECURITY DEFINER, fixed search_path), so a collector's role needs no rights on
--   tradedesk's objects.
-- - The transaction that halted carries `tradedesk.limit_halt` = the reason (a local
--   setting), for a writer that wants to know (the simulated platform counts its halts).

-- The day the newest capture falls in, as the guard keeps it. One row; `valid` false
-- means "work it out again on the next insert".
CREATE TABLE tradedesk.account_day (
    id             BOOLEAN     NOT NULL DEFAULT true PRIMARY KEY,
    valid          BOOLEAN     NOT NULL DEFAULT false,
    -- UTC midnight of the newest capture's day.
    day_start      TIMESTAMPTZ,
    -- The equity the day opened at: the last capture before day_start (opened_before),
    -- else the day's first; ties on time go to the higher equity before the day, the
    -- lower within it, as day_state breaks them.
    opening_at     TIMESTAMPTZ,
    opening_equity NUMERIC,
    opened_before  BOOLEAN,
    -- The day's highest equity, the opening included.
    peak_equity    NUMERIC,
    -- The newest capture (ties on time: the highest equity).
    latest_at      TIMESTAMPTZ,
    latest_equity  NUMERIC,
    day_pnl        NUMERIC GENERATED ALWAYS AS (latest_equity - opening_equity) STORED,
    drawdown       NUMERIC GENERATED ALWAYS AS (greatest(peak_equity - latest_equity, 0)) STORED,
    CONSTRAINT account_day_single_row CHECK (id),
    CONSTRAINT account_day_complete CHECK (NOT valid OR (
        day_start IS NOT NULL AND opening_at IS NOT NULL AND opening_equity IS NOT NULL
        AND opened_before IS NOT NULL AND peak_equity IS NOT NULL AND latest_at IS NOT NULL
        AND latest_equity IS NOT NULL))
);
INSERT INTO tradedesk.account_day (id) VALUES (true);

-- The guard. Its path puts public second for the platform's tables (risk_config,
-- snapshot_account, trade_ideas, decision_history and their enums), as migration 5 fixed
-- the kill switch's.
CREATE FUNCTION tradedesk.tradedesk_guard_day_limits() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    s           tradedesk.account_day%ROWTYPE;
    n_min       timestamptz;
    n_max       timestamptz;
    n_peak      numeric;
    n_latest    numeric;
    v_day       timestamptz;
    v_at        timestamptz;
    v_eq        numeric;
    cfg         record;
    v_reason    text;
    v_said      text;
    v_ms        bigint;
    idea_ids    uuid[];
    idea_syms   text[];
    idea_strats uuid[];
    idea_confs  numeric[];
    idea_refs   uuid[];
    order_ids   uuid[];
    order_ideas uuid[];
    order_syms  text[];
    order_strats uuid[];
    n_ideas     int;
    n_orders    int;
    in_order    boolean;
    held        boolean;
    -- Captures dated later than this are a clock gone wrong, not the day's latest: the
    -- console's day_state reads none after its now either. Five minutes for clocks that
    -- drift.
    horizon     timestamptz := clock_timestamp() + interval '5 minutes';
BEGIN
    -- Only as snapshot_account's trigger: run as its owner, it must not be attached
    -- elsewhere (EXECUTE is revoked from PUBLIC too).
    IF TG_RELID <> 'public.snapshot_account'::regclass THEN
        RAISE EXCEPTION 'tradedesk_guard_day_limits is snapshot_account''s trigger only';
    END IF;
    -- The statement's rows, in one pass: its span, highest equity, and newest equity.
    SELECT min(captured_at), max(captured_at), max(equity),
           (array_agg(equity ORDER BY captured_at DESC, equity DESC))[1]
      INTO n_min, n_max, n_peak, n_latest
      FROM inserted WHERE captured_at <= horizon;
    IF EXISTS (SELECT 1 FROM inserted WHERE captured_at > horizon) THEN
        RAISE WARNING 'tradedesk: an account capture is dated more than 5 minutes ahead of the database''s clock; the drawdown guard leaves it out of the day';
    END IF;
    IF n_min IS NULL THEN
        RETURN NULL;
    END IF;

    -- Snapshot writers take turns here, but never wait for one another: while another
    -- transaction holds the day (a backfill not yet committed), this one works the day out
    -- from the index and leaves the kept row to it.
    SELECT * INTO s FROM tradedesk.account_day WHERE id FOR UPDATE SKIP LOCKED;
    held := FOUND;
    IF NOT held AND NOT EXISTS (SELECT 1 FROM tradedesk.account_day WHERE id) THEN
        INSERT INTO tradedesk.account_day (id) VALUES (true) ON CONFLICT (id) DO NOTHING;
        SELECT * INTO s FROM tradedesk.account_day WHERE id FOR UPDATE SKIP LOCKED;
        held := FOUND;
    END IF;
    IF NOT held THEN
        s.valid := false;
    END IF;

    in_order := s.valid AND n_min >= s.latest_at;
    IF in_order THEN
        -- In order, as long as every capture after the newest kept is this statement's:
        -- none went in behind the guard's back (triggers disabled, a replica's role).
        in_order := (SELECT count(*) FROM snapshot_account
                      WHERE captured_at > s.latest_at AND captured_at <= horizon)
                    = (SELECT count(*) FROM inserted
                        WHERE captured_at > s.latest_at AND captured_at <= horizon);
    END IF;
    IF in_order THEN
        -- In order: fold the statement's rows into the day.
        IF n_max > s.latest_at THEN
            v_day := date_trunc('day', n_max AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
            IF v_day > s.day_start THEN
                -- A new day: it opens at the last capture before it, the previous newest
                -- or one of this statement's, and its peak starts there.
                SELECT t, e INTO v_at, v_eq
                  FROM (SELECT s.latest_at AS t, s.latest_equity AS e
                        UNION ALL
                        SELECT captured_at, equity FROM inserted WHERE captured_at < v_day) c
                 ORDER BY t DESC, e DESC LIMIT 1;
                s.day_start := v_day;
                s.opening_at := v_at;
                s.opening_equity := v_eq;
                s.opened_before := true;
                SELECT greatest(v_eq, max(equity)) INTO s.peak_equity
                  FROM inserted WHERE captured_at >= v_day AND captured_at <= horizon;
            ELSE
                s.peak_equity := greatest(s.peak_equity, n_peak);
            END IF;
            s.latest_at := n_max;
            s.latest_equity := n_latest;
        ELSE
            -- Captured at the same instant as the newest: the higher equity is the latest.
            s.peak_equity := greatest(s.peak_equity, n_peak);
            s.latest_equity := greatest(s.latest_equity, n_latest);
        END IF;
        -- A day with nothing before it, every capture so far at one instant: the opening
        -- is the lowest equity of that instant.
        IF NOT s.opened_before AND n_min = s.opening_at THEN
            SELECT least(s.opening_equity, min(equity)) INTO s.opening_equity
              FROM inserted WHERE captured_at = n_min;
        END IF;
    ELSIF s.valid AND s.opened_before AND n_max < s.opening_at THEN
        -- Older than the day's opening capture: it changes nothing.
        RETURN NULL;
    ELSE
        -- Out of order, or not known yet: from the index, as day_state reads the rows.
        SELECT captured_at, equity INTO s.latest_at, s.latest_equity
          FROM snapshot_account WHERE captured_at <= horizon
         ORDER BY captured_at DESC, equity DESC LIMIT 1;
        s.day_start := date_trunc('day', s.latest_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
        SELECT captured_at, equity INTO s.opening_at, s.opening_equity
          FROM snapshot_account WHERE captured_at < s.day_start
         ORDER BY captured_at DESC, equity DESC LIMIT 1;
        s.opened_before := FOUND;
        IF NOT s.opened_before THEN
            SELECT captured_at, equity INTO s.opening_at, s.opening_equity
              FROM snapshot_account WHERE captured_at >= s.day_start
             ORDER BY captured_at, equity LIMIT 1;
        END IF;
        SELECT greatest(s.opening_equity, max(equity)) INTO s.peak_equity
          FROM snapshot_account WHERE captured_at >= s.day_start AND captured_at <= horizon;
    END IF;

    IF held THEN
        UPDATE tradedesk.account_day
           SET valid = true, day_start = s.day_start, opening_at = s.opening_at,
               opening_equity = s.opening_equity, opened_before = s.opened_before,
               peak_equity = s.peak_equity, latest_at = s.latest_at,
               latest_equity = s.latest_equity
         WHERE id;
    END IF;

    -- Only a statement holding the latest capture is judged.
    IF n_max < s.latest_at THEN
        RETURN NULL;
    END IF;
    SELECT ai_trading_enabled, halt_on_drawdown, max_drawdown_amount, stop_after_target,
           daily_profit_target
      INTO cfg FROM risk_config WHERE id;
    IF NOT FOUND OR cfg.ai_trading_enabled IS DISTINCT FROM true THEN
        RETURN NULL;
    END IF;
    -- DayState::drawdown_reached and target_reached: a limit of 0 is reached by the first
    -- cent, not by a flat day. halt_trigger: the drawdown first.
    v_reason := CASE
        WHEN cfg.halt_on_drawdown AND s.peak_equity - s.latest_equity > 0
             AND s.peak_equity - s.latest_equity >= cfg.max_drawdown_amount THEN 'max_drawdown'
        WHEN cfg.stop_after_target AND s.latest_equity - s.opening_equity > 0
             AND s.latest_equity - s.opening_equity >= cfg.daily_profit_target
             THEN 'daily_target_reached'
    END;
    IF v_reason IS NULL THEN
        RETURN NULL;
    END IF;

    BEGIN
        -- Serialise with approvals and halts, then judge again on the row as it is now.
        SELECT ai_trading_enabled, halt_on_drawdown, max_drawdown_amount, stop_after_target,
               daily_profit_target
          INTO cfg FROM risk_config WHERE id FOR UPDATE;
        v_reason := CASE
            WHEN cfg.ai_trading_enabled IS DISTINCT FROM true THEN NULL
            WHEN cfg.halt_on_drawdown AND s.peak_equity - s.latest_equity > 0
                 AND s.peak_equity - s.latest_equity >= cfg.max_drawdown_amount THEN 'max_drawdown'
            WHEN cfg.stop_after_target AND s.latest_equity - s.opening_equity > 0
                 AND s.latest_equity - s.opening_equity >= cfg.daily_profit_target
                 THEN 'daily_target_reached'
        END;
        IF v_reason IS NOT NULL THEN
            v_at := s.latest_at;
            v_said := CASE v_reason
                WHEN 'max_drawdown' THEN
                    format('The day''s drawdown %s reached max_drawdown_amount %s',
                           greatest(s.peak_equity - s.latest_equity, 0), cfg.max_drawdown_amount)
                ELSE format('The day''s P/L %s reached daily_profit_target %s',
                            s.latest_equity - s.opening_equity, cfg.daily_profit_target)
            END;

            -- Every idea still waiting for automatic execution is stopped (store/halt.rs
            -- sweep_waiting_ideas), then every order not yet executed is pulled
            -- (pull_pending_orders).
            WITH swept AS (
                UPDATE trade_ideas SET status = 'halted_by_risk', updated_at = v_at
                 WHERE id IN (SELECT id FROM trade_ideas WHERE status = 'waiting'
                               FOR NO KEY UPDATE SKIP LOCKED)
             RETURNING id, symbol, strategy_id, confidence_score, snapshot_ref
            )
            SELECT array_agg(id), array_agg(symbol), array_agg(strategy_id),
                   array_agg(confidence_score), array_agg(snapshot_ref), count(*)
              INTO idea_ids, idea_syms, idea_strats, idea_confs, idea_refs, n_ideas
              FROM swept;
            WITH pulled AS (
                UPDATE tradedesk.executions e SET state = 'cancelled', updated_at = v_at
                  FROM trade_ideas i
                 WHERE i.id = e.trade_idea_id
                   AND e.id IN (SELECT id FROM tradedesk.executions WHERE state = 'pending'
                                 FOR NO KEY UPDATE SKIP LOCKED)
             RETURNING e.id, e.trade_idea_id, i.symbol, i.strategy_id
            )
            SELECT array_agg(id), array_agg(trade_idea_id), array_agg(symbol),
                   array_agg(strategy_id), count(*)
              INTO order_ids, order_ideas, order_syms, order_strats, n_orders
              FROM pulled;

            -- The flip, with its one ai_halted row (switch_off).
            UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = v_reason,
                                   updated_at = v_at
             WHERE id;
            IF n_orders > 0 THEN
                v_said := format('%s (%s pending order%s cancelled)', v_said, n_orders,
                                 CASE WHEN n_orders = 1 THEN '' ELSE 's' END);
            END IF;
            -- UUIDv7: the clock's milliseconds, then a counter (0 for the flip, then the
            -- ideas', then the orders'), so the rows sort as the store writes them.
            v_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
            INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                          confidence_score, risk_check_result, strategy_id,
                                          trade_idea_id, snapshot_ref, human_override, operator)
            VALUES (encode(overlay(uuid_send(gen_random_uuid())
                                   PLACING substring(int8send(v_ms) FROM 3) || int2send(28672::int2)
                                   FROM 1 FOR 8), 'hex')::uuid,
                    v_at, NULL, 'ai_halted'::decisionaction, v_said, NULL, 'fail:' || v_reason,
                    NULL, NULL, NULL, false, 'database');

            -- Every idea stopped and every order pulled, a row each (record_stopped).
            INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                          confidence_score, risk_check_result, strategy_id,
                                          trade_idea_id, snapshot_ref, human_override, operator)
            SELECT encode(overlay(uuid_send(gen_random_uuid())
                                  PLACING substring(int8send(v_ms) FROM 3)
                                          || int2send((28672 + k % 4096)::int2)
                                  FROM 1 FOR 8), 'hex')::uuid,
                   v_at, sym, 'ai_halted'::decisionaction,
                   'waiting idea stopped by the kill switch: ' || v_reason,
                   conf, 'fail:ai_halted', strat, idea, ref, false, 'database'
              FROM unnest(idea_ids, idea_syms, idea_strats, idea_confs, idea_refs)
                   WITH ORDINALITY AS x(idea, sym, strat, conf, ref, k)
             ORDER BY k;
            INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                          confidence_score, risk_check_result, strategy_id,
                                          trade_idea_id, snapshot_ref, human_override, operator)
            SELECT encode(overlay(uuid_send(gen_random_uuid())
                                  PLACING substring(int8send(v_ms) FROM 3)
                                          || int2send((28672 + (n_ideas + k) % 4096)::int2)
                                  FROM 1 FOR 8), 'hex')::uuid,
                   v_at, sym, 'ai_halted'::decisionaction,
                   format('unexecuted order %s cancelled by the kill switch: %s',
                          left(replace(ord::text, '-', ''), 8), v_reason),
                   NULL, 'fail:ai_halted', strat, idea, NULL, false, 'database'
              FROM unnest(order_ids, order_ideas, order_syms, order_strats)
                   WITH ORDINALITY AS x(ord, idea, sym, strat, k)
             ORDER BY k;
            PERFORM set_config('tradedesk.limit_halt', v_reason, true);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING
            'tradedesk: the day''s % was reached but AI trading could not be halted: % (%)',
            v_reason, SQLERRM, SQLSTATE
            USING HINT = 'The snapshot was kept; the next capture tries the halt again.';
    END;
    RETURN NULL;
END
$$;

CREATE TRIGGER snapshot_account_guard_day_limits
    AFTER INSERT ON public.snapshot_account REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION tradedesk.tradedesk_guard_day_limits();

-- Snapshots changed or removed: if any may have been the day's (at or after its opening
-- capture), the next insert works the day out again. Old rows going (the platform's
-- 30-day retention) leave the row, and its lock, alone. It names only its own table and
-- the statement's rows, so public is left off its path.
CREATE FUNCTION tradedesk.tradedesk_forget_account_day() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s tradedesk.account_day%ROWTYPE;
    touched boolean;
BEGIN
    IF TG_RELID <> 'public.snapshot_account'::regclass THEN
        RAISE EXCEPTION 'tradedesk_forget_account_day is snapshot_account''s trigger only';
    END IF;
    SELECT * INTO s FROM tradedesk.account_day WHERE id;
    IF NOT FOUND OR NOT s.valid THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' OR NOT s.opened_before THEN
        touched := true;
    ELSIF TG_OP = 'UPDATE' THEN
        touched := EXISTS (SELECT 1 FROM removed WHERE captured_at >= s.opening_at)
                   OR EXISTS (SELECT 1 FROM added WHERE captured_at >= s.opening_at);
    ELSE
        touched := EXISTS (SELECT 1 FROM removed WHERE captured_at >= s.opening_at);
    END IF;
    IF touched THEN
        UPDATE tradedesk.account_day SET valid = false WHERE id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER snapshot_account_forget_day_on_update
    AFTER UPDATE ON public.snapshot_account REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION tradedesk.tradedesk_forget_account_day();
CREATE TRIGGER snapshot_account_forget_day_on_delete
    AFTER DELETE ON public.snapshot_account REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION tradedesk.tradedesk_forget_account_day();
CREATE TRIGGER snapshot_account_forget_day_on_truncate
    AFTER TRUNCATE ON public.snapshot_account
    FOR EACH STATEMENT EXECUTE FUNCTION tradedesk.tradedesk_forget_account_day();

-- The functions run as their owner: only their triggers may run them. (A trigger fires
-- whoever inserts; EXECUTE is checked when a trigger is created, so without it no role can
-- attach them to a table of its own.)
REVOKE EXECUTE ON FUNCTION tradedesk.tradedesk_guard_day_limits() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tradedesk.tradedesk_forget_account_day() FROM PUBLIC;
