//! The simulated platform's engine: a stand-in for the platform's collectors, strategy
//! evaluator and broker connector, writing what they write through the same tables and
//! under the same database rules. Every second of market time the prices move; every
//! five seconds the broker fills and closes, the account is captured, the day's limits are
//! checked (a breach halts AI trading, as docs/platform.md §3 says) and the active
//! strategies' documents are evaluated — an idea the entry conditions call for is proposed
//! and judged by the Gate; every minute the candles, indicators, calendar and headlines
//! are captured.
//!
//! Everything written is a function of the seed, the start and the duration (ids
//! included), as long as nobody else writes meanwhile: the same run writes the same rows.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound as _, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive as _;
use uuid::Uuid;

use super::broker::{self, Action};
use super::market::{Candle, Market, SYMBOLS};
use super::rng::SimRng;
use super::{calendar, news};
use crate::domain::confidence::{AccountLoad, ConfidenceInputs, StrategyFit, score};
use crate::domain::indicators::{IndicatorState, Indicators};
use crate::domain::{
    AccountSnapshot, CalendarEvent, Direction, IdeaStatus, Lot, RiskConfig, Strategy, TradingDay,
    day_state, halt_trigger,
};
use crate::store::engine::{
    NewCalendarEvent, NewCandle, NewHeadline, NewIndicators, Ownership, Proposal, Snapshots,
};
use crate::store::{Error, Store};

/// How fast simulated time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as the database takes the rows (history).
    Fast,
    /// This many simulated seconds per second of the clock (1 = real time).
    Speed(f64),
}

/// How often strategies speak up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveliness {
    /// A strategy proposes on a symbol at most every half hour.
    Normal,
    /// Every two minutes: the demo desk, where a newcomer should see ideas arrive.
    Lively,
}

/// A run of the simulated platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub seed: u64,
    pub from: DateTime<Utc>,
    /// `None`: until stopped.
    pub until: Option<DateTime<Utc>>,
    pub pace: Pace,
    pub liveliness: Liveliness,
}

/// What a run wrote so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub simulated_until: Option<DateTime<Utc>>,
    pub candles: u64,
    pub indicator_rows: u64,
    pub calendar_rows: u64,
    pub headlines: u64,
    pub account_snapshots: u64,
    pub ideas_auto_executed: u64,
    pub ideas_awaiting_approval: u64,
    pub ideas_rejected: u64,
    pub ideas_halted: u64,
    pub fills: u64,
    pub closes: u64,
    pub halts: u64,
}

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "this database holds data tradedesk's simulator did not write (the platform's, it \
         seems), so it writes no simulated rows into it; give --into-live-database to insist"
    )]
    PlatformData,
    #[error(
        "another simulated platform is writing into this database (a `tradedesk simulate`, or \
         a console's demo); one at a time"
    )]
    AlreadyRunning,
    #[error("the simulation failed: {0}")]
    Store(#[from] Error),
}

/// The session advisory lock one simulated platform holds on a database while it runs:
/// two would write two markets into the same tables.
const RUNNING_LOCK: i64 = 0x7472_6164_6573_696d; // "tradesim"

/// Seconds between the engine's cycles, as the platform's collectors run.
const CYCLE_SECONDS: i64 = 5;
/// The name the paper broker claims orders under (`tradedesk.executions.claimed_by`).
const BRIDGE: &str = "tradedesk-sim";
/// The timeframe the strategies read.
const EVALUATED: &str = "M1";
/// How long the market runs before the start, unwritten, so indicators are ready.
const WARM_UP: Duration = Duration::hours(4);
/// The balance of an account that has no snapshot yet.
const OPENING_BALANCE: i64 = 25_000;

/// Refuses a database holding the platform's own data, unless told to write into it.
pub async fn check_ownership(store: &Store, into_live: bool) -> Result<(), SimError> {
    match store.ownership().await? {
        Ownership::Platform if !into_live => Err(SimError::PlatformData),
        _ => Ok(()),
    }
}

