-- Every change audited, whoever makes it: the desk's own acts on the schema and the
-- data (migrations, archives, snapshot clean-up, simulations written into a live
-- database, set-up) are recorded in tradedesk.config_changes beside edits of limits,
-- strategies and roles.
ALTER TABLE tradedesk.config_changes DROP CONSTRAINT config_changes_subject_check;
ALTER TABLE tradedesk.config_changes ADD CONSTRAINT config_changes_subject_check
    CHECK (subject IN ('risk_config', 'strategy', 'user_role', 'schema', 'archive',
                       'retention', 'simulation', 'setup'));

-- Every change of the desk's settings is audited, whoever makes it: triggers on
-- risk_config, strategies and tradedesk.user_roles write the config_changes row (chained
-- like every other, migration 7) for each INSERT, UPDATE and DELETE by any role — an act
-- of tradedesk, the platform's own code, an admin in psql. A change that changes nothing
-- writes nothing. Flips of the AI's switch are audited where the platform audits them, in
-- decision_history (`ai_halted` / `ai_resumed`): a transaction that flips it without
-- writing that row gets one written for it at commit.
--
-- Who: an act names its operator for its transaction (`SELECT set_config(
-- 'tradedesk.operator', 'ann@desk.example', true)`); anything else is recorded as the role
-- that logged in (session_user: SET ROLE does not change who logged in) and "direct SQL".
-- Only a role that may write these tables can name an operator this way; the roles
-- `tradedesk setup --roles` creates for people do not write them directly once the acts
-- are the database's own functions. An act may also say what its change means
-- (`tradedesk.change`, used once, by the next row written); else the trigger says which
-- columns changed and to what.
--
-- The functions run as the owner of tradedesk's schema (SECURITY DEFINER), so a platform
-- role that may write strategies but not config_changes still writes, and is audited.

CREATE FUNCTION tradedesk.tradedesk_change_operator() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(nullif(current_setting('tradedesk.operator', true), ''),
                    session_user || ' (direct SQL)')
$$;

-- The act's own words for the change, once; else `computed`.
CREATE FUNCTION tradedesk.tradedesk_change_words(computed text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    said text := nullif(current_setting('tradedesk.change', true), '');
BEGIN
    IF said IS NULL THEN
        RETURN computed;
    END IF;
    PERFORM set_config('tradedesk.change', '', true);
    RETURN said;
END
$$;

-- The limits as the audit records them (src/domain/replay.rs reads them back): decimals
-- as PostgreSQL prints them, in strings, so NaN and every digit survive.
CREATE FUNCTION tradedesk.tradedesk_limits_json(r public.risk_config) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'ai_trading_enabled', r.ai_trading_enabled,
        'min_confidence_threshold', r.min_confidence_threshold::text,
        'max_lot_size', r.max_lot_size::text,
        'max_concurrent_trades', r.max_concurrent_trades,
        'daily_profit_target', r.daily_profit_target::text,
        'stop_after_target', r.stop_after_target,
        'max_drawdown_amount', r.max_drawdown_amount::text,
        'halt_on_drawdown', r.halt_on_drawdown,
        'allow_off_watchlist_autotrade', r.allow_off_watchlist_autotrade,
        'last_halt_reason', r.last_halt_reason)
$$;

