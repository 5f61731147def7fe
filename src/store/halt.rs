//! The kill switch: halt and resume, each one transaction with its audit rows.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::decisions::{self, NewDecision};
use super::error::Error;
use super::risk::{self, RiskRow};
use crate::domain::DecisionAction;
use crate::domain::act::Act;
use crate::format::short;
use crate::operator::Operator;

/// `risk_check_result` of an operator's halt (the automatic ones name their rule).
pub const MANUAL_HALT: &str = "fail:manual_halt";
/// `risk_check_result` of an idea or order the halt stopped.
const HALTED: &str = "fail:ai_halted";

/// Who halts, and when: an operator now, or a limit of the platform at its time.
pub(crate) struct HaltBy<'a> {
    /// `None` for the platform (a limit halted it): its rows carry no operator.
    pub operator: Option<&'a Operator>,
    /// The flip's `risk_check_result`: [`MANUAL_HALT`], or `fail:<limit>`.
    pub risk_check_result: &'a str,
    /// `None`: the database's clock.
    pub at: Option<DateTime<Utc>>,
    /// The flip row's rationale when it says more than the reason (a limit's figures).
    pub rationale: Option<&'a str>,
}

impl<'a> HaltBy<'a> {
    /// An operator's halt, now.
    pub fn operator(operator: &'a Operator) -> Self {
        HaltBy {
            operator: Some(operator),
            risk_check_result: MANUAL_HALT,
            at: None,
            rationale: None,
        }
    }

    fn who(&self) -> Option<&'a str> {
        self.operator.map(Operator::as_str)
    }
}

/// A waiting idea the halt stopped.
#[derive(sqlx::FromRow)]
struct Swept {
    id: Uuid,
    symbol: String,
    strategy_id: Option<Uuid>,
    confidence_score: Decimal,
    snapshot_ref: Uuid,
}

/// An unexecuted order the halt pulled.
#[derive(sqlx::FromRow)]
struct Pulled {
    id: Uuid,
    trade_idea_id: Uuid,
    symbol: String,
    strategy_id: Option<Uuid>,
}

/// What a halt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Halted {
    /// AI trading was already off; no new `ai_halted` row was written for the switch.
    pub already_halted: bool,
    /// The halt reason now recorded.
    pub reason: String,
    /// Ideas that were waiting for automatic execution and are now `halted_by_risk`.
    pub ideas_halted: usize,
    /// Pending orders cancelled (none with `keep_pending`).
    pub executions_cancelled: usize,
}

/// What a resume did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// AI trading was already on; nothing was written.
    pub already_running: bool,
}

impl Store {
    /// Switches AI trading off, records why and who, stops every idea still waiting for
    /// automatic execution, and (unless `keep_pending`) cancels every unexecuted order —
    /// all in one transaction. On an already-halted system the switch and its reason stay
    /// as they were (no new flip is recorded), but stragglers are still swept: pulling the
    /// kill switch twice is harmless and never less safe than pulling it once. A collision
    /// with another writer (a deadlock abort) is retried, never reported as a failed halt.
    pub async fn halt(
        &self,
        reason: &str,
        operator: &Operator,
        keep_pending: bool,
    ) -> Result<Halted, Error> {
        operator.may(Act::Halt)?;
        super::retrying(|| async {
            let mut tx = self.pool().begin().await.map_err(Error::Database)?;
            let conn = tx.acquire().await.map_err(Error::Database)?;
            let current = risk::lock(conn).await?;
            let by = HaltBy::operator(operator);
            let halted = halt_locked(conn, &current, reason, &by, keep_pending).await?;
            tx.commit().await.map_err(Error::Database)?;
            Ok(halted)
        })
        .await
    }

    /// Switches AI trading back on: a human act, recorded with its operator.
    pub async fn resume(&self, operator: &Operator, note: &str) -> Result<Resumed, Error> {
        operator.may(Act::Resume)?;
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let current = risk::lock(conn).await?;
        let resumed = resume_locked(conn, &current, operator, note).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(resumed)
    }
}

/// The halt, inside a transaction that already holds the risk row's lock (`current`).
pub(crate) async fn halt_locked(
    conn: &mut PgConnection,
    current: &RiskRow,
    reason: &str,
    by: &HaltBy<'_>,
    keep_pending: bool,
) -> Result<Halted, Error> {
    let reason = match (reason.trim(), by.operator) {
        ("", Some(operator)) => format!("halted by {operator}"),
        ("", None) => "halted by the platform".to_string(),
        (given, _) => given.to_string(),
    };
    let already_halted = !current.config.ai_trading_enabled;
    // An already-halted system keeps the reason it was halted for.
    let recorded_reason = if already_halted {
        current
            .config
            .last_halt_reason
            .clone()
            .unwrap_or_else(|| "no reason recorded".into())
    } else {
        reason.clone()
    };
    let ideas = sweep_waiting_ideas(conn, by.at).await?;
    let cancelled = if keep_pending {
        Vec::new()
    } else {
        pull_pending_orders(conn, by.at).await?
    };
    if !already_halted {
        switch_off(conn, &reason, cancelled.len(), by).await?;
    }
    record_stopped(conn, &ideas, &cancelled, &recorded_reason, by).await?;
    Ok(Halted {
        already_halted,
        reason: recorded_reason,
        ideas_halted: ideas.len(),
        executions_cancelled: cancelled.len(),
    })
}

