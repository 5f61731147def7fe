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

/// The reason of the demo's last halt, shown in the header.
const DEMO_HALT_REASON: &str =
    "Pausing the AI into US CPI; approving by hand until the release settles.";

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
use crate::domain::TradingDay;
use crate::domain::strategy::document::parse_documents;

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

const ANN: &str = "ann@desk.example";
const RAJ: &str = "raj@desk.example";

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
/// Each strategy's (created, last updated) in hours ago: London breakout was switched off
/// after the UK CPI rejection.
const STRATEGY_AGES: [(i64, i64); 3] = [(30 * 24, 9), (21 * 24, 21 * 24), (7 * 24, 7 * 24)];
// Indexes into `STRATEGIES`.
const LONDON: usize = 0;
const GOLD: usize = 1;
const ROUND_THE_CLOCK: usize = 2;

/// (strategy, symbol, direction, entry: `[price]` or a `[low, high]` zone, stop, targets,
/// expected hold, confidence, status, minutes ago, rationale).
#[rustfmt::skip]
type IdeaRow = (usize, Text, Text, &'static [Text], Text, &'static [Text], Text, Text, Text, i64, Text);
type Text = &'static str;
const PENDING: &str = "needs_approval";
const REJECTED: &str = "rejected";
const EXECUTED: &str = "auto_executed";

#[rustfmt::skip]
const IDEAS: [IdeaRow; 10] = [
    (GOLD, "XAUUSD", "buy", &["2648.50", "2651.00"], "2638.00", &["2668.00", "2684.00"],
     "swing_1d", "88.00", PENDING, 40,
     "Gold is holding the 2645 breakout with the 50-period SMA rising beneath it; buying the pullback zone ahead of US CPI."),
    (ROUND_THE_CLOCK, "EURUSD", "sell", &["1.08410"], "1.08580", &["1.08150", "1.07980"],
     "scalp_30m", "92.00", PENDING, 25,
     "EURUSD was rejected twice at the 1.0850 pivot and MACD has crossed down; selling the retest toward the Asian low."),
    (ROUND_THE_CLOCK, "USDJPY", "buy", &["151.380"], "151.180", &["151.680"],
     "scalp_30m", "90.00", PENDING, 12,
     "USDJPY is riding above its rising 50-period SMA with RSI near 60; buying the shallow dip into 151.35."),
    (ROUND_THE_CLOCK, "USDCAD", "sell", &["1.36220"], "1.36390", &["1.35970", "1.35800"],
     "scalp_30m", "85.00", PENDING, 2,
     "Oil's rebound is lifting the loonie and USDCAD broke below its two-hour range; selling the retest of 1.3625."),
    (ROUND_THE_CLOCK, "EURUSD", "buy", &["1.08205"], "1.08045", &["1.08445"],
     "scalp_30m", "94.00", EXECUTED, 1400,
     "EURUSD reclaimed 1.0815 after the Asian session with RSI turning up; buying the retest."),
    (LONDON, "GBPUSD", "sell", &["1.27310"], "1.27490", &["1.27040", "1.26850"],
     "scalp_30m", "91.00", "halted_by_risk", 1212,
     "GBPUSD broke the bottom of the Asian range on rising volume; selling the first pullback."),
    (LONDON, "GBPUSD", "buy", &["1.26880"], "1.26700", &["1.27150"],
     "scalp_30m", "78.00", REJECTED, 600,
     "GBPUSD is coiling under 1.2690 ahead of UK CPI; buying a break of the overnight high."),
    (GOLD, "XAUUSD", "buy", &["2618.20"], "2606.50", &["2636.00", "2652.00"],
     "swing_1d", "86.00", EXECUTED, 380,
     "Gold bounced off the 200-period SMA as US yields eased; buying for a swing back to the highs."),
    (ROUND_THE_CLOCK, "EURUSD", "sell", &["1.08620"], "1.08790", &["1.08370"],
     "scalp_30m", "84.00", REJECTED, 240,
     "EURUSD stalled at 1.0865 resistance with RSI diverging; selling the failed push higher."),
    (ROUND_THE_CLOCK, "AUDUSD", "buy", &["0.66180"], "0.66020", &["0.66420"],
     "scalp_30m", "82.00", REJECTED, 95,
     "AUDUSD held 0.6610 support while iron ore firmed; buying the bounce."),
];

