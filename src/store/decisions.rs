//! `decision_history`: the audit trail. Rows are only ever inserted (migration 3 refuses
//! UPDATE and DELETE).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::error::Error;
use crate::domain::DecisionAction;

/// A decision to record, inside the transaction of the act it belongs to.
#[derive(Debug, Clone)]
pub struct NewDecision<'a> {
    pub symbol: Option<&'a str>,
    pub action: DecisionAction,
    pub rationale: &'a str,
    pub confidence_score: Option<Decimal>,
    pub risk_check_result: Option<&'a str>,
    pub strategy_id: Option<Uuid>,
    pub trade_idea_id: Option<Uuid>,
    pub snapshot_ref: Option<Uuid>,
    pub human_override: bool,
    pub operator: Option<&'a str>,
    /// The row's id; `None` for a new time-ordered one.
    pub id: Option<Uuid>,
    /// When it happened; `None` for the database's clock at the insert (the simulated
    /// platform writes at its simulated time).
    pub occurred_at: Option<DateTime<Utc>>,
}

impl<'a> NewDecision<'a> {
    /// A decision of `action` with `rationale`, every other column empty.
    pub fn new(action: DecisionAction, rationale: &'a str) -> Self {
        NewDecision {
            symbol: None,
            action,
            rationale,
            confidence_score: None,
            risk_check_result: None,
            strategy_id: None,
            trade_idea_id: None,
            snapshot_ref: None,
            human_override: false,
            operator: None,
            id: None,
            occurred_at: None,
        }
    }
}

/// Inserts the row and returns its id and time. Ids are UUIDv7: time-ordered, so new rows
/// land at the end of the primary-key index.
pub async fn record(
    conn: &mut PgConnection,
    d: &NewDecision<'_>,
) -> Result<(Uuid, DateTime<Utc>), Error> {
    record_after(conn, d, "", |query| query).await
}

/// [`record`], in one statement with the writes of `before` (data-modifying CTEs, `name AS
/// (…)` separated by commas, numbering their parameters from `$13`, which `bind` binds):
/// an act's own rows and its decision row cost one round trip.
pub(crate) async fn record_after(
    conn: &mut PgConnection,
    d: &NewDecision<'_>,
    before: &str,
    bind: impl for<'q> FnOnce(Query<'q>) -> Query<'q>,
) -> Result<(Uuid, DateTime<Utc>), Error> {
    let id = d.id.unwrap_or_else(Uuid::now_v7);
    let with = if before.is_empty() {
        String::new()
    } else {
        format!("WITH {before} ")
    };
    let sql = format!(
        "{with}INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       confidence_score, risk_check_result, strategy_id,
                                       trade_idea_id, snapshot_ref, human_override, operator)
         VALUES ($1, coalesce($12, clock_timestamp()), $2, $3::decisionaction, $4, $5, $6, $7,
                 $8, $9, $10, $11)
         RETURNING occurred_at"
    );
    let query = sqlx::query_scalar(&sql)
        .bind(id)
        .bind(d.symbol)
        .bind(d.action.as_str())
        .bind(d.rationale)
        .bind(d.confidence_score)
        .bind(d.risk_check_result)
        .bind(d.strategy_id)
        .bind(d.trade_idea_id)
        .bind(d.snapshot_ref)
        .bind(d.human_override)
        .bind(d.operator)
        .bind(d.occurred_at);
    let occurred_at: DateTime<Utc> = bind(query)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::Database)?;
    Ok((id, occurred_at))
}

/// A statement that returns the decision row's time, its parameters being bound.
pub(crate) type Query<'q> =
    sqlx::query::QueryScalar<'q, sqlx::Postgres, DateTime<Utc>, sqlx::postgres::PgArguments>;
