//! `trade_ideas`: reading ideas, and the human decisions on them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::decisions::{self, NewDecision};
use super::error::Error;
use super::ids::{self, Kind};
use crate::domain::IdeaStatus;
use crate::domain::idea::labels;
use crate::operator::Operator;

/// A trade idea as the engine proposed it, with its strategy's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Idea {
    pub id: Uuid,
    pub symbol: String,
    pub direction: String,
    pub entry_price: Option<Decimal>,
    /// `[low, high]` of an entry zone.
    pub entry_range: Option<Vec<Decimal>>,
    pub stop_loss: Decimal,
    pub take_profit: Vec<Decimal>,
    pub expected_hold: Option<String>,
    pub rationale: String,
    pub confidence_score: Decimal,
    pub status: String,
    pub strategy_id: Option<Uuid>,
    pub strategy_name: Option<String>,
    pub snapshot_ref: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT i.id, i.symbol, i.direction, i.entry_price, i.entry_range,
                             i.stop_loss, i.take_profit, i.expected_hold, i.rationale,
                             i.confidence_score, i.status::text AS status, i.strategy_id,
                             s.name AS strategy_name, i.snapshot_ref, i.created_at, i.updated_at
                        FROM trade_ideas i LEFT JOIN strategies s ON s.id = i.strategy_id";

/// Which ideas to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdeaFilter {
    /// A `tradeideastatus` label.
    pub status: Option<String>,
    pub symbol: Option<String>,
    /// At most this many (the table grows without bound).
    pub limit: i64,
}

/// A human decision already taken on an idea.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorDecision {
    pub action: String,
    pub operator: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// What a rejection recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub idea: Uuid,
    pub decision: Uuid,
}

impl Store {
    /// Ideas awaiting approval first (oldest on top: they have waited longest), then the
    /// rest, newest first.
    pub async fn ideas(&self, filter: &IdeaFilter) -> Result<Vec<Idea>, Error> {
        if let Some(status) = &filter.status
            && status.parse::<IdeaStatus>().is_err()
        {
            return Err(Error::InvalidInput(format!(
                "`{status}` is not an idea status: use one of {}",
                labels(IdeaStatus::ALL)
            )));
        }
        sqlx::query_as(&format!(
            "{SELECT}
              WHERE ($1::text IS NULL OR i.status = $1::tradeideastatus)
                AND ($2::text IS NULL OR i.symbol = $2)
              ORDER BY i.status <> 'needs_approval',
                       CASE WHEN i.status = 'needs_approval' THEN i.created_at END ASC,
                       i.created_at DESC, i.id
              LIMIT $3"
        ))
        .bind(&filter.status)
        .bind(filter.symbol.as_ref().map(|s| s.to_ascii_uppercase()))
        .bind(filter.limit.max(1))
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)
    }

    /// One idea by id or unique id prefix.
    pub async fn idea(&self, id: &str) -> Result<Idea, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        let id = ids::resolve(&mut conn, Kind::Idea, id).await?;
        fetch(&mut conn, id, false).await
    }

    /// Rejects an idea awaiting approval. Exactly once: when several operators act on the
    /// same idea at once, one wins and the others are told who decided it and when.
    pub async fn reject(
        &self,
        id: &str,
        reason: &str,
        operator: &Operator,
    ) -> Result<Rejected, Error> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::InvalidInput(
                "a rejection needs a reason (--reason TEXT)".into(),
            ));
        }
        super::retrying(|| self.reject_once(id, reason, operator)).await
    }

    async fn reject_once(
        &self,
        id: &str,
        reason: &str,
        operator: &Operator,
    ) -> Result<Rejected, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let id = ids::resolve(conn, Kind::Idea, id).await?;
        let idea = fetch(conn, id, true).await?;
        ensure_awaiting_approval(conn, &idea).await?;
        set_status(conn, id, "rejected").await?;
        let (decision, _) = decisions::record(
            conn,
            &NewDecision {
                symbol: Some(&idea.symbol),
                action: "human_rejected",
                rationale: reason,
                confidence_score: Some(idea.confidence_score),
                strategy_id: idea.strategy_id,
                trade_idea_id: Some(id),
                snapshot_ref: Some(idea.snapshot_ref),
                human_override: true,
                operator: Some(operator.as_str()),
                ..NewDecision::default()
            },
        )
        .await
        .map_err(|e| lost_race(e, &idea))?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(Rejected { idea: id, decision })
    }
}

