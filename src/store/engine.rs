//! The platform's own writes, for the simulated platform (`crate::sim`): what the real
//! engine, snapshot collectors and broker connector write, through the same tables and
//! under the same database rules (the kill switch refuses an automatic execution while AI
//! trading is off, whoever asks). The broker's claims and reports are the execution
//! hand-off's own statements ([`CLAIM_ORDER`], [`REPORT_FILL`], [`REPORT_FAILURE`]), which
//! docs/platform.md quotes. Every write takes the simulation's time and its ids, so that
//! the same seed writes the same rows.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::query_builder::Separated;
use sqlx::{Acquire as _, PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::Store;
use super::approve::load_context;
use super::decisions::{self, NewDecision};
use super::error::Error;
use super::halt::{HaltBy, Halted, halt_locked};
use super::ideas::{self, IdeaRow};
use super::risk;
use crate::domain::stored::{Flaw, Numeric, Stamp, StoredArray};
use crate::domain::{
    AccountSnapshot, Direction, GateReport, HaltReason, Idea, IdeaStatus, Impact, Lot, Purpose,
};

/// A candle as a collector writes it (`snapshot_market`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCandle {
    pub id: Uuid,
    pub symbol: String,
    pub timeframe: String,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: i32,
    pub captured_at: DateTime<Utc>,
}

/// Indicators as a collector writes them (`snapshot_indicators`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewIndicators {
    pub id: Uuid,
    pub symbol: String,
    pub timeframe: String,
    pub rsi_14: Option<Decimal>,
    pub sma_50: Option<Decimal>,
    pub sma_200: Option<Decimal>,
    pub atr: Option<Decimal>,
    /// `{"macd": …, "signal": …, "hist": …}`.
    pub macd: Option<Value>,
    pub captured_at: DateTime<Utc>,
}

/// One capture of a calendar release (`snapshot_calendar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCalendarEvent {
    pub id: Uuid,
    pub event_time: DateTime<Utc>,
    pub currency: String,
    pub impact: Impact,
    pub title: String,
    pub previous_value: Option<String>,
    pub forecast_value: Option<String>,
    pub actual_value: Option<String>,
    pub captured_at: DateTime<Utc>,
}

/// A headline (`snapshot_news`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHeadline {
    pub id: Uuid,
    pub headline: String,
    pub source: String,
    pub symbols: Vec<String>,
    pub published_at: DateTime<Utc>,
    pub captured_at: DateTime<Utc>,
}

/// Snapshot rows gathered for one write.
#[derive(Debug, Clone, Default)]
pub struct Snapshots {
    pub accounts: Vec<AccountSnapshot>,
    pub candles: Vec<NewCandle>,
    pub indicators: Vec<NewIndicators>,
    pub calendar: Vec<NewCalendarEvent>,
    pub news: Vec<NewHeadline>,
}

impl Snapshots {
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.candles.is_empty()
            && self.indicators.is_empty()
            && self.calendar.is_empty()
            && self.news.is_empty()
    }
}

/// An idea the engine proposes, before the Gate has judged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub id: Uuid,
    pub symbol: String,
    pub direction: Direction,
    pub entry_price: Decimal,
    pub stop_loss: Decimal,
    pub take_profit: Vec<Decimal>,
    pub expected_hold: String,
    pub rationale: String,
    pub confidence: Decimal,
    pub strategy_id: Uuid,
    /// The account snapshot of this cycle (docs/platform.md §2).
    pub snapshot_ref: Uuid,
    /// The lot the engine would trade.
    pub lot: Lot,
    pub decision_id: Uuid,
    pub execution_id: Uuid,
    pub at: DateTime<Utc>,
}

/// What became of a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    pub status: IdeaStatus,
    pub report: GateReport,
    /// The order, when the Gate let the idea execute on its own.
    pub execution: Option<Uuid>,
}

