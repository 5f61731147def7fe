-- Conformance with the platform's own writers (docs/platform.md, "How the platform's
-- Python code writes"): what tradedesk enforces must let the platform's legal writes
-- through and hold them to the same rules as tradedesk's own. Additive: nullable columns,
-- a check, functions, triggers and indexes; the platform's bookkeeping table when missing.

-- 1. The execution hand-off (docs/platform.md, "The execution hand-off"). Who claimed an
-- order and when, and why a broker refused one (MT5_EXECUTION_FAILED).
ALTER TABLE tradedesk.executions
    ADD COLUMN claimed_by TEXT,
    ADD COLUMN claimed_at TIMESTAMPTZ,
    ADD COLUMN failure    TEXT,
    ADD CONSTRAINT executions_claimed_when_sent CHECK (
        state <> 'sent' OR (claimed_by IS NOT NULL AND claimed_at IS NOT NULL));
-- A claimed order is open until its fill is closed (migration 6 counted pending and filled).
DROP INDEX tradedesk.idx_executions_open;
CREATE INDEX idx_executions_open ON tradedesk.executions (requested_at)
    WHERE closed_at IS NULL AND state IN ('pending', 'sent', 'filled');

-- A cancelled order stays cancelled (migration 3), and a claimed one is at the broker: only
-- its fill or its failure may follow, never a cancel or a return to pending. Same trigger,
-- no new per-row work.
CREATE OR REPLACE FUNCTION tradedesk.tradedesk_keep_cancelled() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.state = 'cancelled' AND NEW.state <> 'cancelled' THEN
        RAISE EXCEPTION 'ORDER_CANCELLED: order % was cancelled and cannot become %', OLD.id, NEW.state
            USING HINT = 'The kill switch pulled it; it must not reach the market.';
    END IF;
    IF OLD.state = 'sent' AND NEW.state NOT IN ('sent', 'filled', 'failed') THEN
        RAISE EXCEPTION 'ORDER_SENT: order % was claimed by the broker bridge and cannot become %', OLD.id, NEW.state
            USING HINT = 'It is at the broker: report its fill (filled) or its failure (failed).';
    END IF;
    RETURN NEW;
END
$$;

-- 2. The kill switch, judged at commit. While AI trading is off, an idea may become
-- auto_executed only in a transaction that also writes the human_approved decision row for
-- it: the platform's approval writes that row before or after the status (SQLAlchemy's
-- flush order), and tradedesk's own approval writes it too, so the rule is checked when
-- the transaction commits, whatever the order. The engine's automatic execution writes
-- no human row and is refused with AI_HALTED (exit code 7), now at COMMIT.
-- "In this transaction": the row's xmin is this transaction's id (its low 32 bits, as
-- xmin holds it). A row written inside a subtransaction (a savepoint) carries the
-- subtransaction's id and does not count: such an execution is refused, the safe side.
-- The switch is read FOR SHARE only when no human row lets the idea through, so an
-- automatic execution either commits before a halt (which then sees its order) or waits
-- for the halt and is refused. This replaces migration 3's `tradedesk.approving_idea`
-- setting, which any session could set.
CREATE OR REPLACE FUNCTION tradedesk.tradedesk_guard_auto_execution() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    enabled boolean;
BEGIN
    -- One probe of idx_decision_history_trade_idea (migration 10).
    IF EXISTS (SELECT 1 FROM decision_history d
                WHERE d.trade_idea_id = NEW.id AND d.action = 'human_approved'
                  AND d.xmin = (pg_current_xact_id()::text::numeric % 4294967296)::text::xid) THEN
        RETURN NULL;
    END IF;
    SELECT ai_trading_enabled INTO enabled FROM risk_config WHERE id FOR SHARE;
    IF enabled IS DISTINCT FROM true THEN
        RAISE EXCEPTION 'AI_HALTED: AI trading is off, so trade idea % cannot be auto-executed', NEW.id
            USING HINT = 'A human approval (its human_approved row in the same transaction) may execute it; automatic execution needs AI trading resumed.';
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER trade_ideas_guard_auto_execution ON public.trade_ideas;
-- Only a change to auto_executed queues a check (the WHEN clauses): other writes of ideas
-- pay nothing.
CREATE CONSTRAINT TRIGGER trade_ideas_guard_auto_execution_on_insert
    AFTER INSERT ON public.trade_ideas
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.status = 'auto_executed')
    EXECUTE FUNCTION tradedesk.tradedesk_guard_auto_execution();