/// Runs the simulated platform from `options.from` until `options.until` (or forever),
/// reporting its progress every simulated minute.
pub async fn run(
    store: &Store,
    options: &Options,
    progress: impl FnMut(&Summary),
) -> Result<Summary, SimError> {
    // Held on a connection of its own for the run, closed (not pooled) when the run ends
    // or is dropped midway, so the server lets go of the lock with the session.
    let mut running = store.pool().acquire().await.map_err(Error::Database)?;
    running.close_on_drop();
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(RUNNING_LOCK)
        .fetch_one(&mut *running)
        .await
        .map_err(Error::Database)?;
    if !locked {
        return Err(SimError::AlreadyRunning);
    }
    let result = run_locked(store, options, progress).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(RUNNING_LOCK)
        .execute(&mut *running)
        .await
        .map_err(Error::Database)?;
    result
}

async fn run_locked(
    store: &Store,
    options: &Options,
    mut progress: impl FnMut(&Summary),
) -> Result<Summary, SimError> {
    // The market moves by whole seconds.
    let options = &Options {
        from: options.from.trunc_subsecs(0),
        ..options.clone()
    };
    let mut engine = Engine::start(store, options).await?;
    let started = Instant::now();
    loop {
        if options
            .until
            .is_some_and(|until| engine.market.now() >= until)
        {
            break;
        }
        if let Pace::Speed(speed) = options.pace {
            let ahead = (engine.market.now() - options.from)
                .to_std()
                .unwrap_or_default();
            let due = ahead.div_f64(speed.max(0.001));
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        // Never ahead of the clock, at any pace: the platform writes no rows from the
        // future. A run that catches up with the present carries on in real time.
        let next = engine.market.now() + Duration::seconds(1);
        if let Ok(wait) = (next - Utc::now()).to_std() {
            engine.flush().await?;
            tokio::time::sleep(wait).await;
        }
        engine.second().await?;
        if engine.market.now().timestamp() % 60 == 0 {
            engine.summary.simulated_until = Some(engine.market.now());
            progress(&engine.summary);
        }
    }
    engine.flush().await?;
    engine.summary.simulated_until = Some(engine.market.now());
    Ok(engine.summary)
}

/// The engine's state between seconds.
struct Engine<'a> {
    store: &'a Store,
    seed: u64,
    pace: Pace,
    cooldown: Duration,
    market: Market,
    ids: SimRng,
    chance: SimRng,
    indicators: HashMap<(String, String), IndicatorState>,
    /// The newest M1 candle and indicators of each symbol: what the strategies read.
    latest: HashMap<String, (Candle, Indicators)>,
    strategies: Vec<Strategy>,
    config: RiskConfig,
    /// When each (strategy, symbol) may propose again.
    quiet_until: HashMap<(Uuid, String), DateTime<Utc>>,
    /// The day's account snapshots, from the last one before it began.
    day: Vec<AccountSnapshot>,
    balance: Decimal,
    day_events: (Option<NaiveDate>, Vec<calendar::Event>),
    pending: Snapshots,
    last_snapshot: Option<Uuid>,
    /// Orders or positions may be open (a fast run then asks the database each cycle).
    positions_open: bool,
    summary: Summary,
}

/// The market at `options.from`, with its indicators ready.
///
/// The strategies read SMA 200 on M1: the market runs [`WARM_UP`] ahead of the start, in
/// memory only. So that a run carries on from the database's last prices rather than
/// jumping from them, a first pass measures how far the warm-up drifts from those prices
/// and the second starts that much the other way, to end near where the data left off.
fn warm_up(options: &Options, last: &[(String, Decimal)]) -> (Market, IndicatorMap, LatestMap) {
    let probe = warmed(options, last);
    let adjusted: Vec<(String, Decimal)> = last
        .iter()
        .filter_map(|(symbol, price)| {
            let ended = probe.0.price(symbol)?;
            let start = price.checked_mul(*price)?.checked_div(ended)?;
            Some((symbol.clone(), start))
        })
        .collect();
    warmed(options, &adjusted)
}

type IndicatorMap = HashMap<(String, String), IndicatorState>;
type LatestMap = HashMap<String, (Candle, Indicators)>;

