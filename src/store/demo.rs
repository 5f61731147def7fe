//! Demo data: on an empty database (just after `tradedesk setup`), a small, realistic desk —
//! three strategies, the day's account snapshots, two hours of market data, a calendar and
//! headlines around now, ten trade ideas (four awaiting approval) and the decisions that
//! led to them — written in one transaction and timed from the database's clock, so the
//! desk looks live whenever it is seeded.
//!
//! The story, oldest first: the AI auto-executes a EURUSD long; a bad London open breaches
//! the daily drawdown and halts it (a waiting GBPUSD idea is stopped); raj resumes it; a
//! GBPUSD idea is rejected inside the UK CPI blackout (London breakout is then disabled);
//! ann approves a gold idea (filled) and is refused a 0.80-lot EURUSD approval; ann halts
//! the AI into US CPI; raj rejects an AUDUSD idea; four ideas now await approval, three of
//! them under "Round-the-clock FX", whose sessions cover every hour, so they can be
//! approved at any time.
//!
//! Rows are written as the platform's Python engine writes them: client-side UUIDv4 ids,
//! lowercase enum labels, JSON rule documents, decimals as NUMERIC. `risk_config` keeps the
//! limits setup wrote, with AI trading off and ann's halt as the reason; no order is left
//! pending.

use std::str::FromStr as _;

use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Number, Value, json};
use sqlx::query_builder::Separated;
use sqlx::{Acquire as _, PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::Store;
use super::error::Error;
use super::risk;
use crate::domain::strategy::document::{StrategySpec, parse_documents};
use crate::domain::{DecisionAction, Direction, IdeaStatus, Impact, TradingDay};

/// What [`Store::seed_demo`] wrote, in rows per table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    pub strategies: u64,
    pub account_snapshots: u64,
    pub candles: u64,
    pub indicators: u64,
    pub calendar_events: u64,
    pub headlines: u64,
    pub ideas: u64,
    pub ideas_awaiting_approval: u64,
    pub decisions: u64,
    pub executions: u64,
}

/// The demo desk's limits: tight, so that the simulated market reaches one within the
/// half hour or so a newcomer watches (the desk stands at +802.20 for the day, 97.80
/// short of its target; every open position moves the drawdown).
const DEMO_MAX_DRAWDOWN: &str = "120.00";
const DEMO_DAILY_TARGET: &str = "900.00";

/// The reason of ann's halt into US CPI.
const DEMO_HALT_REASON: &str =
    "Pausing the AI into US CPI; approving by hand until the release settles.";

