//! Least-privilege PostgreSQL roles for the desk (`tradedesk setup --roles`): whoever
//! connects as one of them owns no table, so cannot disable a trigger or rewrite the audit,
//! whatever tradedesk's own roles say.
//!
//! - `tradedesk_viewer`: reads (not the users' password hashes, nor session hashes) and
//!   LISTENs; logs in and out. The console opens read-only for it.
//! - `tradedesk_operator`: also what tradedesk's acts need. Logins, sessions and roles
//!   are the database's own functions (migration 15): no role reads a password hash or
//!   writes a session, a failed login or a role itself, and the audit of changes is
//!   written by the database's triggers (migration 14), never by these roles.
//! - `tradedesk_admin`: also grants and revokes desk roles, and sees who logged in and
//!   who is locked out (`tradedesk users list`).

use serde::Serialize;

use super::Store;
use super::error::Error;

pub const VIEWER: &str = "tradedesk_viewer";
pub const OPERATOR: &str = "tradedesk_operator";
pub const ADMIN: &str = "tradedesk_admin";

/// The grants, in order. Re-running them changes nothing.
const GRANTS: &[&str] = &[
    // What an earlier tradedesk granted that the database's functions now do.
    "REVOKE SELECT, INSERT, UPDATE ON tradedesk.sessions, tradedesk.login_failures
        FROM tradedesk_operator",
    "REVOKE SELECT ON public.users FROM tradedesk_operator",
    "REVOKE INSERT, UPDATE, DELETE ON tradedesk.user_roles FROM tradedesk_operator",
    "REVOKE INSERT ON tradedesk.config_changes FROM tradedesk_operator",
    "GRANT USAGE ON SCHEMA public, tradedesk TO tradedesk_viewer, tradedesk_operator, tradedesk_admin",
    // Reading the desk. LISTEN needs no grant.
    "GRANT SELECT ON public.strategies, public.risk_config, public.snapshot_market,
                     public.snapshot_indicators, public.snapshot_calendar, public.snapshot_news,
                     public.snapshot_account, public.trade_ideas, public.decision_history
        TO tradedesk_viewer, tradedesk_operator, tradedesk_admin",
    "GRANT SELECT ON tradedesk.executions, tradedesk.config_changes, tradedesk.simulations,
                     tradedesk.user_roles, tradedesk._sqlx_migrations, tradedesk.audit_heads,
                     tradedesk.account_day
        TO tradedesk_viewer, tradedesk_operator, tradedesk_admin",
    "GRANT SELECT (id, email, is_active, created_at, updated_at) ON public.users
        TO tradedesk_viewer, tradedesk_operator, tradedesk_admin",
    "GRANT SELECT (id, user_id, email, host, created_at, expires_at, ended_at)
        ON tradedesk.sessions TO tradedesk_viewer, tradedesk_operator, tradedesk_admin",
    // Logging in and out, and proving a session: the database's functions.
    "GRANT EXECUTE ON FUNCTION tradedesk.login(text, text, text, interval),
                               tradedesk.logout(text), tradedesk.session(text)
        TO tradedesk_viewer, tradedesk_operator, tradedesk_admin",
    // The acts: approve, reject, halt and resume, limits, strategies; each with its
    // decision row (never UPDATE or DELETE on the audit: the chain's seal and the
    // drawdown guard run as their owner).
    "GRANT INSERT ON public.decision_history TO tradedesk_operator, tradedesk_admin",
    "GRANT UPDATE (status, updated_at) ON public.trade_ideas TO tradedesk_operator, tradedesk_admin",
    "GRANT UPDATE ON public.risk_config TO tradedesk_operator, tradedesk_admin",
    "GRANT INSERT, UPDATE, DELETE ON public.strategies TO tradedesk_operator, tradedesk_admin",
    "GRANT INSERT, UPDATE (state, updated_at) ON tradedesk.executions
        TO tradedesk_operator, tradedesk_admin",
    // An admin's: roles, and who logged in and failed to.
    "GRANT EXECUTE ON FUNCTION tradedesk.set_role(text, text, text, text),
                               tradedesk.tradedesk_locked_until(text)
        TO tradedesk_admin",
    "GRANT SELECT ON tradedesk.login_failures TO tradedesk_admin",
];

/// What `setup --roles` did.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseRoles {
    /// The roles that did not exist before.
    pub created: Vec<&'static str>,
}

impl Store {
    /// Creates the three roles if missing (they can log in once given a password) and grants
    /// them their privileges on this database, in one transaction.
    pub async fn create_database_roles(&self) -> Result<DatabaseRoles, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let mut created = Vec::new();
        for role in [VIEWER, OPERATOR, ADMIN] {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                    .bind(role)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(Error::Database)?;
            if !exists {
                // Names are constants: no user input is spliced into this statement.
                sqlx::raw_sql(&format!("CREATE ROLE {role} LOGIN"))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| permission("create the roles", e))?;
                created.push(role);
            }
        }
        for grant in GRANTS {
            sqlx::raw_sql(grant)
                .execute(&mut *tx)
                .await
                .map_err(|e| permission("grant the roles their privileges", e))?;
        }
        tx.commit().await.map_err(Error::Database)?;
        Ok(DatabaseRoles { created })
    }
}

fn permission(action: &'static str, e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("42501") => {
            Error::PermissionDenied {
                action,
                reason: db.message().to_string(),
            }
        }
        _ => Error::Database(e),
    }
}