/// An order or position the broker looks after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub id: Uuid,
    pub trade_idea_id: Uuid,
    pub symbol: String,
    pub direction: String,
    pub lot_size: Decimal,
    pub stop_loss: Decimal,
    pub take_profit: Vec<Decimal>,
    pub expected_hold: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// `None` while the order waits for its fill.
    pub fill_price: Option<Decimal>,
    pub filled_at: Option<DateTime<Utc>>,
    /// A broker bridge has claimed the order (`sent`, or filled since): only a claimed
    /// order may be filled (docs/platform.md, "The execution hand-off").
    pub claimed: bool,
}

/// The claim of the execution hand-off (docs/platform.md, "The execution hand-off", which
/// quotes it): the one statement a broker bridge runs to take the oldest order handed to
/// execution. `$1` names the bridge; `$2` is the time to record, NULL for the database's
/// clock. The order's row is locked by the subquery, SKIP LOCKED, so bridges never take
/// the same order and never wait for one another; an order the kill switch is cancelling
/// (locked) is skipped, and one it cancelled is no longer `pending`. Once this statement
/// commits, the order is `sent` and the kill switch leaves it alone.
pub const CLAIM_ORDER: &str = "UPDATE tradedesk.executions e
   SET state = 'sent', claimed_by = $1, claimed_at = coalesce($2, clock_timestamp()),
       updated_at = coalesce($2, clock_timestamp())
  FROM trade_ideas i
 WHERE e.id = (SELECT id FROM tradedesk.executions
                WHERE state = 'pending'
                ORDER BY requested_at, id
                  FOR UPDATE SKIP LOCKED
                LIMIT 1)
   AND i.id = e.trade_idea_id
RETURNING e.id, e.trade_idea_id, i.symbol, i.direction, e.lot_size, i.stop_loss,
          i.take_profit, e.requested_at";

/// A claimed order's fill, as the bridge reports it: `$1` the order, `$2` the fill price,
/// `$3` the broker's order id, `$4` the time (NULL: the database's clock). Only a `sent`
/// order fills.
pub const REPORT_FILL: &str = "UPDATE tradedesk.executions
   SET state = 'filled', fill_price = $2, broker_order_id = $3,
       updated_at = coalesce($4, clock_timestamp())
 WHERE id = $1 AND state = 'sent'";

/// A claimed order the broker refused (MT5_EXECUTION_FAILED): `$1` the order, `$2` why,
/// as the bridge words it, `$3` the time (NULL: the database's clock). Only a `sent` order
/// fails.
pub const REPORT_FAILURE: &str = "UPDATE tradedesk.executions
   SET state = 'failed', failure = $2, updated_at = coalesce($3, clock_timestamp())
 WHERE id = $1 AND state = 'sent'";

/// An order a broker bridge claimed: what [`CLAIM_ORDER`] returns, but for the idea's
/// prices (the bridge reads them; the simulated broker has them from `open_positions`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub trade_idea_id: Uuid,
    pub symbol: String,
    pub direction: String,
    pub lot_size: Decimal,
    pub requested_at: DateTime<Utc>,
}

/// A [`Position`] as stored: the platform's prices may be floats' expansions (read at a
/// price's scale) or values that are no price.
#[derive(sqlx::FromRow)]
struct PositionRow {
    id: Uuid,
    trade_idea_id: Uuid,
    symbol: String,
    direction: String,
    lot_size: Numeric,
    stop_loss: Numeric,
    take_profit: StoredArray<Numeric>,
    expected_hold: Option<String>,
    requested_at: Stamp,
    fill_price: Option<Numeric>,
    filled_at: Option<Stamp>,
    claimed: bool,
}