CREATE CONSTRAINT TRIGGER trade_ideas_guard_auto_execution_on_update
    AFTER UPDATE OF status ON public.trade_ideas
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.status = 'auto_executed' AND OLD.status IS DISTINCT FROM 'auto_executed')
    EXECUTE FUNCTION tradedesk.tradedesk_guard_auto_execution();

-- The switch's share lock is taken when the status changes, not only at commit: at
-- commit the audit chain's seal (migration 7) takes the chain's head first (the engine
-- writes its ai_auto_executed row before the status), while a halt holding the switch
-- waits for that head at its own commit — a deadlock. Taken now, the lock orders the
-- execution before or after the halt, as migration 3's did.
CREATE FUNCTION tradedesk.tradedesk_share_switch() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM risk_config WHERE id FOR SHARE;
    RETURN NULL;
END
$$;
CREATE TRIGGER trade_ideas_share_switch_on_insert
    AFTER INSERT ON public.trade_ideas
    FOR EACH ROW
    WHEN (NEW.status = 'auto_executed')
    EXECUTE FUNCTION tradedesk.tradedesk_share_switch();
CREATE TRIGGER trade_ideas_share_switch_on_update
    AFTER UPDATE OF status ON public.trade_ideas
    FOR EACH ROW
    WHEN (NEW.status = 'auto_executed' AND OLD.status IS DISTINCT FROM 'auto_executed')
    EXECUTE FUNCTION tradedesk.tradedesk_share_switch();

-- 3. One human decision per idea, whoever writes it: the platform's rows have no operator
-- and are held to it too. A database whose history already holds several human decisions
-- on an idea keeps them all: the first of each idea (by occurred_at, id) is in the index,
-- the later ones are named in its predicate and left out, so a further decision on that
-- idea is still refused. `tradedesk setup` and `migrate up` name those ideas
-- (src/store/migrate.rs `several_human_decisions` reads the ids back from the predicate).
DO $do$
DECLARE
    later uuid[];
BEGIN
    SELECT array_agg(id ORDER BY id) INTO later
      FROM (SELECT id, row_number() OVER (PARTITION BY trade_idea_id
                                          ORDER BY occurred_at, id) AS n
              FROM public.decision_history
             WHERE trade_idea_id IS NOT NULL
               AND action IN ('human_approved', 'human_rejected', 'risk_rejected')) d
     WHERE n > 1;
    DROP INDEX public.idx_decision_history_one_human_decision;
    EXECUTE format(
        'CREATE UNIQUE INDEX idx_decision_history_one_human_decision
             ON public.decision_history (trade_idea_id)
          WHERE trade_idea_id IS NOT NULL
            AND action IN (''human_approved'', ''human_rejected'', ''risk_rejected'')%s',
        CASE WHEN later IS NULL THEN ''
             ELSE format(' AND id <> ALL (%L::uuid[])', later) END);
END
$do$;

