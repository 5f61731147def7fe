//! The kill switch: halt and resume, each one transaction with its audit rows.

use chrono::{DateTime, Utc};
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::decisions::{self, NewDecision};
use super::error::Error;
use super::risk::{self, RiskRow, Switch};
use crate::domain::DecisionAction;
use crate::domain::act::Act;
use crate::domain::text::{self, Typed};
use crate::format::ShortIds;
use crate::operator::Operator;

/// `risk_check_result` of an operator's halt (the automatic ones name their rule).
pub const MANUAL_HALT: &str = "fail:manual_halt";
/// How many ids of each kind the halt's row names before it only counts the rest.
const NAMED: usize = 5;

// The halt's statements, made ready on the console's act connections (`store::acts`).
// SWEEP_WAITING and PULL_PENDING bind `$1` the halt's time (`None`: now) and `$2` whether
// the run is real: a dry run (false) stops nothing and locks nothing, and is what an act
// connection runs as it opens, so that the first halt on it does not pay the statements'
// first run (the sweep took 0.8 ms the first time on a connection, 0.2 ms after). SWITCH_OFF,
// which no dry run may touch, is prepared: `$1` the reason, `$2` the time.

/// Every idea still waiting for automatic execution becomes `halted_by_risk`.
///
/// SKIP LOCKED: a row the engine is changing right now is left to it. Waiting for it would
/// deadlock (the engine's commit waits for the risk row this transaction holds); once the
/// halt commits, the engine's auto-execution of that idea is refused at its commit, and
/// the idea stays `waiting` — it can never execute while AI trading is off.
pub(crate) const SWEEP_WAITING: &str = "
    UPDATE trade_ideas SET status = 'halted_by_risk', updated_at = coalesce($1, now())
     WHERE id IN (SELECT id FROM trade_ideas WHERE status = 'waiting' AND $2
                   FOR NO KEY UPDATE SKIP LOCKED)
 RETURNING id";

/// Every order no broker bridge has claimed is cancelled, and its idea (executed only on
/// paper) becomes `halted_by_risk`, as the platform shows a stopped trade.
///
/// No SKIP LOCKED (docs/platform.md, "The execution hand-off"): an order a claim holds is
/// waited for, which takes one statement, and judged again as the claim left it: `sent`,
/// the broker has it and it stays; still `pending` (the claim rolled back), it is
/// cancelled. Skipping it would leave a pending order alive after the halt.
pub(crate) const PULL_PENDING: &str = "
    WITH pulled AS (
        UPDATE tradedesk.executions SET state = 'cancelled', updated_at = coalesce($1, now())
         WHERE state = 'pending' AND $2
     RETURNING id, trade_idea_id
    ), stopped AS (
        UPDATE trade_ideas i SET status = 'halted_by_risk', updated_at = coalesce($1, now())
          FROM pulled p
         WHERE i.id = p.trade_idea_id AND i.status = 'auto_executed'
    )
    SELECT id FROM pulled";

/// The flip of the switch (its row is written by `record_halt`).
pub(crate) const SWITCH_OFF: &str = "
    UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = $1,
                           updated_at = coalesce($2, now())
     WHERE id";

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

/// What a halt stopped, each list in id order: the ids are all it reads back, so no
/// row's content (a NaN confidence, say) can make the kill switch fail.
#[derive(Debug, Default)]
struct Stopped {
    /// Ideas that were waiting for automatic execution.
    ideas: Vec<Uuid>,
    /// Orders no broker bridge had claimed (their ideas are stopped with them).
    orders: Vec<Uuid>,
}

impl Stopped {
    fn is_empty(&self) -> bool {
        self.ideas.is_empty() && self.orders.is_empty()
    }
}