CREATE FUNCTION tradedesk.tradedesk_audit_risk_config() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    change text;
BEGIN
    IF TG_RELID <> 'public.risk_config'::regclass THEN
        RAISE EXCEPTION '% is a trigger of risk_config only', TG_NAME;
    END IF;
    IF TG_OP = 'INSERT' THEN
        change := 'created';
    ELSIF TG_OP = 'DELETE' THEN
        change := 'deleted';
    ELSE
        -- Only the limits: the switch's flips are audited in decision_history.
        change := concat_ws(' ',
            CASE WHEN OLD.min_confidence_threshold IS DISTINCT FROM NEW.min_confidence_threshold
                 THEN 'min_confidence_threshold=' || NEW.min_confidence_threshold END,
            CASE WHEN OLD.max_lot_size IS DISTINCT FROM NEW.max_lot_size
                 THEN 'max_lot_size=' || NEW.max_lot_size END,
            CASE WHEN OLD.max_concurrent_trades IS DISTINCT FROM NEW.max_concurrent_trades
                 THEN 'max_concurrent_trades=' || NEW.max_concurrent_trades END,
            CASE WHEN OLD.daily_profit_target IS DISTINCT FROM NEW.daily_profit_target
                 THEN 'daily_profit_target=' || NEW.daily_profit_target END,
            CASE WHEN OLD.stop_after_target IS DISTINCT FROM NEW.stop_after_target
                 THEN 'stop_after_target=' || NEW.stop_after_target END,
            CASE WHEN OLD.max_drawdown_amount IS DISTINCT FROM NEW.max_drawdown_amount
                 THEN 'max_drawdown_amount=' || NEW.max_drawdown_amount END,
            CASE WHEN OLD.halt_on_drawdown IS DISTINCT FROM NEW.halt_on_drawdown
                 THEN 'halt_on_drawdown=' || NEW.halt_on_drawdown END,
            CASE WHEN OLD.allow_off_watchlist_autotrade IS DISTINCT FROM NEW.allow_off_watchlist_autotrade
                 THEN 'allow_off_watchlist_autotrade=' || NEW.allow_off_watchlist_autotrade END);
        IF change = '' THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, change, before, after)
    VALUES (gen_random_uuid(), clock_timestamp(), tradedesk.tradedesk_change_operator(),
            'risk_config', tradedesk.tradedesk_change_words(change),
            CASE WHEN TG_OP <> 'INSERT' THEN tradedesk.tradedesk_limits_json(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN tradedesk.tradedesk_limits_json(NEW) END);
    RETURN NULL;
END
$$;

CREATE TRIGGER risk_config_audit_insert_delete
    AFTER INSERT OR DELETE ON public.risk_config
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_audit_risk_config();
-- The kill switch updates this row: the WHEN keeps its flips from calling the function.
CREATE TRIGGER risk_config_audit_update
    AFTER UPDATE ON public.risk_config
    FOR EACH ROW
    WHEN ((OLD.min_confidence_threshold, OLD.max_lot_size, OLD.max_concurrent_trades,
           OLD.daily_profit_target, OLD.stop_after_target, OLD.max_drawdown_amount,
           OLD.halt_on_drawdown, OLD.allow_off_watchlist_autotrade)
          IS DISTINCT FROM
          (NEW.min_confidence_threshold, NEW.max_lot_size, NEW.max_concurrent_trades,
           NEW.daily_profit_target, NEW.stop_after_target, NEW.max_drawdown_amount,
           NEW.halt_on_drawdown, NEW.allow_off_watchlist_autotrade))
    EXECUTE FUNCTION tradedesk.tradedesk_audit_risk_config();

-- A rule document as jsonb; a json value jsonb cannot hold (a \u0000 escape) is kept as
-- its text, so no row the platform may write makes its own write fail here.
CREATE FUNCTION tradedesk.tradedesk_json_kept(v json) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN v::jsonb;
EXCEPTION WHEN OTHERS THEN
    RETURN to_jsonb(v::text);
END
$$;

-- A strategy as the audit records it: the shape of `tradedesk strategies export`.
CREATE FUNCTION tradedesk.tradedesk_strategy_json(s public.strategies) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'id', s.id,
        'name', s.name,
        'is_active', s.is_active,
        'allowed_symbols', to_jsonb(s.allowed_symbols),
        'session_windows', tradedesk.tradedesk_json_kept(s.session_windows),
        'entry_conditions', tradedesk.tradedesk_json_kept(s.entry_conditions),
        'exit_rules', tradedesk.tradedesk_json_kept(s.exit_rules),
        'forbidden_conditions', tradedesk.tradedesk_json_kept(s.forbidden_conditions),
        'risk_caps', tradedesk.tradedesk_json_kept(s.risk_caps),
        'rr_expectation', s.rr_expectation::text)
$$;

CREATE FUNCTION tradedesk.tradedesk_audit_strategy() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    change text;
    subject public.strategies;