/// (seconds ago, idea, action, risk_check_result, operator, rationale). Rows of an idea take
/// its symbol, confidence, strategy and snapshot; `human_override` is set for an operator's.
type DecisionRow = (i64, Option<usize>, Text, Option<Text>, Option<Text>, Text);

#[rustfmt::skip]
const DECISIONS: [DecisionRow; 16] = [
    (1400 * 60, Some(4), "ai_auto_executed", Some("pass"), None,
     "Every risk check passed: auto-executed 0.30 lots."),
    (1210 * 60, None, "ai_halted", Some("fail:max_drawdown"), None,
     "The day's drawdown 1012.40 reached max_drawdown_amount 1000.00: AI trading switched off."),
    (1210 * 60 - 2, Some(5), "ai_halted", Some("fail:max_drawdown"), None,
     "Waiting idea stopped by the halt: the day's drawdown reached max_drawdown_amount 1000.00."),
    (1140 * 60, None, "ai_resumed", Some("pass"), Some(RAJ),
     "Reviewed the GBPUSD stop-outs at the London open; limits unchanged, resuming (was halted: max_drawdown)."),
    (600 * 60, Some(6), "risk_rejected", Some("fail:confidence,news_blackout"), None,
     "High-impact GBP news \"CPI y/y\" in 2 minutes is within strategy 'London breakout''s 30-minute blackout; confidence 78.00 is below the threshold 90.00."),
    (380 * 60, Some(7), "ai_proposed", Some("fail:confidence"), None,
     "Confidence 86.00 is below the threshold 90.00: sent for approval."),
    (372 * 60, Some(7), "human_approved", Some("pass"), Some(ANN), "approved with lot 0.20"),
    (240 * 60, Some(8), "ai_proposed", Some("fail:confidence"), None,
     "Confidence 84.00 is below the threshold 90.00: sent for approval."),
    (232 * 60, Some(8), "risk_rejected", Some("fail:lot_size"), Some(ANN),
     "approval with lot 0.80 blocked: lot 0.80 exceeds the maximum 0.30 (strategy cap)"),
    (180 * 60, None, "ai_halted", Some("fail:manual_halt"), Some(ANN), DEMO_HALT_REASON),
    (95 * 60, Some(9), "ai_proposed", Some("fail:ai_halted,confidence"), None,
     "AI trading is off and confidence 82.00 is below the threshold 90.00: sent for approval."),
    (70 * 60, Some(9), "human_rejected", None, Some(RAJ),
     "RBA minutes are due overnight and AUD is already extended; not adding risk."),
    (40 * 60, Some(0), "ai_proposed", Some("fail:ai_halted,confidence"), None,
     "AI trading is off and confidence 88.00 is below the threshold 90.00: sent for approval."),
    (25 * 60, Some(1), "ai_proposed", Some("fail:ai_halted"), None, "AI trading is off: sent for approval."),
    (12 * 60, Some(2), "ai_proposed", Some("fail:ai_halted"), None, "AI trading is off: sent for approval."),
    (2 * 60, Some(3), "ai_proposed", Some("fail:ai_halted,confidence"), None,
     "AI trading is off and confidence 85.00 is below the threshold 90.00: sent for approval."),
];

/// The one order: (idea, lot, requested by, broker order id, fill price); requested when
/// the idea was approved, filled two seconds later.
const EXECUTION: (usize, &str, &str, &str, &str) = (7, "0.20", ANN, "MT5-40817263", "2618.45");

