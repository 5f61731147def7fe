//! The decision timeline: `decision_history` newest first, a page at a time.
//!
//! Pages are cut by keyset (the last row's `(occurred_at, id)`), never OFFSET, and each
//! query names only the filters given, so PostgreSQL can walk `idx_decision_history_occurred`
//! or the `(symbol|action, occurred_at)` indexes backwards and stop after one page, at any
//! depth of a table of millions of rows.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::Store;
use super::error::Error;
use crate::domain::DecisionAction;
use crate::domain::idea::labels;

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Decision {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub symbol: Option<String>,
    pub action: String,
    pub rationale: String,
    pub confidence_score: Option<Decimal>,
    pub risk_check_result: Option<String>,
    pub strategy_id: Option<Uuid>,
    pub trade_idea_id: Option<Uuid>,
    pub snapshot_ref: Option<Uuid>,
    pub human_override: bool,
    pub operator: Option<String>,
}

/// Where a page ends: the next page starts strictly after (older than) this row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cursor {
    pub occurred_at: DateTime<Utc>,
    pub id: Uuid,
}

/// Which decisions to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineFilter {
    pub symbol: Option<String>,
    /// A `decisionaction` label.
    pub action: Option<String>,
    pub operator: Option<String>,
    /// Inclusive.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    /// Continue after this row (from the previous page's `next`).
    pub after: Option<Cursor>,
    /// Rows per page.
    pub limit: i64,
}

/// A page of the timeline and where the next one starts (`None` at the end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub decisions: Vec<Decision>,
    pub next: Option<Cursor>,
}

impl Store {
    /// One page of decisions, newest first.
    pub async fn timeline(&self, filter: &TimelineFilter) -> Result<Page, Error> {
        if let Some(action) = &filter.action
            && action.parse::<DecisionAction>().is_err()
        {
            return Err(Error::InvalidInput(format!(
                "`{action}` is not a decision action: use one of {}",
                labels(DecisionAction::ALL)
            )));
        }
        if let (Some(since), Some(until)) = (filter.since, filter.until)
            && since >= until
        {
            return Err(Error::InvalidInput(
                "--since must be earlier than --until".into(),
            ));
        }
        let limit = filter.limit.clamp(1, 10_000);
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT id, occurred_at, symbol, action::text AS action, rationale, confidence_score,
                    risk_check_result, strategy_id, trade_idea_id, snapshot_ref, human_override,
                    operator
               FROM decision_history WHERE true",
        );
        if let Some(symbol) = &filter.symbol {
            q.push(" AND symbol = ")
                .push_bind(symbol.to_ascii_uppercase());
        }
        if let Some(action) = &filter.action {
            q.push(" AND action = ")
                .push_bind(action.clone())
                .push("::decisionaction");
        }
        if let Some(operator) = &filter.operator {
            q.push(" AND operator = ").push_bind(operator.clone());
        }
        if let Some(since) = filter.since {
            q.push(" AND occurred_at >= ").push_bind(since);
        }
        if let Some(until) = filter.until {
            q.push(" AND occurred_at < ").push_bind(until);
        }
        if let Some(after) = filter.after {
            // The first condition alone is an index range; the second breaks ties.
            q.push(" AND occurred_at <= ")
                .push_bind(after.occurred_at)
                .push(" AND (occurred_at < ")
                .push_bind(after.occurred_at)
                .push(" OR id < ")
                .push_bind(after.id)
                .push(")");
        }
        // One row more than asked tells whether another page follows.
        q.push(" ORDER BY occurred_at DESC, id DESC LIMIT ")
            .push_bind(limit + 1);
        let mut decisions: Vec<Decision> = q
            .build_query_as()
            .fetch_all(self.pool())
            .await
            .map_err(Error::Database)?;
        let next = if decisions.len() as i64 > limit {
            decisions.truncate(limit as usize);
            decisions.last().map(|d| Cursor {
                occurred_at: d.occurred_at,
                id: d.id,
            })
        } else {
            None
        };
        Ok(Page { decisions, next })
    }
}
