//! `trade_ideas`: reading ideas, and the human decisions on them.

use chrono::{DateTime, Utc};
use sqlx::{Acquire as _, FromRow as _, PgConnection, Row as _};
use uuid::Uuid;

use super::Store;
use super::decisions::{self, NewDecision};
use super::error::Error;
use super::strategies;
use crate::domain::act::Act;
use crate::domain::instrument::price_digits;
use crate::domain::label::UnknownLabel;
use crate::domain::numeric::AtDigits;
use crate::domain::stored::{self, Flagged, Flaw, Listed, Numeric, Reading, Stamp, StoredArray};
use crate::domain::text::{self, Typed};
use crate::domain::{DecisionAction, Direction, Idea, IdeaStatus, Strategy};
use crate::format::short;
use crate::operator::Operator;

/// A `trade_ideas` row as stored, with its strategy's name: every value its columns admit
/// reads (see [`crate::domain::stored`]); [`IdeaRow::listed`] makes the [`Idea`] of it, or
/// flags it.
#[derive(sqlx::FromRow)]
pub(crate) struct IdeaRow {
    id: Uuid,
    symbol: String,
    direction: String,
    entry_price: Option<Numeric>,
    entry_range: Option<StoredArray<Numeric>>,
    stop_loss: Numeric,
    take_profit: StoredArray<Numeric>,
    expected_hold: Option<String>,
    rationale: String,
    confidence_score: Numeric,
    status: String,
    strategy_id: Option<Uuid>,
    strategy_name: Option<String>,
    snapshot_ref: Uuid,
    created_at: Stamp,
    updated_at: Stamp,
}

impl IdeaRow {
    /// The idea, or the row flagged with every column it could not read.
    pub(crate) fn listed(self) -> Listed<Idea> {
        let mut r = Reading::default();
        let direction = self.direction.parse().unwrap_or_else(|_| {
            r.flaw("direction", format!("{:?}", self.direction));
            Direction::Buy
        });
        let status = self.status.parse().unwrap_or_else(|_| {
            r.flaw("status", format!("{:?}", self.status));
            IdeaStatus::Waiting
        });
        let idea = Idea {
            id: self.id,
            symbol: self.symbol.clone(),
            direction,
            entry_price: self.entry_price.as_ref().map(|p| r.price("entry_price", p)),
            entry_range: self
                .entry_range
                .as_ref()
                .map(|a| r.prices("entry_range", a)),
            stop_loss: r.price("stop_loss", &self.stop_loss),
            take_profit: r.prices("take_profit", &self.take_profit),
            expected_hold: self.expected_hold.clone(),
            rationale: self.rationale.clone(),
            confidence_score: r.number("confidence_score", &self.confidence_score),
            status,
            strategy_id: self.strategy_id,
            strategy_name: self.strategy_name.clone(),
            snapshot_ref: self.snapshot_ref,
            created_at: r.time("created_at", self.created_at),
            updated_at: r.time("updated_at", self.updated_at),
        };
        match r.finish(idea, |flaws| self.flagged(flaws)) {
            Ok(idea) => Listed::Read(idea),
            Err(flagged) => Listed::Flagged(flagged),
        }
    }

    /// The row flagged with `flaws`, its columns as stored.
    fn flagged(&self, flaws: Vec<Flaw>) -> Flagged {
        let digits = price_digits(&self.symbol);
        let price = |n: &Numeric| match (n, digits) {
            (Numeric::Number(d), Some(digits)) => AtDigits(stored::price(*d), digits).to_string(),
            (n, _) => n.to_string(),
        };
        let list = |a: &StoredArray<Numeric>| {
            a.items
                .iter()
                .map(|p| p.as_ref().map_or_else(|| "NULL".to_string(), price))
                .collect::<Vec<_>>()
                .join(",")
        };
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "—".to_string());
        Flagged {
            table: "trade_ideas",
            id: self.id,
            flaws,
            at: Some(self.created_at),
            columns: vec![
                ("symbol", self.symbol.clone()),
                ("direction", self.direction.clone()),
                ("entry_price", or_none(self.entry_price.as_ref().map(price))),
                ("entry_range", or_none(self.entry_range.as_ref().map(list))),
                ("stop_loss", price(&self.stop_loss)),
                ("take_profit", list(&self.take_profit)),
                ("expected_hold", or_none(self.expected_hold.clone())),
                ("confidence_score", self.confidence_score.to_string()),
                ("status", self.status.clone()),
                (
                    "strategy",
                    or_none(
                        self.strategy_name
                            .clone()
                            .or(self.strategy_id.map(|id| id.to_string())),
                    ),
                ),
                ("snapshot_ref", self.snapshot_ref.to_string()),
                ("created_at", self.created_at.to_string()),
                ("updated_at", self.updated_at.to_string()),
                ("rationale", self.rationale.clone()),
            ],
        }
    }
}

