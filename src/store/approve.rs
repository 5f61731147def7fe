//! Human approval: the Gate re-run on current data, inside the transaction that records
//! its outcome.
//!
//! Approvals (and halts) serialise on the `risk_config` row lock, so two operators can
//! never both take the last concurrent-trade slot, and an approval never slips past a
//! halt that committed first.

use chrono::{DateTime, Utc};
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::decisions::{self, NewDecision};
use super::error::Error;
use super::{account, ideas, risk, strategies};
use crate::domain::act::Act;
use crate::domain::gate::OpenTrades;
use crate::domain::{
    AccountSnapshot, CalendarEvent, DecisionAction, GateContext, GateReport, Idea, IdeaStatus,
    Impact, Lot, Purpose, RiskConfig, Strategy, TradingDay, day_state,
};
use crate::operator::Operator;

/// Calendar events this close to now are loaded for the news rule (wider than any
/// strategy's news block needs).
const CALENDAR_REACH_HOURS: i64 = 24;

/// What an approval came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// The checks passed: the order is recorded for execution and the idea is
    /// `auto_executed`.
    Executed {
        idea: Uuid,
        execution: Uuid,
        decision: Uuid,
        report: GateReport,
    },
    /// The checks failed: the idea is `rejected` and a `risk_rejected` row says why.
    Blocked {
        idea: Uuid,
        decision: Uuid,
        report: GateReport,
    },
}

impl Store {
    /// The Gate's inputs for an idea, read now (for a live preview; the approval itself
    /// re-reads them under lock).
    pub async fn gate_context(&self, id: Uuid) -> Result<GateContext, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        let idea = ideas::fetch(&mut conn, id, false).await?;
        let config = risk::get(&mut conn).await?.config;
        load_context(&mut conn, idea, config, None).await
    }

    /// Approves an idea awaiting approval with `lot`: re-runs the Gate on current data
    /// and, in the same transaction, either records the order and the `human_approved`
    /// row, or rejects the idea with a `risk_rejected` row naming every failing rule.
    pub async fn approve(
        &self,
        id: Uuid,
        lot: Lot,
        operator: &Operator,
    ) -> Result<Approval, Error> {
        operator.may(Act::Approve)?;
        super::retrying(|| self.approve_once(id, lot, operator)).await
    }

    async fn approve_once(
        &self,
        id: Uuid,
        lot: Lot,
        operator: &Operator,
    ) -> Result<Approval, Error> {
        let mut tx = self.acts().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        // Serialise with every other approval and halt.
        let config = risk::lock(conn).await?.config;
        let (idea, strategy, now) = ideas::fetch_for_decision(conn, id).await?;
        ideas::ensure_awaiting_approval(conn, &idea).await?;
        // Judged at the clock read once every lock was granted.
        let context = context_with(conn, idea, strategy, config, now).await?;
        let report = context.judge(lot, Purpose::HumanApproval);
        let idea = &context.idea;
        let approval = if report.passed() {
            // While AI trading is off, the kill switch lets the idea through at commit
            // because this transaction also writes its human_approved row (migration 12;
            // docs/platform.md, "How the platform's Python code writes").
            let execution = Uuid::now_v7();
            let rationale = format!("approved with lot {lot}");
            let decision = decide(
                conn,
                idea,
                Some((execution, lot)),
                DecisionAction::HumanApproved,
                &rationale,
                &report,
                operator,
            )
            .await?;
            Approval::Executed {
                idea: id,
                execution,
                decision,
                report,
            }
        } else {
            let rationale = format!(
                "approval with lot {lot} blocked: {}",
                report.failure_reasons()
            );
            let decision = decide(
                conn,
                idea,
                None,
                DecisionAction::RiskRejected,
                &rationale,
                &report,
                operator,
            )
            .await?;
            Approval::Blocked {
                idea: id,
                decision,
                report,
            }
        };
        tx.commit().await.map_err(Error::Database)?;
        Ok(approval)
    }
}

/// The approval's outcome written in one statement: the idea's new status
/// (`auto_executed` with its order `(id, lot)`, else `rejected`), and its decision row.
async fn decide(
    conn: &mut PgConnection,
    idea: &Idea,
    order: Option<(Uuid, Lot)>,
    action: DecisionAction,
    rationale: &str,
    report: &GateReport,
    operator: &Operator,
) -> Result<Uuid, Error> {
    let to = ideas::transition(
        idea,
        match order {
            Some(_) => IdeaStatus::AutoExecuted,
            None => IdeaStatus::Rejected,
        },
    )?;
    let writes = match order {
        Some(_) => {
            "decided AS (
                 UPDATE trade_ideas SET status = $14::tradeideastatus, updated_at = now()
                  WHERE id = $13
             ), ordered AS (
                 INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by,
                                                   requested_at)
                 VALUES ($15, $13, $16, $17, clock_timestamp())
             )"
        }
        None => {
            "decided AS (
                 UPDATE trade_ideas SET status = $14::tradeideastatus, updated_at = now()
                  WHERE id = $13
             )"
        }
    };
    let (idea_id, by) = (idea.id, operator.as_str().to_owned());
    let (decision, _) = decisions::record_after(
        conn,
        &NewDecision {
            symbol: Some(&idea.symbol),
            action,
            rationale,
            confidence_score: Some(idea.confidence_score),
            risk_check_result: Some(&report.risk_check_result()),
            strategy_id: idea.strategy_id,
            trade_idea_id: Some(idea.id),
            snapshot_ref: Some(idea.snapshot_ref),
            human_override: true,
            operator: Some(operator.as_str()),
            id: None,
            occurred_at: None,
        },
        writes,
        move |query| {
            let query = query.bind(idea_id).bind(to.as_str());
            match order {
                Some((execution, lot)) => query.bind(execution).bind(lot.value()).bind(by),
                None => query,
            }
        },
    )
    .await
    .map_err(|e| ideas::lost_race(e, idea))?;
    Ok(decision)
}