BEGIN
    IF TG_RELID <> 'public.strategies'::regclass THEN
        RAISE EXCEPTION '% is a trigger of strategies only', TG_NAME;
    END IF;
    IF TG_OP = 'INSERT' THEN
        change := 'created';
        subject := NEW;
    ELSIF TG_OP = 'DELETE' THEN
        change := 'deleted';
        subject := OLD;
    ELSE
        subject := NEW;
        -- json has no equality: the documents are compared as written. updated_at alone
        -- is no change.
        change := concat_ws(', ',
            CASE WHEN OLD.id IS DISTINCT FROM NEW.id THEN 'id' END,
            CASE WHEN OLD.name IS DISTINCT FROM NEW.name THEN 'name' END,
            CASE WHEN OLD.allowed_symbols IS DISTINCT FROM NEW.allowed_symbols
                 THEN 'allowed_symbols' END,
            CASE WHEN OLD.session_windows::text IS DISTINCT FROM NEW.session_windows::text
                 THEN 'session_windows' END,
            CASE WHEN OLD.entry_conditions::text IS DISTINCT FROM NEW.entry_conditions::text
                 THEN 'entry_conditions' END,
            CASE WHEN OLD.exit_rules::text IS DISTINCT FROM NEW.exit_rules::text
                 THEN 'exit_rules' END,
            CASE WHEN OLD.forbidden_conditions::text IS DISTINCT FROM NEW.forbidden_conditions::text
                 THEN 'forbidden_conditions' END,
            CASE WHEN OLD.risk_caps::text IS DISTINCT FROM NEW.risk_caps::text
                 THEN 'risk_caps' END,
            CASE WHEN OLD.rr_expectation IS DISTINCT FROM NEW.rr_expectation
                 THEN 'rr_expectation' END,
            CASE WHEN OLD.created_at IS DISTINCT FROM NEW.created_at THEN 'created_at' END);
        IF change = '' THEN
            IF OLD.is_active IS NOT DISTINCT FROM NEW.is_active THEN
                RETURN NULL;
            END IF;
            change := CASE WHEN NEW.is_active THEN 'enabled' ELSE 'disabled' END;
        ELSE
            change := 'updated ' || change
                || CASE WHEN OLD.is_active IS DISTINCT FROM NEW.is_active
                        THEN CASE WHEN NEW.is_active THEN ', enabled' ELSE ', disabled' END
                        ELSE '' END;
        END IF;
    END IF;
    INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, subject_id,
                                          subject_name, change, before, after)
    VALUES (gen_random_uuid(), clock_timestamp(), tradedesk.tradedesk_change_operator(),
            'strategy', subject.id, subject.name, tradedesk.tradedesk_change_words(change),
            CASE WHEN TG_OP <> 'INSERT' THEN tradedesk.tradedesk_strategy_json(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN tradedesk.tradedesk_strategy_json(NEW) END);
    RETURN NULL;
END
$$;

CREATE TRIGGER strategies_audit
    AFTER INSERT OR UPDATE OR DELETE ON public.strategies
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_audit_strategy();

CREATE FUNCTION tradedesk.tradedesk_audit_user_role() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    who uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
    before text := CASE WHEN TG_OP <> 'INSERT' THEN OLD.role END;
    after text := CASE WHEN TG_OP <> 'DELETE' THEN NEW.role END;
BEGIN
    IF TG_RELID <> 'tradedesk.user_roles'::regclass THEN
        RAISE EXCEPTION '% is a trigger of tradedesk.user_roles only', TG_NAME;
    END IF;
    IF before IS NOT DISTINCT FROM after AND TG_OP = 'UPDATE'
       AND OLD.user_id IS NOT DISTINCT FROM NEW.user_id THEN
        RETURN NULL;
    END IF;
    INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, subject_id,
                                          subject_name, change, before, after)
    VALUES (gen_random_uuid(), clock_timestamp(), tradedesk.tradedesk_change_operator(),
            'user_role', who, (SELECT u.email FROM public.users u WHERE u.id = who),
            tradedesk.tradedesk_change_words(
                CASE WHEN after IS NULL THEN 'role revoked' ELSE 'role=' || after END),
            jsonb_build_object('role', before), jsonb_build_object('role', after));
    RETURN NULL;
END
$$;

CREATE TRIGGER user_roles_audit
    AFTER INSERT OR UPDATE OR DELETE ON tradedesk.user_roles
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_audit_user_role();

-- The switch. A global ai_halted / ai_resumed row written in a transaction is noted (its
-- id, a hint only: the check below trusts the row, not the note).
CREATE FUNCTION tradedesk.tradedesk_note_switch_decision() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM set_config('tradedesk.switch_decision', NEW.id::text, true);
    RETURN NULL;
