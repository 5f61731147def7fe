-- Logins and roles: who may act, as a platform user (docs/platform.md §1 `users`).
-- Additive, in schema tradedesk; the platform's `users` table is only read.

-- A logged-in session: the token itself stays with the user (a 0600 file); the database
-- keeps only its SHA-256, so a copy of this table logs nobody in.
CREATE TABLE tradedesk.sessions (
    id          UUID        NOT NULL PRIMARY KEY,
    token_hash  BYTEA       NOT NULL UNIQUE,
    user_id     UUID        NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    email       TEXT        NOT NULL,
    host        TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    CONSTRAINT sessions_expire_after_start CHECK (expires_at > created_at)
);
CREATE INDEX idx_sessions_user ON tradedesk.sessions (user_id, created_at);

-- Failed logins, by the email given (known or not): five within 15 minutes lock that
-- email for 15 minutes. Kept for an admin to see (`tradedesk users list`).
CREATE TABLE tradedesk.login_failures (
    id      UUID        NOT NULL PRIMARY KEY,
    email   TEXT        NOT NULL,
    host    TEXT        NOT NULL,
    at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_login_failures_email_at ON tradedesk.login_failures (lower(email), at);

-- A platform user's role at the desk. Until the first grant every active user is an
-- admin (the platform's v1 has one owner role); after it, a user without a row may only
-- look (and pull the kill switch).
CREATE TABLE tradedesk.user_roles (
    user_id     UUID        NOT NULL PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    role        TEXT        NOT NULL,
    granted_by  TEXT        NOT NULL,
    granted_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT user_roles_role_check CHECK (role IN ('viewer', 'operator', 'admin'))
);

-- Grants and revocations are audited beside the edits of limits and strategies.
ALTER TABLE tradedesk.config_changes DROP CONSTRAINT config_changes_subject_check;
ALTER TABLE tradedesk.config_changes ADD CONSTRAINT config_changes_subject_check
    CHECK (subject IN ('risk_config', 'strategy', 'user_role'));