/// Today's account: from this share of the day so far (percent) on, (balance, open P/L,
/// open positions). The day stands at +352.40, 112.60 below its peak of 25465.00.
#[rustfmt::skip]
const TODAY: [(i64, &str, &str, i32); 8] = [
    (0, "25000.00", "0.00", 0), (15, "25000.00", "86.40", 1), (30, "25143.20", "0.00", 0),
    (45, "25143.20", "121.70", 1), (60, "25143.20", "209.10", 2), (75, "25143.20", "321.80", 2),
    (90, "25143.20", "246.50", 2), (100, "25143.20", "209.20", 2),
];
/// Before the day: from this many hours before its start on, the same; flat for the last
/// six hours at the day's opening equity, 25000.00.
#[rustfmt::skip]
const YESTERDAY: [(i64, &str, &str, i32); 3] = [
    (14, "24760.00", "138.20", 1), (6, "24905.50", "-62.40", 2), (0, "25000.00", "0.00", 0),
];
const MARGIN_PER_POSITION: &str = "385.00";

/// M5 candles per symbol: (symbol, last close in points, decimals, trend in points per
/// candle into now, typical move in points, base volume).
const MARKET: [(&str, i64, u32, i64, i64, i32); 6] = [
    ("EURUSD", 108_412, 5, -6, 9, 1400),
    ("GBPUSD", 127_055, 5, 2, 11, 1100),
    ("USDJPY", 151_382, 3, 8, 12, 1600),
    ("USDCAD", 136_218, 5, -5, 8, 900),
    ("AUDUSD", 66_134, 5, 0, 7, 800),
    ("XAUUSD", 265_140, 2, 35, 60, 2400),
];
const CANDLES: i64 = 24;
/// Indicators every this many candles over the same two hours.
const INDICATOR_EVERY: usize = 3;

/// (minutes from now, currency, impact, title, [previous, forecast, actual once released]).
type EventRow = (i64, Text, Text, Text, [Option<Text>; 3]);

#[rustfmt::skip]
const CALENDAR: [EventRow; 7] = [
    (-598, "GBP", "high", "CPI y/y", [Some("2.2%"), Some("2.4%"), Some("2.6%")]),
    (-150, "EUR", "medium", "German ZEW Economic Sentiment", [Some("10.3"), Some("12.0"), Some("13.1")]),
    (-45, "USD", "medium", "Initial Jobless Claims", [Some("221K"), Some("225K"), Some("219K")]),
    (90, "USD", "high", "CPI m/m", [Some("0.2%"), Some("0.3%"), None]),
    (240, "USD", "medium", "Crude Oil Inventories", [Some("-1.4M"), Some("-0.8M"), None]),
    (420, "AUD", "medium", "RBA Meeting Minutes", [None, None, None]),
    (690, "JPY", "low", "Tertiary Industry Activity m/m", [Some("0.3%"), Some("0.1%"), None]),
];
/// The calendar is captured twice: two hours ago and a minute ago (minutes ago).
const CALENDAR_CAPTURES: [i64; 2] = [125, 1];

#[rustfmt::skip]
const NEWS: [(i64, &str, &str, &[&str]); 6] = [
    (112, "Reuters", "Dollar steadies as traders square positions before US CPI", &["EURUSD", "USDJPY", "USDCAD"]),
    (84, "Bloomberg", "Gold holds near record as real yields ease", &["XAUUSD"]),
    (57, "FXStreet", "EUR/USD slips below 1.0850 as euro-area PMIs disappoint", &["EURUSD"]),
    (31, "Reuters", "Japan's finance minister says he is watching FX moves with urgency", &["USDJPY"]),
    (14, "MarketWatch", "Oil rebounds; loonie firms against the dollar", &["USDCAD"]),
    (6, "Reuters", "RBA minutes due overnight; markets price one more hike", &["AUDUSD"]),
];

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
        // The story ends with ann's halt into US CPI: the switch says why it is off.
        sqlx::query(
            "UPDATE risk_config SET last_halt_reason = $1 WHERE id AND NOT ai_trading_enabled",
        )
        .bind(DEMO_HALT_REASON)
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(Some(summary))
    }
}