const ANN: &str = "ann@desk.example";
const RAJ: &str = "raj@desk.example";

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// The strategies, as `tradedesk strategies import` reads them (and checked by the same
/// strict parser when seeding), in the platform's documents. "Round-the-clock FX" is open
/// every hour of every day, so its ideas can be approved at any time.
const STRATEGIES: &str = r#"[
 {"name": "London breakout", "is_active": false, "allowed_symbols": ["EURUSD", "GBPUSD"],
  "session_windows": [{"start": "07:00Z", "end": "11:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}],
  "entry_conditions": {"trend_alignment": "bullish", "rsi_below": 70},
  "exit_rules": {"stop_loss": "asian_range_low - 3 pips", "take_profit": ["RR>=1.5", "RR>=3"], "time_limit_min": 240},
  "forbidden_conditions": {"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["GBP", "EUR"]},
  "risk_caps": {"max_lot_size": 0.50, "max_concurrent_positions": 2}, "rr_expectation": "2.50"},
 {"name": "Gold momentum", "is_active": true, "allowed_symbols": ["XAUUSD"],
  "session_windows": [{"start": "06:00Z", "end": "21:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}],
  "entry_conditions": {"trend_alignment": "bullish", "rsi_below": 70, "price_rejects_level": true},
  "exit_rules": {"stop_loss": "recent_swing_low - 50 cents", "take_profit": ["RR>=2", "key_resistance_zone"]},
  "forbidden_conditions": {"block_high_impact_news_minutes": 45, "blocked_symbols_during_news": ["USD"]},
  "risk_caps": {"max_lot_size": 0.20, "max_concurrent_positions": 2}, "rr_expectation": "2.00"},
 {"name": "Round-the-clock FX", "is_active": true, "allowed_symbols": ["EURUSD", "USDJPY", "USDCAD", "AUDUSD"],
  "session_windows": [{"start": "00:00Z", "end": "24:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}],
  "entry_conditions": {"trend_alignment": "bearish", "rsi_below": 75},
  "exit_rules": {"stop_loss": "swing_low - 5 pips", "take_profit": "RR>=1.5", "time_limit_min": 90},
  "forbidden_conditions": {"block_high_impact_news_minutes": 10, "blocked_symbols_during_news": ["USD", "EUR", "JPY", "CAD", "AUD"]},
  "risk_caps": {"max_lot_size": 0.30, "max_concurrent_positions": 3}, "rr_expectation": "1.50"}
]"#;

// Indexes into `STRATEGIES` (and `STRATEGY_AGES`).
const LONDON: usize = 0;
const GOLD: usize = 1;
const ROUND_THE_CLOCK: usize = 2;

/// When a strategy was created and last updated, in hours ago.
struct StrategyAge {
    created: i64,
    updated: i64,
}

/// Per strategy of `STRATEGIES`: London breakout was switched off after the UK CPI
/// rejection.
#[rustfmt::skip]
const STRATEGY_AGES: [StrategyAge; 3] = [
    StrategyAge { created: 30 * 24, updated: 9 },
    StrategyAge { created: 21 * 24, updated: 21 * 24 },
    StrategyAge { created: 7 * 24,  updated: 7 * 24 },
];

// ---------------------------------------------------------------------------------------
// Ideas, decisions and the one order
// ---------------------------------------------------------------------------------------

/// Where an idea enters: one price (`entry_price`) or a zone (`entry_range`).
#[derive(Clone, Copy)]
enum DemoEntry {
    Price(&'static str),
    Zone(&'static str, &'static str),
}
use DemoEntry::{Price, Zone};

/// A trade idea; `strategy` indexes `STRATEGIES`, `minutes_ago` is its creation.
struct DemoIdea {
    strategy: usize,
    symbol: &'static str,
    direction: Direction,
    entry: DemoEntry,
    stop: &'static str,
    targets: &'static [&'static str],
    hold: &'static str,
    confidence: &'static str,
    status: IdeaStatus,
    minutes_ago: i64,
    rationale: &'static str,
}

// Indexes into `IDEAS`, for the decisions and the order that name an idea.
const GOLD_PENDING: usize = 0;
const EURUSD_PENDING: usize = 1;
const USDJPY_PENDING: usize = 2;
const USDCAD_PENDING: usize = 3;
const EURUSD_AUTO: usize = 4;
const GBPUSD_HALTED: usize = 5;
const GBPUSD_CPI: usize = 6;
const GOLD_APPROVED: usize = 7;
const EURUSD_LOT: usize = 8;
const AUDUSD_REJECTED: usize = 9;

#[rustfmt::skip]
const IDEAS: [DemoIdea; 10] = [
    DemoIdea { strategy: GOLD, symbol: "XAUUSD", direction: Direction::Buy,
        entry: Zone("2648.50", "2651.00"), stop: "2638.00", targets: &["2668.00", "2684.00"],
        hold: "swing_1d", confidence: "88.00", status: IdeaStatus::NeedsApproval, minutes_ago: 40,
        rationale: "Gold is holding the 2645 breakout with the 50-period SMA rising beneath it; buying the pullback zone ahead of US CPI." },
    DemoIdea { strategy: ROUND_THE_CLOCK, symbol: "EURUSD", direction: Direction::Sell,
        entry: Price("1.08410"), stop: "1.08580", targets: &["1.08150", "1.07980"],
        hold: "scalp_30m", confidence: "92.00", status: IdeaStatus::NeedsApproval, minutes_ago: 25,
        rationale: "EURUSD was rejected twice at the 1.0850 pivot and MACD has crossed down; selling the retest toward the Asian low." },
    DemoIdea { strategy: ROUND_THE_CLOCK, symbol: "USDJPY", direction: Direction::Buy,
        entry: Price("151.380"), stop: "151.180", targets: &["151.680"],
        hold: "scalp_30m", confidence: "90.00", status: IdeaStatus::NeedsApproval, minutes_ago: 12,
        rationale: "USDJPY is riding above its rising 50-period SMA with RSI near 60; buying the shallow dip into 151.35." },
    DemoIdea { strategy: ROUND_THE_CLOCK, symbol: "USDCAD", direction: Direction::Sell,
        entry: Price("1.36220"), stop: "1.36390", targets: &["1.35970", "1.35800"],
        hold: "scalp_30m", confidence: "85.00", status: IdeaStatus::NeedsApproval, minutes_ago: 2,
        rationale: "Oil's rebound is lifting the loonie and USDCAD broke below its two-hour range; selling the retest of 1.3625." },
    DemoIdea { strategy: ROUND_THE_CLOCK, symbol: "EURUSD", direction: Direction::Buy,
        entry: Price("1.08205"), stop: "1.08045", targets: &["1.08445"],
        hold: "scalp_30m", confidence: "94.00", status: IdeaStatus::AutoExecuted, minutes_ago: 1400,
        rationale: "EURUSD reclaimed 1.0815 after the Asian session with RSI turning up; buying the retest." },
    DemoIdea { strategy: LONDON, symbol: "GBPUSD", direction: Direction::Sell,
        entry: Price("1.27310"), stop: "1.27490", targets: &["1.27040", "1.26850"],
        hold: "scalp_30m", confidence: "91.00", status: IdeaStatus::HaltedByRisk, minutes_ago: 1212,
        rationale: "GBPUSD broke the bottom of the Asian range on rising volume; selling the first pullback." },
    DemoIdea { strategy: LONDON, symbol: "GBPUSD", direction: Direction::Buy,
        entry: Price("1.26880"), stop: "1.26700", targets: &["1.27150"],
        hold: "scalp_30m", confidence: "78.00", status: IdeaStatus::Rejected, minutes_ago: 600,
        rationale: "GBPUSD is coiling under 1.2690 ahead of UK CPI; buying a break of the overnight high." },
    DemoIdea { strategy: GOLD, symbol: "XAUUSD", direction: Direction::Buy,
        entry: Price("2618.20"), stop: "2606.50", targets: &["2664.00", "2690.00"],
        hold: "swing_1d", confidence: "86.00", status: IdeaStatus::AutoExecuted, minutes_ago: 380,
        rationale: "Gold bounced off the 200-period SMA as US yields eased; buying for a swing back to the highs." },
    DemoIdea { strategy: ROUND_THE_CLOCK, symbol: "EURUSD", direction: Direction::Sell,
        entry: Price("1.08620"), stop: "1.08790", targets: &["1.08370"],
        hold: "scalp_30m", confidence: "84.00", status: IdeaStatus::Rejected, minutes_ago: 240,
        rationale: "EURUSD stalled at 1.0865 resistance with RSI diverging; selling the failed push higher." },
    DemoIdea { strategy: ROUND_THE_CLOCK, symbol: "AUDUSD", direction: Direction::Buy,
        entry: Price("0.66180"), stop: "0.66020", targets: &["0.66420"],
        hold: "scalp_30m", confidence: "82.00", status: IdeaStatus::Rejected, minutes_ago: 95,
        rationale: "AUDUSD held 0.6610 support while iron ore firmed; buying the bounce." },
];

/// A `decision_history` row. One of an idea (an index into `IDEAS`) takes its symbol,
/// confidence, strategy and snapshot; `human_override` is set for an operator's.
struct DemoDecision {
    seconds_ago: i64,
    idea: Option<usize>,
    action: DecisionAction,
    risk_check: Option<&'static str>,
    operator: Option<&'static str>,
    rationale: &'static str,
}

#[rustfmt::skip]
const DECISIONS: [DemoDecision; 17] = [
    DemoDecision { seconds_ago: 1400 * 60, idea: Some(EURUSD_AUTO), action: DecisionAction::AiAutoExecuted,
        risk_check: Some("pass"), operator: None,
        rationale: "Every risk check passed: auto-executed 0.30 lots." },
    DemoDecision { seconds_ago: 1210 * 60, idea: None, action: DecisionAction::AiHalted,
        risk_check: Some("fail:max_drawdown"), operator: None,
        rationale: "The day's drawdown 123.40 reached max_drawdown_amount 120.00: AI trading switched off." },
    DemoDecision { seconds_ago: 1210 * 60 - 2, idea: Some(GBPUSD_HALTED), action: DecisionAction::AiHalted,
        risk_check: Some("fail:max_drawdown"), operator: None,
        rationale: "Waiting idea stopped by the halt: the day's drawdown reached max_drawdown_amount 120.00." },
    DemoDecision { seconds_ago: 1140 * 60, idea: None, action: DecisionAction::AiResumed,
        risk_check: Some("pass"), operator: Some(RAJ),
        rationale: "Reviewed the GBPUSD stop-outs at the London open; limits unchanged, resuming (was halted: max_drawdown)." },
    DemoDecision { seconds_ago: 600 * 60, idea: Some(GBPUSD_CPI), action: DecisionAction::RiskRejected,
        risk_check: Some("fail:confidence,news_blackout"), operator: None,
        rationale: "High-impact GBP news \"CPI y/y\" in 2 minutes is within strategy 'London breakout''s 30-minute blackout; confidence 78.00 is below the threshold 90.00." },
    DemoDecision { seconds_ago: 380 * 60, idea: Some(GOLD_APPROVED), action: DecisionAction::AiProposed,
        risk_check: Some("fail:confidence"), operator: None,
        rationale: "Confidence 86.00 is below the threshold 90.00: sent for approval." },
    DemoDecision { seconds_ago: 372 * 60, idea: Some(GOLD_APPROVED), action: DecisionAction::HumanApproved,
        risk_check: Some("pass"), operator: Some(ANN),
        rationale: "approved with lot 0.20" },
    DemoDecision { seconds_ago: 240 * 60, idea: Some(EURUSD_LOT), action: DecisionAction::AiProposed,
        risk_check: Some("fail:confidence"), operator: None,
        rationale: "Confidence 84.00 is below the threshold 90.00: sent for approval." },
    DemoDecision { seconds_ago: 232 * 60, idea: Some(EURUSD_LOT), action: DecisionAction::RiskRejected,
        risk_check: Some("fail:lot_size"), operator: Some(ANN),
        rationale: "approval with lot 0.80 blocked: lot 0.80 exceeds the maximum 0.30 (strategy cap)" },
    DemoDecision { seconds_ago: 180 * 60, idea: None, action: DecisionAction::AiHalted,
        risk_check: Some("fail:manual_halt"), operator: Some(ANN),
        rationale: DEMO_HALT_REASON },
    DemoDecision { seconds_ago: 95 * 60, idea: Some(AUDUSD_REJECTED), action: DecisionAction::AiProposed,
        risk_check: Some("fail:ai_halted,confidence"), operator: None,
        rationale: "AI trading is off and confidence 82.00 is below the threshold 90.00: sent for approval." },
    DemoDecision { seconds_ago: 70 * 60, idea: Some(AUDUSD_REJECTED), action: DecisionAction::HumanRejected,
        risk_check: None, operator: Some(RAJ),
        rationale: "RBA minutes are due overnight and AUD is already extended; not adding risk." },
    DemoDecision { seconds_ago: 40 * 60, idea: Some(GOLD_PENDING), action: DecisionAction::AiProposed,
        risk_check: Some("fail:ai_halted,confidence"), operator: None,
        rationale: "AI trading is off and confidence 88.00 is below the threshold 90.00: sent for approval." },
    DemoDecision { seconds_ago: 25 * 60, idea: Some(EURUSD_PENDING), action: DecisionAction::AiProposed,
        risk_check: Some("fail:ai_halted"), operator: None,
        rationale: "AI trading is off: sent for approval." },
    DemoDecision { seconds_ago: 12 * 60, idea: Some(USDJPY_PENDING), action: DecisionAction::AiProposed,
        risk_check: Some("fail:ai_halted"), operator: None,
        rationale: "AI trading is off: sent for approval." },
    DemoDecision { seconds_ago: 2 * 60, idea: Some(USDCAD_PENDING), action: DecisionAction::AiProposed,
        risk_check: Some("fail:ai_halted,confidence"), operator: None,
        rationale: "AI trading is off and confidence 85.00 is below the threshold 90.00: sent for approval." },
    DemoDecision { seconds_ago: 60, idea: None, action: DecisionAction::AiResumed,
        risk_check: Some("pass"), operator: Some(ANN),
        rationale: "CPI is out and spreads are back to normal; resuming (was halted: manual_halt)." },
];

/// The one order: requested when its idea was approved, filled two seconds later.
struct DemoExecution {
    idea: usize,
    lot: &'static str,
    requested_by: &'static str,
    broker_order_id: &'static str,
    fill_price: &'static str,
}

const EXECUTION: DemoExecution = DemoExecution {
    idea: GOLD_APPROVED,
    lot: "0.20",
    requested_by: ANN,
    broker_order_id: "MT5-40817263",
    fill_price: "2618.45",
};

// ---------------------------------------------------------------------------------------
// The account
// ---------------------------------------------------------------------------------------

/// The account from a point on: `from` is a share of the day so far (percent) in `TODAY`,
/// hours before the day started in `YESTERDAY`.
#[derive(Clone, Copy)]
struct AccountPoint {
    from: i64,
    balance: &'static str,
    open_pl: &'static str,
    open_positions: i32,
}

/// Flat at the day's opening equity, 25000.00.
const FLAT: AccountPoint = AccountPoint {
    from: 0,
    balance: "25000.00",
    open_pl: "0.00",
    open_positions: 0,
};

/// Today's account. The day stands at +802.20, at its peak.
#[rustfmt::skip]
const TODAY: [AccountPoint; 8] = [
    FLAT,
    AccountPoint { from: 15,  balance: "25000.00", open_pl: "86.40",  open_positions: 1 },
    AccountPoint { from: 30,  balance: "25143.20", open_pl: "0.00",   open_positions: 0 },
    AccountPoint { from: 45,  balance: "25143.20", open_pl: "121.70", open_positions: 1 },
    AccountPoint { from: 60,  balance: "25143.20", open_pl: "209.10", open_positions: 2 },
    AccountPoint { from: 75,  balance: "25143.20", open_pl: "321.80", open_positions: 2 },
    AccountPoint { from: 90,  balance: "25143.20", open_pl: "598.00", open_positions: 1 },
    // The one order left open, ann's 0.20 lots of gold filled at 2618.45, at gold's last
    // close of 2651.40: what the simulated platform's broker carries on from.
    AccountPoint { from: 100, balance: "25143.20", open_pl: "659.00", open_positions: 1 },
];
/// Before the day: flat for the last six hours at the day's opening equity.
#[rustfmt::skip]
const YESTERDAY: [AccountPoint; 3] = [
    AccountPoint { from: 14, balance: "24760.00", open_pl: "138.20", open_positions: 1 },
    AccountPoint { from: 6,  balance: "24905.50", open_pl: "-62.40", open_positions: 2 },
    FLAT,
];
const MARGIN_PER_POSITION: &str = "385.00";

// ---------------------------------------------------------------------------------------
// Market data, calendar and news
// ---------------------------------------------------------------------------------------

/// One symbol's M5 candles: prices in points (`decimals` places), drifting by `trend`
/// points per candle into now, moving `step` points in a typical candle.
struct DemoMarket {
    symbol: &'static str,
    last_close: i64,
    decimals: u32,
    trend: i64,
    step: i64,
    volume: i32,
}

#[rustfmt::skip]
const MARKET: [DemoMarket; 6] = [
    DemoMarket { symbol: "EURUSD", last_close: 108_412, decimals: 5, trend: -6, step: 9,  volume: 1400 },
    DemoMarket { symbol: "GBPUSD", last_close: 127_055, decimals: 5, trend: 2,  step: 11, volume: 1100 },
    DemoMarket { symbol: "USDJPY", last_close: 151_382, decimals: 3, trend: 8,  step: 12, volume: 1600 },
    DemoMarket { symbol: "USDCAD", last_close: 136_218, decimals: 5, trend: -5, step: 8,  volume: 900 },
    DemoMarket { symbol: "AUDUSD", last_close: 66_134,  decimals: 5, trend: 0,  step: 7,  volume: 800 },
    DemoMarket { symbol: "XAUUSD", last_close: 265_140, decimals: 2, trend: 35, step: 60, volume: 2400 },
];
const CANDLES: i64 = 24;
/// Indicators every this many candles over the same two hours.
const INDICATOR_EVERY: usize = 3;

/// A calendar release, `minutes` from now (negative: already out); `actual` is written
/// only by a capture after the release.
struct DemoEvent {
    minutes: i64,
    currency: &'static str,
    impact: Impact,
    title: &'static str,
    previous: Option<&'static str>,
    forecast: Option<&'static str>,
    actual: Option<&'static str>,
}

#[rustfmt::skip]
const CALENDAR: [DemoEvent; 7] = [
    DemoEvent { minutes: -598, currency: "GBP", impact: Impact::High, title: "CPI y/y",
        previous: Some("2.2%"), forecast: Some("2.4%"), actual: Some("2.6%") },
    DemoEvent { minutes: -150, currency: "EUR", impact: Impact::Medium, title: "German ZEW Economic Sentiment",
        previous: Some("10.3"), forecast: Some("12.0"), actual: Some("13.1") },
    DemoEvent { minutes: -45, currency: "USD", impact: Impact::Medium, title: "Initial Jobless Claims",
        previous: Some("221K"), forecast: Some("225K"), actual: Some("219K") },
    DemoEvent { minutes: 90, currency: "USD", impact: Impact::High, title: "CPI m/m",
        previous: Some("0.2%"), forecast: Some("0.3%"), actual: None },
    DemoEvent { minutes: 240, currency: "USD", impact: Impact::Medium, title: "Crude Oil Inventories",
        previous: Some("-1.4M"), forecast: Some("-0.8M"), actual: None },
    DemoEvent { minutes: 420, currency: "AUD", impact: Impact::Medium, title: "RBA Meeting Minutes",
        previous: None, forecast: None, actual: None },
    DemoEvent { minutes: 690, currency: "JPY", impact: Impact::Low, title: "Tertiary Industry Activity m/m",
        previous: Some("0.3%"), forecast: Some("0.1%"), actual: None },
];
/// The calendar is captured twice: two hours ago and a minute ago (minutes ago).
const CALENDAR_CAPTURES: [i64; 2] = [125, 1];

/// A headline, published `minutes_ago` and captured 20 seconds later.
struct DemoHeadline {
    minutes_ago: i64,
    source: &'static str,
    headline: &'static str,
    symbols: &'static [&'static str],
}

#[rustfmt::skip]
const NEWS: [DemoHeadline; 6] = [
    DemoHeadline { minutes_ago: 112, source: "Reuters",
        headline: "Dollar steadies as traders square positions before US CPI", symbols: &["EURUSD", "USDJPY", "USDCAD"] },
    DemoHeadline { minutes_ago: 84, source: "Bloomberg",
        headline: "Gold holds near record as real yields ease", symbols: &["XAUUSD"] },
    DemoHeadline { minutes_ago: 57, source: "FXStreet",
        headline: "EUR/USD slips below 1.0850 as euro-area PMIs disappoint", symbols: &["EURUSD"] },
    DemoHeadline { minutes_ago: 31, source: "Reuters",
        headline: "Japan's finance minister says he is watching FX moves with urgency", symbols: &["USDJPY"] },
    DemoHeadline { minutes_ago: 14, source: "MarketWatch",
        headline: "Oil rebounds; loonie firms against the dollar", symbols: &["USDCAD"] },
    DemoHeadline { minutes_ago: 6, source: "Reuters",
        headline: "RBA minutes due overnight; markets price one more hike", symbols: &["AUDUSD"] },
];

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

impl Store {
    /// Seeds the demo desk when the database holds no strategy, trade idea or decision (an
    /// empty database after `tradedesk setup`) and says what was written; otherwise writes
    /// nothing and returns `None`. One transaction: all of it or none of it.
    pub async fn seed_demo(&self) -> Result<Option<DemoSummary>, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        // Serialise with approvals, halts and another seeder: once the row is locked, the
        // emptiness check below sees everything committed before.
        risk::lock(conn).await?;
        let used: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM strategies) OR EXISTS (SELECT 1 FROM trade_ideas)
                 OR EXISTS (SELECT 1 FROM decision_history)",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::Database)?;
        if used {
            return Ok(None);
        }
        let now: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
            .fetch_one(&mut *conn)
            .await
            .map_err(Error::Database)?;
        let summary = write(conn, now).await?;
        // The story ends with ann's resume after US CPI: the AI trades. The desk's limits are
        // tighter than the platform's defaults so that, carried on by the simulated platform
        // (`tradedesk` on its own database), a limit halts the AI now and then.
        sqlx::query(
            "UPDATE risk_config SET ai_trading_enabled = true, last_halt_reason = NULL,
                    max_drawdown_amount = $1, daily_profit_target = $2, updated_at = $3
              WHERE id",
        )
        .bind(dec(DEMO_MAX_DRAWDOWN))
        .bind(dec(DEMO_DAILY_TARGET))
        .bind(now - TimeDelta::seconds(60))
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
        // The desk is tradedesk's own writing: the simulated platform may carry it on.
        sqlx::query("INSERT INTO tradedesk.simulations (id, kind) VALUES ($1, 'demo')")
            .bind(Uuid::now_v7())
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(Some(summary))
    }
}

/// The seeding's clock and the ids rows refer to one another by.
struct Desk {
    now: DateTime<Utc>,
    /// Per strategy of `STRATEGIES`.
    strategies: Vec<Uuid>,
    /// Per idea of `IDEAS`.
    ideas: Vec<Uuid>,
    /// Per idea of `IDEAS`: the account snapshot of the engine's cycle that proposed it,
    /// captured 15 seconds before the idea.
    cycles: Vec<(Uuid, DateTime<Utc>)>,
}

impl Desk {
    fn new(now: DateTime<Utc>, strategies: usize) -> Self {
        let ids = |n: usize| (0..n).map(|_| Uuid::new_v4()).collect();
        let cycles = IDEAS
            .iter()
            .map(|i| (Uuid::new_v4(), ago(now, i.minutes_ago * 60 + 15)))
            .collect();
        Desk {
            now,
            strategies: ids(strategies),
            ideas: ids(IDEAS.len()),
            cycles,
        }
    }

    fn ago(&self, seconds: i64) -> DateTime<Utc> {
        ago(self.now, seconds)
    }
}

fn ago(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    now - TimeDelta::seconds(seconds)
}

/// Binds each value in turn to a row of `push_values`.
macro_rules! push {
    ($row:expr; $($value:expr),+ $(,)?) => { $( $row.push_bind($value); )+ };
}

/// Writes every table, a function each, in an order the foreign keys accept: strategies
/// before the ideas and decisions that name them, ideas before their decisions and order
/// (migrations/0001_phase1_schema.sql, migrations/0002_operator_and_executions.up.sql).
async fn write(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<DemoSummary, Error> {
    let specs = parse_documents(STRATEGIES)?;
    let desk = Desk::new(now, specs.len());
    let strategies = insert_strategies(conn, &desk, &specs).await?;
    let account_snapshots = insert_account(conn, &desk).await?;
    let (candles, indicators) = insert_market(conn, now).await?;
    let calendar_events = insert_calendar(conn, &desk).await?;
    let headlines = insert_news(conn, &desk).await?;
    let ideas = insert_ideas(conn, &desk).await?;
    let decisions = insert_decisions(conn, &desk).await?;
    let executions = insert_execution(conn, &desk).await?;
    let awaiting = IDEAS
        .iter()
        .filter(|i| i.status == IdeaStatus::NeedsApproval)
        .count() as u64;
    Ok(DemoSummary {
        strategies,
        account_snapshots,
        candles,
        indicators,
        calendar_events,
        headlines,
        ideas,
        ideas_awaiting_approval: awaiting,
        decisions,
        executions,
    })
}

async fn insert_strategies(
    conn: &mut PgConnection,
    desk: &Desk,
    specs: &[StrategySpec],
) -> Result<u64, Error> {
    let hours = |h: i64| desk.ago(h * 3_600);
    let rows = specs.iter().zip(&desk.strategies).zip(&STRATEGY_AGES);
    insert(
        conn,
        "strategies (id, name, is_active, allowed_symbols, session_windows, entry_conditions,
                     exit_rules, forbidden_conditions, risk_caps, rr_expectation, created_at,
                     updated_at)",
        rows,
        |b, ((spec, id), age)| {
            let r = &spec.rules;
            push!(b; *id, spec.name.clone(), spec.is_active, spec.allowed_symbols.clone());
            let docs = [&r.session_windows, &r.entry_conditions, &r.exit_rules];
            for doc in docs
                .into_iter()
                .chain([&r.forbidden_conditions, &r.risk_caps])
            {
                b.push_bind(doc.clone()).push_unseparated("::json");
            }
            push!(b; spec.rr_expectation, hours(age.created), hours(age.updated));
        },
    )
    .await
}

/// The account: the day's opening snapshot, the day so far up to a minute ago, and one
/// snapshot per idea, captured with the engine's cycle just before the idea.
async fn insert_account(conn: &mut PgConnection, desk: &Desk) -> Result<u64, Error> {
    let day_start = TradingDay::UTC_MIDNIGHT.start_of(desk.now);
    let span = (desk.now - TimeDelta::minutes(1)).max(day_start) - day_start;
    let mut snapshots = vec![(Uuid::new_v4(), day_start - TimeDelta::seconds(1))];
    let today = TODAY.iter().filter(|k| k.from > 0);
    snapshots.extend(today.map(|k| (Uuid::new_v4(), today_from(k, day_start, span))));
    snapshots.extend(desk.cycles.iter().copied());
    insert(
        conn,
        "snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                           open_positions, captured_at)",
        snapshots,
        |b, (id, at)| {
            let point = account_at(at, day_start, span);
            let (balance, open_pl) = (dec(point.balance), dec(point.open_pl));
            let positions = point.open_positions;
            let margin = dec(MARGIN_PER_POSITION) * Decimal::from(positions);
            let equity = balance + open_pl;
            push!(b; id, balance, equity, margin, equity - margin, open_pl, positions, at);
        },
    )
    .await
}

/// The account at `at`: today's path spread over the day so far (`span` from
/// `day_start`), or yesterday's by hours before the day started.
fn account_at(at: DateTime<Utc>, day_start: DateTime<Utc>, span: TimeDelta) -> AccountPoint {
    if at < day_start {
        let before = (day_start - at).num_seconds();
        YESTERDAY
            .into_iter()
            .find(|k| before >= k.from * 3_600)
            .unwrap_or(FLAT)
    } else {
        // Compared as instants, not as a share of `span`: a point written at its own start
        // must read as itself, which a share rounded down (14.99 % of the day) would not.
        TODAY
            .into_iter()
            .rev()
            .find(|k| at >= today_from(k, day_start, span))
            .unwrap_or(FLAT)
    }
}

/// When a point of `TODAY` starts: its share of the day so far.
fn today_from(point: &AccountPoint, day_start: DateTime<Utc>, span: TimeDelta) -> DateTime<Utc> {
    day_start + span * point.from as i32 / 100
}

/// An M5 candle row of `snapshot_market`.
struct Candle {
    symbol: &'static str,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: i32,
    at: DateTime<Utc>,
}

/// An M5 row of `snapshot_indicators`.
struct Indicators {
    symbol: &'static str,
    rsi_14: Decimal,
    sma_50: Decimal,
    sma_200: Decimal,
    atr: Decimal,
    macd: Value,
    at: DateTime<Utc>,
}

/// Market data: M5 candles up to the last five-minute boundary, indicators every 15 min.
async fn insert_market(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<(u64, u64), Error> {
    let bar = now.duration_trunc(TimeDelta::minutes(5)).unwrap_or(now);
    let (mut candles, mut indicators) = (Vec::new(), Vec::new());
    for (seed, market) in (0_i64..).zip(&MARKET) {
        let closes = closes(market, seed);
        candles.extend(candles_of(market, seed, &closes, bar));
        indicators.extend(indicators_of(market, seed, &closes, bar));
    }
    let candles = insert(
        conn,
        "snapshot_market (id, symbol, timeframe, open, high, low, close, volume, captured_at)",
        candles,
        |b, c| {
            push!(b; Uuid::new_v4(), c.symbol, "M5", c.open, c.high, c.low, c.close, c.volume, c.at);
        },
    )
    .await?;
    let indicators = insert(
        conn,
        "snapshot_indicators (id, symbol, timeframe, rsi_14, sma_50, sma_200, atr, macd,
                              captured_at)",
        indicators,
        |b, i| {
            push!(b; Uuid::new_v4(), i.symbol, "M5", i.rsi_14, i.sma_50, i.sma_200, i.atr, i.macd);
            b.push_unseparated("::json").push_bind(i.at);
        },
    )
    .await?;
    Ok((candles, indicators))
}

/// A symbol's deterministic wobble around its trend, in points, `k` candles back.
fn wiggle(market: &DemoMarket, seed: i64, k: i64) -> i64 {
    ((k * 7 + seed * 3) % 9 - 4) * market.step
}

/// `closes[k]`: the close `k` candles back (0 = the latest), `CANDLES + 1` of them.
fn closes(market: &DemoMarket, seed: i64) -> Vec<i64> {
    let mut closes = vec![market.last_close];
    for k in 0..CANDLES {
        closes.push(closes[k as usize] - market.trend - wiggle(market, seed, k));
    }
    closes
}

fn candles_of(market: &DemoMarket, seed: i64, closes: &[i64], bar: DateTime<Utc>) -> Vec<Candle> {
    let price = |points: i64| Decimal::new(points, market.decimals);
    let step = market.step;
    (0..CANDLES)
        .map(|k| {
            let (open, close) = (closes[k as usize + 1], closes[k as usize]);
            Candle {
                symbol: market.symbol,
                open: price(open),
                high: price(open.max(close) + step * (1 + k % 3)),
                low: price(open.min(close) - step * (1 + (k + seed) % 3)),
                close: price(close),
                volume: market.volume + ((k * 37 + seed * 11) % 23) as i32 * 10,
                at: bar - TimeDelta::minutes(5 * k),
            }
        })
        .collect()
}

fn indicators_of(
    market: &DemoMarket,
    seed: i64,
    closes: &[i64],
    bar: DateTime<Utc>,
) -> Vec<Indicators> {
    let price = |points: i64| Decimal::new(points, market.decimals);
    let (trend, step) = (market.trend, market.step);
    (0..=CANDLES)
        .step_by(INDICATOR_EVERY)
        .map(|k| {
            let close = closes[k as usize];
            let wiggle = wiggle(market, seed, k);
            let rsi = 5_000 + trend.signum() * 900 + wiggle * 150 / step + k * 37 % 100;
            let (macd, signal) = (trend * 4 + wiggle / 4, trend * 3);
            Indicators {
                symbol: market.symbol,
                rsi_14: Decimal::new(rsi, 2),
                sma_50: price(close - trend * 25 + step * 2),
                sma_200: price(close - trend * 90 - step * 5),
                atr: price(step * 5 + (k % 2) * step / 2),
                macd: json!({"macd": number(price(macd)), "signal": number(price(signal)),
                             "hist": number(price(macd - signal))}),
                at: bar - TimeDelta::minutes(5 * k),
            }
        })
        .collect()
}

/// The calendar as captured two hours ago and a minute ago: an actual value once released.
async fn insert_calendar(conn: &mut PgConnection, desk: &Desk) -> Result<u64, Error> {
    let captures = CALENDAR_CAPTURES
        .iter()
        .flat_map(|&c| CALENDAR.iter().map(move |e| (c, e)));
    insert(
        conn,
        "snapshot_calendar (id, event_time, currency, impact_level, title, previous_value,
                            forecast_value, actual_value, captured_at)",
        captures,
        |b, (captured, e)| {
            let at = desk.now + TimeDelta::minutes(e.minutes);
            let at = at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at);
            let captured = desk.ago(captured * 60);
            let actual = e.actual.filter(|_| at <= captured);
            push!(b; Uuid::new_v4(), at, e.currency, e.impact.as_str(), e.title);
            push!(b; e.previous, e.forecast, actual, captured);
        },
    )
    .await
}

async fn insert_news(conn: &mut PgConnection, desk: &Desk) -> Result<u64, Error> {
    insert(
        conn,
        "snapshot_news (id, headline, source, symbols, published_at, captured_at)",
        NEWS,
        |b, h| {
            let published = desk.ago(h.minutes_ago * 60);
            let captured = published + TimeDelta::seconds(20);
            push!(b; Uuid::new_v4(), h.headline, h.source, h.symbols, published, captured);
        },
    )
    .await
}

/// The ideas, one statement each: an executed one needs the trigger's permission first.
async fn insert_ideas(conn: &mut PgConnection, desk: &Desk) -> Result<u64, Error> {
    let mut written = 0;
    for (n, idea) in IDEAS.iter().enumerate() {
        if idea.status == IdeaStatus::AutoExecuted {
            allow_executed_idea(conn, desk.ideas[n]).await?;
        }
        let (price, zone) = match idea.entry {
            Price(price) => (Some(dec(price)), None),
            Zone(low, high) => (None, Some(vec![dec(low), dec(high)])),
        };
        let targets: Vec<Decimal> = idea.targets.iter().map(|p| dec(p)).collect();
        let created = desk.ago(idea.minutes_ago * 60);
        // Last touched by its latest decision.
        let touched = DECISIONS
            .iter()
            .filter(|d| d.idea == Some(n))
            .map(|d| d.seconds_ago)
            .min()
            .map_or(created, |seconds| desk.ago(seconds));
        written += insert(
            conn,
            "trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss, take_profit,
                          expected_hold, rationale, confidence_score, status, strategy_id,
                          snapshot_ref, created_at, updated_at)",
            [(price, zone, targets)],
            |b, (price, zone, targets)| {
                push!(b; desk.ideas[n], idea.symbol, idea.direction.as_str(), price, zone);
                push!(b; dec(idea.stop), targets, idea.hold, idea.rationale);
                push!(b; dec(idea.confidence), idea.status.as_str());
                b.push_unseparated("::tradeideastatus");
                push!(b; desk.strategies[idea.strategy], desk.cycles[n].0, created, touched);
            },
        )
        .await?;
    }
    Ok(written)
}

