-- Orders at the broker (sent) cannot be expressed once the label is gone (migration 11's
-- down script): reverting waits until each has its fill or its failure.
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM tradedesk.executions WHERE state = 'sent') THEN
        RAISE EXCEPTION 'orders claimed by the broker bridge are still sent; revert once each is filled or failed';
    END IF;
END
$do$;

-- The Alembic stamp goes only if tradedesk made it and the platform has not moved on.
DO $do$
BEGIN
    IF obj_description(to_regclass('public.alembic_version'), 'pg_class')
           = 'tradedesk: created with the Phase-1 schema (Alembic revision 001)' THEN
        IF (SELECT array_agg(version_num::text) FROM public.alembic_version) = ARRAY['001'] THEN
            DROP TABLE public.alembic_version;
        END IF;
    END IF;
END
$do$;

-- Migration 8's guard, as it was.
CREATE OR REPLACE FUNCTION tradedesk.tradedesk_guard_day_limits() RETURNS trigger
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

-- Migration 3's index. Decisions with an operator were unique per idea throughout, so it
-- builds.
DROP INDEX public.idx_decision_history_one_human_decision;
CREATE UNIQUE INDEX idx_decision_history_one_human_decision
    ON public.decision_history (trade_idea_id)
    WHERE operator IS NOT NULL AND trade_idea_id IS NOT NULL
      AND action IN ('human_approved', 'human_rejected', 'risk_rejected');

-- Migration 3's kill switch (with migration 5's path).
DROP TRIGGER trade_ideas_share_switch_on_update ON public.trade_ideas;
DROP TRIGGER trade_ideas_share_switch_on_insert ON public.trade_ideas;
DROP FUNCTION tradedesk.tradedesk_share_switch();
DROP TRIGGER trade_ideas_guard_auto_execution_on_update ON public.trade_ideas;
DROP TRIGGER trade_ideas_guard_auto_execution_on_insert ON public.trade_ideas;
CREATE OR REPLACE FUNCTION tradedesk.tradedesk_guard_auto_execution() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    enabled boolean;
BEGIN
    IF NEW.status <> 'auto_executed'
       OR (TG_OP = 'UPDATE' AND OLD.status = 'auto_executed') THEN
        RETURN NEW;
    END IF;
    IF current_setting('tradedesk.approving_idea', true) = NEW.id::text THEN
        RETURN NEW;
    END IF;
    SELECT ai_trading_enabled INTO enabled FROM risk_config WHERE id FOR SHARE;
    IF enabled IS DISTINCT FROM true THEN
        RAISE EXCEPTION 'AI_HALTED: AI trading is off, so trade idea % cannot be auto-executed', NEW.id
            USING HINT = 'A human may approve the idea in tradedesk; automatic execution needs AI trading resumed.';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER trade_ideas_guard_auto_execution
    BEFORE INSERT OR UPDATE OF status ON public.trade_ideas
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_guard_auto_execution();

-- Migration 3's cancelled orders (with migration 5's path).
CREATE OR REPLACE FUNCTION tradedesk.tradedesk_keep_cancelled() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.state = 'cancelled' AND NEW.state <> 'cancelled' THEN
        RAISE EXCEPTION 'ORDER_CANCELLED: order % was cancelled and cannot become %', OLD.id, NEW.state
            USING HINT = 'The kill switch pulled it; it must not reach the market.';
    END IF;
    RETURN NEW;
END
$$;

DROP INDEX tradedesk.idx_executions_open;
CREATE INDEX idx_executions_open ON tradedesk.executions (requested_at)
    WHERE closed_at IS NULL AND state IN ('pending', 'filled');
ALTER TABLE tradedesk.executions
    DROP CONSTRAINT executions_claimed_when_sent,
    DROP COLUMN failure,
    DROP COLUMN claimed_at,
    DROP COLUMN claimed_by;