/// Reads one idea; with `lock`, holds it until the transaction ends, so that concurrent
/// decisions on it queue up behind each other. `FOR NO KEY UPDATE`, not `FOR UPDATE`: the
/// engine's foreign-key checks (`FOR KEY SHARE`) on the idea must not wait for it, or an
/// approval and the engine's writes can deadlock.
pub(crate) async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Idea, Error> {
    let sql = if lock {
        format!("{SELECT} WHERE i.id = $1 FOR NO KEY UPDATE OF i")
    } else {
        format!("{SELECT} WHERE i.id = $1")
    };
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?
        .ok_or_else(|| Error::NotFound {
            what: "trade idea",
            id: id.to_string(),
        })
}

pub(crate) async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE trade_ideas SET status = $2::tradeideastatus, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(())
}

/// The human decision already taken on an idea, if any.
pub(crate) async fn prior_decision(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<PriorDecision>, Error> {
    let row: Option<(String, Option<String>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT action::text, operator, occurred_at FROM decision_history
          WHERE trade_idea_id = $1 AND operator IS NOT NULL
            AND action IN ('human_approved', 'human_rejected', 'risk_rejected')
          ORDER BY occurred_at DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(row.map(|(action, operator, occurred_at)| PriorDecision {
        action,
        operator,
        occurred_at,
    }))
}

/// Refuses a decision on an idea that is not awaiting one, saying who decided it and when.
pub(crate) async fn ensure_awaiting_approval(
    conn: &mut PgConnection,
    idea: &Idea,
) -> Result<(), Error> {
    if idea.status == "needs_approval" {
        return Ok(());
    }
    let short = crate::store::ids::short(idea.id);
    let message = match prior_decision(conn, idea.id).await? {
        Some(prior) => format!(
            "idea {short} ({}) was already decided: {} by {} at {}",
            idea.symbol,
            match prior.action.as_str() {
                "human_approved" => "approved",
                "human_rejected" => "rejected",
                _ => "blocked by the risk checks at approval",
            },
            prior.operator.as_deref().unwrap_or("the platform"),
            prior.occurred_at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        None => format!(
            "idea {short} ({}) is {}, not awaiting approval",
            idea.symbol,
            idea.status.replace('_', " ")
        ),
    };
    Err(Error::Conflict(message))
}

/// The one-human-decision index refused a second decision: report it as the conflict it is.
pub(crate) fn lost_race(err: Error, idea: &Idea) -> Error {
    match &err {
        Error::Database(sqlx::Error::Database(db))
            if db.constraint() == Some("idx_decision_history_one_human_decision") =>
        {
            Error::Conflict(format!(
                "idea {} ({}) was decided by someone else at the same moment",
                crate::store::ids::short(idea.id),
                idea.symbol
            ))
        }
        _ => err,
    }
}

impl Idea {
    /// The entry: the price, or the middle of the zone.
    pub fn entry(&self) -> Option<Decimal> {
        match (&self.entry_price, self.entry_range.as_deref()) {
            (Some(price), _) => Some(*price),
            (None, Some([low, high])) => Some((low + high) / Decimal::TWO),
            _ => None,
        }
    }

    /// Reward to risk at the first target: |target − entry| / |entry − stop|, 2 places.
    pub fn reward_to_risk(&self) -> Option<Decimal> {
        let entry = self.entry()?;
        let target = self.take_profit.first()?;
        let risk = (entry - self.stop_loss).abs();
        if risk.is_zero() {
            return None;
        }
        Some(((target - entry).abs() / risk).round_dp(2))
    }
}