/// Every idea still waiting for automatic execution becomes `halted_by_risk`.
///
/// SKIP LOCKED: a row the engine is changing right now is left to it. Waiting for it would
/// deadlock (the engine's trigger waits for the risk row this transaction holds); once the
/// halt commits, the engine's auto-execution of that idea is refused by the trigger, and
/// the idea stays `waiting` — it can never execute while AI trading is off.
async fn sweep_waiting_ideas(
    conn: &mut PgConnection,
    at: Option<DateTime<Utc>>,
) -> Result<Vec<Swept>, Error> {
    sqlx::query_as(
        "UPDATE trade_ideas SET status = 'halted_by_risk', updated_at = coalesce($1, now())
          WHERE id IN (SELECT id FROM trade_ideas WHERE status = 'waiting'
                        FOR NO KEY UPDATE SKIP LOCKED)
      RETURNING id, symbol, strategy_id, confidence_score, snapshot_ref",
    )
    .bind(at)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)
}

/// Every order not yet executed is cancelled. An order the broker connector holds right
/// now (locked) is being executed: it is not pulled.
async fn pull_pending_orders(
    conn: &mut PgConnection,
    at: Option<DateTime<Utc>>,
) -> Result<Vec<Pulled>, Error> {
    sqlx::query_as(
        "UPDATE tradedesk.executions e SET state = 'cancelled', updated_at = coalesce($1, now())
           FROM trade_ideas i
          WHERE i.id = e.trade_idea_id
            AND e.id IN (SELECT id FROM tradedesk.executions WHERE state = 'pending'
                          FOR NO KEY UPDATE SKIP LOCKED)
      RETURNING e.id, e.trade_idea_id, i.symbol, i.strategy_id",
    )
    .bind(at)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)
}

/// The flip of the switch, with its one `ai_halted` row (docs/platform.md §3).
async fn switch_off(
    conn: &mut PgConnection,
    reason: &str,
    cancelled: usize,
    by: &HaltBy<'_>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = $1,
                                updated_at = coalesce($2, now())
          WHERE id",
    )
    .bind(reason)
    .bind(by.at)
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let said = by.rationale.unwrap_or(reason);
    let rationale = match cancelled {
        0 => said.to_string(),
        n => format!("{said} ({n} pending order{} cancelled)", plural(n)),
    };
    decisions::record(
        conn,
        &NewDecision {
            risk_check_result: Some(by.risk_check_result),
            human_override: by.operator.is_some(),
            operator: by.who(),
            occurred_at: by.at,
            ..NewDecision::new(DecisionAction::AiHalted, &rationale)
        },
    )
    .await?;
    Ok(())
}

/// Every idea stopped and every order pulled gets a row of its own, under the reason in
/// force.
async fn record_stopped(
    conn: &mut PgConnection,
    ideas: &[Swept],
    cancelled: &[Pulled],
    reason: &str,
    by: &HaltBy<'_>,
) -> Result<(), Error> {
    for idea in ideas {
        let rationale = format!("waiting idea stopped by the kill switch: {reason}");
        decisions::record(
            conn,
            &NewDecision {
                symbol: Some(&idea.symbol),
                confidence_score: Some(idea.confidence_score),
                risk_check_result: Some(HALTED),
                strategy_id: idea.strategy_id,
                trade_idea_id: Some(idea.id),
                snapshot_ref: Some(idea.snapshot_ref),
                human_override: by.operator.is_some(),
                operator: by.who(),
                occurred_at: by.at,
                ..NewDecision::new(DecisionAction::AiHalted, &rationale)
            },
        )
        .await?;
    }
    for order in cancelled {
        let rationale = format!(
            "unexecuted order {} cancelled by the kill switch: {reason}",
            short(order.id)
        );
        decisions::record(
            conn,
            &NewDecision {
                symbol: Some(&order.symbol),
                risk_check_result: Some(HALTED),
                strategy_id: order.strategy_id,
                trade_idea_id: Some(order.trade_idea_id),
                human_override: by.operator.is_some(),
                operator: by.who(),
                occurred_at: by.at,
                ..NewDecision::new(DecisionAction::AiHalted, &rationale)
            },
        )
        .await?;
    }
    Ok(())
}

/// The resume, inside a transaction that already holds the risk row's lock (`current`).
pub(crate) async fn resume_locked(
    conn: &mut PgConnection,
    current: &RiskRow,
    operator: &Operator,
    note: &str,
) -> Result<Resumed, Error> {
    if current.config.ai_trading_enabled {
        return Ok(Resumed {
            already_running: true,
        });
    }
    sqlx::query(
        "UPDATE risk_config SET ai_trading_enabled = true, last_halt_reason = NULL,
                                updated_at = now()
          WHERE id",
    )
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let previous = current
        .config
        .last_halt_reason
        .clone()
        .unwrap_or_else(|| "no reason recorded".into());
    let note = note.trim();
    let rationale = if note.is_empty() {
        format!("resumed by {operator} (was halted: {previous})")
    } else {
        format!("{note} (was halted: {previous})")
    };
    decisions::record(
        conn,
        &NewDecision {
            risk_check_result: Some("pass"),
            human_override: true,
            operator: Some(operator.as_str()),
            ..NewDecision::new(DecisionAction::AiResumed, &rationale)
        },
    )
    .await?;
    Ok(Resumed {
        already_running: false,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