END
$$;

CREATE TRIGGER decision_history_switch_noted
    AFTER INSERT ON public.decision_history
    FOR EACH ROW
    WHEN (NEW.action IN ('ai_halted', 'ai_resumed') AND NEW.symbol IS NULL)
    EXECUTE FUNCTION tradedesk.tradedesk_note_switch_decision();

-- Whether `x` (a row's xmin) is this transaction's own xid or one of its subtransactions'
-- (a plpgsql EXCEPTION block, a SAVEPOINT: the drawdown guard writes its row in one). A
-- subtransaction's xid is assigned after the transaction's own, so it is that xid moved
-- on by the 32-bit distance; a row this transaction can see whose writer is still in
-- progress can only be its own. An xid so found that was never assigned (the row is
-- older than the transaction) is not in progress.
CREATE FUNCTION tradedesk.tradedesk_own_xid(x xid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    top xid8 := pg_current_xact_id();
    distance numeric := (x::text::numeric - top::text::numeric % 4294967296 + 4294967296)
                        % 4294967296;
BEGIN
    IF distance = 0 THEN
        RETURN true;
    END IF;
    IF distance >= 2147483648 THEN
        RETURN false;
    END IF;
    BEGIN
        RETURN pg_xact_status((top::text::numeric + distance)::text::xid8) = 'in progress';
    EXCEPTION WHEN OTHERS THEN
        -- "transaction ID … is in the future": never assigned, so not this one's.
        RETURN false;
    END;
END
$$;

-- At commit, for each flip whose result stands: the transaction must have written the
-- row that records it (its own row: see tradedesk_own_xid), else it is written here, as
-- the operator the transaction named or its login role by direct SQL.
CREATE FUNCTION tradedesk.tradedesk_audit_switch_flip() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    noted text := current_setting('tradedesk.switch_decision', true);
    enabled boolean;
    reason text;
    expected public.decisionaction;
BEGIN
    IF TG_RELID <> 'public.risk_config'::regclass THEN
        RAISE EXCEPTION '% is a trigger of risk_config only', TG_NAME;
    END IF;
    SELECT r.ai_trading_enabled, r.last_halt_reason INTO enabled, reason
      FROM public.risk_config r WHERE r.id = NEW.id;
    IF NOT FOUND OR enabled IS DISTINCT FROM NEW.ai_trading_enabled THEN
        RETURN NULL;
    END IF;
    expected := CASE WHEN enabled THEN 'ai_resumed' ELSE 'ai_halted' END;
    IF noted ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       AND EXISTS (SELECT 1 FROM public.decision_history d
                    WHERE d.id = noted::uuid AND d.action = expected AND d.symbol IS NULL
                      AND tradedesk.tradedesk_own_xid(d.xmin)) THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.decision_history (id, occurred_at, symbol, action, rationale,
                                         risk_check_result, human_override, operator)
    VALUES (gen_random_uuid(), clock_timestamp(), NULL, expected,
            CASE WHEN enabled
                 THEN 'AI trading switched on without a recorded decision'
                 ELSE 'AI trading switched off without a recorded decision'
                      || coalesce(' (' || reason || ')', '') END,
            CASE WHEN enabled THEN 'pass' ELSE 'fail:' || coalesce(reason, 'direct SQL') END,
            false, tradedesk.tradedesk_change_operator());
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER risk_config_switch_audit
    AFTER UPDATE ON public.risk_config
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.ai_trading_enabled IS DISTINCT FROM NEW.ai_trading_enabled)
    EXECUTE FUNCTION tradedesk.tradedesk_audit_switch_flip();
CREATE CONSTRAINT TRIGGER risk_config_switch_audit_insert
    AFTER INSERT ON public.risk_config
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.ai_trading_enabled)
    EXECUTE FUNCTION tradedesk.tradedesk_audit_switch_flip();

REVOKE ALL ON FUNCTION tradedesk.tradedesk_audit_risk_config() FROM PUBLIC;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_audit_strategy() FROM PUBLIC;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_audit_user_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_audit_switch_flip() FROM PUBLIC;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_note_switch_decision() FROM PUBLIC;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_own_xid(xid) FROM PUBLIC;
