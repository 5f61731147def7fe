-- Logins in the database: the password is checked, the lock-out kept and the session made
-- by functions that run as the owner of tradedesk's schema (SECURITY DEFINER, a fixed
-- search_path), so the roles people connect as need no access to the password hashes,
-- the sessions or the failed logins, and cannot make a session or a role for anyone:
--
--   tradedesk.login(email, password, host, lasting)  a session's token, or no row
--   tradedesk.logout(token)                          true when it ended a session
--   tradedesk.session(token)                         the session's user and role now
--   tradedesk.set_role(token, account, email, role)  an admin's grant (NULL: revocation)
--
-- What the roles may do is granted by `tradedesk setup --roles` (src/store/db_roles.rs).
-- The Phase-1 passwords are passlib's bcrypt hashes ($2b$, and $2a$/$2y$); pgcrypto's
-- crypt() reads the $2a$ form of the same algorithm, so the prefix is rewritten to it.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto') THEN
        CREATE EXTENSION pgcrypto WITH SCHEMA tradedesk;
    END IF;
END
$$;

-- Whether `password` is the one `hash` was made from; a hash that is not bcrypt's is
-- refused after the same work (a cost-12 hash of no password anyone knows), so that no
-- refusal is quicker than another. Made with pgcrypto's schema on its search_path,
-- wherever the database keeps it.
DO $do$
DECLARE
    crypto text := (SELECT n.nspname FROM pg_extension e
                      JOIN pg_namespace n ON n.oid = e.extnamespace
                     WHERE e.extname = 'pgcrypto');
BEGIN
    EXECUTE format($f$
        CREATE FUNCTION tradedesk.tradedesk_password_matches(password text, hash text)
        RETURNS boolean
        LANGUAGE plpgsql VOLATILE
        SET search_path = pg_catalog, %1$I, pg_temp
        AS $body$
        DECLARE
            dummy constant text :=
                '$2a$12$tKh3zdntpgGY0hdVyDl.v.8M2hfg0vwJxljrFlGNPeWPJiA7RVQCC';
            usable boolean := hash ~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$';
            as_2a text := '$2a$' || substr(hash, 5);
        BEGIN
            IF password IS NULL OR NOT coalesce(usable, false) THEN
                PERFORM %1$I.crypt(coalesce(password, ''), dummy);
                RETURN false;
            END IF;
            RETURN %1$I.crypt(password, as_2a) = as_2a;
        END
        $body$;
        CREATE FUNCTION tradedesk.tradedesk_new_token() RETURNS text
        LANGUAGE sql VOLATILE
        SET search_path = pg_catalog, %1$I, pg_temp
        AS $body$ SELECT encode(%1$I.gen_random_bytes(32), 'hex') $body$;
    $f$, crypto);
