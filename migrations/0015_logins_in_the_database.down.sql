DROP FUNCTION tradedesk.set_role(text, text, text, text);
DROP FUNCTION tradedesk.tradedesk_actor(text, text, text);
DROP FUNCTION tradedesk.logout(text);
DROP FUNCTION tradedesk.login(text, text, text, interval);
DROP FUNCTION tradedesk.tradedesk_locked_until(text);
DROP FUNCTION tradedesk.session(text);
DROP FUNCTION tradedesk.tradedesk_role_of(uuid);
DROP FUNCTION tradedesk.tradedesk_new_token();
DROP FUNCTION tradedesk.tradedesk_password_matches(text, text);
-- pgcrypto goes if it is the one migration 15 installed (in schema tradedesk); one the
-- database had before stays where it was.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                WHERE e.extname = 'pgcrypto' AND n.nspname = 'tradedesk') THEN
        DROP EXTENSION pgcrypto;
    END IF;
END
$$;
