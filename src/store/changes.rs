//! Changes of the desk's settings (risk limits, strategies, roles): the database audits
//! each in `tradedesk.config_changes` by its own triggers (migration 14), whoever makes
//! it; an act only names, for its transaction, who is making it and, where the columns
//! changed do not say it, what the change means.

use sqlx::PgConnection;

use super::error::Error;
use crate::operator::Operator;

/// Names `operator` as the one making this transaction's changes, and `meaning` (if any)
/// as the words for the next row changed.
pub(crate) async fn name(
    conn: &mut PgConnection,
    operator: &Operator,
    meaning: Option<&str>,
) -> Result<(), Error> {
    sqlx::query(
        "SELECT set_config('tradedesk.operator', $1, true),
                set_config('tradedesk.change', coalesce($2, ''), true)",
    )
    .bind(operator.as_str())
    .bind(meaning)
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(())
}

/// What the desk's maintenance acts are recorded as (migration 14's subjects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maintenance {
    /// Migrations applied or reverted.
    Schema,
    /// Decisions moved to an archive file.
    Archive,
    /// Old snapshots removed.
    Retention,
    /// A simulation written into a database that is not tradedesk's own.
    Simulation,
    /// `tradedesk setup`.
    Setup,
}

impl Maintenance {
    fn subject(self) -> &'static str {
        match self {
            Maintenance::Schema => "schema",
            Maintenance::Archive => "archive",
            Maintenance::Retention => "retention",
            Maintenance::Simulation => "simulation",
            Maintenance::Setup => "setup",
        }
    }
}

/// Records a maintenance act in the chained audit, as `operator`: `change` says what was
/// done, `details` what a reader may check it by. A database whose schema predates
/// migration 14 has nowhere to record it: `Ok(false)`.
pub async fn record(
    pool: &sqlx::PgPool,
    operator: &Operator,
    what: Maintenance,
    change: &str,
    details: serde_json::Value,
) -> Result<bool, Error> {
    let recordable: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tradedesk._sqlx_migrations WHERE version = 14 AND success)",
    )
    .fetch_one(pool)
    .await
    .or_else(|e| match &e {
        // No record of migrations at all: nothing of tradedesk's yet.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01") => Ok(false),
        _ => Err(e),
    })
    .map_err(Error::Database)?;
    if !recordable {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, change, after)
         VALUES ($1, clock_timestamp(), $2, $3, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(operator.as_str())
    .bind(what.subject())
    .bind(change)
    .bind(details)
    .execute(pool)
    .await
    .map_err(Error::Database)?;
    Ok(true)
}
