//! Full context replay (docs/platform.md §2): the rows a past decision was made on, read in
//! one read-only snapshot of the database, each through an indexed range or a primary key
//! (§1 lists the indexes); `domain::replay` puts them together.
//!
//! The reads, and the index each walks:
//! - the decision, its idea, the account row `snapshot_ref` names, the strategy, the
//!   execution: primary keys (the execution by its one-per-idea unique index);
//! - who decided the idea: `idx_decision_history_one_human_decision`;
//! - the idea's latest decision (for an idea replayed): `idx_decision_history_symbol_occurred`
//!   over the idea's lifetime;
//! - candles: `idx_snapshot_market_symbol_timeframe_captured`, a window around the moment;
//! - indicators: `idx_snapshot_indicators_symbol_timeframe_captured`, the last row at or
//!   before the moment;
//! - calendar: `idx_snapshot_calendar_currency_event_time`, each currency's hours around the
//!   moment (every currency's, found by a skip scan of the same index, for a global decision);
//! - headlines: `idx_snapshot_news_published`, the hours before the moment;
//! - the account for the day's P/L: `idx_snapshot_account_captured`, the day up to then;
//! - the limits and strategy as of then: `idx_config_changes_subject_changed`; the switch:
//!   `idx_decision_history_action_occurred`; orders open then: `idx_executions_state_requested`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use sqlx::{Acquire as _, PgConnection};
use uuid::Uuid;

use super::Store;
use super::account::{self, AccountRow};
use super::error::Error;
use super::timeline::{self, DecisionRow};
use super::value::JsonText;
use super::{ideas, risk, strategies};
use crate::domain::gate::OpenTrades;
use crate::domain::market::{Exposure, symbol_exposure};
use crate::domain::replay::{
    self, AccountSource, CalendarRow, Candle, Change, Decided, Execution, Flip, Headline,
    IndicatorReading, Macd, Market, Moment, Seen, Timeframe, TimeframeChoice,
};
use crate::domain::stored::{Flagged, Listed, Numeric, Reading, Stamp, StoredArray};
use crate::domain::{
    AccountSnapshot, CalendarEvent, Decision, Idea, Impact, Replay, RiskConfig, Strategy,
    TradingDay,
};

const DECISION_COLUMNS: &str = "id, occurred_at, symbol, action::text AS action, rationale,
    confidence_score, risk_check_result, strategy_id, trade_idea_id, snapshot_ref,
    human_override, operator";

const ACCOUNT_COLUMNS: &str =
    "id, balance, equity, margin_used, margin_free, open_pl, open_positions, captured_at";

/// A `snapshot_market` row as stored.
#[derive(sqlx::FromRow)]
struct CandleRow {
    id: Uuid,
    captured_at: Stamp,
    open: Numeric,
    high: Numeric,
    low: Numeric,
    close: Numeric,
    volume: i32,
}

impl CandleRow {
    fn read(&self) -> Result<Candle, Flagged> {
        let mut f = Reading::default();
        let candle = Candle {
            captured_at: f.time("captured_at", self.captured_at),
            open: f.number("open", &self.open),
            high: f.number("high", &self.high),
            low: f.number("low", &self.low),
            close: f.number("close", &self.close),
            volume: self.volume,
        };
        f.finish(candle, |flaws| Flagged {
            table: "snapshot_market",
            id: self.id,
            flaws,
            at: Some(self.captured_at),
            columns: vec![
                ("captured_at", self.captured_at.to_string()),
                ("open", self.open.to_string()),
                ("high", self.high.to_string()),
                ("low", self.low.to_string()),
                ("close", self.close.to_string()),
                ("volume", self.volume.to_string()),
            ],
        })
    }
}

/// A `snapshot_indicators` row as stored.
#[derive(sqlx::FromRow)]
struct IndicatorRow {
    id: Uuid,
    timeframe: String,
    rsi_14: Option<Numeric>,
    sma_50: Option<Numeric>,
    sma_200: Option<Numeric>,
    atr: Option<Numeric>,
    macd: Option<JsonText>,
    captured_at: Stamp,
}

impl IndicatorRow {
    fn read(&self) -> Result<IndicatorReading, Flagged> {
        let mut f = Reading::default();
        let mut optional =
            |column: &str, n: &Option<Numeric>| n.as_ref().map(|n| f.number(column, n));
        let rsi_14 = optional("rsi_14", &self.rsi_14);
        let sma_50 = optional("sma_50", &self.sma_50);
        let sma_200 = optional("sma_200", &self.sma_200);
        let atr = optional("atr", &self.atr);
        let reading = IndicatorReading {
            timeframe: self.timeframe.clone(),
            rsi_14,
            sma_50,
            sma_200,
            atr,
            // A MACD document that does not read is shown as none, as before.
            macd: self
                .macd
                .as_ref()
                .and_then(|m| serde_json::from_str::<Value>(&m.0).ok())
                .as_ref()
                .and_then(Macd::from_json),
            captured_at: f.time("captured_at", self.captured_at),
        };
        let shown = |n: &Option<Numeric>| n.as_ref().map_or("—".to_string(), ToString::to_string);
        f.finish(reading, |flaws| Flagged {
            table: "snapshot_indicators",
            id: self.id,
            flaws,
            at: Some(self.captured_at),
            columns: vec![
                ("timeframe", self.timeframe.clone()),
                ("rsi_14", shown(&self.rsi_14)),
                ("sma_50", shown(&self.sma_50)),
                ("sma_200", shown(&self.sma_200)),
                ("atr", shown(&self.atr)),
                (
                    "macd",
                    self.macd.as_ref().map_or("—".to_string(), |m| m.0.clone()),
                ),
                ("captured_at", self.captured_at.to_string()),
            ],
        })
    }
}