fn warmed(options: &Options, start: &[(String, Decimal)]) -> (Market, IndicatorMap, LatestMap) {
    let mut market = Market::new(options.seed, options.from - WARM_UP, start);
    let mut indicators: IndicatorMap = HashMap::new();
    let mut latest = HashMap::new();
    // Whole minutes up to the one `from` falls in, then its seconds (no candle closes in
    // them): the run starts at `from` itself, so live it writes from its first second.
    while market.now() < options.from {
        if market.now() + Duration::minutes(1) <= options.from {
            market.step_minute();
        } else {
            market.advance_to(options.from);
        }
        for candle in market.take_closed() {
            let key = (
                candle.symbol.to_string(),
                candle.timeframe.label().to_string(),
            );
            let values =
                indicators
                    .entry(key)
                    .or_default()
                    .push(candle.high, candle.low, candle.close);
            if candle.timeframe.label() == EVALUATED {
                latest.insert(candle.symbol.to_string(), (candle, values));
            }
        }
    }
    (market, indicators, latest)
}

impl<'a> Engine<'a> {
    async fn start(store: &'a Store, options: &Options) -> Result<Engine<'a>, SimError> {
        let last = store.last_prices(&SYMBOLS).await?;
        let (market, indicators, latest) = warm_up(options, &last);
        // The day so far, as the console reads it: its limits hold from the day's peak.
        let day_start = TradingDay::UTC_MIDNIGHT.start_of(options.from);
        let mut day = store.account_since(day_start).await?.whole()?;
        day.retain(|a| a.captured_at <= options.from);
        let balance = day
            .last()
            .map(|a| a.balance)
            .unwrap_or(Decimal::from(OPENING_BALANCE));
        store
            .record_simulation("simulate", Some(options.seed), Some(options.from))
            .await?;
        let mut engine = Engine {
            store,
            seed: options.seed,
            pace: options.pace,
            cooldown: match options.liveliness {
                Liveliness::Normal => Duration::minutes(30),
                Liveliness::Lively => Duration::minutes(2),
            },
            market,
            // Keyed by the start too: another run into the same database writes other ids.
            ids: SimRng::stream(options.seed, "ids", &[options.from.into()]),
            chance: SimRng::stream(options.seed, "engine", &[options.from.into()]),
            indicators,
            latest,
            strategies: Vec::new(),
            config: store.risk_config().await?.config,
            quiet_until: HashMap::new(),
            day,
            balance,
            day_events: (None, Vec::new()),
            pending: Snapshots::default(),
            last_snapshot: None,
            positions_open: true,
            summary: Summary::default(),
        };
        engine.refresh().await?;
        Ok(engine)
    }

    /// One second of market time.
    async fn second(&mut self) -> Result<(), Error> {
        self.market.step();
        let now = self.market.now();
        let closed = self.market.take_closed();
        if !closed.is_empty() {
            self.minute(now, closed).await?;
        }
        if now.timestamp() % CYCLE_SECONDS == 0 {
            self.cycle(now).await?;
        }
        Ok(())
    }

    /// A minute closed: its candles, their indicators, the calendar and the headlines.
    async fn minute(&mut self, now: DateTime<Utc>, closed: Vec<Candle>) -> Result<(), Error> {
        for candle in closed {
            let key = (
                candle.symbol.to_string(),
                candle.timeframe.label().to_string(),
            );
            let state = self.indicators.entry(key).or_default();
            let values = state.push(candle.high, candle.low, candle.close);
            self.pending.candles.push(NewCandle {
                id: self.ids.uuid(),
                symbol: candle.symbol.to_string(),
                timeframe: candle.timeframe.label().to_string(),
                open: candle.open,
                high: candle.high,
                low: candle.low,
                close: candle.close,
                volume: candle.volume,
                captured_at: candle.captured_at,
            });
            self.pending
                .indicators
                .push(indicator_row(self.ids.uuid(), &candle, &values));
            if candle.timeframe.label() == EVALUATED {
                self.latest
                    .insert(candle.symbol.to_string(), (candle, values));
            }
        }
        self.capture_calendar(now);
        for h in news::headlines_between(self.seed, now - Duration::minutes(1), now) {
            self.pending.news.push(NewHeadline {
                id: h.id,
                headline: h.headline,
                source: h.source.to_string(),
                symbols: h.symbols,
                published_at: h.published_at,
                captured_at: now,
            });
        }
        // Others edit strategies and limits: read them again every minute.
        self.refresh().await?;
        // Live, a minute's rows are written as it closes; a fast run writes them in batches.
        let batch = match self.pace {
            Pace::Fast => 15,
            Pace::Speed(_) => 1,
        };
        if now.timestamp() / 60 % batch == 0 {
            self.flush().await?;
        }
        Ok(())
    }

    async fn refresh(&mut self) -> Result<(), Error> {
        // A strategy whose row cannot be read cannot trade, as the platform's evaluator
        // could not read it either.
        self.strategies = self
            .store
            .strategies()
            .await?
            .into_iter()
            .filter_map(|s| s.into_read().ok())
            .collect();
        self.config = self.store.risk_config().await?.config;
        Ok(())
    }

    /// The day's releases captured at the day's start (or the run's), and again at each
    /// release with its actual value.
    fn capture_calendar(&mut self, now: DateTime<Utc>) {
        let today = now.date_naive();
        if self.day_events.0 != Some(today) {
            self.day_events = (Some(today), calendar::events_on(self.seed, today));
            for e in &self.day_events.1 {
                self.pending.calendar.push(calendar_row(e, now));
            }
        }
        let released: Vec<calendar::Event> = self
            .day_events
            .1
            .iter()
            .filter(|e| e.event_time <= now && e.event_time > now - Duration::minutes(1))
            .cloned()
            .collect();
        for e in released {
            self.pending.calendar.push(calendar_row(&e, now));
        }
    }

    /// Five seconds: the broker, the account, the limits, the strategies.
    async fn cycle(&mut self, now: DateTime<Utc>) -> Result<(), Error> {
        // Live, an operator may approve an idea at any moment: the broker looks every
        // cycle. A fast run has no operator: only after orders of its own.
        let look = matches!(self.pace, Pace::Speed(_)) || self.positions_open;
        let mut positions = if look {
            self.store.open_positions().await?
        } else {
            Vec::new()
        };
        // The paper broker is the platform's bridge: it claims every order handed to
        // execution through the hand-off's own statement (docs/platform.md, "The execution
        // hand-off") before it fills one, so the kill switch can no longer cancel it.
        if positions.iter().any(|p| !p.claimed) {
            while self.store.claim_order(BRIDGE, Some(now)).await?.is_some() {}
            positions = self.store.open_positions().await?;
        }
        let market = &self.market;
        let price = |symbol: &str| market.price(symbol);
        let actions = broker::actions(&positions, now, price);
        let changed = !actions.is_empty();
        for action in actions {
            match action {
                Action::Fill { order, price } => {
                    let ticket = format!("SIM-{}", &self.ids.uuid().simple().to_string()[..10]);
                    if self.store.fill(order, price, &ticket, now).await? {
                        self.summary.fills += 1;
                    }
                }
                Action::Close {
                    position,
                    price,
                    pl,
                    ..
                } => {
                    self.store.close(position, price, pl, now).await?;
                    self.balance += pl;
                    self.summary.closes += 1;
                }
            }
        }
        if changed {
            positions = self.store.open_positions().await?;
        }
        self.positions_open = !positions.is_empty();
        let market = &self.market;
        let account = broker::account(
            self.ids.uuid(),
            self.balance,
            &positions,
            now,
            |symbol: &str| market.price(symbol),
        );
        self.last_snapshot = Some(account.id);
        self.note_account(account);
        self.pending.accounts.push(account);
        if matches!(self.pace, Pace::Speed(_)) {
            // Live, the account is written as it is captured: the console's equity moves
            // every five seconds, as on the platform.
            self.flush().await?;
        }
        self.check_limits(now).await?;
        self.evaluate(now, &account).await
    }

    fn note_account(&mut self, account: AccountSnapshot) {
        let day_start = TradingDay::UTC_MIDNIGHT.start_of(account.captured_at);
        if account.captured_at >= day_start
            && self.day.last().is_some_and(|a| a.captured_at < day_start)
        {
            // A new day: only the last snapshot before it stays, as the day's opening.
            let opening = self.day.last().copied();
            self.day = opening.into_iter().collect();
        }
        self.day.push(account);
        self.summary.account_snapshots += 1;
    }

    /// A breached limit halts AI trading, as the platform does (docs/platform.md §3). The
    /// account row is written first, and with it the database's guard halts on the same
    /// figures, and the platform's own halt is left with nothing to do. It stays, as on the
    /// platform, should the two ever judge the day apart.
    async fn check_limits(&mut self, now: DateTime<Utc>) -> Result<(), Error> {
        if !self.config.ai_trading_enabled {
            return Ok(());
        }
        let Some(day) = day_state(&self.day, TradingDay::UTC_MIDNIGHT, now) else {
            return Ok(());
        };
        let Some(reason) = halt_trigger(&day, &self.config) else {
            return Ok(());
        };
        let rationale = match reason {
            crate::domain::HaltReason::MaxDrawdown => format!(
                "The day's drawdown {} reached max_drawdown_amount {}",
                day.drawdown, self.config.max_drawdown_amount
            ),
            crate::domain::HaltReason::DailyTargetReached => format!(
                "The day's P/L {} reached daily_profit_target {}",
                day.day_pnl, self.config.daily_profit_target
            ),
        };
        self.flush().await?;
        if !self.config.ai_trading_enabled {
            // The guard halted as the row went in.
            return Ok(());
        }
        if self
            .store
            .halt_by_limit(reason, &rationale, now)
            .await?
            .is_some()
        {
            self.summary.halts += 1;
        }
        self.config = self.store.risk_config().await?.config;
        Ok(())
    }

    /// Each active strategy's entry conditions on each of its symbols in session; an idea
    /// where they all hold.
    async fn evaluate(
        &mut self,
        now: DateTime<Utc>,
        account: &AccountSnapshot,
    ) -> Result<(), Error> {
        let mut proposals = Vec::new();
        for strategy in self.strategies.iter().filter(|s| s.is_active) {
            let Ok(rules) = &strategy.rules else { continue };
            if !rules.in_session(now) {
                continue;
            }
            for symbol in &strategy.allowed_symbols {
                let key = (strategy.id, symbol.clone());
                if self.quiet_until.get(&key).is_some_and(|t| *t > now) {
                    continue;
                }
                let Some((candle, values)) = self.latest.get(symbol) else {
                    continue;
                };
                let Some(price) = self.market.price(symbol) else {
                    continue;
                };
                let Some(entry) = entry(rules, candle, values, price) else {
                    continue;
                };
                proposals.push((strategy.clone(), symbol.clone(), entry, price, *values));
            }
        }
        for (strategy, symbol, entry, price, values) in proposals {
            // Not every signal is taken: the evaluator waits for a clean one now and then.
            if self.chance.below(4) != 0 {
                continue;
            }
            self.quiet_until
                .insert((strategy.id, symbol.clone()), now + self.cooldown);
            let proposal = self.proposal(&strategy, &symbol, entry, price, &values, account, now);
            let Some(proposal) = proposal else { continue };
            self.flush().await?;
            let proposed = self.store.propose(&proposal).await?;
            self.positions_open |= proposed.execution.is_some();
            match proposed.status {
                IdeaStatus::AutoExecuted => self.summary.ideas_auto_executed += 1,
                IdeaStatus::NeedsApproval => self.summary.ideas_awaiting_approval += 1,
                IdeaStatus::HaltedByRisk => self.summary.ideas_halted += 1,
                IdeaStatus::Rejected | IdeaStatus::Waiting => self.summary.ideas_rejected += 1,
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn proposal(
        &mut self,
        strategy: &Strategy,
        symbol: &str,
        signal: Signal,
        price: Decimal,
        values: &Indicators,
        account: &AccountSnapshot,
        now: DateTime<Utc>,
    ) -> Option<Proposal> {
        let rules = strategy.rules.as_ref().ok()?;
        let places = price.scale();
        let atr = values
            .atr
            .filter(|a| *a > Decimal::ZERO)
            .unwrap_or(price / Decimal::from(1000));
        let risk = (atr * Decimal::new(15, 1))
            .round_dp(places)
            .max(Decimal::new(1, places));
        let buy = signal.direction == Direction::Buy;
        let stop = if buy { price - risk } else { price + risk };
        let multiples = target_multiples(&rules.exit_rules.take_profit, strategy.rr_expectation);
        let take_profit: Vec<Decimal> = multiples
            .iter()
            .map(|m| {
                let distance = (risk * m).round_dp(places);
                if buy {
                    price + distance
                } else {
                    price - distance
                }
            })
            .collect();
        let cap = rules
            .risk_caps
            .max_lot_size
            .map_or(self.config.max_lot_size, |c| {
                c.min(self.config.max_lot_size)
            });
        let lot = Lot::new(cap.round_dp(2)).ok()?;
        let calendar: Vec<CalendarEvent> = self
            .day_events
            .1
            .iter()
            .map(calendar::Event::to_domain)
            .collect();
        let confidence = score(&ConfidenceInputs {
            symbol,
            strategy: Some(StrategyFit {
                is_active: strategy.is_active,
                allowed_symbols: &strategy.allowed_symbols,
                rules,
                conditions_met: signal.met,
            }),
            calendar: &calendar,
            account: AccountLoad {
                equity: account.equity,
                margin_used: account.margin_used,
                open_positions: account.open_positions,
            },
            max_concurrent_trades: self.config.max_concurrent_trades,
            now,
        })
        .total;
        let hold = match rules.exit_rules.time_limit_min {
            Some(m) if m <= 60 => format!("scalp_{m}m"),
            Some(m) if m < 24 * 60 => format!("swing_{}h", m.div_ceil(60)),
            Some(_) => "swing_1d".to_string(),
            None => "scalp_30m".to_string(),
        };
        Some(Proposal {
            id: self.ids.uuid(),
            symbol: symbol.to_string(),
            direction: signal.direction,
            entry_price: price,
            stop_loss: stop,
            take_profit,
            expected_hold: hold,
            rationale: format!("{} ({})", signal.why, strategy.name),
            confidence,
            strategy_id: strategy.id,
            snapshot_ref: self.last_snapshot.unwrap_or(account.id),
            lot,
            decision_id: self.ids.uuid(),
            execution_id: self.ids.uuid(),
            at: now,
        })
    }

    /// Writes what was gathered. The database's guard (migration 8) judges the day's
    /// limits as the account rows go in and may halt AI trading right then, before
    /// [`Self::check_limits`] would: that halt is this run's too, and counted.
    async fn flush(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        if self.store.write_snapshots(&rows).await?.is_some() {
            self.summary.halts += 1;
            self.config = self.store.risk_config().await?.config;
        }
        self.summary.candles += rows.candles.len() as u64;
        self.summary.indicator_rows += rows.indicators.len() as u64;
        self.summary.calendar_rows += rows.calendar.len() as u64;
        self.summary.headlines += rows.news.len() as u64;
        Ok(())
    }
}

/// Where the entry conditions point, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signal {
    direction: Direction,
    /// Entry conditions found met (for the confidence score).
    met: usize,
    why: String,
}

/// The strategy's entry conditions read against the symbol's latest candle and
/// indicators; `None` unless every condition tradedesk knows holds. The vocabulary is the
/// platform's evaluator's (docs/platform.md §4): `trend_alignment` (bullish: price above a
/// rising SMA 50 above the SMA 200; bearish: the mirror), `rsi_below` (a buy's RSI below
/// it, a sell's above 100 minus it), `price_rejects_level` (the last candle's wick against
/// the trade at least one and a half times its body). Keys tradedesk does not know are left
/// to the real evaluator and count as not confirmed.
fn entry(
    rules: &crate::domain::StrategyRules,
    candle: &Candle,
    values: &Indicators,
    price: Decimal,
) -> Option<Signal> {
    let (sma_50, sma_200, rsi) = (values.sma_50?, values.sma_200?, values.rsi_14?);
    let mut direction = if price >= sma_50 {
        Direction::Buy
    } else {
        Direction::Sell
    };
    let mut met = 0;
    let mut why = Vec::new();
    for (key, value) in &rules.entry_conditions.0 {
        match key.as_str() {
            "trend_alignment" => {
                let wanted = value.as_str().unwrap_or_default();
                let bullish = price > sma_50 && sma_50 > sma_200;
                let bearish = price < sma_50 && sma_50 < sma_200;
                match wanted {
                    "bullish" if bullish => direction = Direction::Buy,
                    "bearish" if bearish => direction = Direction::Sell,
                    "bullish" | "bearish" => return None,
                    _ => {}
                }
                met += 1;
                why.push(format!(
                    "price {price} vs SMA 50 {} / SMA 200 {}",
                    sma_50.round_dp(price.scale()),
                    sma_200.round_dp(price.scale())
                ));
            }
            "rsi_below" => {
                let limit = value.as_f64().and_then(Decimal::from_f64)?;
                let holds = match direction {
                    Direction::Buy => rsi < limit,
                    Direction::Sell => rsi > Decimal::ONE_HUNDRED - limit,
                };
                if !holds {
                    return None;
                }
                met += 1;
                why.push(format!("RSI {rsi}"));
            }
            "price_rejects_level" => {
                if value.as_bool() == Some(true) {
                    let body = (candle.close - candle.open).abs();
                    let wick = match direction {
                        Direction::Buy => candle.open.min(candle.close) - candle.low,
                        Direction::Sell => candle.high - candle.open.max(candle.close),
                    };
                    if wick <= Decimal::ZERO || wick < body * Decimal::new(15, 1) {
                        return None;
                    }
                    why.push("a rejection wick".to_string());
                }
                met += 1;
            }
            _ => {}
        }
    }
    let side = match direction {
        Direction::Buy => "buying",
        Direction::Sell => "selling",
    };
    Some(Signal {
        direction,
        met,
        why: format!("{}: {side}", why.join(", ")),
    })
}

/// The R multiples of the targets: `RR>=2` is 2; expressions tradedesk cannot price are
/// left to the real evaluator; with none, the strategy's expected reward to risk.
fn target_multiples(take_profit: &[String], rr_expectation: Decimal) -> Vec<Decimal> {
    let mut multiples: Vec<Decimal> = take_profit
        .iter()
        .filter_map(|t| t.trim().strip_prefix("RR>="))
        .filter_map(|m| m.trim().parse::<Decimal>().ok())
        .filter(|m| *m > Decimal::ZERO)
        .collect();
    multiples.sort();
    multiples.dedup();
    if multiples.is_empty() && rr_expectation > Decimal::ZERO {
        multiples.push(rr_expectation);
    }
    if multiples.is_empty() {
        multiples.push(Decimal::TWO);
    }
    multiples
}

fn indicator_row(id: Uuid, candle: &Candle, v: &Indicators) -> NewIndicators {
    NewIndicators {
        id,
        symbol: candle.symbol.to_string(),
        timeframe: candle.timeframe.label().to_string(),
        rsi_14: v.rsi_14,
        sma_50: v.sma_50,
        sma_200: v.sma_200,
        atr: v.atr,
        macd: v.macd.as_ref().map(|m| m.to_json()),
        captured_at: candle.captured_at,
    }
}

fn calendar_row(e: &calendar::Event, now: DateTime<Utc>) -> NewCalendarEvent {
    NewCalendarEvent {
        id: e.row_id(now),
        event_time: e.event_time,
        currency: e.currency.to_string(),
        impact: e.impact,
        title: e.title.to_string(),
        previous_value: e.previous_value.clone(),
        forecast_value: e.forecast_value.clone(),
        actual_value: e.actual_value(now).map(str::to_owned),
        captured_at: now,
    }
}

/// The symbols the market makes, for the CLI's help.
pub fn symbols() -> &'static [&'static str] {
    &SYMBOLS
}