/// Migration 3's trigger refuses to record an automatic execution while AI trading is off,
/// as it is now. These ideas were executed hours ago (by the AI while it was on, or on an
/// operator's approval); naming each one, as an approval does, lets its historical row in
/// and nothing else. The setting ends with the transaction.
async fn allow_executed_idea(conn: &mut PgConnection, idea: Uuid) -> Result<(), Error> {
    sqlx::query("SELECT set_config('tradedesk.approving_idea', $1, true)")
        .bind(idea.to_string())
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
    Ok(())
}

async fn insert_decisions(conn: &mut PgConnection, desk: &Desk) -> Result<u64, Error> {
    insert(
        conn,
        "decision_history (id, occurred_at, symbol, action, rationale, confidence_score,
                           risk_check_result, strategy_id, trade_idea_id, snapshot_ref,
                           human_override, operator)",
        &DECISIONS,
        |b, d| {
            let of = d.idea.map(|n| &IDEAS[n]);
            let (symbol, strategy) = (
                of.map(|i| i.symbol),
                of.map(|i| desk.strategies[i.strategy]),
            );
            push!(b; Uuid::new_v4(), desk.ago(d.seconds_ago), symbol, d.action.as_str());
            b.push_unseparated("::decisionaction");
            push!(b; d.rationale, of.map(|i| dec(i.confidence)), d.risk_check, strategy);
            let (id, snapshot) = (
                d.idea.map(|n| desk.ideas[n]),
                d.idea.map(|n| desk.cycles[n].0),
            );
            push!(b; id, snapshot, d.operator.is_some(), d.operator);
        },
    )
    .await
}