/// A `snapshot_calendar` row as stored.
#[derive(sqlx::FromRow)]
struct CalendarEventRow {
    id: Uuid,
    event_time: Stamp,
    currency: String,
    impact_level: String,
    title: String,
    previous_value: Option<String>,
    forecast_value: Option<String>,
    actual_value: Option<String>,
    captured_at: Stamp,
}

impl CalendarEventRow {
    fn read(&self) -> Result<CalendarRow, Flagged> {
        let mut f = Reading::default();
        let row = CalendarRow {
            event: CalendarEvent {
                event_time: f.time("event_time", self.event_time),
                currency: self.currency.clone(),
                // An impact the collector spelled some other way is shown as high, as the
                // Gate reads it (src/store/approve.rs): the news rule errs on the side of
                // not trading.
                impact: self.impact_level.parse().unwrap_or(Impact::High),
                title: self.title.clone(),
            },
            previous: self.previous_value.clone(),
            forecast: self.forecast_value.clone(),
            actual: self.actual_value.clone(),
            captured_at: f.time("captured_at", self.captured_at),
        };
        f.finish(row, |flaws| Flagged {
            table: "snapshot_calendar",
            id: self.id,
            flaws,
            at: Some(self.captured_at),
            columns: vec![
                ("event_time", self.event_time.to_string()),
                ("currency", self.currency.clone()),
                ("impact_level", self.impact_level.clone()),
                ("title", self.title.clone()),
                ("captured_at", self.captured_at.to_string()),
            ],
        })
    }
}

/// A `snapshot_news` row as stored.
#[derive(sqlx::FromRow)]
struct HeadlineRow {
    id: Uuid,
    published_at: Stamp,
    source: String,
    headline: String,
    symbols: StoredArray<String>,
    captured_at: Stamp,
}

impl HeadlineRow {
    fn read(&self) -> Result<Headline, Flagged> {
        let mut f = Reading::default();
        let symbols = self
            .symbols
            .read("symbols", |s| Ok(s.clone()))
            .unwrap_or_else(|flaws| {
                for flaw in flaws {
                    f.flaw(flaw.column, flaw.holds);
                }
                Vec::new()
            });
        let headline = Headline {
            published_at: f.time("published_at", self.published_at),
            source: self.source.clone(),
            headline: self.headline.clone(),
            symbols,
            captured_at: f.time("captured_at", self.captured_at),
        };
        f.finish(headline, |flaws| Flagged {
            table: "snapshot_news",
            id: self.id,
            flaws,
            at: Some(self.published_at),
            columns: vec![
                ("published_at", self.published_at.to_string()),
                ("source", self.source.clone()),
                ("headline", self.headline.clone()),
                ("symbols", self.symbols.to_string()),
                ("captured_at", self.captured_at.to_string()),
            ],
        })
    }
}

/// A `tradedesk.config_changes` row as read: when, and the side of the change that faces
/// the moment (`after` of a change before it, `before` of a change after it).
#[derive(sqlx::FromRow)]
struct ChangeRow {
    later: bool,
    changed_at: DateTime<Utc>,
    state: Option<Value>,
}

/// A `tradedesk.executions` row as stored.
#[derive(sqlx::FromRow)]
struct ExecutionRow {
    id: Uuid,
    lot_size: Numeric,
    requested_by: String,
    requested_at: Stamp,
    state: String,
    broker_order_id: Option<String>,
    fill_price: Option<Numeric>,
    updated_at: Stamp,
}

impl ExecutionRow {
    fn read(&self) -> Result<Execution, Flagged> {
        let mut f = Reading::default();
        let fill_price = self.fill_price.as_ref().map(|p| f.number("fill_price", p));
        let execution = Execution {
            id: self.id,
            lot_size: f.number("lot_size", &self.lot_size),
            requested_by: self.requested_by.clone(),
            requested_at: f.time("requested_at", self.requested_at),
            state: self.state.clone(),
            broker_order_id: self.broker_order_id.clone(),
            fill_price,
            updated_at: f.time("updated_at", self.updated_at),
        };
        f.finish(execution, |flaws| Flagged {
            table: "tradedesk.executions",
            id: self.id,
            flaws,
            at: Some(self.requested_at),
            columns: vec![
                ("lot_size", self.lot_size.to_string()),
                ("requested_by", self.requested_by.clone()),
                ("requested_at", self.requested_at.to_string()),
                ("state", self.state.clone()),
                (
                    "fill_price",
                    self.fill_price
                        .as_ref()
                        .map_or("—".to_string(), ToString::to_string),
                ),
                ("updated_at", self.updated_at.to_string()),
            ],
        })
    }
}

/// The database's replay reads, and the rows among them that could not be read: those
/// are left out of what they would have been part of and named in the replay.
pub(crate) struct DbReads<'c> {
    conn: &'c mut PgConnection,
    unreadable: Vec<Flagged>,
}

impl<'c> DbReads<'c> {
    fn on(conn: &'c mut PgConnection) -> Self {
        DbReads {
            conn,
            unreadable: Vec::new(),
        }
    }

    /// The rows read, the others kept aside as flagged.
    fn keep<T>(&mut self, rows: impl IntoIterator<Item = Result<T, Flagged>>) -> Vec<T> {
        let mut kept = Vec::new();
        for row in rows {
            match row {
                Ok(t) => kept.push(t),
                Err(f) => self.unreadable.push(f),
            }
        }
        kept
    }
}