/// What a halt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Halted {
    /// AI trading was already off: the switch and its reason stayed, and an `ai_halted`
    /// row was written only if stragglers were stopped.
    pub already_halted: bool,
    /// The halt reason now recorded.
    pub reason: String,
    /// Ideas that were waiting for automatic execution and are now `halted_by_risk`.
    pub ideas_halted: usize,
    /// Orders no broker bridge had claimed, cancelled, their ideas now `halted_by_risk`
    /// (none with `keep_pending`).
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
    /// automatic execution, and (unless `keep_pending`) cancels every order not yet sent
    /// to the broker, stopping its idea — all in one transaction, with one `ai_halted` row.
    /// On an already-halted system the switch and its reason stay as they were (no new
    /// flip is recorded), but stragglers are still swept (and one row says so): pulling the
    /// kill switch twice is harmless and never less safe than pulling it once. A collision
    /// with another writer (a deadlock abort) is retried, never reported as a failed halt.
    pub async fn halt(
        &self,
        reason: &str,
        operator: &Operator,
        keep_pending: bool,
    ) -> Result<Halted, Error> {
        operator.may(Act::Halt)?;
        // Checked as it is kept: trimmed. Refused, nothing is written, the switch included.
        text::typed(Typed::HaltReason, reason.trim())?;
        super::retrying(|| async {
            let mut tx = self.acts().begin().await.map_err(Error::Database)?;
            let conn = tx.acquire().await.map_err(Error::Database)?;
            // The switch alone: no limit a writer made unreadable can stop the kill switch.
            let current = risk::lock_switch(conn).await?;
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
        text::typed(Typed::ResumeNote, note.trim())?;
        let mut tx = self.acts().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let current = risk::lock(conn).await?;
        let resumed = resume_locked(conn, &current, operator, note).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(resumed)
    }
}

/// The halt, inside a transaction that already holds the risk row's lock (`current`).
/// It writes one `ai_halted` row, as the platform does (docs/platform.md §3): the flip's,
/// naming what was stopped; each idea's fate is its status. On a system already halted
/// that sweeps stragglers, one row says so; one that sweeps nothing writes nothing.
pub(crate) async fn halt_locked(
    conn: &mut PgConnection,
    current: &Switch,
    reason: &str,
    by: &HaltBy<'_>,
    keep_pending: bool,
) -> Result<Halted, Error> {
    let reason = match (reason.trim(), by.operator) {
        ("", Some(operator)) => format!("halted by {operator}"),
        ("", None) => "halted by the platform".to_string(),
        (given, _) => given.to_string(),
    };
    let already_halted = !current.ai_trading_enabled;
    // An already-halted system keeps the reason it was halted for.
    let recorded_reason = if already_halted {
        current
            .last_halt_reason
            .clone()
            .unwrap_or_else(|| "no reason recorded".into())
    } else {
        reason.clone()
    };
    let stopped = Stopped {
        ideas: stopped_by(conn, SWEEP_WAITING, by.at, true).await?,
        orders: if keep_pending {
            Vec::new()
        } else {
            stopped_by(conn, PULL_PENDING, by.at, true).await?
        },
    };
    if !already_halted {
        switch_off(conn, &reason, &stopped, by).await?;
    } else if !stopped.is_empty() {
        let said = format!(
            "AI trading was already off ({recorded_reason}): {}",
            stopped_in_words(&stopped.ideas, &stopped.orders)
        );
        record_halt(conn, &said, by).await?;
    }
    Ok(Halted {
        already_halted,
        reason: recorded_reason,
        ideas_halted: stopped.ideas.len(),
        executions_cancelled: stopped.orders.len(),
    })
}

/// What one of the halt's statements ([`SWEEP_WAITING`], [`PULL_PENDING`]) stopped, in id
/// order; nothing on a dry run (`real` false).
pub(crate) async fn stopped_by(
    conn: &mut PgConnection,
    statement: &str,
    at: Option<DateTime<Utc>>,
    real: bool,
) -> Result<Vec<Uuid>, Error> {
    let mut ids: Vec<Uuid> = sqlx::query_scalar(statement)
        .bind(at)
        .bind(real)
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::Database)?;
    ids.sort_unstable();
    Ok(ids)
}

/// The flip of the switch, with its one `ai_halted` row (docs/platform.md §3).
async fn switch_off(
    conn: &mut PgConnection,
    reason: &str,
    stopped: &Stopped,
    by: &HaltBy<'_>,
) -> Result<(), Error> {
    sqlx::query(SWITCH_OFF)
        .bind(reason)
        .bind(by.at)
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
    let said = by.rationale.unwrap_or(reason);
    let rationale = if stopped.is_empty() {
        said.to_string()
    } else {
        format!(
            "{said}: {}",
            stopped_in_words(&stopped.ideas, &stopped.orders)
        )
    };
    record_halt(conn, &rationale, by).await
}

/// The halt's global `ai_halted` row (symbol NULL).
async fn record_halt(
    conn: &mut PgConnection,
    rationale: &str,
    by: &HaltBy<'_>,
) -> Result<(), Error> {
    decisions::record(
        conn,
        &NewDecision {
            risk_check_result: Some(by.risk_check_result),
            human_override: by.operator.is_some(),
            operator: by.who(),
            occurred_at: by.at,
            ..NewDecision::new(DecisionAction::AiHalted, rationale)
        },
    )
    .await?;
    Ok(())
}

/// What a halt stopped, as its row says it: `2 waiting ideas stopped (01a2b3c4,
/// 5d6e7f80), 1 unexecuted order cancelled (9a8b7c6d)`, the first few short ids of each
/// (in id order; none two alike) and a count of the rest. Migration 12's drawdown guard
/// words it the same (its ids by their last 8 digits since migration 16), but never
/// lengthens two alike: its rationale differs only if two ids it names end alike.
fn stopped_in_words(ideas: &[Uuid], orders: &[Uuid]) -> String {
    let shown = ShortIds::new(
        [ideas, orders]
            .into_iter()
            .flat_map(|ids| ids.iter().take(NAMED).copied()),
    );
    [
        (ideas, "waiting idea", "stopped"),
        (orders, "unexecuted order", "cancelled"),
    ]
    .into_iter()
    .filter(|(ids, ..)| !ids.is_empty())
    .map(|(ids, noun, done)| {
        let named: Vec<String> = ids.iter().take(NAMED).map(|id| shown.of(*id)).collect();
        let more = match ids.len().saturating_sub(NAMED) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        format!(
            "{} {noun}{} {done} ({}{more})",
            ids.len(),
            plural(ids.len()),
            named.join(", ")
        )
    })
    .collect::<Vec<_>>()
    .join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    #[test]
    fn a_halts_row_names_what_it_stopped_a_few_ids_then_a_count() {
        assert_eq!(stopped_in_words(&[], &[]), "");
        assert_eq!(
            stopped_in_words(&ids(1), &[]),
            "1 waiting idea stopped (00000001)"
        );
        assert_eq!(
            stopped_in_words(&ids(2), &ids(1)),
            "2 waiting ideas stopped (00000001, 00000002), \
             1 unexecuted order cancelled (00000001)"
        );
        assert_eq!(
            stopped_in_words(&[], &ids(17)),
            "17 unexecuted orders cancelled (00000001, 00000002, 00000003, 00000004, \
             00000005 and 12 more)"
        );
        // An idea and an order whose last 8 digits are equal are named by longer endings.
        let idea = Uuid::from_u128((0xa << 32) | 7);
        let order = Uuid::from_u128((0xb << 32) | 7);
        assert_eq!(
            stopped_in_words(&[idea], &[order]),
            "1 waiting idea stopped (a00000007), 1 unexecuted order cancelled (b00000007)"
        );
    }
}