impl PositionRow {
    /// The position, or the first column that is no price or time.
    fn read(self) -> Result<Position, Flaw> {
        let price =
            |column: &str, n: &Numeric| n.price().ok_or_else(|| Flaw::new(column, n.to_string()));
        let time = |column: &str, t: Stamp| t.at().ok_or_else(|| Flaw::new(column, t.to_string()));
        Ok(Position {
            lot_size: price("lot_size", &self.lot_size)?,
            stop_loss: price("stop_loss", &self.stop_loss)?,
            take_profit: self
                .take_profit
                .read("take_profit", |n| n.price().ok_or_else(|| n.to_string()))
                .map_err(|mut flaws| flaws.remove(0))?,
            requested_at: time("requested_at", self.requested_at)?,
            fill_price: self
                .fill_price
                .as_ref()
                .map(|n| price("fill_price", n))
                .transpose()?,
            filled_at: self.filled_at.map(|t| time("filled_at", t)).transpose()?,
            id: self.id,
            trade_idea_id: self.trade_idea_id,
            symbol: self.symbol,
            direction: self.direction,
            expected_hold: self.expected_hold,
            claimed: self.claimed,
        })
    }
}

/// Who wrote a database's data: the platform, tradedesk's simulator, or nobody yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    Empty,
    Simulated,
    /// Rows tradedesk's simulator did not write: the platform's.
    Platform,
}

