//! The kill switch: halt and resume, each one transaction with its audit rows.

use sqlx::{Acquire as _, PgConnection};

use super::Store;
use super::decisions::{self, NewDecision};
use super::error::Error;
use super::risk::{self, RiskRow};
use crate::operator::Operator;

/// `risk_check_result` of an operator's halt (the automatic ones name their rule).
pub const MANUAL_HALT: &str = "fail:manual_halt";

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
    /// as they were, but stragglers are still swept: pulling the kill switch twice is
    /// harmless and never less safe than pulling it once.
    pub async fn halt(
        &self,
        reason: &str,
        operator: &Operator,
        keep_pending: bool,
    ) -> Result<Halted, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let current = risk::lock(conn).await?;
        let halted = halt_locked(conn, &current, reason, operator, keep_pending).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(halted)
    }

    /// Switches AI trading back on: a human act, recorded with its operator.
    pub async fn resume(&self, operator: &Operator, note: &str) -> Result<Resumed, Error> {
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
    operator: &Operator,
    keep_pending: bool,
) -> Result<Halted, Error> {
    let reason = reason.trim();
    let reason = if reason.is_empty() {
        format!("halted by {operator}")
    } else {
        reason.to_string()
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

    let ideas: Vec<(
        uuid::Uuid,
        String,
        Option<uuid::Uuid>,
        rust_decimal::Decimal,
        uuid::Uuid,
    )> = sqlx::query_as(
        "UPDATE trade_ideas SET status = 'halted_by_risk', updated_at = now()
              WHERE status = 'waiting'
          RETURNING id, symbol, strategy_id, confidence_score, snapshot_ref",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let cancelled = if keep_pending {
        0
    } else {
        sqlx::query(
            "UPDATE executions SET state = 'cancelled', updated_at = now()
              WHERE state = 'pending'",
        )
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?
        .rows_affected() as usize
    };

    if !already_halted {
        sqlx::query(
            "UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = $1,
                                    updated_at = now()
              WHERE id",
        )
        .bind(&reason)
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
    }
    if !already_halted || cancelled > 0 {
        let rationale = match cancelled {
            0 => reason.clone(),
            n => format!("{reason} ({n} pending order{} cancelled)", plural(n)),
        };
        decisions::record(
            conn,
            &NewDecision {
                action: "ai_halted",
                rationale: &rationale,
                risk_check_result: Some(MANUAL_HALT),
                human_override: true,
                operator: Some(operator.as_str()),
                ..NewDecision::default()
            },
        )
        .await?;
    }
    for (id, symbol, strategy_id, confidence, snapshot_ref) in &ideas {
        decisions::record(
            conn,
            &NewDecision {
                symbol: Some(symbol),
                action: "ai_halted",
                rationale: &format!("waiting idea stopped by the kill switch: {reason}"),
                confidence_score: Some(*confidence),
                risk_check_result: Some("fail:ai_halted"),
                strategy_id: *strategy_id,
                trade_idea_id: Some(*id),
                snapshot_ref: Some(*snapshot_ref),
                human_override: true,
                operator: Some(operator.as_str()),
            },
        )
        .await?;
    }
    Ok(Halted {
        already_halted,
        reason: recorded_reason,
        ideas_halted: ideas.len(),
        executions_cancelled: cancelled,
    })
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
            action: "ai_resumed",
            rationale: &rationale,
            risk_check_result: Some("pass"),
            human_override: true,
            operator: Some(operator.as_str()),
            ..NewDecision::default()
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