END
$do$;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_password_matches(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_new_token() FROM PUBLIC;

-- A user's desk role now: the one granted; before the first grant every active user is an
-- admin (the platform's v1 has one owner role); after it, one without a grant is a viewer.
CREATE FUNCTION tradedesk.tradedesk_role_of(user_id uuid, OUT role text, OUT roles_granted boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT r.role FROM tradedesk.user_roles r WHERE r.user_id = $1),
                    CASE WHEN EXISTS (SELECT 1 FROM tradedesk.user_roles) THEN 'viewer'
                         ELSE 'admin' END),
           EXISTS (SELECT 1 FROM tradedesk.user_roles)
$$;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_role_of(uuid) FROM PUBLIC;

-- The session a token opens, if it is still open (not ended, not expired, its user still
-- active), with the user's role now. A session another writer made endless (infinity) is
-- open until it ends.
CREATE FUNCTION tradedesk.session(token text)
RETURNS TABLE (user_id uuid, email text, role text, expires_at timestamptz, roles_granted boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.id, u.email::text, r.role, s.expires_at, r.roles_granted
      FROM tradedesk.sessions s
      JOIN public.users u ON u.id = s.user_id
     CROSS JOIN LATERAL tradedesk.tradedesk_role_of(u.id) r
     WHERE s.token_hash = sha256(convert_to($1, 'UTF8'))
       AND s.ended_at IS NULL AND s.expires_at > clock_timestamp() AND u.is_active
$$;

-- When the lock-out of `email` ends, or NULL: it starts at the fifth failure within 15
-- minutes and lasts 15 minutes (attempts during it are not counted, so it ends on time).
CREATE FUNCTION tradedesk.tradedesk_locked_until(email text) RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT max(f.at) + interval '15 minutes' FROM tradedesk.login_failures f
     WHERE lower(f.email) = lower($1)
       AND f.at > now() - interval '15 minutes'
       AND (SELECT count(*) FROM tradedesk.login_failures g
             WHERE lower(g.email) = lower($1)
               AND g.at > f.at - interval '15 minutes' AND g.at <= f.at) >= 5
$$;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_locked_until(text) FROM PUBLIC;

-- A login. Refused (no row), whatever the reason — an unknown email, a wrong password, an
-- inactive or locked-out user — after one bcrypt verification, so that neither the answer
-- nor its time tells which emails exist; a platform user's failure is kept for the
-- lock-out, in the same transaction. Attempts at one email take turns (an advisory lock
-- until commit), so attempts sent at once cannot all be checked before any counts.
CREATE FUNCTION tradedesk.login(email text, password text, host text, lasting interval)
RETURNS TABLE (token text, user_email text, expires_at timestamptz, role text,
               roles_granted boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    typed text := btrim(coalesce(login.email, ''));
    found_users integer;
    found_id uuid;
    known_email text;
    hash text;
    active boolean := false;
    locked boolean;
    matches boolean;
    fresh text;
BEGIN
    IF lasting IS NULL OR lasting <= interval '0' THEN
        RAISE EXCEPTION 'a session must last some time, e.g. 12 hours'
            USING ERRCODE = 'TDI01';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('tradedesk.login:' || lower(typed), 0));
    SELECT count(*) INTO found_users FROM public.users x WHERE lower(x.email) = lower(typed);
    -- Two users differing only in case cannot be told apart by what was typed.
    IF found_users = 1 THEN
        SELECT x.id, x.email, x.hashed_password, x.is_active
          INTO found_id, known_email, hash, active
          FROM public.users x WHERE lower(x.email) = lower(typed);
    END IF;
    locked := tradedesk.tradedesk_locked_until(typed) IS NOT NULL;
    matches := tradedesk.tradedesk_password_matches(password, hash);
    IF found_users <> 1 OR NOT matches OR NOT active OR locked THEN
        -- What was typed for no user (a password in the email field, say) is not kept.
        IF found_users = 1 AND NOT locked THEN
            INSERT INTO tradedesk.login_failures (id, email, host)
            VALUES (gen_random_uuid(), known_email, coalesce(host, ''));
        END IF;
        RETURN;
    END IF;
    fresh := tradedesk.tradedesk_new_token();
    RETURN QUERY
    WITH made AS (
        INSERT INTO tradedesk.sessions (id, token_hash, user_id, email, host, expires_at)
        VALUES (gen_random_uuid(), sha256(convert_to(fresh, 'UTF8')), found_id,
                known_email, coalesce(host, ''), now() + lasting)
        RETURNING sessions.expires_at
    )
    SELECT fresh, known_email, made.expires_at, r.role, r.roles_granted
      FROM made CROSS JOIN tradedesk.tradedesk_role_of(found_id) r;
END
$$;

CREATE FUNCTION tradedesk.logout(token text) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ended AS (
        UPDATE tradedesk.sessions SET ended_at = now()
         WHERE token_hash = sha256(convert_to($1, 'UTF8'))
           AND ended_at IS NULL AND expires_at > now()
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM ended)
$$;

-- Who acts: on a desk with active platform users, the user of an open session, with
-- their role now; on one without, `account` (the operating-system account tradedesk runs
-- as), with every act open. The kill switch needs no session: without one, it is
-- `account (not logged in)`, a viewer's act. Refused with the sentence tradedesk says
-- (src/operator.rs): TDU01 no session, TDF01 a role that may not. Names the actor for the
-- audit of the transaction's changes (migration 14).
CREATE FUNCTION tradedesk.tradedesk_actor(token text, account text, act text,
                                          OUT name text, OUT role text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    needs text := CASE act WHEN 'halt' THEN 'viewer'
                           WHEN 'approve' THEN 'operator' WHEN 'reject' THEN 'operator'
                           ELSE 'admin' END;
    noun text := CASE act WHEN 'halt' THEN 'the kill switch'
                          WHEN 'approve' THEN 'approval'
                          WHEN 'reject' THEN 'rejection'
                          WHEN 'resume' THEN 'resume'
                          WHEN 'edit_risk' THEN 'editing a limit'
                          WHEN 'toggle_strategy' THEN 'enabling or disabling a strategy'
                          WHEN 'edit_strategy' THEN 'editing a strategy'
                          WHEN 'grant_role' THEN 'granting a role'
                          ELSE act END;
    rank constant text[] := ARRAY['viewer', 'operator', 'admin'];
    s record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.users u WHERE u.is_active) THEN
        name := nullif(btrim(coalesce(account, '')), '');
        IF name IS NULL THEN
            RAISE EXCEPTION 'an act must be attributable: name the account that acts'
                USING ERRCODE = 'TDI01';
        END IF;
        role := 'admin';
    ELSE
        SELECT * INTO s FROM tradedesk.session(token) LIMIT 1;
        IF FOUND THEN
            name := s.email;
            role := s.role;
        ELSIF act = 'halt' THEN
            name := coalesce(nullif(btrim(coalesce(account, '')), ''), session_user)
                    || ' (not logged in)';
            role := 'viewer';
        ELSE
            RAISE EXCEPTION 'this database has platform users: log in first with `tradedesk login --email you@example.com` (a session lasts 12 hours)'
                USING ERRCODE = 'TDU01';
        END IF;
    END IF;
    IF array_position(rank, role) < array_position(rank, needs) THEN
        RAISE EXCEPTION '% needs the % role; % is % %', noun, needs, name,
            CASE WHEN role IN ('admin', 'operator') THEN 'an' ELSE 'a' END, role
            USING ERRCODE = 'TDF01';
    END IF;
    PERFORM set_config('tradedesk.operator', name, true);
END
$$;
REVOKE ALL ON FUNCTION tradedesk.tradedesk_actor(text, text, text) FROM PUBLIC;

-- An admin grants `role` to the user `email` (NULL: revokes their role), audited by
-- migration 14's trigger as the admin. Refused when it would leave the desk without an
-- active admin (revoking the last role would make every user an admin again).
CREATE FUNCTION tradedesk.set_role(token text, account text, email text, role text)
RETURNS TABLE (user_email text, before text, after text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor record;
    target record;
BEGIN
    SELECT * INTO actor FROM tradedesk.tradedesk_actor(token, account, 'grant_role');
    IF set_role.role IS NOT NULL AND set_role.role NOT IN ('viewer', 'operator', 'admin') THEN
        RAISE EXCEPTION 'there is no desk role "%": viewer, operator or admin', set_role.role
            USING ERRCODE = 'TDI01';
    END IF;
    -- One change of roles at a time: the check below must see the others.
    LOCK TABLE tradedesk.user_roles IN SHARE ROW EXCLUSIVE MODE;
    SELECT u.id, u.email::text AS email, r.role AS role INTO target
      FROM public.users u LEFT JOIN tradedesk.user_roles r ON r.user_id = u.id
     WHERE lower(u.email) = lower(btrim(set_role.email));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'platform user % not found', btrim(set_role.email)
            USING ERRCODE = 'TDN01';
    END IF;
    IF set_role.role IS NULL THEN
        DELETE FROM tradedesk.user_roles r WHERE r.user_id = target.id;
    ELSE
        INSERT INTO tradedesk.user_roles AS r (user_id, role, granted_by)
        VALUES (target.id, set_role.role, actor.name)
        ON CONFLICT (user_id) DO UPDATE
           SET role = EXCLUDED.role, granted_by = EXCLUDED.granted_by, granted_at = now()
         WHERE r.role IS DISTINCT FROM EXCLUDED.role;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tradedesk.user_roles r JOIN public.users u ON u.id = r.user_id
                    WHERE r.role = 'admin' AND u.is_active) THEN
        RAISE EXCEPTION 'that would leave the desk without an admin (once a role is granted, users without one may only look): grant admin to someone first, e.g. `tradedesk users grant % admin`', actor.name
            USING ERRCODE = 'TDC01';
    END IF;
    RETURN QUERY SELECT target.email, target.role, set_role.role;
END
$$;

-- Logging in, out and proving a session are open to every role that may connect (each
-- does only what knowing the password or the token allows); granting roles is granted to
-- tradedesk_admin by `tradedesk setup --roles`.
REVOKE ALL ON FUNCTION tradedesk.set_role(text, text, text, text) FROM PUBLIC;
