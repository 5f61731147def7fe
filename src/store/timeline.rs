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
use crate::domain::label::UnknownLabel;
use crate::domain::{Decision, DecisionAction};

/// A `decision_history` row as read; [`Decision`] is made from it.
#[derive(sqlx::FromRow)]
pub(crate) struct DecisionRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    symbol: Option<String>,
    action: String,
    rationale: String,
    confidence_score: Option<Decimal>,
    risk_check_result: Option<String>,
    strategy_id: Option<Uuid>,
    trade_idea_id: Option<Uuid>,
    snapshot_ref: Option<Uuid>,
    human_override: bool,
    operator: Option<String>,
}

impl TryFrom<DecisionRow> for Decision {
    type Error = Error;

    fn try_from(r: DecisionRow) -> Result<Decision, Error> {
        Ok(Decision {
            action: r
                .action
                .parse()
                .map_err(|e: UnknownLabel| Error::Unreadable {
                    what: format!("decision {}", r.id),
                    reason: e.to_string(),
                })?,
            id: r.id,
            occurred_at: r.occurred_at,
            symbol: r.symbol,
            rationale: r.rationale,
            confidence_score: r.confidence_score,
            risk_check_result: r.risk_check_result,
            strategy_id: r.strategy_id,
            trade_idea_id: r.trade_idea_id,
            snapshot_ref: r.snapshot_ref,
            human_override: r.human_override,
            operator: r.operator,
        })
    }
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
    pub action: Option<DecisionAction>,
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

impl TimelineFilter {
    /// How many rows a page holds (1 to 10 000), or why the filter cannot be read.
    pub fn page_size(&self) -> Result<usize, &'static str> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since >= until
        {
            return Err("--since must be earlier than --until");
        }
        Ok(usize::try_from(self.limit.clamp(1, 10_000)).unwrap_or(1))
    }
}

impl Page {
    /// The page of `decisions`, read newest first with one row more than `size` when
    /// another page follows.
    pub fn of(mut decisions: Vec<Decision>, size: usize) -> Page {
        let next = if decisions.len() > size {
            decisions.truncate(size);
            decisions.last().map(|d| Cursor {
                occurred_at: d.occurred_at,
                id: d.id,
            })
        } else {
            None
        };
        Page { decisions, next }
    }
}

impl Store {
    /// One page of decisions, newest first.
    pub async fn timeline(&self, filter: &TimelineFilter) -> Result<Page, Error> {
        let size = filter
            .page_size()
            .map_err(|e| Error::InvalidInput(e.into()))?;
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
        if let Some(action) = filter.action {
            q.push(" AND action = ")
                .push_bind(action.as_str())
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
            .push_bind(i64::try_from(size).unwrap_or(1) + 1);
        let rows: Vec<DecisionRow> = q
            .build_query_as()
            .fetch_all(self.pool())
            .await
            .map_err(Error::Database)?;
        let decisions = rows
            .into_iter()
            .map(Decision::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::of(decisions, size))
    }
}
