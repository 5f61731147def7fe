-- The database as the last line of defence (ARCHITECTURE.md principle 2): rules that must
-- hold whoever writes, the platform's Python engine included. Additive only: functions,
-- triggers and one partial index; the platform's legal writes stay legal.

-- The kill switch, enforced by the database: while AI trading is off, no automatic
-- execution can be recorded. tradedesk's human-approval path marks its own transaction
-- with the idea it approves (`tradedesk.approving_idea`), and only that idea passes.
-- Reading risk_config FOR SHARE orders this against a concurrent halt: an execution either
-- commits before the halt (which then sees it) or waits for the halt and is refused. (The
-- halt skips idea rows the engine holds, so the two never deadlock.)
CREATE FUNCTION tradedesk_guard_auto_execution() RETURNS trigger
LANGUAGE plpgsql AS $$
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
    BEFORE INSERT OR UPDATE OF status ON trade_ideas
    FOR EACH ROW EXECUTE FUNCTION tradedesk_guard_auto_execution();

-- The audit trail is append-only (the function serves every audit table). The one way
-- out is the documented retention path: a transaction that has copied old rows to an
-- archive sets `tradedesk.archiving = on` and may then delete them (PLATFORM.md §4 plans
-- archiving decision history after 90 days). UPDATE and TRUNCATE are always refused.
CREATE FUNCTION tradedesk_refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tradedesk.archiving', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'APPEND_ONLY: % is an audit trail; its rows cannot be %d', TG_TABLE_NAME, lower(TG_OP)
        USING HINT = 'Record a new row instead.';
END
$$;

CREATE TRIGGER decision_history_append_only
    BEFORE UPDATE OR DELETE ON decision_history
    FOR EACH ROW EXECUTE FUNCTION tradedesk_refuse_history_change();
CREATE TRIGGER decision_history_no_truncate
    BEFORE TRUNCATE ON decision_history
    FOR EACH STATEMENT EXECUTE FUNCTION tradedesk_refuse_history_change();

-- A cancelled order stays cancelled: a late fill report cannot revive an order the kill
-- switch pulled.
CREATE FUNCTION tradedesk_keep_cancelled() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'cancelled' AND NEW.state <> 'cancelled' THEN
        RAISE EXCEPTION 'ORDER_CANCELLED: order % was cancelled and cannot become %', OLD.id, NEW.state
            USING HINT = 'The kill switch pulled it; it must not reach the market.';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER executions_keep_cancelled
    BEFORE UPDATE OF state ON executions
    FOR EACH ROW EXECUTE FUNCTION tradedesk_keep_cancelled();

-- Exactly once: an idea gets at most one human decision (an approval, a rejection, or an
-- approval the re-run risk checks turned into a rejection). Rows written before tradedesk
-- have no operator and are not constrained.
CREATE UNIQUE INDEX idx_decision_history_one_human_decision
    ON decision_history (trade_idea_id)
    WHERE operator IS NOT NULL AND trade_idea_id IS NOT NULL
      AND action IN ('human_approved', 'human_rejected', 'risk_rejected');

-- Live: every change to the tables the console shows is announced on one channel with a
-- small payload; listeners read the rows themselves.
CREATE FUNCTION tradedesk_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
    ELSE
        changed := NEW;
    END IF;
    PERFORM pg_notify('tradedesk', json_build_object(
        'table', TG_TABLE_NAME, 'op', lower(TG_OP), 'id', changed.id::text)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER trade_ideas_notify AFTER INSERT OR UPDATE OR DELETE ON trade_ideas
    FOR EACH ROW EXECUTE FUNCTION tradedesk_notify_change();
CREATE TRIGGER decision_history_notify AFTER INSERT ON decision_history
    FOR EACH ROW EXECUTE FUNCTION tradedesk_notify_change();
CREATE TRIGGER risk_config_notify AFTER INSERT OR UPDATE OR DELETE ON risk_config
    FOR EACH ROW EXECUTE FUNCTION tradedesk_notify_change();
CREATE TRIGGER strategies_notify AFTER INSERT OR UPDATE OR DELETE ON strategies
    FOR EACH ROW EXECUTE FUNCTION tradedesk_notify_change();
CREATE TRIGGER executions_notify AFTER INSERT OR UPDATE OR DELETE ON executions
    FOR EACH ROW EXECUTE FUNCTION tradedesk_notify_change();
CREATE TRIGGER snapshot_account_notify AFTER INSERT OR UPDATE OR DELETE ON snapshot_account
    FOR EACH ROW EXECUTE FUNCTION tradedesk_notify_change();
