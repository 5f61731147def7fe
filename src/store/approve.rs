//! Human approval: the Gate re-run on current data, inside the transaction that records
//! its outcome.
//!
//! Approvals (and halts) serialise on the `risk_config` row lock, so two operators can
//! never both take the last concurrent-trade slot, and an approval never slips past a
//! halt that committed first.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::decisions::{self, NewDecision};
use super::error::Error;
use super::ideas::{self, Idea};
use super::ids::{self, Kind};
use super::risk;
use crate::domain::gate::{GateIdea, GateStrategy, OpenTrades};
use crate::domain::numeric::{LOT, Shown};
use crate::domain::pnl::AccountSnapshot;
use crate::domain::{
    CalendarEvent, DayState, Direction, GateInput, GateReport, Impact, Purpose, RiskConfig,
    RulesJson, StrategyRules, TradingDay, day_state, evaluate,
};
use crate::operator::Operator;

/// Calendar events this close to now are loaded for the news rule (wider than any
/// strategy's blackout window needs).
const CALENDAR_REACH_HOURS: i64 = 24;

/// The idea's strategy as the Gate needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateStrategyRow {
    pub name: String,
    pub is_active: bool,
    pub allowed_symbols: Vec<String>,
    /// `None` when the stored rules do not parse (such a strategy cannot trade).
    pub rules: Option<StrategyRules>,
}

/// Everything the Gate judges an idea on, read at one moment. Owned, so the console can
/// keep it and re-judge as the operator types a lot size, without touching the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateContext {
    pub idea: Idea,
    pub config: RiskConfig,
    pub strategy: Option<GateStrategyRow>,
    pub day: Option<DayState>,
    pub open_trades: OpenTrades,
    pub calendar: Vec<CalendarEvent>,
    /// The database's clock when the context was read.
    pub now: DateTime<Utc>,
}

impl GateContext {
    /// The Gate's report for `lot`.
    pub fn judge(&self, lot: Decimal, purpose: Purpose) -> GateReport {
        // `check_direction` holds the column to buy/sell; the Gate does not judge direction.
        let direction = self.idea.direction.parse().unwrap_or(Direction::Buy);
        evaluate(&GateInput {
            purpose,
            idea: GateIdea {
                symbol: &self.idea.symbol,
                direction,
                confidence: self.idea.confidence_score,
            },
            lot,
            config: &self.config,
            strategy: self.strategy.as_ref().map(|s| GateStrategy {
                name: &s.name,
                is_active: s.is_active,
                allowed_symbols: &s.allowed_symbols,
                rules: s.rules.as_ref(),
            }),
            day: self.day.as_ref(),
            open_trades: self.open_trades,
            calendar: &self.calendar,
            now: self.now,
        })
    }

    /// The lot an approval dialog offers first: the smaller of the strategy's cap and
    /// `max_lot_size`.
    pub fn default_lot(&self) -> Decimal {
        let cap = self
            .strategy
            .as_ref()
            .and_then(|s| s.rules.as_ref())
            .and_then(|r| r.risk_caps.max_lot_size);
        match cap {
            Some(cap) => cap.min(self.config.max_lot_size),
            None => self.config.max_lot_size,
        }
    }
}

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

/// Parses a lot typed by an operator (plain decimal, e.g. `0.50`) and checks it.
pub fn parse_lot(text: &str) -> Result<Decimal, Error> {
    let lot = crate::domain::numeric::parse_plain_decimal(text.trim()).ok_or_else(|| {
        Error::InvalidInput(format!(
            "lot size `{}` is not a number such as 0.50",
            text.trim()
        ))
    })?;
    check_lot(lot)
}

/// A lot must be positive and fit NUMERIC(10,2) without rounding.
pub fn check_lot(lot: Decimal) -> Result<Decimal, Error> {
    if lot <= Decimal::ZERO {
        return Err(Error::InvalidInput(format!(
            "lot size {lot} must be greater than 0"
        )));
    }
    LOT.fit(lot).map_err(|_| {
        Error::InvalidInput(format!(
            "lot size {lot} must have at most 2 decimal places and be at most {}",
            Shown(LOT.max())
        ))
    })
}

impl Store {
    /// The Gate's inputs for an idea, read now (for a live preview; the approval itself
    /// re-reads them under lock).
    pub async fn gate_context(&self, id: &str) -> Result<GateContext, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        let id = ids::resolve(&mut conn, Kind::Idea, id).await?;
        let idea = ideas::fetch(&mut conn, id, false).await?;
        let config = risk::get(&mut conn).await?.config;
        load_context(&mut conn, idea, config).await
    }

    /// Approves an idea awaiting approval with `lot`: re-runs the Gate on current data
    /// and, in the same transaction, either records the order and the `human_approved`
    /// row, or rejects the idea with a `risk_rejected` row naming every failing rule.
    pub async fn approve(
        &self,
        id: &str,
        lot: Decimal,
        operator: &Operator,
    ) -> Result<Approval, Error> {
        let lot = check_lot(lot)?;
        super::retrying(|| self.approve_once(id, lot, operator)).await
    }

    async fn approve_once(
        &self,
        id: &str,
        lot: Decimal,
        operator: &Operator,
    ) -> Result<Approval, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        // Serialise with every other approval and halt.
        let config = risk::lock(conn).await?.config;
        let id = ids::resolve(conn, Kind::Idea, id).await?;
        let idea = ideas::fetch(conn, id, true).await?;
        ideas::ensure_awaiting_approval(conn, &idea).await?;
        let context = load_context(conn, idea, config).await?;
        let report = context.judge(lot, Purpose::HumanApproval);
        let idea = &context.idea;
        let approval = if report.passed() {
            // The kill-switch trigger lets this one idea through: a human decided it.
            sqlx::query("SELECT set_config('tradedesk.approving_idea', $1, true)")
                .bind(id.to_string())
                .execute(&mut *conn)
                .await
                .map_err(Error::Database)?;
            ideas::set_status(conn, id, "auto_executed").await?;
            let execution = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, requested_at)
                 VALUES ($1, $2, $3, $4, clock_timestamp())",
            )
            .bind(execution)
            .bind(id)
            .bind(lot)
            .bind(operator.as_str())
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
            let rationale = format!("approved with lot {}", Shown(lot));
            let (decision, _) = record(conn, idea, "human_approved", &rationale, &report, operator)
                .await
                .map_err(|e| ideas::lost_race(e, idea))?;
            Approval::Executed {
                idea: id,
                execution,
                decision,
                report,
            }
        } else {
            ideas::set_status(conn, id, "rejected").await?;
            let rationale = format!(
                "approval with lot {} blocked: {}",
                Shown(lot),
                report.failure_reasons()
            );
            let (decision, _) = record(conn, idea, "risk_rejected", &rationale, &report, operator)
                .await
                .map_err(|e| ideas::lost_race(e, idea))?;
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

async fn record(
    conn: &mut PgConnection,
    idea: &Idea,
    action: &str,
    rationale: &str,
    report: &GateReport,
    operator: &Operator,
) -> Result<(Uuid, DateTime<Utc>), Error> {
    decisions::record(
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
        },
    )
    .await
}