impl Store {
    /// What the AI saw when `decision` was made, and what came of it. Rows that no longer
    /// exist are named in [`Replay::missing`]; only a decision that does not exist is an
    /// error.
    pub async fn replay(&self, decision: Uuid) -> Result<Replay, Error> {
        let mut tx = self
            .pool()
            .begin_with(READ_ONLY_SNAPSHOT)
            .await
            .map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let mut r = DbReads::on(conn);
        let decision = fetch_decision(&mut r, decision)
            .await?
            .ok_or(Error::NotFound {
                what: "decision",
                id: decision.to_string(),
            })?;
        // An idea that cannot be read is named with the replay's unreadable rows; the
        // rest of the moment is still shown.
        let (idea, idea_gone) = match decision.trade_idea_id {
            Some(id) => match ideas::fetch_listed(r.conn, id, false).await {
                Ok(Listed::Read(idea)) => (Some(idea), false),
                Ok(Listed::Flagged(f)) => {
                    r.unreadable.push(f);
                    (None, false)
                }
                Err(Error::NotFound { .. }) => (None, true),
                Err(e) => return Err(e),
            },
            None => (None, false),
        };
        let replay = gather(&mut r, Some(decision), idea, idea_gone).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(replay)
    }

    /// The replay of an idea's latest decision, or of the idea itself (its own snapshot and
    /// creation) when it has none.
    pub async fn replay_idea(&self, idea: Uuid) -> Result<Replay, Error> {
        let mut tx = self
            .pool()
            .begin_with(READ_ONLY_SNAPSHOT)
            .await
            .map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let idea = ideas::fetch(conn, idea, false).await?;
        let mut r = DbReads::on(conn);
        let decision = match human_decision(&mut r, idea.id).await? {
            Some(d) => Some(d),
            None => latest_decision(&mut r, &idea).await?,
        };
        let replay = gather(&mut r, decision, Some(idea), false).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(replay)
    }
}

/// Every read of a replay sees the same database, and writes nothing. Each statement is
/// planned for its own values (the moment, the symbol): a plan kept for any values cannot
/// know that a window is an hour wide or that halts are rare, and may walk a whole index.
const READ_ONLY_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
                                  SET LOCAL plan_cache_mode = force_custom_plan";