/// The one order, for the approved gold idea: filled two seconds after the approval.
async fn insert_execution(conn: &mut PgConnection, desk: &Desk) -> Result<u64, Error> {
    let order = EXECUTION;
    let approved = DECISIONS
        .iter()
        .find(|d| d.idea == Some(order.idea) && d.action == DecisionAction::HumanApproved);
    let requested =
        desk.ago(approved.map_or(IDEAS[order.idea].minutes_ago * 60, |d| d.seconds_ago));
    insert(
        conn,
        "tradedesk.executions (id, trade_idea_id, lot_size, requested_by, requested_at, state,
                     broker_order_id, fill_price, updated_at)",
        [()],
        |b, ()| {
            push!(b; Uuid::new_v4(), desk.ideas[order.idea], dec(order.lot), order.requested_by);
            push!(b; requested, "filled");
            b.push_unseparated("::tradedesk.executionstate");
            push!(b; order.broker_order_id, dec(order.fill_price), requested + TimeDelta::seconds(2));
        },
    )
    .await
}

/// `INSERT INTO <into> VALUES …`, a row per item; returns the rows written.
async fn insert<I: IntoIterator>(
    conn: &mut PgConnection,
    into: &str,
    rows: I,
    mut row: impl FnMut(&mut Separated<'_, '_, Postgres, &'static str>, I::Item),
) -> Result<u64, Error> {
    let mut q = QueryBuilder::<Postgres>::new(format!("INSERT INTO {into} "));
    q.push_values(rows, |mut b, item| row(&mut b, item));
    let done = q
        .build()
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
    Ok(done.rows_affected())
}

/// A decimal of the demo tables (every one a literal, so it parses).
fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("the demo tables hold plain decimals")
}