type StrategyRow = (
    String,
    bool,
    Vec<String>,
    serde_json::Value,
    serde_json::Value,
    serde_json::Value,
    serde_json::Value,
    serde_json::Value,
);

/// Reads what the Gate needs besides the idea and the limits.
async fn load_context(
    conn: &mut PgConnection,
    idea: Idea,
    config: RiskConfig,
) -> Result<GateContext, Error> {
    // The clock after the locks were granted: now() would be the transaction's start,
    // older than snapshots captured while an approval waited its turn.
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::Database)?;

    let strategy = match idea.strategy_id {
        Some(strategy_id) => {
            let row: Option<StrategyRow> = sqlx::query_as(
                "SELECT name, is_active, allowed_symbols, session_windows, entry_conditions,
                        exit_rules, forbidden_conditions, risk_caps
                   FROM strategies WHERE id = $1 FOR SHARE",
            )
            .bind(strategy_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Error::Database)?;
            row.map(|r| GateStrategyRow {
                name: r.0,
                is_active: r.1,
                allowed_symbols: r.2,
                rules: RulesJson {
                    session_windows: r.3,
                    entry_conditions: r.4,
                    exit_rules: r.5,
                    forbidden_conditions: r.6,
                    risk_caps: r.7,
                }
                .parse()
                .ok(),
            })
        }
        None => None,
    };

    let day_start = TradingDay::UTC_MIDNIGHT.start_of(now);
    let snapshots: Vec<(Decimal, Decimal, DateTime<Utc>)> = sqlx::query_as(
        "(SELECT balance, equity, captured_at FROM snapshot_account
           WHERE captured_at < $1 ORDER BY captured_at DESC LIMIT 1)
         UNION ALL
         (SELECT balance, equity, captured_at FROM snapshot_account
           WHERE captured_at >= $1 AND captured_at <= $2)",
    )
    .bind(day_start)
    .bind(now)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let snapshots: Vec<AccountSnapshot> = snapshots
        .into_iter()
        .map(|(balance, equity, captured_at)| AccountSnapshot {
            balance,
            equity,
            captured_at,
        })
        .collect();
    let day = day_state(&snapshots, TradingDay::UTC_MIDNIGHT, now);

    let open_trades = open_trades(conn, idea.strategy_id, day_start).await?;

    let events: Vec<(DateTime<Utc>, String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (currency, event_time, title) event_time, currency, impact_level, title
           FROM snapshot_calendar
          WHERE event_time BETWEEN $1 - make_interval(hours => $2) AND $1 + make_interval(hours => $2)
          ORDER BY currency, event_time, title, captured_at DESC",
    )
    .bind(now)
    .bind(CALENDAR_REACH_HOURS as i32)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let calendar = events
        .into_iter()
        .map(|(event_time, currency, impact, title)| CalendarEvent {
            event_time,
            currency,
            // An impact the collector spelled some other way is treated as high: the news
            // rule errs on the side of not trading.
            impact: impact.parse().unwrap_or(Impact::High),
            title,
        })
        .collect();

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

/// Positions open now. Overall: the latest account snapshot's `open_positions`, plus
/// orders handed to execution since it was captured (pending or filled, not yet in a
/// snapshot). For the idea's strategy: its orders of the trading day still pending or
/// filled — Phase 1 records no position closes, so this counts the day's entries.
async fn open_trades(
    conn: &mut PgConnection,
    strategy_id: Option<Uuid>,
    day_start: DateTime<Utc>,
) -> Result<OpenTrades, Error> {
    let (total, for_strategy): (i64, i64) = sqlx::query_as(
        "WITH latest AS (
             SELECT open_positions, captured_at FROM snapshot_account
              ORDER BY captured_at DESC LIMIT 1
         )
         SELECT coalesce((SELECT open_positions FROM latest), 0)
                + (SELECT count(*) FROM tradedesk.executions e
                    WHERE e.state IN ('pending', 'filled')
                      AND e.requested_at > coalesce((SELECT captured_at FROM latest), '-infinity')),
                (SELECT count(*) FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
                  WHERE i.strategy_id = $1 AND e.state IN ('pending', 'filled')
                    AND e.requested_at >= $2)",
    )
    .bind(strategy_id)
    .bind(day_start)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    Ok(OpenTrades {
        total: count(total),
        for_strategy: count(for_strategy),
    })
}
