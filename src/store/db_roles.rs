//! Least-privilege PostgreSQL roles for the desk (`tradedesk setup --roles`): whoever
//! connects as one of them owns no table, so cannot disable a trigger or rewrite the audit,
//! whatever tradedesk's own roles say.
//!
//! - `tradedesk_viewer`: reads (not the users' password hashes, nor session hashes) and
//!   LISTENs. The console opens read-only for it.
//! - `tradedesk_operator`: what tradedesk's acts and logins need, and nothing else.

use serde::Serialize;

use super::Store;
use super::error::Error;

pub const VIEWER: &str = "tradedesk_viewer";
pub const OPERATOR: &str = "tradedesk_operator";

/// The grants, in order. Re-running them changes nothing.
const GRANTS: &[&str] = &[
    "GRANT USAGE ON SCHEMA public, tradedesk TO tradedesk_viewer, tradedesk_operator",
    // Reading the desk. LISTEN needs no grant.
    "GRANT SELECT ON public.strategies, public.risk_config, public.snapshot_market,
                     public.snapshot_indicators, public.snapshot_calendar, public.snapshot_news,
                     public.snapshot_account, public.trade_ideas, public.decision_history
        TO tradedesk_viewer, tradedesk_operator",
    "GRANT SELECT ON tradedesk.executions, tradedesk.config_changes, tradedesk.simulations,
                     tradedesk.user_roles, tradedesk._sqlx_migrations, tradedesk.audit_heads,
                     tradedesk.account_day
        TO tradedesk_viewer, tradedesk_operator",
    "GRANT SELECT (id, email, is_active, created_at, updated_at) ON public.users
        TO tradedesk_viewer",
    "GRANT SELECT (id, user_id, email, host, created_at, expires_at, ended_at)
        ON tradedesk.sessions TO tradedesk_viewer",
    // Logging in checks the password hash and keeps a session.
    "GRANT SELECT ON public.users, tradedesk.sessions, tradedesk.login_failures
        TO tradedesk_operator",
    "GRANT INSERT, UPDATE ON tradedesk.sessions TO tradedesk_operator",
    "GRANT INSERT ON tradedesk.login_failures TO tradedesk_operator",
    // The acts: approve, reject, halt and resume, limits, strategies, roles; each with
    // its audit row (never UPDATE or DELETE on the audit: the chain's seal and the
    // drawdown guard run as their owner).
    "GRANT INSERT ON public.decision_history, tradedesk.config_changes TO tradedesk_operator",
    "GRANT UPDATE (status, updated_at) ON public.trade_ideas TO tradedesk_operator",
    "GRANT UPDATE ON public.risk_config TO tradedesk_operator",
    "GRANT INSERT, UPDATE, DELETE ON public.strategies TO tradedesk_operator",
    "GRANT INSERT, UPDATE (state, updated_at) ON tradedesk.executions TO tradedesk_operator",
    "GRANT INSERT, UPDATE, DELETE ON tradedesk.user_roles TO tradedesk_operator",
];

/// What `setup --roles` did.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseRoles {
    /// The roles that did not exist before.
    pub created: Vec<&'static str>,
}

impl Store {
    /// Creates the two roles if missing (they can log in once given a password) and grants
    /// them their privileges on this database, in one transaction.
    pub async fn create_database_roles(&self) -> Result<DatabaseRoles, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let mut created = Vec::new();
        for role in [VIEWER, OPERATOR] {
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