/// A decimal as a JSON number, digits as written.
fn number(value: Decimal) -> Value {
    Number::from_str(&value.to_string()).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The named indexes point at the ideas their names promise, so the decisions table
    /// tells the module doc's story.
    #[test]
    fn idea_indexes_name_their_ideas() {
        let named = [
            (GOLD_PENDING, "XAUUSD", IdeaStatus::NeedsApproval),
            (EURUSD_PENDING, "EURUSD", IdeaStatus::NeedsApproval),
            (USDJPY_PENDING, "USDJPY", IdeaStatus::NeedsApproval),
            (USDCAD_PENDING, "USDCAD", IdeaStatus::NeedsApproval),
            (EURUSD_AUTO, "EURUSD", IdeaStatus::AutoExecuted),
            (GBPUSD_HALTED, "GBPUSD", IdeaStatus::HaltedByRisk),
            (GBPUSD_CPI, "GBPUSD", IdeaStatus::Rejected),
            (GOLD_APPROVED, "XAUUSD", IdeaStatus::AutoExecuted),
            (EURUSD_LOT, "EURUSD", IdeaStatus::Rejected),
            (AUDUSD_REJECTED, "AUDUSD", IdeaStatus::Rejected),
        ];
        for (n, symbol, status) in named {
            assert_eq!(
                (IDEAS[n].symbol, IDEAS[n].status),
                (symbol, status),
                "idea {n}"
            );
        }
        // Every idea has a decision, and none is older than its idea.
        for (n, idea) in IDEAS.iter().enumerate() {
            let of: Vec<_> = DECISIONS.iter().filter(|d| d.idea == Some(n)).collect();
            assert!(!of.is_empty(), "idea {n} has no decision");
            assert!(
                of.iter().all(|d| d.seconds_ago <= idea.minutes_ago * 60),
                "idea {n}"
            );
        }
        assert_eq!(
            STRATEGY_AGES.len(),
            parse_documents(STRATEGIES).unwrap().len()
        );
    }
}
