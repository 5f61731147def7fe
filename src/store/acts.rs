//! The console's act connections: a pool of its own for the acts (halt, approve, reject,
//! limits, strategies), kept open and made ready before the first act needs it.
//!
//! A PostgreSQL backend is slow at everything the first time: it loads the catalogue
//! entries of each table, index and type it touches, parses and plans each statement, and
//! compiles each PL/pgSQL function the first time a trigger fires it (the audit chain's
//! link and seal, the notifications). On a new connection the kill switch's transaction
//! took ~11 ms of server time, on one that had run it before ~2.5 ms (README, Performance).
//! So the console does that first time once per connection, right after it opens, and
//! keeps the connections: no idle timeout and no lifetime, and apart from the pane reads,
//! so that an act never waits behind a read.
//!
//! Being ready writes nothing: the lock and the switch's statements are prepared (parsed
//! and described), the sweeps run dry (`halt::SWEEP_WAITING`: they stop and lock nothing),
//! and one `ai_halted` row is inserted and rolled back with its seal fired at once, which
//! compiles the audit chain's triggers. That seal takes the chain's head for well under a
//! millisecond, as every commit of a decision does; a rolled-back row and its notification
//! never reach anyone.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sqlx::postgres::{PgPoolOptions, PgTypeInfo};
use sqlx::{Acquire as _, Executor as _, PgConnection, PgPool, Postgres, Type};

use super::decisions::{self, NewDecision};
use super::{Store, halt, risk};
use crate::domain::DecisionAction;

/// How many acts may run at once (a halt beside an approval).
const CONNECTIONS: u32 = 2;
/// How long an act waits for a connection to open.
const ACQUIRE_WITHIN: Duration = Duration::from_secs(10);

// The type of each value a statement binds, as its executions bind it: a statement
// prepared ahead is kept by its text alone, so it must declare the types they send.
fn at() -> PgTypeInfo {
    <Option<DateTime<Utc>> as Type<Postgres>>::type_info()
}

fn text() -> PgTypeInfo {
    <&str as Type<Postgres>>::type_info()
}

/// Makes `conn` ready for the acts (see the module's comment). Writes nothing.
pub(crate) async fn ready(conn: &mut PgConnection) -> Result<(), super::Error> {
    let prepared = [
        (risk::LOCK_SWITCH, vec![]),
        (halt::SWITCH_OFF, vec![text(), at()]),
    ];
    for (sql, parameters) in &prepared {
        conn.prepare_with(sql, parameters)
            .await
            .map_err(super::Error::Database)?;
    }
    let mut tx = conn.begin().await.map_err(super::Error::Database)?;
    let conn = tx.acquire().await.map_err(super::Error::Database)?;
    // The sweeps' dry runs: the statements' first run, stopping and locking nothing.
    for statement in [halt::SWEEP_WAITING, halt::PULL_PENDING] {
        halt::stopped_by(conn, statement, None, false).await?;
    }
    // The commit's work, run now on a flip of the switch that is rolled back, so that the
    // kill switch's first commit on this connection does not pay its first run either:
    // the flip's audit (migration 14, which finds the transaction's own ai_halted row) and
    // the chain's seal (migration 7). The switch's row is locked before the audit's head,
    // in the order every halt, approval and resume takes them, so that no writer can
    // deadlock with a connection being made ready; each lock is held for as long as a
    // halt would hold it.
    sqlx::query("UPDATE risk_config SET ai_trading_enabled = NOT ai_trading_enabled WHERE id")
        .execute(&mut *conn)
        .await
        .map_err(super::Error::Database)?;
    decisions::record(
        conn,
        &NewDecision {
            risk_check_result: Some(halt::MANUAL_HALT),
            human_override: true,
            operator: Some("tradedesk"),
            ..NewDecision::new(
                DecisionAction::AiHalted,
                "a connection made ready for the kill switch (rolled back)",
            )
        },
    )
    .await?;
    for constraint in ["risk_config_switch_audit", "decision_history_audit_seal"] {
        sqlx::query(&format!("SET CONSTRAINTS {constraint} IMMEDIATE"))
            .execute(&mut *conn)
            .await
            .map_err(super::Error::Database)?;
    }
    tx.rollback().await.map_err(super::Error::Database)
}

/// The act pool: opened lazily, every connection made ready as it opens and kept.
pub(crate) fn pool(reads: &PgPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(CONNECTIONS)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(ACQUIRE_WITHIN)
        .after_connect(|conn, _| -> BoxFuture<'_, Result<(), sqlx::Error>> {
            Box::pin(async move {
                // A role that may not write (a viewer) cannot act either: nothing to ready.
                if let Err(e) = ready(conn).await {
                    tracing::debug!(error = %e, "an act connection was not made ready");
                }
                Ok(())
            })
        })
        .connect_lazy_with((*reads.connect_options()).clone())
}

impl Store {
    /// This store with a pool of its own for the acts, each connection made ready for them
    /// as it opens ([`Store::ready_acts`] opens them all).
    pub fn with_act_connections(mut self) -> Store {
        self.acts = pool(&self.pool);
        self
    }

    /// Opens every act connection now (each is made ready as it opens), so that no act
    /// pays for it. Failures only log: the acts connect again when they run.
    pub async fn ready_acts(&self) {
        let opened = futures::future::join_all((0..CONNECTIONS).map(|_| self.acts.acquire())).await;
        for conn in opened {
            if let Err(e) = conn {
                tracing::warn!(error = %e, "an act connection could not be opened ahead");
            }
        }
    }
}