/// Binds each value in turn to a row of `push_values`.
macro_rules! push {
    ($row:expr; $($value:expr),+ $(,)?) => { $( $row.push_bind($value); )+ };
}

async fn write(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<DemoSummary, Error> {
    let ago = |seconds: i64| now - TimeDelta::seconds(seconds);
    let hours = |h: i64| ago(h * 3_600);
    let specs = parse_documents(STRATEGIES)?;
    let strategy_ids: Vec<Uuid> = specs.iter().map(|_| Uuid::new_v4()).collect();
    let rows = specs.iter().zip(&strategy_ids).zip(STRATEGY_AGES);
    let strategies = insert(
        conn,
        "strategies (id, name, is_active, allowed_symbols, session_windows, entry_conditions,
                     exit_rules, forbidden_conditions, risk_caps, rr_expectation, created_at,
                     updated_at)",
        rows,
        |b, ((spec, id), (created, updated))| {
            let r = &spec.rules;
            push!(b; *id, spec.name.clone(), spec.is_active, spec.allowed_symbols.clone());
            let docs = [&r.session_windows, &r.entry_conditions, &r.exit_rules];
            for doc in docs
                .into_iter()
                .chain([&r.forbidden_conditions, &r.risk_caps])
            {
                b.push_bind(doc.clone()).push_unseparated("::json");
            }
            push!(b; spec.rr_expectation, hours(created), hours(updated));
        },
    )
    .await?;

    // The account: the day's opening snapshot, the day so far up to a minute ago, and one
    // snapshot per idea, captured with the engine's cycle just before the idea.
    let day_start = TradingDay::UTC_MIDNIGHT.start_of(now);
    let span = (now - TimeDelta::minutes(1)).max(day_start) - day_start;
    let idea_ids: Vec<Uuid> = IDEAS.iter().map(|_| Uuid::new_v4()).collect();
    let cycles: Vec<(Uuid, DateTime<Utc>)> = IDEAS
        .iter()
        .map(|i| (Uuid::new_v4(), ago(i.9 * 60 + 15)))
        .collect();
    let mut snapshots = vec![(Uuid::new_v4(), day_start - TimeDelta::seconds(1))];
    let today = TODAY.iter().filter(|k| k.0 > 0);
    snapshots.extend(today.map(|k| (Uuid::new_v4(), day_start + span * k.0 as i32 / 100)));
    snapshots.extend(cycles.iter().copied());
    let account_snapshots = insert(
        conn,
        "snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                           open_positions, captured_at)",
        snapshots,
        |b, (id, at)| {
            let (balance, open_pl, positions) = account_at(at, day_start, span);
            let (balance, open_pl) = (dec(balance), dec(open_pl));
            let margin = dec(MARGIN_PER_POSITION) * Decimal::from(positions);
            let equity = balance + open_pl;
            push!(b; id, balance, equity, margin, equity - margin, open_pl, positions, at);
        },
    )
    .await?;

    // Market data: M5 candles up to the last five-minute boundary, indicators every 15 min.
    let bar = now.duration_trunc(TimeDelta::minutes(5)).unwrap_or(now);
    let (mut candles, mut indicators) = (Vec::new(), Vec::new());
    for (seed, &(symbol, last, scale, trend, step, volume)) in (0_i64..).zip(&MARKET) {
        let wiggle = |k: i64| ((k * 7 + seed * 3) % 9 - 4) * step;
        let price = |points: i64| Decimal::new(points, scale);
        // closes[k]: the close k candles back (0 = the latest).
        let mut closes = vec![last];
        for k in 0..CANDLES {
            closes.push(closes[k as usize] - trend - wiggle(k));
        }
        for k in 0..CANDLES {
            let (open, close) = (closes[k as usize + 1], closes[k as usize]);
            let high = price(open.max(close) + step * (1 + k % 3));
            let low = price(open.min(close) - step * (1 + (k + seed) % 3));
            let vol = volume + ((k * 37 + seed * 11) % 23) as i32 * 10;
            let at = bar - TimeDelta::minutes(5 * k);
            candles.push((symbol, price(open), high, low, price(close), vol, at));
        }
        for k in (0..=CANDLES).step_by(INDICATOR_EVERY) {
            let close = closes[k as usize];
            let rsi = Decimal::new(
                5_000 + trend.signum() * 900 + wiggle(k) * 150 / step + k * 37 % 100,
                2,
            );
            let (macd, signal) = (trend * 4 + wiggle(k) / 4, trend * 3);
            let macd = json!({"macd": number(price(macd)), "signal": number(price(signal)),
                              "hist": number(price(macd - signal))});
            let sma_50 = price(close - trend * 25 + step * 2);
            let sma_200 = price(close - trend * 90 - step * 5);
            let atr = price(step * 5 + (k % 2) * step / 2);
            let at = bar - TimeDelta::minutes(5 * k);
            indicators.push((symbol, rsi, sma_50, sma_200, atr, macd, at));
        }
    }
    let candles = insert(
        conn,
        "snapshot_market (id, symbol, timeframe, open, high, low, close, volume, captured_at)",
        candles,
        |b, c| {
            push!(b; Uuid::new_v4(), c.0, "M5", c.1, c.2, c.3, c.4, c.5, c.6);
        },
    )
    .await?;
    let indicators = insert(
        conn,
        "snapshot_indicators (id, symbol, timeframe, rsi_14, sma_50, sma_200, atr, macd,
                              captured_at)",
        indicators,
        |b, i| {
            push!(b; Uuid::new_v4(), i.0, "M5", i.1, i.2, i.3, i.4, i.5);
            b.push_unseparated("::json").push_bind(i.6);
        },
    )
    .await?;

    // The calendar as captured two hours ago and a minute ago: an actual value once released.
    let captures = CALENDAR_CAPTURES
        .iter()
        .flat_map(|&c| CALENDAR.iter().map(move |e| (c, e)));
    let calendar_events = insert(
        conn,
        "snapshot_calendar (id, event_time, currency, impact_level, title, previous_value,
                            forecast_value, actual_value, captured_at)",
        captures,
        |b, (captured, e)| {
            let at = now + TimeDelta::minutes(e.0);
            let at = at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at);
            let captured = ago(captured * 60);
            let [previous, forecast, actual] = e.4;
            let actual = actual.filter(|_| at <= captured);
            push!(b; Uuid::new_v4(), at, e.1, e.2, e.3, previous, forecast, actual, captured);
        },
    )
    .await?;
    let headlines = insert(
        conn,
        "snapshot_news (id, headline, source, symbols, published_at, captured_at)",
        NEWS,
        |b, (minutes, source, headline, symbols)| {
            let published = ago(minutes * 60);
            let captured = published + TimeDelta::seconds(20);
            push!(b; Uuid::new_v4(), headline, source, symbols, published, captured);
        },
    )
    .await?;

    let mut ideas = 0;
    for (n, idea) in IDEAS.iter().enumerate() {
        if idea.8 == "auto_executed" {
            // Migration 3's trigger refuses to record an automatic execution while AI trading
            // is off, as it is now. These ideas were executed hours ago (by the AI while it was
            // on, or on an operator's approval); naming each one, as an approval does, lets
            // its historical row in and nothing else. The setting ends with the transaction.
            sqlx::query("SELECT set_config('tradedesk.approving_idea', $1, true)")
                .bind(idea_ids[n].to_string())
                .execute(&mut *conn)
                .await
                .map_err(Error::Database)?;
        }
        // Last touched by its latest decision.
        let touched = DECISIONS
            .iter()
            .filter(|d| d.1 == Some(n))
            .map(|d| d.0)
            .min();
        let &(strategy, symbol, side, entry, stop, targets, hold, conf, status, minutes, why) =
            idea;
        let (price, zone) = match entry {
            [price] => (Some(dec(price)), None),
            zone => (None, Some(zone.iter().map(|p| dec(p)).collect::<Vec<_>>())),
        };
        let targets: Vec<Decimal> = targets.iter().map(|p| dec(p)).collect();
        let (created, touched) = (ago(minutes * 60), ago(touched.unwrap_or(minutes * 60)));
        let row = (price, zone, targets);
        ideas += insert(
            conn,
            "trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss, take_profit,
                          expected_hold, rationale, confidence_score, status, strategy_id,
                          snapshot_ref, created_at, updated_at)",
            [row],
            |b, (price, zone, targets)| {
                push!(b; idea_ids[n], symbol, side, price, zone, dec(stop), targets, hold, why);
                push!(b; dec(conf), status);
                b.push_unseparated("::tradeideastatus");
                push!(b; strategy_ids[strategy], cycles[n].0, created, touched);
            },
        )
        .await?;
    }

    let decisions = insert(
        conn,
        "decision_history (id, occurred_at, symbol, action, rationale, confidence_score,
                           risk_check_result, strategy_id, trade_idea_id, snapshot_ref,
                           human_override, operator)",
        DECISIONS,
        |b, (seconds, idea, action, result, operator, rationale)| {
            let of = idea.map(|n| &IDEAS[n]);
            push!(b; Uuid::new_v4(), ago(seconds), of.map(|i| i.1), action);
            b.push_unseparated("::decisionaction");
            push!(b; rationale, of.map(|i| dec(i.7)), result, of.map(|i| strategy_ids[i.0]));
            let (id, snapshot) = (idea.map(|n| idea_ids[n]), idea.map(|n| cycles[n].0));
            push!(b; id, snapshot, operator.is_some(), operator);
        },
    )
    .await?;

    // The one order, for the approved gold idea: filled two seconds after the approval.
    let (n, lot, by, order, fill) = EXECUTION;
    let approved = DECISIONS
        .iter()
        .find(|d| d.1 == Some(n) && d.2 == "human_approved");
    let requested = ago(approved.map_or(IDEAS[n].9 * 60, |d| d.0));
    let executions = insert(
        conn,
        "tradedesk.executions (id, trade_idea_id, lot_size, requested_by, requested_at, state,
                     broker_order_id, fill_price, updated_at)",
        [()],
        |b, ()| {
            push!(b; Uuid::new_v4(), idea_ids[n], dec(lot), by, requested, "filled");
            b.push_unseparated("::tradedesk.executionstate");
            push!(b; order, dec(fill), requested + TimeDelta::seconds(2));
        },
    )
    .await?;

    let awaiting = IDEAS.iter().filter(|i| i.8 == "needs_approval").count() as u64;
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

/// (balance, open P/L, open positions) at `at`: today's path spread over the day so far
/// (`span` from `day_start`), or yesterday's by hours before the day started.
fn account_at(
    at: DateTime<Utc>,
    day_start: DateTime<Utc>,
    span: TimeDelta,
) -> (&'static str, &'static str, i32) {
    let pick = |k: &(i64, &'static str, &'static str, i32)| (k.1, k.2, k.3);
    if at < day_start {
        let before = (day_start - at).num_seconds();
        YESTERDAY
            .iter()
            .find(|k| before >= k.0 * 3_600)
            .map_or(("25000.00", "0.00", 0), pick)
    } else {
        let share = match span.num_milliseconds() {
            0 => 100,
            total => (at - day_start).num_milliseconds() * 100 / total,
        };
        TODAY
            .iter()
            .rev()
            .find(|k| k.0 <= share)
            .map_or(("25000.00", "0.00", 0), pick)
    }
}

/// A decimal of the demo tables (every one a literal, so it parses).
fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("the demo tables hold plain decimals")
}

/// A decimal as a JSON number, digits as written.
fn number(value: Decimal) -> Value {
    Number::from_str(&value.to_string()).map_or(Value::Null, Value::Number)
}
