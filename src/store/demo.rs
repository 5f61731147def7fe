//! Demo data: on an empty database (just after `tradedesk setup`), a small, realistic desk —
//! three strategies, the day's account snapshots, the market data of the last day and some,
//! a calendar and headlines over it, ten trade ideas (four awaiting approval) and the
//! decisions that led to them — written in one transaction and timed from the database's
//! clock, so the desk looks live whenever it is seeded. Every decision and idea replays
//! complete (docs/platform.md, "Decision replay"): the candles and indicators of its
//! hold's timeframe up to its moment, calendar captures and headlines in the day before it,
//! and the account row its `snapshot_ref` names.
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
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::{Number, Value, json};
use sqlx::query_builder::Separated;
use sqlx::{Acquire as _, PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::Store;
use super::error::Error;
use super::risk;
use crate::domain::indicators::{
    self, ATR_PERIOD, MACD_FAST, MACD_SIGNAL, MACD_SLOW, RSI_PERIOD, SMA_FAST, SMA_SLOW,
};
use crate::domain::replay::{CANDLES_BEFORE, Timeframe, timeframe_for_hold};
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
    DemoDecision { seconds_ago: 1212 * 60, idea: Some(GBPUSD_HALTED), action: DecisionAction::AiProposed,
        risk_check: None, operator: None,
        rationale: "Proposed: waiting for the Gate." },
    // One row per halt, as the platform writes it: the idea it stopped is named, and its
    // fate is in its status.
    DemoDecision { seconds_ago: 1210 * 60, idea: None, action: DecisionAction::AiHalted,
        risk_check: Some("fail:max_drawdown"), operator: None,
        rationale: "The day's drawdown 123.40 reached max_drawdown_amount 120.00: AI trading switched off; 1 waiting idea stopped (GBPUSD)." },
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

/// One symbol's market. Its closes run through `path`, points newest first, each (minutes
/// before the last M5 bar, a multiple of five; the close then, in points at `decimals`
/// places), the first being the last close. Between two points the price moves in a
/// straight line plus a deterministic wobble (a zigzag of up to four `step`s a candle and
/// a random walk of up to one) that vanishes at both points, so the bar closing at a point
/// closes at its price exactly; before the oldest point it wanders around it. `volume` is
/// a quiet candle's.
struct DemoMarket {
    symbol: &'static str,
    decimals: u32,
    step: i64,
    volume: i32,
    path: &'static [(i64, i64)],
}

/// The last day and a half, as the story tells it (older points only settle the
/// indicators). EURUSD bought at 1.08205 after reclaiming 1.0815, climbing to the 1.0865
/// resistance, slipping below 1.0850 and rejected there twice. GBPUSD breaking the bottom
/// of its Asian range at the London open (the sell at 1.27310), coiling under 1.2690
/// before UK CPI (the buy at 1.26880) and jumping on the hot print. AUDUSD bouncing off
/// 0.6610 to 0.6618. Gold in a range for two weeks, dipping to 2610 and to its 200-hour
/// average, bought there at 2618.20 (filled at 2618.45, never near its stop 2606.50 or its
/// first target 2664 since), breaking 2645 and closing at 2651.40. The pending ideas sit
/// at the last prices.
#[rustfmt::skip]
const MARKET: [DemoMarket; 6] = [
    DemoMarket { symbol: "EURUSD", decimals: 5, step: 9, volume: 1400, path: &[
        (0, 108_412), (20, 108_400), (25, 108_415), (40, 108_490), (50, 108_440), (60, 108_500),
        (120, 108_556), (200, 108_585), (240, 108_620), (255, 108_648),
        (300, 108_540), (420, 108_470), (600, 108_380), (780, 108_340), (960, 108_260),
        (1200, 108_300), (1330, 108_330), (1400, 108_205), (1430, 108_235), (1460, 108_150),
        (1600, 108_190), (1800, 108_120), (2200, 108_180), (2600, 108_100), (3000, 108_150)] },
    DemoMarket { symbol: "GBPUSD", decimals: 5, step: 11, volume: 1100, path: &[
        (0, 127_055), (120, 127_007), (300, 126_990), (420, 127_060), (540, 127_150),
        (580, 127_120), (595, 127_010), (600, 126_880), (640, 126_885), (720, 126_860),
        (800, 126_900), (1000, 126_960), (1140, 127_080), (1180, 127_150), (1205, 127_260),
        (1215, 127_310), (1225, 127_220), (1240, 127_360), (1300, 127_380), (1400, 127_450),
        (1500, 127_520), (2000, 127_600), (3000, 127_500)] },
    DemoMarket { symbol: "USDJPY", decimals: 3, step: 12, volume: 1600, path: &[
        (0, 151_382), (120, 151_190), (360, 151_050), (700, 150_880), (960, 150_720),
        (1000, 150_760), (1400, 150_720), (1800, 150_600), (2400, 150_450), (3000, 150_520)] },
    DemoMarket { symbol: "USDCAD", decimals: 5, step: 8, volume: 900, path: &[
        (0, 136_218), (120, 136_338), (400, 136_420), (800, 136_380), (960, 136_460),
        (1200, 136_510), (1600, 136_450), (2200, 136_380), (3000, 136_300)] },
    DemoMarket { symbol: "AUDUSD", decimals: 5, step: 7, volume: 800, path: &[
        (0, 66_134), (60, 66_150), (95, 66_180), (115, 66_112), (150, 66_105), (240, 66_140),
        (500, 66_200), (900, 66_260), (1400, 66_220), (1750, 66_290), (2400, 66_250),
        (3000, 66_300)] },
    DemoMarket { symbol: "XAUUSD", decimals: 2, step: 60, volume: 2400, path: &[
        (0, 265_140), (120, 264_300), (200, 263_700), (260, 263_000), (320, 262_300),
        (370, 261_870), (380, 261_820), (395, 261_400), (425, 261_000), (470, 261_500),
        (560, 262_400), (700, 263_300), (850, 262_800), (1000, 263_400), (1200, 262_500),
        (1440, 261_800), (1800, 262_300), (2400, 261_200), (3000, 262_500), (4000, 263_600),
        (5000, 262_000), (6500, 260_400), (8000, 261_800), (9500, 263_000), (11000, 261_500),
        (13000, 260_000), (16000, 259_000), (20000, 258_000)] },
];
/// M5 candles every symbol has at least: the live desk's last two hours.
const LIVE_M5_CANDLES: i64 = 24;
/// M5 indicators are captured every this many candles; those of longer timeframes at
/// every candle.
const M5_INDICATOR_EVERY: usize = 3;
/// Candles computed before the first one written, so that the first indicators written
/// (SMA 200, MACD) are as settled as the last.
const WARM_UP: usize = SMA_SLOW;

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

/// Yesterday's and today's releases. No high-impact release falls inside a blackout the
/// decisions' recorded results do not name (UK CPI is the GBPUSD rejection's).
#[rustfmt::skip]
const CALENDAR: [DemoEvent; 15] = [
    DemoEvent { minutes: -2010, currency: "USD", impact: Impact::Medium, title: "FOMC Member Waller Speaks",
        previous: None, forecast: None, actual: None },
    DemoEvent { minutes: -1750, currency: "AUD", impact: Impact::Medium, title: "Westpac Consumer Sentiment",
        previous: Some("-0.1%"), forecast: None, actual: Some("1.2%") },
    DemoEvent { minutes: -1655, currency: "JPY", impact: Impact::Medium, title: "Core Machinery Orders m/m",
        previous: Some("-1.2%"), forecast: Some("0.8%"), actual: Some("2.1%") },
    DemoEvent { minutes: -1320, currency: "GBP", impact: Impact::Medium, title: "Claimant Count Change",
        previous: Some("27.9K"), forecast: Some("20.2K"), actual: Some("26.7K") },
    DemoEvent { minutes: -1230, currency: "GBP", impact: Impact::Medium, title: "BoE Gov Bailey Speaks",
        previous: None, forecast: None, actual: None },
    DemoEvent { minutes: -1100, currency: "EUR", impact: Impact::Low, title: "French Final CPI m/m",
        previous: Some("0.3%"), forecast: Some("0.2%"), actual: Some("0.2%") },
    DemoEvent { minutes: -960, currency: "USD", impact: Impact::Medium, title: "Empire State Manufacturing Index",
        previous: Some("11.5"), forecast: Some("3.9"), actual: Some("-11.9") },
    DemoEvent { minutes: -870, currency: "CAD", impact: Impact::Medium, title: "Manufacturing Sales m/m",
        previous: Some("-1.3%"), forecast: Some("0.4%"), actual: Some("0.6%") },
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
/// The calendar is captured every four hours back to before the oldest idea, and a minute
/// ago (minutes ago); the capture at 605 minutes ago shows UK CPI two minutes after the
/// GBPUSD idea's cycle, as its rejection says.
const CALENDAR_CAPTURES: [i64; 8] = [1565, 1325, 1085, 845, 605, 365, 125, 1];
/// A capture holds the releases from 12 hours before it to 24 hours after it (minutes).
const CALENDAR_SPAN: (i64, i64) = (12 * 60, 24 * 60);

/// A headline, published `minutes_ago` and captured 20 seconds later.
struct DemoHeadline {
    minutes_ago: i64,
    source: &'static str,
    headline: &'static str,
    symbols: &'static [&'static str],
}

#[rustfmt::skip]
const NEWS: [DemoHeadline; 17] = [
    DemoHeadline { minutes_ago: 1745, source: "Reuters",
        headline: "Australian consumer sentiment rebounds to a two-year high", symbols: &["AUDUSD"] },
    DemoHeadline { minutes_ago: 1470, source: "Reuters",
        headline: "Euro edges up in Asia as the dollar's rally pauses", symbols: &["EURUSD"] },
    DemoHeadline { minutes_ago: 1415, source: "Bloomberg",
        headline: "Dollar slips as Treasury yields retreat from a two-week high", symbols: &["EURUSD", "USDJPY", "USDCAD", "XAUUSD"] },
    DemoHeadline { minutes_ago: 1222, source: "Reuters",
        headline: "Sterling slides to a session low as Bailey flags a cooling labour market", symbols: &["GBPUSD"] },
    DemoHeadline { minutes_ago: 1150, source: "FXStreet",
        headline: "Pound steadies after an early London sell-off", symbols: &["GBPUSD"] },
    DemoHeadline { minutes_ago: 955, source: "MarketWatch",
        headline: "New York factory gauge slumps unexpectedly; dollar dips", symbols: &["EURUSD", "USDJPY", "USDCAD", "XAUUSD"] },
    DemoHeadline { minutes_ago: 650, source: "Reuters",
        headline: "Pound traders brace for a UK inflation print seen at 2.4%", symbols: &["GBPUSD"] },
    DemoHeadline { minutes_ago: 596, source: "Bloomberg",
        headline: "UK inflation jumps to 2.6%, above forecasts; sterling spikes", symbols: &["GBPUSD"] },
    DemoHeadline { minutes_ago: 398, source: "Reuters",
        headline: "US yields ease from their highs; gold finds buyers near $2,610", symbols: &["XAUUSD"] },
    DemoHeadline { minutes_ago: 265, source: "Reuters",
        headline: "ECB's Schnabel sees no rush for further rate cuts", symbols: &["EURUSD"] },
    DemoHeadline { minutes_ago: 150, source: "Bloomberg",
        headline: "Iron ore futures climb as Chinese steel output picks up", symbols: &["AUDUSD"] },
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
        // The audit (migration 14) names the seeding for the changes it makes.
        let seeder = crate::operator::Operator::new("tradedesk demo")
            .ok_or_else(|| Error::InvalidInput("the demo's operator has a name".into()))?;
        super::changes::name(conn, &seeder, None).await?;
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
    /// captured [`CYCLE_LEAD_SECONDS`] before the idea.
    cycles: Vec<(Uuid, DateTime<Utc>)>,
}

impl Desk {
    fn new(now: DateTime<Utc>, strategies: usize) -> Self {
        let ids = |n: usize| (0..n).map(|_| Uuid::new_v4()).collect();
        let cycles = IDEAS
            .iter()
            .map(|i| (Uuid::new_v4(), ago(now, cycle_seconds_ago(i))))
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

/// How long before its creation the engine's cycle that proposed an idea captured the
/// account (the idea's `snapshot_ref`, the moment its replay shows).
const CYCLE_LEAD_SECONDS: i64 = 15;

/// When the cycle that proposed `idea` looked, in seconds before now.
fn cycle_seconds_ago(idea: &DemoIdea) -> i64 {
    idea.minutes_ago * 60 + CYCLE_LEAD_SECONDS
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
    record_london_disabled(conn, &desk).await?;
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

/// Raj's switching off of London breakout after the UK CPI rejection, in the audit as the
/// store writes a disable, at its time: a replay of a decision before it sees the strategy
/// as it was then, active.
async fn record_london_disabled(conn: &mut PgConnection, desk: &Desk) -> Result<(), Error> {
    let id = desk.strategies[LONDON];
    let after = super::strategies::fetch(conn, id, super::strategies::Lock::None).await?;
    let mut before = after.to_document();
    before["is_active"] = Value::Bool(true);
    sqlx::query(
        "INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, subject_id,
                                               subject_name, change, before, after)
         VALUES ($1, $2, $3, 'strategy', $4, $5, 'disabled', $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(desk.ago(STRATEGY_AGES[LONDON].updated * 3_600))
    .bind(RAJ)
    .bind(id)
    .bind(&after.name)
    .bind(before)
    .bind(after.to_document())
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(())
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

/// A candle row of `snapshot_market`.
struct Candle {
    symbol: &'static str,
    timeframe: Timeframe,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: i32,
    at: DateTime<Utc>,
}

/// A row of `snapshot_indicators`.
struct IndicatorRow {
    symbol: &'static str,
    timeframe: Timeframe,
    rsi_14: Option<Decimal>,
    sma_50: Option<Decimal>,
    sma_200: Option<Decimal>,
    atr: Option<Decimal>,
    /// `{"macd": …, "signal": …, "hist": …}`.
    macd: Option<Value>,
    at: DateTime<Utc>,
}

/// A candle in points, before it is priced and timed.
#[derive(Clone, Copy)]
struct Bar {
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: i64,
}

/// Market data: the candles and indicators of [`market_rows`], a statement each, as
/// arrays (thousands of rows: one parameter a column, not one a value).
async fn insert_market(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<(u64, u64), Error> {
    let (candles, indicators) = market_rows(now);
    let ids = |n: usize| (0..n).map(|_| Uuid::new_v4()).collect::<Vec<_>>();
    let candles = sqlx::query(
        "INSERT INTO snapshot_market (id, symbol, timeframe, open, high, low, close, volume,
                                      captured_at)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::numeric[],
                              $6::numeric[], $7::numeric[], $8::int[], $9::timestamptz[])",
    )
    .bind(ids(candles.len()))
    .bind(column(&candles, |c| c.symbol))
    .bind(column(&candles, |c| c.timeframe.as_str()))
    .bind(column(&candles, |c| c.open))
    .bind(column(&candles, |c| c.high))
    .bind(column(&candles, |c| c.low))
    .bind(column(&candles, |c| c.close))
    .bind(column(&candles, |c| c.volume))
    .bind(column(&candles, |c| c.at))
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    let indicators = sqlx::query(
        "INSERT INTO snapshot_indicators (id, symbol, timeframe, rsi_14, sma_50, sma_200, atr,
                                          macd, captured_at)
         SELECT id, symbol, timeframe, rsi_14, sma_50, sma_200, atr, macd::json, captured_at
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::numeric[],
                       $6::numeric[], $7::numeric[], $8::text[], $9::timestamptz[])
             AS i(id, symbol, timeframe, rsi_14, sma_50, sma_200, atr, macd, captured_at)",
    )
    .bind(ids(indicators.len()))
    .bind(column(&indicators, |i| i.symbol))
    .bind(column(&indicators, |i| i.timeframe.as_str()))
    .bind(column(&indicators, |i| i.rsi_14))
    .bind(column(&indicators, |i| i.sma_50))
    .bind(column(&indicators, |i| i.sma_200))
    .bind(column(&indicators, |i| i.atr))
    .bind(column(&indicators, |i| {
        i.macd.as_ref().map(Value::to_string)
    }))
    .bind(column(&indicators, |i| i.at))
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok((candles.rows_affected(), indicators.rows_affected()))
}

/// One column of `rows`, to bind as an array.
fn column<R, T>(rows: &[R], value: impl Fn(&R) -> T) -> Vec<T> {
    rows.iter().map(value).collect()
}

/// The demo's market as of `now`, per symbol: M5 candles up to the last five-minute
/// boundary, with indicators every [`M5_INDICATOR_EVERY`] candles, and candles and
/// indicators of each longer timeframe an idea of the symbol is read on, built from the
/// same M5 candles; as many as [`seeded_candles`] says. A candle is written at its close.
fn market_rows(now: DateTime<Utc>) -> (Vec<Candle>, Vec<IndicatorRow>) {
    let five = TimeDelta::minutes(5);
    let bar = now.duration_trunc(five).unwrap_or(now);
    // The longer timeframes: their last boundary, and the M5 bars since.
    let longer: Vec<(Timeframe, DateTime<Utc>, usize)> = Timeframe::ALL
        .iter()
        .copied()
        .filter(|t| t.span() > five && (t.span().num_seconds() % five.num_seconds()) == 0)
        .map(|t| {
            let last = now.duration_trunc(t.span()).unwrap_or(bar);
            (t, last, ((bar - last).num_minutes() / 5) as usize)
        })
        .collect();
    let (mut candles, mut indicators) = (Vec::new(), Vec::new());
    for (seed, market) in (0_i64..).zip(&MARKET) {
        let mut rows = |timeframe, bars: &[Bar], last, every| {
            let count = seeded_candles(timeframe, market.symbol);
            let (c, i) = rows_of(market, timeframe, bars, last, count, every);
            candles.extend(c);
            indicators.extend(i);
        };
        let wanted = |t: Timeframe, since: usize| match seeded_candles(t, market.symbol) {
            0 => 0,
            n => since + per_m5(t) * (n + WARM_UP),
        };
        let reach = longer
            .iter()
            .map(|&(t, _, since)| wanted(t, since))
            .fold(wanted(Timeframe::M5, 0), usize::max);
        let m5 = m5_bars(market, seed, reach);
        // Its own indicators need no more than its own warm-up.
        let own = wanted(Timeframe::M5, 0).min(m5.len());
        rows(Timeframe::M5, &m5[..own], bar, M5_INDICATOR_EVERY);
        for &(timeframe, last, since) in &longer {
            if seeded_candles(timeframe, market.symbol) > 0 {
                let bars = merged(&m5[since..], per_m5(timeframe));
                rows(timeframe, &bars, last, 1);
            }
        }
    }
    (candles, indicators)
}

/// Candles of `timeframe` seeded for `symbol`, in whole hours: the replay's full chart
/// ([`CANDLES_BEFORE`] up to the moment) for the oldest idea read on that timeframe (its
/// hold's: docs/platform.md, "Decision replay"). M5 reaches as far back for every symbol,
/// and never less than the live desk's two hours; another timeframe, only for the symbols
/// it is read on.
fn seeded_candles(timeframe: Timeframe, symbol: &str) -> usize {
    let span = timeframe.span().num_seconds();
    let oldest = IDEAS
        .iter()
        .filter(|i| timeframe_for_hold(Some(i.hold)) == Some(timeframe))
        .filter(|i| timeframe == Timeframe::M5 || i.symbol == symbol)
        .map(|i| (cycle_seconds_ago(i) + span - 1) / span + CANDLES_BEFORE)
        .max();
    let wanted = match (timeframe, oldest) {
        (Timeframe::M5, oldest) => oldest.unwrap_or(0).max(LIVE_M5_CANDLES),
        (_, oldest) => oldest.unwrap_or(0),
    };
    let per_hour = (3_600 / span).max(1);
    usize::try_from((wanted + per_hour - 1) / per_hour * per_hour).unwrap_or(0)
}

/// M5 candles in one of `timeframe`.
fn per_m5(timeframe: Timeframe) -> usize {
    (timeframe.span().num_minutes() / 5) as usize
}

/// `count` M5 bars of `market`, newest first: bar `k` closes `k` bars before the last.
fn m5_bars(market: &DemoMarket, seed: i64, count: usize) -> Vec<Bar> {
    let closes = closes(market, seed, count + 1);
    let step = market.step;
    let quiet = i64::from(market.volume);
    (0..count)
        .map(|n| {
            let (open, close) = (closes[n + 1], closes[n]);
            let k = n as i64;
            Bar {
                open,
                high: open.max(close) + step * (1 + k % 3),
                low: open.min(close) - step * (1 + (k + seed) % 3),
                close,
                // Busier when the price moves.
                volume: quiet
                    + (k * 37 + seed * 11) % 23 * 10
                    + quiet * (close - open).abs() / (6 * step),
            }
        })
        .collect()
}

/// `count` closes of `market`, newest first, along its path (see [`DemoMarket`]).
fn closes(market: &DemoMarket, seed: i64, count: usize) -> Vec<i64> {
    let points: Vec<(usize, i64)> = market
        .path
        .iter()
        .map(|&(minutes, price)| ((minutes / 5) as usize, price))
        .collect();
    let reach = points.last().map_or(0, |p| p.0).max(count);
    // The wobble, summed back from the last bar.
    let mut wobble = vec![0; reach + 1];
    for k in 1..=reach {
        let j = k as i64 - 1;
        wobble[k] = wobble[k - 1] - wiggle(market, seed, j) - jitter(seed, j, market.step);
    }
    (0..count)
        .map(
            |k| match points.windows(2).find(|w| w[0].0 <= k && k <= w[1].0) {
                Some(&[(a, from), (b, to)]) => {
                    let along = |x: i64, y: i64| x + (y - x) * (k - a) as i64 / (b - a) as i64;
                    along(from, to) + wobble[k] - along(wobble[a], wobble[b])
                }
                _ => {
                    // Past the oldest point: around it.
                    let (oldest, price) = points.last().copied().unwrap_or((0, 0));
                    price + wobble[k] - wobble[oldest]
                }
            },
        )
        .collect()
}

/// A symbol's deterministic zigzag, in points, `k` candles back: it sums to nothing over
/// any nine candles.
fn wiggle(market: &DemoMarket, seed: i64, k: i64) -> i64 {
    ((k * 7 + seed * 3) % 9 - 4) * market.step
}

/// A deterministic random move from `-step` to `step` points, `k` candles back
/// (SplitMix64 of the symbol and the candle).
fn jitter(seed: i64, k: i64, step: i64) -> i64 {
    let mut x = ((seed as u64) << 32 ^ k as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x % (2 * step as u64 + 1)) as i64 - step
}

/// Bars of a longer timeframe, newest first, each of `per` M5 bars (newest first, the
/// first closing at the longer bar's close).
fn merged(m5: &[Bar], per: usize) -> Vec<Bar> {
    m5.chunks_exact(per)
        .map(|bars| Bar {
            open: bars[per - 1].open,
            high: bars.iter().map(|b| b.high).max().unwrap_or(bars[0].close),
            low: bars.iter().map(|b| b.low).min().unwrap_or(bars[0].close),
            close: bars[0].close,
            volume: bars.iter().map(|b| b.volume).sum(),
        })
        .collect()
}

/// The first `count` of `bars` (newest first, the first closing at `last`) as candles of
/// `timeframe`, and the indicators at every `every`-th, computed over all of `bars` as
/// `domain::indicators` computes them (rounded to the columns' scales only where written).
fn rows_of(
    market: &DemoMarket,
    timeframe: Timeframe,
    bars: &[Bar],
    last: DateTime<Utc>,
    count: usize,
    every: usize,
) -> (Vec<Candle>, Vec<IndicatorRow>) {
    let price = |points: i64| Decimal::new(points, market.decimals);
    let real = |points: i64| points as f64 / 10_f64.powi(market.decimals as i32);
    let at = |k: usize| last - timeframe.span() * k as i32;
    let count = count.min(bars.len());
    let candles = bars[..count]
        .iter()
        .enumerate()
        .map(|(k, b)| Candle {
            symbol: market.symbol,
            timeframe,
            open: price(b.open),
            high: price(b.high),
            low: price(b.low),
            close: price(b.close),
            volume: i32::try_from(b.volume).unwrap_or(i32::MAX),
            at: at(k),
        })
        .collect();
    let hlc: Vec<(f64, f64, f64)> = bars
        .iter()
        .rev()
        .map(|b| (real(b.high), real(b.low), real(b.close)))
        .collect();
    let closes: Vec<f64> = hlc.iter().map(|b| b.2).collect();
    let rsi = indicators::rsi(&closes, RSI_PERIOD);
    let (fast, slow) = (
        indicators::sma(&closes, SMA_FAST),
        indicators::sma(&closes, SMA_SLOW),
    );
    let atr = indicators::atr(&hlc, ATR_PERIOD);
    let macd = indicators::macd(&closes, MACD_FAST, MACD_SLOW, MACD_SIGNAL);
    let indicators = (0..count)
        .step_by(every.max(1))
        .map(|k| {
            let n = bars.len() - 1 - k;
            IndicatorRow {
                symbol: market.symbol,
                timeframe,
                rsi_14: rsi[n].and_then(|x| rounded(x, RSI_SCALE)),
                sma_50: fast[n].and_then(|x| rounded(x, PRICE_SCALE)),
                sma_200: slow[n].and_then(|x| rounded(x, PRICE_SCALE)),
                atr: atr[n].and_then(|x| rounded(x, PRICE_SCALE)),
                macd: macd[n].and_then(macd_json),
                at: at(k),
            }
        })
        .collect();
    (candles, indicators)
}

/// `rsi_14` is `NUMERIC(6,2)`; `sma_50`, `sma_200`, `atr` `NUMERIC(18,6)`, and MACD's
/// numbers are kept alike (as `domain::indicators` rounds them).
const RSI_SCALE: u32 = 2;
const PRICE_SCALE: u32 = 6;

/// `x` at `scale` places, halves away from zero as PostgreSQL rounds `NUMERIC`.
fn rounded(x: f64, scale: u32) -> Option<Decimal> {
    Decimal::from_f64_retain(x)
        .map(|d| d.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero))
}

/// MACD as the collector writes it, digits as rounded.
fn macd_json((macd, signal, hist): (f64, f64, f64)) -> Option<Value> {
    let value = |x: f64| rounded(x, PRICE_SCALE).map(number);
    Some(json!({"macd": value(macd)?, "signal": value(signal)?, "hist": value(hist)?}))
}

/// The calendar as captured at each of [`CALENDAR_CAPTURES`]: the releases within
/// [`CALENDAR_SPAN`] of the capture, with an actual value once released.
async fn insert_calendar(conn: &mut PgConnection, desk: &Desk) -> Result<u64, Error> {
    let (before, after) = CALENDAR_SPAN;
    let captures = CALENDAR_CAPTURES.iter().flat_map(|&c| {
        CALENDAR
            .iter()
            .filter(move |e| (-c - before..=-c + after).contains(&e.minutes))
            .map(move |e| (c, e))
    });
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

/// The ideas, one statement each. The two executed ones pass the kill switch, which judges
/// them at commit (migration 12), by its own rule: the approved gold idea by its
/// `human_approved` row, written in this transaction, and the AI's EURUSD idea because the
/// story ends with AI trading on, as `seed_demo` sets it before committing.
async fn insert_ideas(conn: &mut PgConnection, desk: &Desk) -> Result<u64, Error> {
    let mut written = 0;
    for (n, idea) in IDEAS.iter().enumerate() {
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

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Clocks around a five-minute and an hour boundary: the bars' alignment to now varies.
    fn clocks() -> [DateTime<Utc>; 4] {
        [
            at("2025-03-12T14:37:42Z"),
            at("2025-03-12T15:00:00Z"),
            at("2025-03-12T15:04:59.900Z"),
            at("2025-03-13T00:00:10Z"),
        ]
    }

    #[test]
    fn paths_start_at_the_last_close_and_run_back_on_five_minute_marks() {
        for m in &MARKET {
            assert_eq!(m.path[0].0, 0, "{}", m.symbol);
            assert!(m.path.windows(2).all(|w| w[0].0 < w[1].0), "{}", m.symbol);
            assert!(
                m.path
                    .iter()
                    .all(|&(minutes, price)| minutes % 5 == 0 && price > 0),
                "{}",
                m.symbol
            );
        }
    }

    /// Over the whole seeded span: proper candles, continuous prices (each opens at the
    /// close before it), within 4 % of the last close, ending at it; sane indicators.
    #[test]
    fn the_market_stays_realistic_and_ends_at_the_last_closes() {
        for now in clocks() {
            let (candles, indicators) = market_rows(now);
            for m in &MARKET {
                let last = Decimal::new(m.path[0].1, m.decimals);
                let band = last * Decimal::new(4, 2);
                let timeframes = [Timeframe::M5, Timeframe::H1];
                for timeframe in timeframes {
                    let mut series: Vec<_> = candles
                        .iter()
                        .filter(|c| c.symbol == m.symbol && c.timeframe == timeframe)
                        .collect();
                    assert_eq!(series.len(), seeded_candles(timeframe, m.symbol));
                    if series.is_empty() {
                        continue;
                    }
                    series.sort_by_key(|c| c.at);
                    assert!(now - series.last().unwrap().at < timeframe.span());
                    // M5 ends at the last close; a longer candle closes with the M5 one
                    // written at its time.
                    if timeframe == Timeframe::M5 {
                        assert_eq!(series.last().unwrap().close, last, "{}", m.symbol);
                    }
                    for c in &series {
                        let m5 = candles.iter().find(|f| {
                            f.symbol == m.symbol && f.timeframe == Timeframe::M5 && f.at == c.at
                        });
                        assert!(
                            m5.is_none_or(|f| f.close == c.close),
                            "{} {}",
                            m.symbol,
                            c.at
                        );
                    }
                    for c in &series {
                        assert!(
                            Decimal::ZERO < c.low
                                && c.low <= c.open.min(c.close)
                                && c.open.max(c.close) <= c.high
                                && (c.low - last).abs() < band
                                && (c.high - last).abs() < band
                                && c.volume > 0,
                            "{} {timeframe} {}",
                            m.symbol,
                            c.at
                        );
                    }
                    for w in series.windows(2) {
                        assert_eq!(w[1].at - w[0].at, timeframe.span());
                        assert_eq!(
                            w[1].open, w[0].close,
                            "{} {timeframe} {}",
                            m.symbol, w[1].at
                        );
                    }
                }
            }
            for i in &indicators {
                let close = candles
                    .iter()
                    .find(|c| c.symbol == i.symbol && c.timeframe == i.timeframe && c.at == i.at)
                    .map(|c| c.close)
                    .expect("indicators at a candle");
                let near = |v: Option<Decimal>| {
                    v.is_some_and(|v| (v - close).abs() < close * Decimal::new(2, 2))
                };
                let rsi = i.rsi_14.expect("rsi");
                assert!(
                    (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&rsi)
                        && near(i.sma_50)
                        && near(i.sma_200)
                        && i.atr
                            .is_some_and(|a| a > Decimal::ZERO && a < close / Decimal::TEN)
                        && i.macd.as_ref().is_some_and(|m| m["hist"].is_number()),
                    "{} {} {}",
                    i.symbol,
                    i.timeframe,
                    i.at
                );
            }
        }
    }

    /// Every idea appears where its market traded: its entry within the candles of its
    /// hold's timeframe around its moment, its stop and first target beyond the hour
    /// before it.
    #[test]
    fn each_idea_sits_on_its_market() {
        for now in clocks() {
            let (candles, _) = market_rows(now);
            for (n, idea) in IDEAS.iter().enumerate() {
                let timeframe = timeframe_for_hold(Some(idea.hold)).expect("a seeded timeframe");
                let moment = now - TimeDelta::seconds(cycle_seconds_ago(idea));
                let span = timeframe.span();
                let range = |from: DateTime<Utc>, to: DateTime<Utc>| {
                    let around: Vec<_> = candles
                        .iter()
                        .filter(|c| c.symbol == idea.symbol && c.timeframe == timeframe)
                        .filter(|c| c.at > from && c.at <= to)
                        .collect();
                    assert!(!around.is_empty(), "idea {n} at {now}");
                    let low = around.iter().map(|c| c.low).min().unwrap();
                    let high = around.iter().map(|c| c.high).max().unwrap();
                    (low, high)
                };
                let (low, high) = range(moment - span, moment + span);
                let (entry_low, entry_high) = match idea.entry {
                    Price(p) => (dec(p), dec(p)),
                    Zone(l, h) => (dec(l), dec(h)),
                };
                assert!(
                    low <= entry_high && entry_low <= high,
                    "idea {n} at {now}: entry {entry_low}–{entry_high} outside {low}–{high}"
                );
                let (low, high) = range(moment - TimeDelta::hours(1), moment);
                let (stop, target) = (dec(idea.stop), dec(idea.targets[0]));
                let beyond = match idea.direction {
                    Direction::Buy => stop < low && high < target,
                    Direction::Sell => high < stop && target < low,
                };
                assert!(
                    beyond,
                    "idea {n} at {now}: stop {stop}, target {target}, traded {low}–{high}"
                );
            }
        }
    }

    /// The order left open (gold, filled at 2618.45) has touched neither its stop nor its
    /// first target since it was filled, on any timeframe.
    #[test]
    fn the_open_order_was_never_stopped_nor_taken() {
        let idea = &IDEAS[EXECUTION.idea];
        let approved = DECISIONS
            .iter()
            .find(|d| d.idea == Some(EXECUTION.idea) && d.action == DecisionAction::HumanApproved)
            .expect("the approval");
        for now in clocks() {
            let filled = now - TimeDelta::seconds(approved.seconds_ago);
            let (candles, _) = market_rows(now);
            let since: Vec<_> = candles
                .iter()
                .filter(|c| c.symbol == idea.symbol && c.at - c.timeframe.span() >= filled)
                .collect();
            assert!(since.len() > 24, "{}", since.len());
            for c in since {
                assert!(
                    dec(idea.stop) < c.low && c.high < dec(idea.targets[0]),
                    "{} {} {}–{}",
                    c.timeframe,
                    c.at,
                    c.low,
                    c.high
                );
            }
            // Filled where gold traded then.
            let (low, high) = candles
                .iter()
                .filter(|c| c.symbol == idea.symbol && c.timeframe == Timeframe::H1)
                .filter(|c| c.at >= filled && c.at - c.timeframe.span() < filled)
                .map(|c| (c.low, c.high))
                .next()
                .expect("the hour of the fill");
            let fill = dec(EXECUTION.fill_price);
            assert!(low <= fill && fill <= high, "{fill} outside {low}–{high}");
        }
    }

    /// What the desk writes fits in a few statements and stays small.
    #[test]
    fn the_seeded_market_is_modest() {
        let (candles, indicators) = market_rows(at("2025-03-12T14:37:42Z"));
        assert_eq!(seeded_candles(Timeframe::M5, "EURUSD"), 29 * 12);
        assert_eq!(seeded_candles(Timeframe::M5, "USDCAD"), 29 * 12);
        assert_eq!(seeded_candles(Timeframe::H1, "XAUUSD"), 67);
        assert_eq!(seeded_candles(Timeframe::H1, "EURUSD"), 0);
        assert_eq!(candles.len(), 6 * 348 + 67);
        assert_eq!(indicators.len(), 6 * 116 + 67);
    }
}