/// Where a replay's rows come from: the database (below), or an archive file
/// (`archive_replay`). One [`gather`] reads either, so a replay from an archive follows the
/// same rules as one from the database.
pub(crate) trait Reads {
    async fn account_row(&mut self, id: Uuid) -> Result<Option<AccountSnapshot>, Error>;
    async fn last_account_before(
        &mut self,
        at: DateTime<Utc>,
    ) -> Result<Option<AccountSnapshot>, Error>;
    async fn day_points(&mut self, at: DateTime<Utc>) -> Result<Vec<AccountSnapshot>, Error>;
    async fn strategy_as_of(
        &mut self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<(Strategy, replay::AsOf)>, Error>;
    async fn limits_as_of(
        &mut self,
        at: DateTime<Utc>,
    ) -> Result<(RiskConfig, replay::AsOf), Error>;
    async fn flips(&mut self, at: DateTime<Utc>) -> Result<(Option<Flip>, Option<Flip>), Error>;
    async fn open_trades(
        &mut self,
        day: &[AccountSnapshot],
        strategy_id: Option<Uuid>,
        idea: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Result<OpenTrades, Error>;
    async fn market(
        &mut self,
        symbol: &str,
        hold: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<Market>, Error>;
    async fn indicators(
        &mut self,
        symbol: &str,
        candidates: &[Timeframe],
        at: DateTime<Utc>,
    ) -> Result<Option<IndicatorReading>, Error>;
    /// Every currency the calendar knows, for a replay without a symbol.
    async fn calendar_currencies(&mut self) -> Result<Vec<String>, Error>;
    async fn calendar(
        &mut self,
        currencies: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<CalendarRow>, Error>;
    async fn calendar_captured(&mut self, at: DateTime<Utc>) -> Result<bool, Error>;
    async fn news(
        &mut self,
        tags: Option<&[String]>,
        at: DateTime<Utc>,
    ) -> Result<Vec<Headline>, Error>;
    async fn news_published(&mut self, at: DateTime<Utc>) -> Result<bool, Error>;
    async fn human_decision(&mut self, idea: Uuid) -> Result<Option<Decision>, Error>;
    async fn execution(&mut self, idea: Uuid) -> Result<Option<Execution>, Error>;
    /// The first global halt at or after `at`: the one that cancelled an order then.
    async fn halt_from(&mut self, at: DateTime<Utc>) -> Result<Option<Decision>, Error>;
    /// The rows read so far that could not be read, taken.
    fn take_unreadable(&mut self) -> Vec<Flagged>;
}

impl Reads for DbReads<'_> {
    async fn account_row(&mut self, id: Uuid) -> Result<Option<AccountSnapshot>, Error> {
        account_row(self, id).await
    }
    async fn last_account_before(
        &mut self,
        at: DateTime<Utc>,
    ) -> Result<Option<AccountSnapshot>, Error> {
        last_account_before(self, at).await
    }
    async fn day_points(&mut self, at: DateTime<Utc>) -> Result<Vec<AccountSnapshot>, Error> {
        day_points(self, at).await
    }
    async fn strategy_as_of(
        &mut self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<(Strategy, replay::AsOf)>, Error> {
        strategy_as_of(self, id, at).await
    }
    async fn limits_as_of(
        &mut self,
        at: DateTime<Utc>,
    ) -> Result<(RiskConfig, replay::AsOf), Error> {
        limits_as_of(self, at).await
    }
    async fn flips(&mut self, at: DateTime<Utc>) -> Result<(Option<Flip>, Option<Flip>), Error> {
        flips(self, at).await
    }
    async fn open_trades(
        &mut self,
        day: &[AccountSnapshot],
        strategy_id: Option<Uuid>,
        idea: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Result<OpenTrades, Error> {
        open_trades(self, day, strategy_id, idea, at).await
    }
    async fn market(
        &mut self,
        symbol: &str,
        hold: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<Market>, Error> {
        market(self, symbol, hold, at).await
    }
    async fn indicators(
        &mut self,
        symbol: &str,
        candidates: &[Timeframe],
        at: DateTime<Utc>,
    ) -> Result<Option<IndicatorReading>, Error> {
        indicators(self, symbol, candidates, at).await
    }
    async fn calendar_currencies(&mut self) -> Result<Vec<String>, Error> {
        calendar_currencies(self).await
    }
    async fn calendar(
        &mut self,
        currencies: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<CalendarRow>, Error> {
        calendar(self, currencies, at).await
    }
    async fn calendar_captured(&mut self, at: DateTime<Utc>) -> Result<bool, Error> {
        calendar_captured(self, at).await
    }
    async fn news(
        &mut self,
        tags: Option<&[String]>,
        at: DateTime<Utc>,
    ) -> Result<Vec<Headline>, Error> {
        news(self, tags, at).await
    }
    async fn news_published(&mut self, at: DateTime<Utc>) -> Result<bool, Error> {
        news_published(self, at).await
    }
    async fn human_decision(&mut self, idea: Uuid) -> Result<Option<Decision>, Error> {
        human_decision(self, idea).await
    }
    async fn execution(&mut self, idea: Uuid) -> Result<Option<Execution>, Error> {
        execution(self, idea).await
    }
    async fn halt_from(&mut self, at: DateTime<Utc>) -> Result<Option<Decision>, Error> {
        halt_from(self, at).await
    }
    fn take_unreadable(&mut self) -> Vec<Flagged> {
        std::mem::take(&mut self.unreadable)
    }
}

pub(crate) async fn gather(
    reads: &mut impl Reads,
    decision: Option<Decision>,
    idea: Option<Idea>,
    idea_gone: bool,
) -> Result<Replay, Error> {
    let snapshot_ref = decision
        .as_ref()
        .and_then(|d| d.snapshot_ref)
        .or(idea.as_ref().map(|i| i.snapshot_ref));
    let named = match snapshot_ref {
        Some(id) => reads.account_row(id).await?,
        None => None,
    };
    let moment = Moment::of(decision.as_ref(), idea.as_ref(), named.as_ref())
        .ok_or_else(|| Error::Refused("a replay needs a decision or an idea".into()))?;
    let (at, decided_at) = (moment.at, moment.decided_at);
    let account = match (named, snapshot_ref) {
        (Some(row), _) => Some((row, AccountSource::SnapshotRef)),
        // The row the decision names is gone: missing, never another in its place.
        (None, Some(_)) => None,
        (None, None) => reads
            .last_account_before(at)
            .await?
            .map(|row| (row, AccountSource::LastBefore)),
    };
    let day_at = reads.day_points(at).await?;
    let day_decided = if decided_at == at {
        day_at.clone()
    } else {
        reads.day_points(decided_at).await?
    };

    let symbol = idea
        .as_ref()
        .map(|i| i.symbol.clone())
        .or_else(|| decision.as_ref().and_then(|d| d.symbol.clone()));
    let strategy_id = idea
        .as_ref()
        .and_then(|i| i.strategy_id)
        .or_else(|| decision.as_ref().and_then(|d| d.strategy_id));
    let strategy = match strategy_id {
        Some(id) => reads.strategy_as_of(id, decided_at).await?,
        None => None,
    };
    let hold = idea.as_ref().and_then(|i| i.expected_hold.clone());
    let market = match &symbol {
        Some(symbol) => reads.market(symbol, hold.as_deref(), at).await?,
        None => None,
    };
    let indicators = match &symbol {
        Some(symbol) => {
            let candidates = match &market {
                Some(m) => vec![m.timeframe],
                None => replay::timeframe_candidates(hold.as_deref()),
            };
            reads.indicators(symbol, &candidates, at).await?
        }
        None => None,
    };

    let exposure = symbol.as_deref().map(symbol_exposure);
    let currencies = match &exposure {
        Some(Exposure::Currencies(list)) => {
            let listed = strategy
                .as_ref()
                .and_then(|(s, _)| s.parsed())
                .and_then(|r| r.forbidden_conditions.blocked_currencies.clone())
                .unwrap_or_default();
            let mut all: Vec<String> = list
                .iter()
                .chain(&listed)
                .map(|c| c.trim().to_ascii_uppercase())
                .collect();
            all.sort();
            all.dedup();
            all
        }
        // A global decision, or a symbol of unknown exposure: every currency.
        Some(Exposure::Unknown) | None => reads.calendar_currencies().await?,
    };
    let calendar = reads.calendar(&currencies, at).await?;
    let calendar_captured = !calendar.is_empty() || reads.calendar_captured(at).await?;
    let tags = match (&symbol, &exposure) {
        (Some(symbol), Some(Exposure::Currencies(list))) => Some(
            std::iter::once(symbol.trim().to_ascii_uppercase())
                .chain(list.iter().cloned())
                .collect::<Vec<_>>(),
        ),
        (Some(symbol), _) => Some(vec![symbol.trim().to_ascii_uppercase()]),
        (None, _) => None,
    };
    let news = reads.news(tags.as_deref(), at).await?;
    let news_captured = !news.is_empty() || reads.news_published(at).await?;

    let limits = reads.limits_as_of(decided_at).await?;
    let flips = reads.flips(decided_at).await?;
    let idea_id = idea.as_ref().map(|i| i.id);
    let open_trades = reads
        .open_trades(&day_decided, strategy_id, idea_id, decided_at)
        .await?;
    let decided = match (&decision, &idea) {
        (Some(d), _) if Decided::of(d).is_some() => Decided::of(d),
        (_, Some(i)) => reads
            .human_decision(i.id)
            .await?
            .as_ref()
            .and_then(Decided::of),
        _ => None,
    };
    let execution = match &idea {
        Some(i) => reads.execution(i.id).await?,
        None => None,
    };
    // The kill switch cancels an order in its halt's transaction, whose one row is written
    // after the order's update: the first global halt from then on.
    let cancelled_by = match &execution {
        Some(e) if e.state == "cancelled" => reads.halt_from(e.updated_at).await?,
        _ => None,
    };

    Ok(Replay::assemble(Seen {
        unreadable: reads.take_unreadable(),
        decision,
        idea,
        idea_gone,
        moment,
        account,
        day_at,
        day_decided,
        strategy,
        market,
        indicators,
        calendar,
        calendar_captured,
        news,
        news_captured,
        limits,
        flips,
        open_trades,
        decided,
        execution,
        cancelled_by,
    }))
}

async fn fetch_decision(r: &mut DbReads<'_>, id: Uuid) -> Result<Option<Decision>, Error> {
    let row: Option<DecisionRow> = sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM decision_history WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    row.map(|r| timeline::readable(r.listed())).transpose()
}

/// The idea's one human decision. The action list is the predicate of the partial unique
/// index, written out, so PostgreSQL can use it.
async fn human_decision(r: &mut DbReads<'_>, idea: Uuid) -> Result<Option<Decision>, Error> {
    let row: Option<DecisionRow> = sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM decision_history
          WHERE trade_idea_id = $1
            AND action IN ('human_approved', 'human_rejected', 'risk_rejected')
          ORDER BY occurred_at, id LIMIT 1"
    ))
    .bind(idea)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    row.map(|r| timeline::readable(r.listed())).transpose()
}

/// The idea's latest decision: a status change and its decision are written together, so
/// it is found between the idea's creation and its last update (a minute's slack either
/// side for writers whose clocks are read apart), newest first.
async fn latest_decision(r: &mut DbReads<'_>, idea: &Idea) -> Result<Option<Decision>, Error> {
    let slack = TimeDelta::minutes(1);
    let row: Option<DecisionRow> = sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM decision_history
          WHERE symbol = $1 AND occurred_at BETWEEN $2 AND $3 AND trade_idea_id = $4
          ORDER BY occurred_at DESC, id DESC LIMIT 1"
    ))
    .bind(&idea.symbol)
    .bind(idea.created_at - slack)
    .bind(idea.updated_at.max(idea.created_at) + slack)
    .bind(idea.id)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    row.map(|r| timeline::readable(r.listed())).transpose()
}

async fn account_row(r: &mut DbReads<'_>, id: Uuid) -> Result<Option<AccountSnapshot>, Error> {
    let row: Option<AccountRow> = sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM snapshot_account WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    row.map(|r| account::readable(r.listed())).transpose()
}

async fn last_account_before(
    r: &mut DbReads<'_>,
    at: DateTime<Utc>,
) -> Result<Option<AccountSnapshot>, Error> {
    let row: Option<AccountRow> = sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM snapshot_account WHERE captured_at <= $1
          ORDER BY captured_at DESC, equity DESC, id DESC LIMIT 1"
    ))
    .bind(at)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    row.map(|r| account::readable(r.listed())).transpose()
}

/// The snapshots the day's P/L at `at` needs, and no more: the last before the day started,
/// the day's first, its highest and its latest up to `at` (`pnl::day_state` gives the same
/// figures from these as from every snapshot of the day).
///
/// Every order here, as in every read of a replay, is total: ties (a flat equity is the
/// same for hours) are broken by time and then id, text in byte order (`COLLATE "C"`), so
/// a replay picks the same rows every time, whatever the table's physical order, and an
/// archive's replay (`archive_replay.rs`, which breaks ties the same way) picks them too.
async fn day_points(r: &mut DbReads<'_>, at: DateTime<Utc>) -> Result<Vec<AccountSnapshot>, Error> {
    let day_start = TradingDay::UTC_MIDNIGHT.start_of(at);
    let c = ACCOUNT_COLUMNS;
    let rows: Vec<AccountRow> = sqlx::query_as(&format!(
        "(SELECT {c} FROM snapshot_account WHERE captured_at < $1
           ORDER BY captured_at DESC, equity DESC, id DESC LIMIT 1)
         UNION ALL
         (SELECT {c} FROM snapshot_account WHERE captured_at >= $1 AND captured_at <= $2
           ORDER BY captured_at, equity, id LIMIT 1)
         UNION ALL
         (SELECT {c} FROM snapshot_account WHERE captured_at >= $1 AND captured_at <= $2
           ORDER BY equity DESC, captured_at, id LIMIT 1)
         UNION ALL
         (SELECT {c} FROM snapshot_account WHERE captured_at >= $1 AND captured_at <= $2
           ORDER BY captured_at DESC, equity DESC, id DESC LIMIT 1)"
    ))
    .bind(day_start)
    .bind(at)
    .fetch_all(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    rows.into_iter()
        .map(|r| account::readable(r.listed()))
        .collect()
}

/// The strategy as of `at`, from the audit of its changes, else as it is now.
async fn strategy_as_of(
    r: &mut DbReads<'_>,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<(Strategy, replay::AsOf)>, Error> {
    let current = match strategies::fetch(r.conn, id, strategies::Lock::None).await {
        Ok(s) => Some(s),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let rows: Vec<ChangeRow> = sqlx::query_as(
        "(SELECT false AS later, changed_at, after AS state FROM tradedesk.config_changes
           WHERE subject = 'strategy' AND changed_at <= $1 AND subject_id = $2
           ORDER BY changed_at DESC, id DESC LIMIT 1)
         UNION ALL
         (SELECT true, changed_at, before FROM tradedesk.config_changes
           WHERE subject = 'strategy' AND changed_at > $1 AND subject_id = $2
           ORDER BY changed_at, id LIMIT 1)",
    )
    .bind(at)
    .bind(id)
    .fetch_all(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    let (before, after) = sides(rows, |state, changed_at| {
        replay::strategy_from_audit(state, changed_at, current.as_ref())
    });
    Ok(replay::as_of(before, after, current))
}

/// The risk limits as of `at`, from the audit of their edits, else as they are now.
async fn limits_as_of(
    r: &mut DbReads<'_>,
    at: DateTime<Utc>,
) -> Result<(RiskConfig, replay::AsOf), Error> {
    let rows: Vec<ChangeRow> = sqlx::query_as(
        "(SELECT false AS later, changed_at, after AS state FROM tradedesk.config_changes
           WHERE subject = 'risk_config' AND changed_at <= $1
           ORDER BY changed_at DESC, id DESC LIMIT 1)
         UNION ALL
         (SELECT true, changed_at, before FROM tradedesk.config_changes
           WHERE subject = 'risk_config' AND changed_at > $1
           ORDER BY changed_at, id LIMIT 1)",
    )
    .bind(at)
    .fetch_all(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    let (before, after) = sides(rows, |state, _| replay::limits_from_audit(state));
    let current = match (&before, &after) {
        (Some(Change { state: Some(_), .. }), _) | (_, Some(Change { state: Some(_), .. })) => None,
        _ => Some(risk::get(r.conn).await?.config),
    };
    replay::as_of(before, after, current).ok_or_else(|| {
        Error::Refused(
            "the database has no risk_config row: run `tradedesk setup` to write the defaults"
                .into(),
        )
    })
}

type Sides<T> = (Option<Change<T>>, Option<Change<T>>);

/// The change before and the change after, each read by `read` (an unreadable state is
/// none).
fn sides<T>(rows: Vec<ChangeRow>, read: impl Fn(&Value, DateTime<Utc>) -> Option<T>) -> Sides<T> {
    let mut out = (None, None);
    for row in rows {
        let change = Change {
            changed_at: row.changed_at,
            state: row.state.as_ref().and_then(|s| read(s, row.changed_at)),
        };
        if row.later {
            out.1 = Some(change);
        } else {
            out.0 = Some(change);
        }
    }
    out
}

/// The last flip of the AI's switch at or before `at`, and the first after it.
async fn flips(
    r: &mut DbReads<'_>,
    at: DateTime<Utc>,
) -> Result<(Option<Flip>, Option<Flip>), Error> {
    let c = DECISION_COLUMNS;
    // A global halt has no symbol; the rows of ideas and orders a halt stopped have one.
    // The actions are written out, not bound: with a parameter, the plan PostgreSQL keeps
    // for the statement cannot know how rare halts are and walks the time index instead.
    let rows: Vec<DecisionRow> = sqlx::query_as(&format!(
        "(SELECT {c} FROM decision_history WHERE action = 'ai_halted' AND symbol IS NULL
           AND occurred_at <= $1 ORDER BY occurred_at DESC LIMIT 1)
         UNION ALL
         (SELECT {c} FROM decision_history WHERE action = 'ai_resumed'
           AND occurred_at <= $1 ORDER BY occurred_at DESC LIMIT 1)
         UNION ALL
         (SELECT {c} FROM decision_history WHERE action = 'ai_halted' AND symbol IS NULL
           AND occurred_at > $1 ORDER BY occurred_at LIMIT 1)
         UNION ALL
         (SELECT {c} FROM decision_history WHERE action = 'ai_resumed'
           AND occurred_at > $1 ORDER BY occurred_at LIMIT 1)"
    ))
    .bind(at)
    .fetch_all(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    // A halt row another writer made unreadable is named, not a reason to refuse the
    // replay.
    let decisions = r.keep(rows.into_iter().map(|d| d.listed().into_read()));
    Ok(Flip::around(&decisions, at))
}

/// Positions open at `at`: the latest account snapshot's then, plus orders handed to
/// execution after it up to `at`; for the strategy, its orders of that trading day. An
/// order counts if it is pending or filled now, or was cancelled after `at` (the table
/// keeps no history of states). The idea's own order is not among them: the approval was
/// judged before it was placed.
async fn open_trades(
    r: &mut DbReads<'_>,
    day: &[AccountSnapshot],
    strategy_id: Option<Uuid>,
    idea: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<OpenTrades, Error> {
    let latest = day
        .iter()
        .filter(|s| s.captured_at <= at)
        .max_by_key(|s| s.captured_at);
    let (total, for_strategy): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM tradedesk.executions e
                  WHERE e.state IN ('pending', 'sent', 'filled', 'cancelled')
                    AND e.requested_at > coalesce($1::timestamptz, '-infinity') AND e.requested_at <= $2
                    AND (e.state <> 'cancelled' OR e.updated_at > $2)
                    AND e.trade_idea_id IS DISTINCT FROM $5),
                (SELECT count(*) FROM tradedesk.executions e
                   JOIN trade_ideas i ON i.id = e.trade_idea_id
                  WHERE e.state IN ('pending', 'sent', 'filled', 'cancelled')
                    AND e.requested_at >= $3 AND e.requested_at <= $2
                    AND (e.state <> 'cancelled' OR e.updated_at > $2)
                    AND e.trade_idea_id IS DISTINCT FROM $5
                    AND i.strategy_id = $4)",
    )
    .bind(latest.map(|s| s.captured_at))
    .bind(at)
    .bind(TradingDay::UTC_MIDNIGHT.start_of(at))
    .bind(strategy_id)
    .bind(idea)
    .fetch_one(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    let snapshot = latest.map_or(0, |s| s.open_positions.max(0));
    Ok(OpenTrades {
        total: count(i64::from(snapshot) + total),
        for_strategy: count(for_strategy),
    })
}

/// The symbol's candles around `at` on the first candidate timeframe that has some in its
/// window up to `at` (what the AI could see; candles only after it are no market then).
async fn market(
    r: &mut DbReads<'_>,
    symbol: &str,
    hold: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Option<Market>, Error> {
    let candidates = replay::timeframe_candidates(hold);
    let windows: Vec<_> = candidates.iter().map(|t| t.window(at)).collect();
    let names: Vec<&str> = candidates.iter().map(|t| t.as_str()).collect();
    let since: Vec<DateTime<Utc>> = windows.iter().map(|w| w.since).collect();
    // One index probe per timeframe, in order, until one has a candle in its window.
    let chosen: Option<String> = sqlx::query_scalar(
        "SELECT t.tf FROM unnest($2::text[], $3::timestamptz[]) WITH ORDINALITY AS t(tf, since, n)
          WHERE EXISTS (SELECT 1 FROM snapshot_market m
                         WHERE m.symbol = $1 AND m.timeframe = t.tf
                           AND m.captured_at BETWEEN t.since AND $4)
          ORDER BY t.n LIMIT 1",
    )
    .bind(symbol)
    .bind(&names)
    .bind(&since)
    .bind(at)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    let Some(timeframe) = chosen.and_then(|t| t.parse::<Timeframe>().ok()) else {
        return Ok(None);
    };
    let window = timeframe.window(at);
    let rows: Vec<CandleRow> = sqlx::query_as(
        "(SELECT id, captured_at, open, high, low, close, volume FROM snapshot_market
           WHERE symbol = $1 AND timeframe = $2 AND captured_at >= $3 AND captured_at <= $4
           ORDER BY captured_at DESC LIMIT $6)
         UNION ALL
         (SELECT id, captured_at, open, high, low, close, volume FROM snapshot_market
           WHERE symbol = $1 AND timeframe = $2 AND captured_at > $4 AND captured_at <= $5
           ORDER BY captured_at LIMIT $7)
         ORDER BY captured_at",
    )
    .bind(symbol)
    .bind(timeframe.as_str())
    .bind(window.since)
    .bind(window.at)
    .bind(window.until)
    .bind(replay::CANDLES_BEFORE)
    .bind(replay::CANDLES_AFTER)
    .fetch_all(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    Ok(Some(Market {
        symbol: symbol.to_owned(),
        timeframe,
        choice: TimeframeChoice::of(hold, timeframe),
        candles: r.keep(rows.iter().map(CandleRow::read)),
    }))
}

/// The last indicators at or before `at` on the first candidate timeframe that has some in
/// its window.
async fn indicators(
    r: &mut DbReads<'_>,
    symbol: &str,
    candidates: &[Timeframe],
    at: DateTime<Utc>,
) -> Result<Option<IndicatorReading>, Error> {
    let names: Vec<&str> = candidates.iter().map(|t| t.as_str()).collect();
    let since: Vec<DateTime<Utc>> = candidates.iter().map(|t| t.window(at).since).collect();
    let row: Option<IndicatorRow> = sqlx::query_as(
        "SELECT i.id, i.timeframe, i.rsi_14, i.sma_50, i.sma_200, i.atr, i.macd, i.captured_at
           FROM unnest($2::text[], $3::timestamptz[]) WITH ORDINALITY AS t(tf, since, n)
           CROSS JOIN LATERAL (
                SELECT id, timeframe, rsi_14, sma_50, sma_200, atr, macd, captured_at
                  FROM snapshot_indicators
                 WHERE symbol = $1 AND timeframe = t.tf
                   AND captured_at >= t.since AND captured_at <= $4
                 ORDER BY captured_at DESC LIMIT 1) i
          ORDER BY t.n LIMIT 1",
    )
    .bind(symbol)
    .bind(&names)
    .bind(&since)
    .bind(at)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    Ok(r.keep(row.iter().map(IndicatorRow::read)).pop())
}

/// Every currency the calendar holds, by a skip scan of its (currency, event_time) index.
async fn calendar_currencies(r: &mut DbReads<'_>) -> Result<Vec<String>, Error> {
    sqlx::query_scalar(
        "WITH RECURSIVE c(currency) AS (
             (SELECT currency FROM snapshot_calendar ORDER BY currency LIMIT 1)
             UNION ALL
             SELECT (SELECT s.currency FROM snapshot_calendar s WHERE s.currency > c.currency
                      ORDER BY s.currency LIMIT 1)
               FROM c WHERE c.currency IS NOT NULL)
         SELECT currency FROM c WHERE currency IS NOT NULL",
    )
    .fetch_all(&mut *r.conn)
    .await
    .map_err(Error::Database)
}

/// The calendar as the AI saw it: each event of `currencies` within
/// [`replay::CALENDAR_HOURS`] of `at`, as last captured at or before `at`.
async fn calendar(
    r: &mut DbReads<'_>,
    currencies: &[String],
    at: DateTime<Utc>,
) -> Result<Vec<CalendarRow>, Error> {
    if currencies.is_empty() {
        return Ok(Vec::new());
    }
    let reach = TimeDelta::hours(replay::CALENDAR_HOURS);
    // One range of the (currency, event_time) index per currency: written as a join, so
    // the planner never walks the captured_at index from the beginning of time instead.
    let rows: Vec<CalendarEventRow> = sqlx::query_as(
        "SELECT e.id, e.event_time, e.currency, e.impact_level, e.title, e.previous_value,
                e.forecast_value, e.actual_value, e.captured_at
           FROM unnest($1::text[]) AS c(currency)
           CROSS JOIN LATERAL (
                SELECT DISTINCT ON (event_time, title COLLATE \"C\")
                       id, event_time, currency, impact_level, title, previous_value,
                       forecast_value, actual_value, captured_at
                  FROM snapshot_calendar s
                 WHERE s.currency = c.currency AND s.event_time BETWEEN $2 AND $3
                   AND s.captured_at <= $4
                 ORDER BY event_time, title COLLATE \"C\", captured_at DESC) e",
    )
    .bind(currencies)
    .bind(at - reach)
    .bind(at + reach)
    .bind(at)
    .fetch_all(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    Ok(r.keep(rows.iter().map(CalendarEventRow::read)))
}

/// Whether the collector captured any calendar row in the day before `at`.
async fn calendar_captured(r: &mut DbReads<'_>, at: DateTime<Utc>) -> Result<bool, Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM snapshot_calendar WHERE captured_at BETWEEN $1 AND $2)",
    )
    .bind(at - TimeDelta::hours(24))
    .bind(at)
    .fetch_one(&mut *r.conn)
    .await
    .map_err(Error::Database)
}

/// Headlines published in the [`replay::NEWS_HOURS`] before `at` and captured by then:
/// those naming one of `tags` (the symbol and its currencies) or nothing (market-wide);
/// every one when `tags` is `None`. Newest first.
async fn news(
    r: &mut DbReads<'_>,
    tags: Option<&[String]>,
    at: DateTime<Utc>,
) -> Result<Vec<Headline>, Error> {
    let rows: Vec<HeadlineRow> = sqlx::query_as(
        "SELECT id, published_at, source, headline, coalesce(symbols, '{}') AS symbols,
                captured_at
           FROM snapshot_news
          WHERE published_at BETWEEN $1 AND $2 AND captured_at <= $2
            AND ($3::text[] IS NULL OR symbols && $3 OR coalesce(cardinality(symbols), 0) = 0)
          ORDER BY published_at DESC, captured_at DESC, source COLLATE \"C\",
                   headline COLLATE \"C\" LIMIT $4",
    )
    .bind(at - TimeDelta::hours(replay::NEWS_HOURS))
    .bind(at)
    .bind(tags)
    .bind(replay::NEWS_MAX)
    .fetch_all(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    Ok(r.keep(rows.iter().map(HeadlineRow::read)))
}

/// Whether any headline at all was published in the reach before `at`.
async fn news_published(r: &mut DbReads<'_>, at: DateTime<Utc>) -> Result<bool, Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM snapshot_news WHERE published_at BETWEEN $1 AND $2)",
    )
    .bind(at - TimeDelta::hours(replay::NEWS_HOURS))
    .bind(at)
    .fetch_one(&mut *r.conn)
    .await
    .map_err(Error::Database)
}

async fn halt_from(r: &mut DbReads<'_>, at: DateTime<Utc>) -> Result<Option<Decision>, Error> {
    let row: Option<DecisionRow> = sqlx::query_as(&format!(
        "SELECT {DECISION_COLUMNS} FROM decision_history
          WHERE action = 'ai_halted' AND symbol IS NULL AND occurred_at >= $1
          ORDER BY occurred_at, id LIMIT 1"
    ))
    .bind(at)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    Ok(r.keep(row.map(|d| d.listed().into_read())).pop())
}

async fn execution(r: &mut DbReads<'_>, idea: Uuid) -> Result<Option<Execution>, Error> {
    let row: Option<ExecutionRow> = sqlx::query_as(
        "SELECT id, lot_size, requested_by, requested_at, state::text AS state, broker_order_id,
                fill_price, updated_at
           FROM tradedesk.executions WHERE trade_idea_id = $1",
    )
    .bind(idea)
    .fetch_optional(&mut *r.conn)
    .await
    .map_err(Error::Database)?;
    Ok(r.keep(row.iter().map(ExecutionRow::read)).pop())
}