/// The idea a row holds, or the refusal naming the row and every column that cannot be
/// read: what an act that needs the whole idea says.
pub(crate) fn readable(listed: Listed<Idea>) -> Result<Idea, Error> {
    listed.into_read().map_err(|f| Error::Unreadable {
        what: format!("trade idea {}", short(f.id)),
        reason: f.reason(),
    })
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
    /// As stored (a writer may have dated it `infinity`).
    pub occurred_at: Stamp,
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
    pub async fn ideas(&self, filter: &IdeaFilter) -> Result<Vec<Listed<Idea>>, Error> {
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
        Ok(rows.into_iter().map(IdeaRow::listed).collect())
    }

    /// One idea, or its row flagged when it cannot be read.
    pub async fn idea(&self, id: Uuid) -> Result<Listed<Idea>, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        fetch_listed(&mut conn, id, false).await
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
        text::typed(Typed::RejectReason, reason)?;
        if reason.is_empty() {
            return Err(Error::InvalidInput(
                "a rejection needs a reason (--reason TEXT)".into(),
            ));
        }
        super::retrying(|| self.reject_once(id, reason, operator)).await
    }

    /// A rejection reads only what it records: an idea whose prices or times cannot be
    /// read can still be rejected (never approved).
    async fn reject_once(
        &self,
        id: Uuid,
        reason: &str,
        operator: &Operator,
    ) -> Result<Rejected, Error> {
        let mut tx = self.acts().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let row: Option<HeadRow> = sqlx::query_as(
            "SELECT id, symbol, status::text AS status, strategy_id, snapshot_ref, confidence_score
               FROM trade_ideas WHERE id = $1 FOR NO KEY UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
        let row = row.ok_or_else(|| Error::NotFound {
            what: "trade idea",
            id: id.to_string(),
        })?;
        let status = row
            .status
            .parse::<IdeaStatus>()
            .map_err(|e: UnknownLabel| Error::Unreadable {
                what: format!("trade idea {}", short(id)),
                reason: format!("status: {e}"),
            })?;
        let head = Head {
            id,
            symbol: &row.symbol,
            status,
        };
        ensure_head_awaiting_approval(conn, &head).await?;
        set_head_status(conn, &head, IdeaStatus::Rejected, None).await?;
        let (decision, _) = decisions::record(
            conn,
            &NewDecision {
                symbol: Some(&row.symbol),
                // A confidence that is no number (NaN) is not copied: the idea keeps it.
                confidence_score: row.confidence_score.number(),
                strategy_id: row.strategy_id,
                trade_idea_id: Some(id),
                snapshot_ref: Some(row.snapshot_ref),
                human_override: true,
                operator: Some(operator.as_str()),
                ..NewDecision::new(DecisionAction::HumanRejected, reason)
            },
        )
        .await
        .map_err(|e| head_lost_race(e, &head))?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(Rejected { idea: id, decision })
    }
}

/// Reads one idea; with `lock`, holds it until the transaction ends, so that concurrent
/// decisions on it queue up behind each other. `FOR NO KEY UPDATE`, not `FOR UPDATE`: the
/// engine's foreign-key checks (`FOR KEY SHARE`) on the idea must not wait for it, or an
/// approval and the engine's writes can deadlock.
pub(crate) async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Idea, Error> {
    readable(fetch_listed(conn, id, lock).await?)
}

