//! `trade_ideas`: reading ideas, and the human decisions on them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::decisions::{self, NewDecision};
use super::error::Error;
use crate::domain::act::Act;
use crate::domain::label::UnknownLabel;
use crate::domain::{DecisionAction, Idea, IdeaStatus};
use crate::format::{short, timestamp};
use crate::operator::Operator;

/// A `trade_ideas` row as read, with its strategy's name; [`Idea`] is made from it.
#[derive(sqlx::FromRow)]
pub(crate) struct IdeaRow {
    id: Uuid,
    symbol: String,
    direction: String,
    entry_price: Option<Decimal>,
    entry_range: Option<Vec<Decimal>>,
    stop_loss: Decimal,
    take_profit: Vec<Decimal>,
    expected_hold: Option<String>,
    rationale: String,
    confidence_score: Decimal,
    status: String,
    strategy_id: Option<Uuid>,
    strategy_name: Option<String>,
    snapshot_ref: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<IdeaRow> for Idea {
    type Error = Error;

    fn try_from(r: IdeaRow) -> Result<Idea, Error> {
        let unreadable = |e: UnknownLabel| Error::Unreadable {
            what: format!("trade idea {}", r.id),
            reason: e.to_string(),
        };
        Ok(Idea {
            direction: r.direction.parse().map_err(unreadable)?,
            status: r.status.parse().map_err(unreadable)?,
            id: r.id,
            symbol: r.symbol,
            entry_price: r.entry_price,
            entry_range: r.entry_range,
            stop_loss: r.stop_loss,
            take_profit: r.take_profit,
            expected_hold: r.expected_hold,
            rationale: r.rationale,
            confidence_score: r.confidence_score,
            strategy_id: r.strategy_id,
            strategy_name: r.strategy_name,
            snapshot_ref: r.snapshot_ref,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const SELECT: &str = "SELECT i.id, i.symbol, i.direction, i.entry_price, i.entry_range,
                             i.stop_loss, i.take_profit, i.expected_hold, i.rationale,
                             i.confidence_score, i.status::text AS status, i.strategy_id,
                             s.name AS strategy_name, i.snapshot_ref, i.created_at, i.updated_at
                        FROM trade_ideas i LEFT JOIN strategies s ON s.id = i.strategy_id";

/// Which ideas to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdeaFilter {
    pub status: Option<IdeaStatus>,
    pub symbol: Option<String>,
    /// At most this many (the table grows without bound).
    pub limit: i64,
}

/// A human decision already taken on an idea.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorDecision {
    pub action: DecisionAction,
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
        let rows: Vec<IdeaRow> = sqlx::query_as(&format!(
            "{SELECT}
              WHERE ($1::text IS NULL OR i.status = $1::tradeideastatus)
                AND ($2::text IS NULL OR i.symbol = $2)
              ORDER BY i.status <> 'needs_approval',
                       CASE WHEN i.status = 'needs_approval' THEN i.created_at END ASC,
                       i.created_at DESC, i.id
              LIMIT $3"
        ))
        .bind(filter.status.map(IdeaStatus::as_str))
        .bind(filter.symbol.as_ref().map(|s| s.to_ascii_uppercase()))
        .bind(filter.limit.max(1))
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)?;
        rows.into_iter().map(Idea::try_from).collect()
    }

    /// One idea.
    pub async fn idea(&self, id: Uuid) -> Result<Idea, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        fetch(&mut conn, id, false).await
    }

    /// Rejects an idea awaiting approval. Exactly once: when several operators act on the
    /// same idea at once, one wins and the others are told who decided it and when.
    pub async fn reject(
        &self,
        id: Uuid,
        reason: &str,
        operator: &Operator,
    ) -> Result<Rejected, Error> {
        operator.may(Act::Reject)?;
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
        id: Uuid,
        reason: &str,
        operator: &Operator,
    ) -> Result<Rejected, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let idea = fetch(conn, id, true).await?;
        ensure_awaiting_approval(conn, &idea).await?;
        set_status(conn, &idea, IdeaStatus::Rejected, None).await?;
        let (decision, _) = decisions::record(
            conn,
            &NewDecision {
                symbol: Some(&idea.symbol),
                confidence_score: Some(idea.confidence_score),
                strategy_id: idea.strategy_id,
                trade_idea_id: Some(id),
                snapshot_ref: Some(idea.snapshot_ref),
                human_override: true,
                operator: Some(operator.as_str()),
                ..NewDecision::new(DecisionAction::HumanRejected, reason)
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
    let row: Option<IdeaRow> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
    row.map(Idea::try_from)
        .transpose()?
        .ok_or_else(|| Error::NotFound {
            what: "trade idea",
            id: id.to_string(),
        })
}

/// Moves `idea` (read under lock in this transaction) to `to`, if its workflow allows it,
/// at `at` (`None`: the database's clock).
pub(crate) async fn set_status(
    conn: &mut PgConnection,
    idea: &Idea,
    to: IdeaStatus,
    at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let to = idea
        .status
        .transition(to)
        .map_err(|e| Error::Conflict(format!("idea {}: {e}", short(idea.id))))?;
    sqlx::query(
        "UPDATE trade_ideas SET status = $2::tradeideastatus, updated_at = coalesce($3, now())
          WHERE id = $1",
    )
    .bind(idea.id)
    .bind(to.as_str())
    .bind(at)
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
    let human: Vec<&str> = DecisionAction::HUMAN_DECISIONS
        .iter()
        .map(|a| a.as_str())
        .collect();
    let row: Option<(String, Option<String>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT action::text, operator, occurred_at FROM decision_history
          WHERE trade_idea_id = $1 AND operator IS NOT NULL AND action::text = ANY($2)
          ORDER BY occurred_at DESC LIMIT 1",
    )
    .bind(id)
    .bind(&human)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::Database)?;
    row.map(|(action, operator, occurred_at)| {
        let action = action
            .parse()
            .map_err(|e: UnknownLabel| Error::Unreadable {
                what: format!("the decision on idea {}", short(id)),
                reason: e.to_string(),
            })?;
        Ok(PriorDecision {
            action,
            operator,
            occurred_at,
        })
    })
    .transpose()
}

/// Refuses a decision on an idea that is not awaiting one, saying who decided it and when.
pub(crate) async fn ensure_awaiting_approval(
    conn: &mut PgConnection,
    idea: &Idea,
) -> Result<(), Error> {
    if idea.awaits_approval() {
        return Ok(());
    }
    let id = short(idea.id);
    let message = match prior_decision(conn, idea.id).await? {
        Some(prior) => format!(
            "idea {id} ({}) was already decided: {} by {} at {} UTC",
            idea.symbol,
            prior.action.in_words(),
            prior.operator.as_deref().unwrap_or("the platform"),
            timestamp(prior.occurred_at)
        ),
        None => format!(
            "idea {id} ({}) is {}, not awaiting approval",
            idea.symbol,
            idea.status.as_str().replace('_', " ")
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
                short(idea.id),
                idea.symbol
            ))
        }
        _ => err,
    }
}