impl Store {
    /// Whose data the database holds: the simulator must never write into the platform's.
    /// The platform's rows are its ideas, its snapshots and its own decisions (those of no
    /// operator); an operator's acts on an empty desk are not.
    pub async fn ownership(&self) -> Result<Ownership, Error> {
        let (data, simulated): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM trade_ideas)
                    OR EXISTS (SELECT 1 FROM decision_history WHERE operator IS NULL)
                    OR EXISTS (SELECT 1 FROM snapshot_market) OR EXISTS (SELECT 1 FROM snapshot_account),
                    EXISTS (SELECT 1 FROM tradedesk.simulations)",
        )
        .fetch_one(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(match (data, simulated) {
            (false, _) => Ownership::Empty,
            (true, true) => Ownership::Simulated,
            (true, false) => Ownership::Platform,
        })
    }

    /// Records a run of the simulated platform (or the demo desk's seeding).
    pub async fn record_simulation(
        &self,
        kind: &str,
        seed: Option<u64>,
        from: Option<DateTime<Utc>>,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO tradedesk.simulations (id, kind, seed, simulated_from)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(Uuid::now_v7())
        .bind(kind)
        .bind(seed.map(|s| i64::from_ne_bytes(s.to_ne_bytes())))
        .bind(from)
        .execute(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(())
    }

    /// The last price of each of `symbols` that has one (to continue a market).
    pub async fn last_prices(&self, symbols: &[&str]) -> Result<Vec<(String, Decimal)>, Error> {
        sqlx::query_as(&format!(
            "SELECT s.symbol, p.close FROM unnest($1::text[]) AS s(symbol)
               JOIN LATERAL ({}) p ON true",
            super::LAST_CLOSE
        ))
        .bind(symbols)
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)
    }

    /// Writes gathered snapshot rows, a few multi-row INSERTs, in one short transaction
    /// (nothing here locks a row an approval waits on). The database's guard (migration 8)
    /// judges the day's limits as the account rows go in, and halts AI trading in this
    /// transaction when the newest of them breaches one: that halt's reason comes back.
    pub async fn write_snapshots(&self, rows: &Snapshots) -> Result<Option<HaltReason>, Error> {
        if rows.is_empty() {
            return Ok(None);
        }
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        for chunk in rows.accounts.chunks(CHUNK) {
            insert(&mut tx, "snapshot_account (id, balance, equity, margin_used, margin_free, open_pl, open_positions, captured_at)", chunk, |b, a| {
                b.push_bind(a.id).push_bind(a.balance).push_bind(a.equity).push_bind(a.margin_used)
                    .push_bind(a.margin_free).push_bind(a.open_pl).push_bind(a.open_positions)
                    .push_bind(a.captured_at);
            })
            .await?;
        }
        for chunk in rows.candles.chunks(CHUNK) {
            insert(&mut tx, "snapshot_market (id, symbol, timeframe, open, high, low, close, volume, captured_at)", chunk, |b, c| {
                b.push_bind(c.id).push_bind(c.symbol.clone()).push_bind(c.timeframe.clone()).push_bind(c.open)
                    .push_bind(c.high).push_bind(c.low).push_bind(c.close).push_bind(c.volume)
                    .push_bind(c.captured_at);
            })
            .await?;
        }
        for chunk in rows.indicators.chunks(CHUNK) {
            insert(&mut tx, "snapshot_indicators (id, symbol, timeframe, rsi_14, sma_50, sma_200, atr, macd, captured_at)", chunk, |b, i| {
                b.push_bind(i.id).push_bind(i.symbol.clone()).push_bind(i.timeframe.clone()).push_bind(i.rsi_14)
                    .push_bind(i.sma_50).push_bind(i.sma_200).push_bind(i.atr)
                    .push_bind(i.macd.as_ref().map(Value::to_string)).push_unseparated("::json")
                    .push_bind(i.captured_at);
            })
            .await?;
        }
        for chunk in rows.calendar.chunks(CHUNK) {
            insert(&mut tx, "snapshot_calendar (id, event_time, currency, impact_level, title, previous_value, forecast_value, actual_value, captured_at)", chunk, |b, e| {
                b.push_bind(e.id).push_bind(e.event_time).push_bind(e.currency.clone())
                    .push_bind(e.impact.as_str()).push_bind(e.title.clone()).push_bind(e.previous_value.clone())
                    .push_bind(e.forecast_value.clone()).push_bind(e.actual_value.clone()).push_bind(e.captured_at);
            })
            .await?;
        }
        for chunk in rows.news.chunks(CHUNK) {
            insert(
                &mut tx,
                "snapshot_news (id, headline, source, symbols, published_at, captured_at)",
                chunk,
                |b, n| {
                    b.push_bind(n.id)
                        .push_bind(n.headline.clone())
                        .push_bind(n.source.clone())
                        .push_bind(n.symbols.clone())
                        .push_bind(n.published_at)
                        .push_bind(n.captured_at);
                },
            )
            .await?;
        }
        let halted = limit_halt(&mut tx).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(halted)
    }

    /// The engine proposes an idea: it is written `waiting`, judged by the Gate for
    /// automatic execution on the data as of its time, moved where the Gate sends it
    /// (`auto_executed`, `needs_approval`, `rejected` or `halted_by_risk`) with its decision
    /// row, and an idea the Gate lets through gets its order — one transaction, serialised
    /// with halts and approvals on the risk row's lock.
    pub async fn propose(&self, p: &Proposal) -> Result<Proposed, Error> {
        super::retrying(|| self.propose_once(p)).await
    }

    async fn propose_once(&self, p: &Proposal) -> Result<Proposed, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let config = risk::lock(conn).await?.config;
        let idea = insert_waiting(conn, p).await?;
        let context = load_context(conn, idea, config, Some(p.at)).await?;
        let report = context.judge(p.lot, Purpose::Automatic);
        let status = report.disposition();
        let idea = &context.idea;
        let execution = if status == IdeaStatus::AutoExecuted {
            ideas::set_status(conn, idea, status, Some(p.at)).await?;
            order(conn, p).await?;
            Some(p.execution_id)
        } else {
            ideas::set_status(conn, idea, status, Some(p.at)).await?;
            None
        };
        let rationale = match report.passed() {
            true => p.rationale.clone(),
            false => format!("{} — {}", p.rationale, report.failure_reasons()),
        };
        decisions::record(
            conn,
            &NewDecision {
                symbol: Some(&p.symbol),
                confidence_score: Some(p.confidence),
                risk_check_result: Some(&report.risk_check_result()),
                strategy_id: Some(p.strategy_id),
                trade_idea_id: Some(p.id),
                snapshot_ref: Some(p.snapshot_ref),
                id: Some(p.decision_id),
                occurred_at: Some(p.at),
                ..NewDecision::new(report.decision_action(), &rationale)
            },
        )
        .await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(Proposed {
            status,
            report,
            execution,
        })
    }

    /// A limit halts AI trading (docs/platform.md §3): the switch off with the limit's name
    /// as the reason and one `ai_halted` row by the platform (no operator), waiting ideas
    /// stopped, orders not yet sent cancelled and their ideas stopped. `None` when AI trading was off already — as it
    /// is when the database's guard (migration 8) halted first, as the breaching account
    /// row committed: then nothing is written twice.
    pub async fn halt_by_limit(
        &self,
        reason: HaltReason,
        rationale: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Halted>, Error> {
        super::retrying(|| async {
            let mut tx = self.pool().begin().await.map_err(Error::Database)?;
            let conn = tx.acquire().await.map_err(Error::Database)?;
            let current = risk::lock(conn).await?;
            if !current.config.ai_trading_enabled {
                return Ok(None);
            }
            let result = format!("fail:{}", reason.as_str());
            // The reason recorded is the limit's name, as the platform writes it; the flip's
            // row says the figures.
            let by = HaltBy {
                operator: None,
                risk_check_result: &result,
                at: Some(at),
                rationale: Some(rationale),
            };
            let switch = risk::Switch {
                ai_trading_enabled: current.config.ai_trading_enabled,
                last_halt_reason: current.config.last_halt_reason.clone(),
            };
            let halted = halt_locked(conn, &switch, reason.as_str(), &by, false).await?;
            tx.commit().await.map_err(Error::Database)?;
            Ok(Some(halted))
        })
        .await
    }

    /// Orders still pending or sent and positions still open, oldest first. One whose idea
    /// or order holds a value that is no price (a `NaN` stop, a target of `infinity`) cannot
    /// be traded on paper: it is left out, and logged.
    pub async fn open_positions(&self) -> Result<Vec<Position>, Error> {
        let rows: Vec<PositionRow> = sqlx::query_as(
            "SELECT e.id, e.trade_idea_id, i.symbol, i.direction, e.lot_size, i.stop_loss,
                    i.take_profit, i.expected_hold, e.requested_at, e.fill_price,
                    CASE WHEN e.state = 'filled' THEN e.updated_at END AS filled_at,
                    e.state <> 'pending' AS claimed
               FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
              WHERE e.closed_at IS NULL AND e.state IN ('pending', 'sent', 'filled')
              ORDER BY e.requested_at, e.id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let id = r.id;
                r.read()
                    .map_err(|flaw| {
                        tracing::warn!(order = %id, %flaw, "an order the paper broker cannot trade");
                    })
                    .ok()
            })
            .collect())
    }

    /// A broker bridge named `bridge` claims the oldest order handed to execution
    /// ([`CLAIM_ORDER`]), at `at` (`None`: the database's clock); `None` when no order is
    /// pending. One statement: the kill switch waits for it, and then finds the order
    /// `sent` and leaves it, or (had it rolled back) still `pending` and cancels it.
    pub async fn claim_order(
        &self,
        bridge: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<Claimed>, Error> {
        sqlx::query_as(CLAIM_ORDER)
            .bind(bridge)
            .bind(at)
            .fetch_optional(self.pool())
            .await
            .map_err(Error::Database)
    }

    /// The broker filled a claimed order ([`REPORT_FILL`]). An order that is not `sent` is
    /// left as it is and `false` comes back.
    pub async fn fill(
        &self,
        order: Uuid,
        price: Decimal,
        broker_order_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let done = sqlx::query(REPORT_FILL)
            .bind(order)
            .bind(price)
            .bind(broker_order_id)
            .bind(at)
            .execute(self.pool())
            .await
            .map_err(Error::Database)?;
        Ok(done.rows_affected() == 1)
    }

    /// The broker refused a claimed order ([`REPORT_FAILURE`]), for the reason given. An
    /// order that is not `sent` is left as it is and `false` comes back.
    pub async fn fail_order(
        &self,
        order: Uuid,
        failure: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, Error> {
        let done = sqlx::query(REPORT_FAILURE)
            .bind(order)
            .bind(failure)
            .bind(at)
            .execute(self.pool())
            .await
            .map_err(Error::Database)?;
        Ok(done.rows_affected() == 1)
    }

    /// The broker closed a position at `price` with `pl` realised.
    pub async fn close(
        &self,
        position: Uuid,
        price: Decimal,
        pl: Decimal,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        sqlx::query(
            "UPDATE tradedesk.executions
                SET closed_at = $4, close_price = $2, realized_pl = $3, updated_at = $4
              WHERE id = $1 AND state = 'filled' AND closed_at IS NULL",
        )
        .bind(position)
        .bind(price)
        .bind(pl)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(())
    }

    /// Realised P/L of every position closed so far (the account's balance moves by it).
    pub async fn realized_pl(&self) -> Result<Decimal, Error> {
        sqlx::query_scalar(
            "SELECT coalesce(sum(realized_pl), 0) FROM tradedesk.executions
              WHERE closed_at IS NOT NULL",
        )
        .fetch_one(self.pool())
        .await
        .map_err(Error::Database)
    }
}

/// The limit the database's guard halted AI trading at in this transaction, if it did: it
/// leaves the reason in the transaction's `tradedesk.limit_halt` setting (empty or unset
/// otherwise).
async fn limit_halt(conn: &mut PgConnection) -> Result<Option<HaltReason>, Error> {
    let said: Option<String> =
        sqlx::query_scalar("SELECT current_setting('tradedesk.limit_halt', true)")
            .fetch_one(&mut *conn)
            .await
            .map_err(Error::Database)?;
    Ok(said.and_then(|said| {
        [HaltReason::MaxDrawdown, HaltReason::DailyTargetReached]
            .into_iter()
            .find(|r| r.as_str() == said)
    }))
}

/// Rows per INSERT: well under PostgreSQL's 65 535 bind parameters.
const CHUNK: usize = 2_000;

/// `INSERT INTO <into> VALUES …` a row per item. A row whose id is there already is the
/// same capture written by an earlier run over the same time (the calendar's and the
/// news' ids are keyed by what they are): it is left as it is.
async fn insert<T>(
    conn: &mut PgConnection,
    into: &str,
    rows: &[T],
    mut row: impl FnMut(&mut Separated<'_, '_, Postgres, &'static str>, &T),
) -> Result<(), Error> {
    let mut q = QueryBuilder::<Postgres>::new(format!("INSERT INTO {into} "));
    q.push_values(rows, |mut b, item| row(&mut b, item));
    q.push(" ON CONFLICT (id) DO NOTHING");
    q.build()
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
    Ok(())
}

/// The proposal written as the engine writes an idea, `waiting` for the Gate.
async fn insert_waiting(conn: &mut PgConnection, p: &Proposal) -> Result<Idea, Error> {
    let row: IdeaRow = sqlx::query_as(
        "WITH new AS (
             INSERT INTO trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss,
                                      take_profit, expected_hold, rationale, confidence_score,
                                      status, strategy_id, snapshot_ref, created_at, updated_at)
             VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8, $9, 'waiting', $10, $11, $12, $12)
             RETURNING *
         )
         SELECT n.id, n.symbol, n.direction, n.entry_price, n.entry_range, n.stop_loss,
                n.take_profit, n.expected_hold, n.rationale, n.confidence_score,
                n.status::text AS status, n.strategy_id, s.name AS strategy_name,
                n.snapshot_ref, n.created_at, n.updated_at
           FROM new n LEFT JOIN strategies s ON s.id = n.strategy_id",
    )
    .bind(p.id)
    .bind(&p.symbol)
    .bind(p.direction.as_str())
    .bind(p.entry_price)
    .bind(p.stop_loss)
    .bind(&p.take_profit)
    .bind(&p.expected_hold)
    .bind(&p.rationale)
    .bind(p.confidence)
    .bind(p.strategy_id)
    .bind(p.snapshot_ref)
    .bind(p.at)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::Database)?;
    ideas::readable(row.listed())
}

/// The order of an idea the Gate let execute on its own, handed to the broker.
async fn order(conn: &mut PgConnection, p: &Proposal) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by,
                                           requested_at, updated_at)
         VALUES ($1, $2, $3, 'platform', $4, $4)",
    )
    .bind(p.execution_id)
    .bind(p.id)
    .bind(p.lot.value())
    .bind(p.at)
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(())
}
