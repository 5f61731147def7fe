//! The decision timeline: `decision_history` newest first, a page at a time.
//!
//! Pages are cut by keyset (the last row's `(occurred_at, id)`), never OFFSET, and each
//! query names only the filters given, so PostgreSQL can walk `idx_decision_history_occurred`
//! or the `(symbol|action, occurred_at)` indexes backwards and stop after one page, at any
//! depth of a table of millions of rows.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::Store;
use super::error::Error;
use crate::domain::stored::{Flagged, Flaw, Listed, Numeric, Stamp};
use crate::domain::{Decision, DecisionAction};
use crate::format::short;

/// A `decision_history` row as stored: every value its columns admit reads;
/// [`DecisionRow::listed`] makes the [`Decision`] of it, or flags it.
#[derive(sqlx::FromRow)]
pub(crate) struct DecisionRow {
    id: Uuid,
    occurred_at: Stamp,
    symbol: Option<String>,
    action: String,
    rationale: String,
    confidence_score: Option<Numeric>,
    risk_check_result: Option<String>,
    strategy_id: Option<Uuid>,
    trade_idea_id: Option<Uuid>,
    snapshot_ref: Option<Uuid>,
    human_override: bool,
    operator: Option<String>,
}

impl DecisionRow {
    /// The decision, or the row flagged with every column it could not read.
    pub(crate) fn listed(self) -> Listed<Decision> {
        let action = self
            .action
            .parse::<DecisionAction>()
            .map_err(|_| Flaw::new("action", format!("{:?}", self.action)));
        let occurred_at = self
            .occurred_at
            .at()
            .ok_or_else(|| Flaw::new("occurred_at", self.occurred_at.to_string()));
        let confidence = match &self.confidence_score {
            None => Ok(None),
            Some(n) => n
                .number()
                .map(Some)
                .ok_or_else(|| Flaw::new("confidence_score", n.to_string())),
        };
        match (action, occurred_at, confidence) {
            (Ok(action), Ok(occurred_at), Ok(confidence_score)) => Listed::Read(Decision {
                action,
                id: self.id,
                occurred_at,
                symbol: self.symbol,
                rationale: self.rationale,
                confidence_score,
                risk_check_result: self.risk_check_result,
                strategy_id: self.strategy_id,
                trade_idea_id: self.trade_idea_id,
                snapshot_ref: self.snapshot_ref,
                human_override: self.human_override,
                operator: self.operator,
            }),
            (a, o, c) => {
                let flaws = [a.err(), o.err(), c.err()].into_iter().flatten().collect();
                Listed::Flagged(self.flagged(flaws))
            }
        }
    }

    /// Where the next page starts after this row.
    fn cursor(&self) -> Cursor {
        Cursor {
            occurred_at: self.occurred_at,
            id: self.id,
        }
    }

    fn flagged(&self, flaws: Vec<Flaw>) -> Flagged {
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "—".to_string());
        Flagged {
            table: "decision_history",
            id: self.id,
            flaws,
            at: Some(self.occurred_at),
            columns: vec![
                ("occurred_at", self.occurred_at.to_string()),
                ("symbol", or_none(self.symbol.clone())),
                ("action", self.action.clone()),
                ("rationale", self.rationale.clone()),
                (
                    "confidence_score",
                    or_none(self.confidence_score.as_ref().map(ToString::to_string)),
                ),
                ("risk_check_result", or_none(self.risk_check_result.clone())),
                (
                    "strategy_id",
                    or_none(self.strategy_id.map(|i| i.to_string())),
                ),
                (
                    "trade_idea_id",
                    or_none(self.trade_idea_id.map(|i| i.to_string())),
                ),
                (
                    "snapshot_ref",
                    or_none(self.snapshot_ref.map(|i| i.to_string())),
                ),
                ("human_override", self.human_override.to_string()),
                ("operator", or_none(self.operator.clone())),
            ],
        }
    }
}

/// The decision a row holds, or the refusal naming the row and the columns that cannot
/// be read.
pub(crate) fn readable(listed: Listed<Decision>) -> Result<Decision, Error> {
    listed.into_read().map_err(|f| Error::Unreadable {
        what: format!("decision {}", short(f.id)),
        reason: f.reason(),
    })
}

/// Where a page ends: the next page starts strictly after (older than) this row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cursor {
    /// As stored: a row dated `±infinity` is a page's end like any other.
    pub occurred_at: Stamp,
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
    pub decisions: Vec<Listed<Decision>>,
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
    /// another page follows; `cursor` says where a row ends a page.
    pub fn of<T>(
        mut decisions: Vec<T>,
        size: usize,
        cursor: impl Fn(&T) -> Cursor,
        listed: impl Fn(T) -> Listed<Decision>,
    ) -> Page {
        let next = if decisions.len() > size {
            decisions.truncate(size);
            decisions.last().map(cursor)
        } else {
            None
        };
        Page {
            decisions: decisions.into_iter().map(listed).collect(),
            next,
        }
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
        Ok(Page::of(
            rows,
            size,
            DecisionRow::cursor,
            DecisionRow::listed,
        ))
    }
}
