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
