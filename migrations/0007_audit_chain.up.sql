-- A tamper-evident audit: every row of decision_history and tradedesk.config_changes is
-- chained to the row before it in the same table by a SHA-256 hash, so that `tradedesk
-- audit verify` can name the first row changed, deleted or slipped in behind the triggers'
-- back (a superuser's ALTER TABLE … DISABLE TRIGGER). Additive: two nullable columns on
-- each table, set by a trigger, so the platform's own INSERTs keep working unchanged and
-- are chained too.
--
-- The chain (what src/store/audit.rs recomputes):
--   digest(n) = sha256(the UTF-8 bytes of the row's canonical text, with its seq n)
--   hash(n)   = sha256(hash(n-1) || digest(n)),   hash(0) = 32 zero bytes
-- The canonical text is a list of fields, each `<length in characters>:<value>,`, or `-,`
-- for NULL (so NULL and '' differ, and no value can forge a separator): the table's name,
-- the seq, then every column in the order listed in the canonical functions below. Values:
-- uuids in lower-case 8-4-4-4-12 form; timestamps as whole microseconds since 1970-01-01
-- 00:00 UTC (`infinity`, `-infinity`); numerics as PostgreSQL prints them (with their
-- scale: `92.50`; `NaN`); booleans `true`/`false`; enum labels and text as they are; jsonb
-- as PostgreSQL prints it (keys ordered, `", "` and `": "`).
--
-- Order: each table has one head in tradedesk.audit_heads (the last seq and hash). A row
-- is linked twice. As it is inserted, a BEFORE trigger links it, without a lock, after the
-- head it reads (or after the row its own transaction linked last). When its transaction
-- commits, a deferred constraint trigger takes the head's row lock, checks that link
-- against the head and moves the head onto the row; should another transaction have
-- committed a row in between, the link is stale and the seal rewrites the row's seq and
-- hash after the head (the one UPDATE the append-only rule lets through). So the lock is
-- held only while a transaction commits, never while it is open: an engine's transaction
-- that inserted a decision and has not committed blocks nobody (an approval or a halt must
-- not wait on it), and rows are chained in commit order without gaps, a rolled-back
-- transaction taking no seq. Writers at REPEATABLE READ or SERIALIZABLE may get a
-- serialization failure (40001) at commit when another writer sealed a row first, and
-- retry, as those levels require. A committed row without a seq was written behind the
-- triggers' back.
--
-- No unique index on the seq: two open transactions may both hold a row linked after the
-- same head, and a unique index would make the second wait for the first. The seal alone
-- gives final seqs, one at a time under the head's lock, so they are unique; `audit verify`
-- walks (seq, id) and names a seq written twice.
--
-- Rows already there are chained by this migration in (occurred_at, id) order, resp.
-- (changed_at, id), in one statement (a window over the whole table), so that verify covers
-- every row.
--
-- Archiving (migration 3: DELETE with `SET tradedesk.archiving = on`) removes the oldest
-- rows: it must remove a prefix of the chain (the oldest seqs first, e.g. `DELETE FROM
-- decision_history WHERE audit_seq <= N`), and the rows it removes must still match their
-- hashes. The head then records the boundary (archived_seq, archived_hash: the last row
-- removed), and the chain verifies from there.

ALTER TABLE public.decision_history
    ADD COLUMN audit_seq  BIGINT,
    ADD COLUMN audit_hash BYTEA;
ALTER TABLE tradedesk.config_changes
    ADD COLUMN audit_seq  BIGINT,
    ADD COLUMN audit_hash BYTEA;

-- The head of each chain: the newest chained row (0 and hash(0) for none), and the
-- archive's boundary (the last row archived).
CREATE TABLE tradedesk.audit_heads (
    chained_table TEXT   NOT NULL PRIMARY KEY,
    last_seq      BIGINT NOT NULL,
    last_hash     BYTEA  NOT NULL,
    archived_seq  BIGINT NOT NULL DEFAULT 0,
    archived_hash BYTEA  NOT NULL,
    CONSTRAINT audit_heads_table_check
        CHECK (chained_table IN ('decision_history', 'config_changes')),
    CONSTRAINT audit_heads_archived_within CHECK (archived_seq BETWEEN 0 AND last_seq)
);

-- The canonical texts. A seq of its own, as the trigger knows it before the row has one.
-- The two functions repeat the field encoding on purpose: each row is encoded twice per
-- insert (link and seal), and shared encoder functions, each call switching the
-- search_path, made approvals pay 9.6% for the chain instead of 3.9% (cargo bench --bench
-- audit).
CREATE FUNCTION tradedesk.tradedesk_audit_canonical_decision(d public.decision_history, seq bigint)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canonical text := '';
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY[
        'decision_history',
        seq::text,
        d.id::text,
        CASE WHEN d.occurred_at IS NULL THEN NULL
             WHEN d.occurred_at = 'infinity' THEN 'infinity'
             WHEN d.occurred_at = '-infinity' THEN '-infinity'
             -- The exact microseconds (timestamptz_send: since 2000-01-01, 8 bytes).
             ELSE (('x' || encode(timestamptz_send(d.occurred_at), 'hex'))::bit(64)::bigint::numeric
                   + 946684800000000)::text END,
        d.symbol,
        d.action::text,
        d.rationale,
        d.confidence_score::text,
        d.risk_check_result,
        d.strategy_id::text,
        d.trade_idea_id::text,
        d.snapshot_ref::text,
        d.human_override::text,
        d.operator
    ] LOOP
        canonical := canonical || CASE WHEN v IS NULL THEN '-,'
                                       ELSE char_length(v)::text || ':' || v || ',' END;
    END LOOP;
    RETURN canonical;
END
$$;

CREATE FUNCTION tradedesk.tradedesk_audit_canonical_config(c tradedesk.config_changes, seq bigint)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canonical text := '';
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY[
        'config_changes',
        seq::text,
        c.id::text,
        CASE WHEN c.changed_at IS NULL THEN NULL
             WHEN c.changed_at = 'infinity' THEN 'infinity'
             WHEN c.changed_at = '-infinity' THEN '-infinity'
             ELSE (('x' || encode(timestamptz_send(c.changed_at), 'hex'))::bit(64)::bigint::numeric
                   + 946684800000000)::text END,
        c.operator,
        c.subject,
        c.subject_id::text,
        c.subject_name,
        c.change,
        c.before::text,
        c.after::text
    ] LOOP
        canonical := canonical || CASE WHEN v IS NULL THEN '-,'
                                       ELSE char_length(v)::text || ':' || v || ',' END;
    END LOOP;
    RETURN canonical;
END
$$;

-- hash(n) from hash(n-1) and digest(n); as an aggregate, the chain of rows in order:
-- `tradedesk_audit_fold(digest ORDER BY seq)` is the head, recomputed in SQL.
CREATE FUNCTION tradedesk.tradedesk_audit_step(previous bytea, digest bytea)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN sha256(previous || digest);
END
$$;

CREATE AGGREGATE tradedesk.tradedesk_audit_fold(bytea) (
    SFUNC = tradedesk.tradedesk_audit_step,
    STYPE = bytea,
    INITCOND = '\x0000000000000000000000000000000000000000000000000000000000000000'
);

-- Locks the head of `chained` and reads it. Where the head's row version this
-- transaction last wrote is, is remembered (`tradedesk.audit_head_<table>`, its ctid) and
-- looked up first: a transaction sealing a million rows moves the head a million times,
-- and finding it by its key would step over every version it left. A stale or forged
-- ctid finds no row (or not this table's), and the key is used.
CREATE FUNCTION tradedesk.tradedesk_audit_lock_head(chained text, OUT seq bigint,
                                                    OUT hash bytea, OUT head tid)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cached text := current_setting('tradedesk.audit_head_' || chained, true);
BEGIN
    IF cached IS NOT NULL AND cached <> '' THEN
        SELECT a.last_seq, a.last_hash, a.ctid INTO seq, hash, head
          FROM tradedesk.audit_heads a
         WHERE a.ctid = cached::tid AND a.chained_table = chained
           FOR UPDATE;
    END IF;
    IF head IS NULL THEN
        SELECT a.last_seq, a.last_hash, a.ctid INTO seq, hash, head
          FROM tradedesk.audit_heads a
         WHERE a.chained_table = chained
           FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'AUDIT_CHAIN: tradedesk.audit_heads has no head for %', chained
                USING HINT = 'Migration 7 creates it; it must not be deleted.';
        END IF;
    END IF;
END
$$;

-- Only the triggers below (which run as their owner) call it.
REVOKE ALL ON FUNCTION tradedesk.tradedesk_audit_lock_head(text) FROM PUBLIC;

-- The link at INSERT (whatever seq and hash the INSERT names is replaced): after the row
-- this transaction linked last (`tradedesk.audit_link_<table>` = `seq/hash`, local to the
-- transaction), else after the head as last committed, read without a lock. A guess the
-- seal confirms or corrects; a forged setting only makes it correct one.
CREATE FUNCTION tradedesk.tradedesk_audit_link() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chained text := TG_TABLE_NAME;
    link text[] := string_to_array(current_setting('tradedesk.audit_link_' || chained, true), '/');
    seq bigint;
    previous bytea;
BEGIN
    -- Only as the chained tables' trigger (it runs as its owner; EXECUTE is revoked from
    -- PUBLIC too).
    IF TG_RELID NOT IN ('public.decision_history'::regclass,
                        'tradedesk.config_changes'::regclass) THEN
        RAISE EXCEPTION '% is a trigger of the audit chain''s tables only', TG_NAME;
    END IF;
    IF cardinality(link) = 2 THEN
        seq := link[1]::bigint + 1;
        previous := decode(link[2], 'hex');
    ELSE
        SELECT a.last_seq + 1, a.last_hash INTO seq, previous
          FROM tradedesk.audit_heads a WHERE a.chained_table = chained;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'AUDIT_CHAIN: tradedesk.audit_heads has no head for %', chained
                USING HINT = 'Migration 7 creates it; it must not be deleted.';
        END IF;
    END IF;
    NEW.audit_seq := seq;
    IF chained = 'decision_history' THEN
        NEW.audit_hash := sha256(previous || sha256(convert_to(
            tradedesk.tradedesk_audit_canonical_decision(NEW, seq), 'UTF8')));
    ELSE
        NEW.audit_hash := sha256(previous || sha256(convert_to(
            tradedesk.tradedesk_audit_canonical_config(NEW, seq), 'UTF8')));
    END IF;
    PERFORM set_config('tradedesk.audit_link_' || chained,
                       seq::text || '/' || encode(NEW.audit_hash, 'hex'), true);
    RETURN NEW;
END
$$;

-- The seal, at commit, a row at a time in the order the transaction inserted them.
-- SECURITY DEFINER: the chain's functions run as the owner of tradedesk's schema, so a
-- platform role with no privilege on it still inserts (and is chained), and no role but
-- the owner can move a head or rewrite a seq.
CREATE FUNCTION tradedesk.tradedesk_audit_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chained text := TG_TABLE_NAME;
    h record;
    seq bigint;
    hash bytea;
    moved tid;
BEGIN
    -- Only as the chained tables' trigger (it runs as its owner; EXECUTE is revoked from
    -- PUBLIC too).
    IF TG_RELID NOT IN ('public.decision_history'::regclass,
                        'tradedesk.config_changes'::regclass) THEN
        RAISE EXCEPTION '% is a trigger of the audit chain''s tables only', TG_NAME;
    END IF;
    SELECT l.seq, l.hash, l.head INTO h FROM tradedesk.tradedesk_audit_lock_head(chained) l;
    seq := h.seq + 1;
    IF chained = 'decision_history' THEN
        hash := sha256(h.hash || sha256(convert_to(
            tradedesk.tradedesk_audit_canonical_decision(NEW, seq), 'UTF8')));
    ELSE
        hash := sha256(h.hash || sha256(convert_to(
            tradedesk.tradedesk_audit_canonical_config(NEW, seq), 'UTF8')));
    END IF;
    IF NEW.audit_seq IS DISTINCT FROM seq OR NEW.audit_hash IS DISTINCT FROM hash THEN
        -- Another transaction sealed first: the row follows the head as it is now.
        IF chained = 'decision_history' THEN
            UPDATE public.decision_history d SET audit_seq = seq, audit_hash = hash
             WHERE d.id = NEW.id;
        ELSE
            UPDATE tradedesk.config_changes c SET audit_seq = seq, audit_hash = hash
             WHERE c.id = NEW.id;
        END IF;
        IF NOT FOUND THEN
            RETURN NULL;  -- no longer there: it takes no seq
        END IF;
    END IF;
    UPDATE tradedesk.audit_heads a SET last_seq = seq, last_hash = hash
     WHERE a.ctid = h.head AND a.chained_table = chained
    RETURNING a.ctid INTO moved;
    PERFORM set_config('tradedesk.audit_head_' || chained, moved::text, true);
    RETURN NULL;
END
$$;

-- The audit trail stays append-only (migration 3), with one exception: the seal, which
-- only rewrites a row's seq and hash, from inside its trigger (depth > 1: no statement of
-- a session's own passes). Every other column must be as it was.
CREATE OR REPLACE FUNCTION tradedesk.tradedesk_refuse_history_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    before jsonb;
    after jsonb;
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tradedesk.archiving', true) = 'on' THEN
        RETURN OLD;
    END IF;
    -- Through jsonb: the function serves tables without these columns too.
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        before := to_jsonb(OLD);
        after := to_jsonb(NEW);
        IF before ? 'audit_seq'
           AND after -> 'audit_seq' <> 'null' AND after -> 'audit_hash' <> 'null'
           AND before - 'audit_seq' - 'audit_hash' = after - 'audit_seq' - 'audit_hash' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'APPEND_ONLY: % is an audit trail; its rows cannot be %d', TG_TABLE_NAME, lower(TG_OP)
        USING HINT = 'Record a new row instead.';
END
$$;

-- After an archiving DELETE (the only DELETE migration 3 lets through): the rows removed
-- must be the oldest of the chain, right after the boundary, and must still match their
-- hashes (archiving never hides a changed row); the boundary then moves past them. Rows
-- with no seq were never chained (written behind the triggers' back) and may go.
CREATE FUNCTION tradedesk.tradedesk_audit_archive() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chained text;
    canonical_of text;
    h record;
    r record;
    expected bigint;
    previous bytea;
BEGIN
    -- Only as the chained tables' trigger (it runs as its owner; EXECUTE is revoked from
    -- PUBLIC too).
    IF TG_RELID NOT IN ('public.decision_history'::regclass,
                        'tradedesk.config_changes'::regclass) THEN
        RAISE EXCEPTION '% is a trigger of the audit chain''s tables only', TG_NAME;
    END IF;
    chained := TG_TABLE_NAME;
    canonical_of := CASE chained WHEN 'decision_history' THEN 'tradedesk_audit_canonical_decision'
                                 ELSE 'tradedesk_audit_canonical_config' END;
    SELECT a.last_seq, a.archived_seq, a.archived_hash INTO h
      FROM tradedesk.audit_heads a WHERE a.chained_table = chained FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'AUDIT_CHAIN: tradedesk.audit_heads has no head for %', chained;
    END IF;
    expected := h.archived_seq + 1;
    previous := h.archived_hash;
    FOR r IN EXECUTE format(
        'SELECT r.id, r.audit_seq, r.audit_hash, tradedesk.%I(r, r.audit_seq) AS canonical
           FROM removed r WHERE r.audit_seq IS NOT NULL ORDER BY r.audit_seq', canonical_of)
    LOOP
        IF r.audit_seq <> expected OR r.audit_seq > h.last_seq THEN
            RAISE EXCEPTION 'AUDIT_CHAIN: archiving must remove the oldest rows of % first: % (seq %) is not next after seq %',
                chained, r.id, r.audit_seq, expected - 1
                USING HINT = format('Delete by seq, e.g. WHERE audit_seq <= N; the chain''s rows start at seq %s.', h.archived_seq + 1);
        END IF;
        IF r.audit_hash IS DISTINCT FROM
           sha256(previous || sha256(convert_to(r.canonical, 'UTF8'))) THEN
            RAISE EXCEPTION 'AUDIT_CHAIN: % (seq %) of % does not match its hash, so it is not archived',
                r.id, r.audit_seq, chained
                USING HINT = 'Run `tradedesk audit verify`: the row was changed.';
        END IF;
        previous := r.audit_hash;
        expected := expected + 1;
    END LOOP;
    IF expected - 1 > h.archived_seq THEN
        UPDATE tradedesk.audit_heads
           SET archived_seq = expected - 1, archived_hash = previous
         WHERE chained_table = chained;
    END IF;
    RETURN NULL;
END
$$;

-- Chain the rows already there, oldest first.
ALTER TABLE public.decision_history DISABLE TRIGGER decision_history_append_only;
WITH ordered AS (
    SELECT d.id, row_number() OVER (ORDER BY d.occurred_at, d.id) AS seq, d AS whole
      FROM public.decision_history d
), chained AS (
    SELECT o.id, o.seq,
           tradedesk.tradedesk_audit_fold(sha256(convert_to(
               tradedesk.tradedesk_audit_canonical_decision(o.whole, o.seq), 'UTF8')))
               OVER (ORDER BY o.seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hash
      FROM ordered o
)
UPDATE public.decision_history d
   SET audit_seq = c.seq, audit_hash = c.hash
  FROM chained c
 WHERE d.id = c.id;
ALTER TABLE public.decision_history ENABLE TRIGGER decision_history_append_only;

ALTER TABLE tradedesk.config_changes DISABLE TRIGGER config_changes_append_only;
WITH ordered AS (
    SELECT c.id, row_number() OVER (ORDER BY c.changed_at, c.id) AS seq, c AS whole
      FROM tradedesk.config_changes c
), chained AS (
    SELECT o.id, o.seq,
           tradedesk.tradedesk_audit_fold(sha256(convert_to(
               tradedesk.tradedesk_audit_canonical_config(o.whole, o.seq), 'UTF8')))
               OVER (ORDER BY o.seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hash
      FROM ordered o
)
UPDATE tradedesk.config_changes t
   SET audit_seq = c.seq, audit_hash = c.hash
  FROM chained c
 WHERE t.id = c.id;
ALTER TABLE tradedesk.config_changes ENABLE TRIGGER config_changes_append_only;

INSERT INTO tradedesk.audit_heads (chained_table, last_seq, last_hash, archived_seq, archived_hash)
SELECT 'decision_history', coalesce(max(d.audit_seq), 0),
       coalesce((SELECT l.audit_hash FROM public.decision_history l
                  ORDER BY l.audit_seq DESC NULLS LAST LIMIT 1), decode(repeat('00', 32), 'hex')),
       0, decode(repeat('00', 32), 'hex')
  FROM public.decision_history d
UNION ALL
SELECT 'config_changes', coalesce(max(c.audit_seq), 0),
       coalesce((SELECT l.audit_hash FROM tradedesk.config_changes l
                  ORDER BY l.audit_seq DESC NULLS LAST LIMIT 1), decode(repeat('00', 32), 'hex')),
       0, decode(repeat('00', 32), 'hex')
  FROM tradedesk.config_changes c;

-- Verify reads each chain in (seq, id) order, a window at a time.
CREATE INDEX idx_decision_history_audit_seq ON public.decision_history (audit_seq, id);
CREATE INDEX idx_config_changes_audit_seq ON tradedesk.config_changes (audit_seq, id);

-- PostgreSQL fires the BEFORE ROW triggers of a table in the order of their names: `zz`
-- makes the link the last, so that it hashes the row as it will be stored.
CREATE TRIGGER decision_history_zz_audit_link
    BEFORE INSERT ON public.decision_history
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_audit_link();
CREATE CONSTRAINT TRIGGER decision_history_audit_seal
    AFTER INSERT ON public.decision_history
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_audit_seal();
CREATE TRIGGER decision_history_audit_archive
    AFTER DELETE ON public.decision_history
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION tradedesk.tradedesk_audit_archive();

CREATE TRIGGER config_changes_zz_audit_link
    BEFORE INSERT ON tradedesk.config_changes
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_audit_link();
CREATE CONSTRAINT TRIGGER config_changes_audit_seal
    AFTER INSERT ON tradedesk.config_changes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tradedesk.tradedesk_audit_seal();
CREATE TRIGGER config_changes_audit_archive
    AFTER DELETE ON tradedesk.config_changes
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION tradedesk.tradedesk_audit_archive();

-- The chain's trigger functions run as their owner: only their triggers may run them.
-- (A trigger fires whoever inserts; EXECUTE is checked when a trigger is created, so
-- without it no role can attach them to a table of its own.)
REVOKE EXECUTE ON FUNCTION tradedesk.tradedesk_audit_link() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tradedesk.tradedesk_audit_seal() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tradedesk.tradedesk_audit_archive() FROM PUBLIC;