/// [`fetch`], the row flagged rather than refused when it cannot be read.
pub(crate) async fn fetch_listed(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Listed<Idea>, Error> {
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
    row.map(IdeaRow::listed).ok_or_else(|| Error::NotFound {
        what: "trade idea",
        id: id.to_string(),
    })
}

/// What an approval judges, read in one statement: the idea locked, its strategy (if it
/// has one that still exists) locked FOR SHARE so its rules cannot change until the
/// approval commits, and the database's clock once both locks were granted (`now()` would
/// be the transaction's start). Each is a MATERIALIZED CTE read in order — the idea, then
/// the strategy, then the clock — so a wait for either lock comes before the time.
pub(crate) async fn fetch_for_decision(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(Idea, Option<Strategy>, DateTime<Utc>), Error> {
    let sql = format!(
        "WITH locked AS MATERIALIZED ({SELECT} WHERE i.id = $1 FOR NO KEY UPDATE OF i),
              rules AS MATERIALIZED (
                  SELECT {record} AS strategy FROM strategies s JOIN locked l ON s.id = l.strategy_id
                     FOR SHARE OF s)
         SELECT locked.*, (SELECT strategy FROM rules) AS strategy, clock_timestamp() AS clock
           FROM locked",
        record = strategies::RECORD
    );
    let row: Option<sqlx::postgres::PgRow> = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
    let row = row.ok_or_else(|| Error::NotFound {
        what: "trade idea",
        id: id.to_string(),
    })?;
    let strategy: Option<strategies::StrategyRecord> =
        row.try_get("strategy").map_err(Error::Database)?;
    let clock: DateTime<Utc> = row.try_get("clock").map_err(Error::Database)?;
    let idea = IdeaRow::from_row(&row).map_err(Error::Database)?;
    Ok((
        readable(idea.listed())?,
        strategy
            .map(strategies::StrategyRecord::strategy)
            .transpose()?,
        clock,
    ))
}

/// What a decision on an idea needs of it: which it is, and where it is in its life.
pub(crate) struct Head<'a> {
    pub id: Uuid,
    pub symbol: &'a str,
    pub status: IdeaStatus,
}

impl Idea {
    fn head(&self) -> Head<'_> {
        Head {
            id: self.id,
            symbol: &self.symbol,
            status: self.status,
        }
    }
}

/// The columns of a `trade_ideas` row a rejection reads and records.
#[derive(sqlx::FromRow)]
struct HeadRow {
    symbol: String,
    status: String,
    strategy_id: Option<Uuid>,
    snapshot_ref: Uuid,
    confidence_score: Numeric,
}

/// Moves `idea` (read under lock in this transaction) to `to`, if its workflow allows it,
/// at `at` (`None`: the database's clock).
pub(crate) async fn set_status(
    conn: &mut PgConnection,
    idea: &Idea,
    to: IdeaStatus,
    at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    set_head_status(conn, &idea.head(), to, at).await
}

/// Where `idea` may go next, or a refusal naming it.
pub(crate) fn transition(idea: &Idea, to: IdeaStatus) -> Result<IdeaStatus, Error> {
    head_transition(&idea.head(), to)
}

fn head_transition(idea: &Head<'_>, to: IdeaStatus) -> Result<IdeaStatus, Error> {
    idea.status
        .transition(to)
        .map_err(|e| Error::Conflict(format!("idea {}: {e}", short(idea.id))))
}

async fn set_head_status(
    conn: &mut PgConnection,
    idea: &Head<'_>,
    to: IdeaStatus,
    at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let to = head_transition(idea, to)?;
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
    let row: Option<(String, Option<String>, Stamp)> = sqlx::query_as(
        "SELECT action::text, operator, occurred_at FROM decision_history
          WHERE trade_idea_id = $1 AND action::text = ANY($2)
          ORDER BY occurred_at, id LIMIT 1",
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
    ensure_head_awaiting_approval(conn, &idea.head()).await
}

async fn ensure_head_awaiting_approval(
    conn: &mut PgConnection,
    idea: &Head<'_>,
) -> Result<(), Error> {
    if idea.status == IdeaStatus::NeedsApproval {
        return Ok(());
    }
    let id = short(idea.id);
    let message = match prior_decision(conn, idea.id).await? {
        Some(prior) => format!(
            "idea {id} ({}) was already decided: {} by {} at {} UTC",
            idea.symbol,
            prior.action.in_words(),
            prior.operator.as_deref().unwrap_or("the platform"),
            prior.occurred_at
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
    head_lost_race(err, &idea.head())
}

fn head_lost_race(err: Error, idea: &Head<'_>) -> Error {
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