-- 4. One ai_halted row per halt, as the platform writes it (docs/platform.md §3): the
-- drawdown guard of migration 8 stops the same ideas and orders, but records them in its
-- one global row instead of a row each, and the idea of each order it cancels becomes
-- halted_by_risk (an order cancelled before it was sent leaves no idea auto_executed).
-- An order the broker bridge holds is waited for, never skipped.
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
    order_ids   uuid[];
    v_stopped   text;
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
    -- cent, not by a flat day. halt_trigger: the drawdown first. A limit another writer
    -- set to NaN is no limit that can be judged (a comparison with NaN is never true): the
    -- first cent of loss (of profit) reaches it, the safe side.
    v_reason := CASE
        WHEN cfg.halt_on_drawdown AND s.peak_equity - s.latest_equity > 0
             AND (s.peak_equity - s.latest_equity >= cfg.max_drawdown_amount
                  OR cfg.max_drawdown_amount = 'NaN') THEN 'max_drawdown'
        WHEN cfg.stop_after_target AND s.latest_equity - s.opening_equity > 0
             AND (s.latest_equity - s.opening_equity >= cfg.daily_profit_target
                  OR cfg.daily_profit_target = 'NaN')
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
                 AND (s.peak_equity - s.latest_equity >= cfg.max_drawdown_amount
                  OR cfg.max_drawdown_amount = 'NaN') THEN 'max_drawdown'
            WHEN cfg.stop_after_target AND s.latest_equity - s.opening_equity > 0
                 AND (s.latest_equity - s.opening_equity >= cfg.daily_profit_target
                  OR cfg.daily_profit_target = 'NaN')
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
            -- sweep_waiting_ideas), then every order not yet claimed by the broker bridge
            -- is cancelled and its idea stopped (pull_pending_orders). Only ids come back:
            -- no row's content can fail the halt.
            WITH swept AS (
                UPDATE trade_ideas SET status = 'halted_by_risk', updated_at = v_at
                 WHERE id IN (SELECT id FROM trade_ideas WHERE status = 'waiting'
                               FOR NO KEY UPDATE SKIP LOCKED)
             RETURNING id
            )
            SELECT array_agg(id ORDER BY id) INTO idea_ids FROM swept;
            -- No SKIP LOCKED: an order a claim holds is waited for and judged again as the
            -- claim leaves it (sent: the broker has it; still pending: cancelled).
            WITH pulled AS (
                UPDATE tradedesk.executions SET state = 'cancelled', updated_at = v_at
                 WHERE state = 'pending'
             RETURNING id, trade_idea_id
            ), stopped AS (
                UPDATE trade_ideas i SET status = 'halted_by_risk', updated_at = v_at
                  FROM pulled p
                 WHERE i.id = p.trade_idea_id AND i.status = 'auto_executed'
            )
            SELECT array_agg(id ORDER BY id) INTO order_ids FROM pulled;

            -- The flip, with its one ai_halted row (switch_off), which names what the halt
            -- stopped as store/halt.rs `stopped_in_words` does.
            UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = v_reason,
                                   updated_at = v_at
             WHERE id;
            SELECT string_agg(part, ', ' ORDER BY k) INTO v_stopped
              FROM (SELECT k, format('%s %s%s %s (%s%s)', n, noun,
                                     CASE WHEN n = 1 THEN '' ELSE 's' END, done,
                                     (SELECT string_agg(left(replace(x::text, '-', ''), 8), ', '
                                                        ORDER BY j)
                                        FROM unnest(ids) WITH ORDINALITY AS u(x, j)
                                       WHERE j <= 5),
                                     CASE WHEN n > 5 THEN format(' and %s more', n - 5)
                                          ELSE '' END) AS part
                      FROM (VALUES (1, idea_ids, 'waiting idea', 'stopped'),
                                   (2, order_ids, 'unexecuted order', 'cancelled'))
                           AS w(k, ids, noun, done)
                     CROSS JOIN LATERAL (SELECT coalesce(cardinality(w.ids), 0) AS n) c
                     WHERE n > 0) parts;
            IF v_stopped IS NOT NULL THEN
                v_said := v_said || ': ' || v_stopped;
            END IF;
            -- UUIDv7: the clock's milliseconds, then a counter of 0.
            v_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
            INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                          confidence_score, risk_check_result, strategy_id,
                                          trade_idea_id, snapshot_ref, human_override, operator)
            VALUES (encode(overlay(uuid_send(gen_random_uuid())
                                   PLACING substring(int8send(v_ms) FROM 3) || int2send(28672::int2)
                                   FROM 1 FOR 8), 'hex')::uuid,
                    v_at, NULL, 'ai_halted'::decisionaction, v_said, NULL, 'fail:' || v_reason,
                    NULL, NULL, NULL, false, 'database');
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

-- 5. The platform's Alembic history continues from tradedesk's schema: a database
-- tradedesk created carries revision 001 (Phase 1) as the platform's own does, so that
-- `alembic upgrade head` applies the platform's later revisions. The table as Alembic
-- creates it (tests/fixtures/phase1_alembic_001.sql); an adopted database keeps its own.
-- The comment marks it as tradedesk's, for the down script.
DO $do$
BEGIN
    IF to_regclass('public.alembic_version') IS NULL THEN
        CREATE TABLE public.alembic_version (
            version_num VARCHAR(32) NOT NULL,
            CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        );
        INSERT INTO public.alembic_version (version_num) VALUES ('001');
        COMMENT ON TABLE public.alembic_version IS
            'tradedesk: created with the Phase-1 schema (Alembic revision 001)';
    END IF;
END
$do$;