/// Reads what the Gate needs besides the idea and the limits, as of `at` (`None`: the
/// database's clock).
pub(crate) async fn load_context(
    conn: &mut PgConnection,
    idea: Idea,
    config: RiskConfig,
    at: Option<DateTime<Utc>>,
) -> Result<GateContext, Error> {
    // The clock after the locks were granted: now() would be the transaction's start,
    // older than snapshots captured while an approval waited its turn.
    let now: DateTime<Utc> = match at {
        Some(at) => at,
        None => sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&mut *conn)
            .await
            .map_err(Error::Database)?,
    };

    let strategy = match idea.strategy_id {
        Some(strategy_id) => strategies::fetch(conn, strategy_id, strategies::Lock::Share)
            .await
            .map(Some)
            .or_else(|e| match e {
                Error::NotFound { .. } => Ok(None),
                e => Err(e),
            })?,
        None => None,
    };
    context_with(conn, idea, strategy, config, now).await
}

/// [`load_context`] with the idea's strategy already read (locked FOR SHARE) and the
/// clock `now`.
async fn context_with(
    conn: &mut PgConnection,
    idea: Idea,
    strategy: Option<Strategy>,
    config: RiskConfig,
    now: DateTime<Utc>,
) -> Result<GateContext, Error> {
    let day_start = TradingDay::UTC_MIDNIGHT.start_of(now);
    // The day's drawdown from every capture of the day, or a refusal naming the one that
    // cannot be read: an approval is never judged on part of the day.
    let snapshots = account::day_snapshots(conn, day_start, Some(now))
        .await?
        .whole()?;
    let day = day_state(&snapshots, TradingDay::UTC_MIDNIGHT, now);

    // The latest capture is the day's last, already read.
    let (open_trades, calendar) =
        open_trades_and_calendar(conn, idea.strategy_id, snapshots.last(), day_start, now).await?;

    Ok(GateContext {
        idea,
        config,
        strategy,
        day,
        open_trades,
        calendar,
        now,
    })
}

/// Positions open now, and the calendar's events around now, in one statement (one round
/// trip fewer for every approval).
///
/// Positions: overall, the latest account snapshot's (`latest`) `open_positions`, plus
/// orders handed to execution since it was captured (pending, sent to the broker, or filled and not
/// closed, not yet in a snapshot). For the idea's strategy: its orders of the trading day
/// still pending or sent, or filled and not closed — the platform's broker reports no
/// closes in Phase 1, so on its database this counts the day's entries. The order's
/// strategy is its idea's as the order was written (migration 13): one range of
/// `idx_executions_open_by_strategy`.
///
/// Events: each (currency, time, title) once, as last captured, within
/// [`CALENDAR_REACH_HOURS`] of now; the counts' row stands alone when there are none.
async fn open_trades_and_calendar(
    conn: &mut PgConnection,
    strategy_id: Option<Uuid>,
    latest: Option<&AccountSnapshot>,
    day_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(OpenTrades, Vec<CalendarEvent>), Error> {
    type Row = (
        i64,
        i64,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "WITH counts AS (
             SELECT $5::integer
                    + (SELECT count(*) FROM tradedesk.executions e
                        WHERE e.state IN ('pending', 'sent', 'filled') AND e.closed_at IS NULL
                          AND e.requested_at > coalesce($6, '-infinity'))
                    AS total,
                    (SELECT count(*) FROM tradedesk.executions e
                      WHERE e.strategy_id = $1 AND e.state IN ('pending', 'sent', 'filled')
                        AND e.closed_at IS NULL AND e.requested_at >= $2) AS for_strategy
         )
         SELECT counts.total, counts.for_strategy,
                c.event_time, c.currency, c.impact_level, c.title
           FROM counts LEFT JOIN LATERAL (
                SELECT DISTINCT ON (currency, event_time, title)
                       event_time, currency, impact_level, title
                  FROM snapshot_calendar
                 WHERE event_time BETWEEN $3 - make_interval(hours => $4)
                                      AND $3 + make_interval(hours => $4)
                 ORDER BY currency, event_time, title, captured_at DESC) c ON true",
    )
    .bind(strategy_id)
    .bind(day_start)
    .bind(now)
    .bind(CALENDAR_REACH_HOURS as i32)
    .bind(latest.map_or(0, |s| s.open_positions))
    .bind(latest.map(|s| s.captured_at))
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let (total, for_strategy) = rows.first().map_or((0, 0), |r| (r.0, r.1));
    let calendar = rows
        .into_iter()
        .filter_map(|(_, _, event_time, currency, impact, title)| {
            Some(CalendarEvent {
                event_time: event_time?,
                currency: currency?,
                // An impact the collector spelled some other way is treated as high: the
                // news rule errs on the side of not trading.
                impact: impact?.parse().unwrap_or(Impact::High),
                title: title?,
            })
        })
        .collect();
    let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    Ok((
        OpenTrades {
            total: count(total),
            for_strategy: count(for_strategy),
        },
        calendar,
    ))
}
