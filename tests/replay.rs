//! Decision replay against real PostgreSQL: what the AI saw when a decision was made,
//! read back from rows written as the platform writes them (client-side UUIDs, lowercase
//! labels, JSON documents as json.dumps writes them, one snapshot cycle at 14:00 UTC),
//! and what is left when the snapshot rows are gone.

mod common;

use std::str::FromStr as _;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use tradedesk::domain::gate::{Outcome, Rule};
use tradedesk::domain::replay::{
    AccountSource, AsOf, LotFrom, MomentSource, Part, SwitchAsOf, Timeframe, TimeframeChoice,
};
use tradedesk::domain::{DecisionAction, Purpose};
use tradedesk::store::setup::setup;
use tradedesk::store::{Error, Store};
use uuid::Uuid;

use common::TestDb;
use common::cli::{Cli, json};
use common::console::Console;

const STRATEGY: &str = "3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70";
/// The account row of the 14:00 cycle: the `snapshot_ref` of the ideas and decisions.
const SNAPSHOT: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
/// EURUSD buy, proposed at 14:01, approved by ann at 14:05 with 0.30 lots, filled.
const IDEA: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
/// EURUSD sell on a zone, a swing idea, awaiting approval, no decision yet.
const SWING_IDEA: &str = "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a";
const PROPOSED: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const APPROVED: &str = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e";
const HALTED: &str = "c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f";
const ORDER: &str = "0190c3a4-7b2e-7c11-9a40-5d6e7f8a9b0c";

/// A day of the platform's rows around the 14:00 cycle of 2025-10-28 (a Tuesday).
const ROWS: &str = r#"
INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows, entry_conditions,
                        exit_rules, forbidden_conditions, risk_caps, rr_expectation,
                        created_at, updated_at) VALUES
    ('3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70', 'London breakout v2', true, '{EURUSD,GBPUSD}',
     '[{"start": "00:00Z", "end": "24:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}]',
     '{"trend_alignment": "bullish", "rsi_below": 40}',
     '{"stop_loss": "swing_low - 5 pips", "take_profit": "RR>=2", "time_limit_min": 30}',
     '{"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["USD", "GBP"]}',
     '{"max_lot_size": 0.5, "max_concurrent_positions": 2}', 2.50,
     '2025-10-01 09:00:00+00', '2025-10-29 09:00:00+00');

INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                              open_positions, captured_at) VALUES
    ('5a000000-0000-4000-8000-000000000001', 10000.00, 10000.00, 0.00, 10000.00, 0.00, 0,
     '2025-10-27 23:00:00+00'),
    ('5a000000-0000-4000-8000-000000000002', 10250.00, 10300.00, 300.00, 10000.00, 50.00, 1,
     '2025-10-28 13:00:00+00'),
    ('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', 10250.00, 10180.40, 320.00, 9860.40, -69.60, 1,
     '2025-10-28 14:00:00+00'),
    ('5a000000-0000-4000-8000-000000000004', 10250.00, 10100.00, 320.00, 9780.00, -150.00, 1,
     '2025-10-28 14:10:00+00');

-- EURUSD M5 from 08:00 to 16:00 (n = 72 is 14:00), GBPUSD M5 at the same times, and
-- EURUSD M1 from 13:00 to 15:00 at prices no EURUSD M5 candle has.
INSERT INTO snapshot_market (id, symbol, timeframe, open, high, low, close, volume, captured_at)
SELECT gen_random_uuid(), 'EURUSD', 'M5', 1.080000 + n * 0.0001, 1.080300 + n * 0.0001,
       1.079800 + n * 0.0001, 1.080100 + n * 0.0001, 1000 + n,
       timestamptz '2025-10-28 08:00:00+00' + n * interval '5 minutes'
  FROM generate_series(0, 96) n;
INSERT INTO snapshot_market (id, symbol, timeframe, open, high, low, close, volume, captured_at)
SELECT gen_random_uuid(), 'GBPUSD', 'M5', 1.260000, 1.260500, 1.259500, 1.260200, 900,
       timestamptz '2025-10-28 08:00:00+00' + n * interval '5 minutes'
  FROM generate_series(0, 96) n;
INSERT INTO snapshot_market (id, symbol, timeframe, open, high, low, close, volume, captured_at)
SELECT gen_random_uuid(), 'EURUSD', 'M1', 2.000000, 2.000500, 1.999500, 2.000200, 100,
       timestamptz '2025-10-28 13:00:00+00' + n * interval '1 minute'
  FROM generate_series(0, 120) n;

INSERT INTO snapshot_indicators (id, symbol, timeframe, rsi_14, sma_50, sma_200, macd, atr,
                                 captured_at) VALUES
    (gen_random_uuid(), 'EURUSD', 'M5', 55.10, 1.083000, 1.079000,
     '{"macd": 0.0003, "signal": 0.0002, "hist": 0.0001}', 0.000800, '2025-10-28 13:45:00+00'),
    (gen_random_uuid(), 'EURUSD', 'M5', 61.37, 1.084120, 1.079870,
     '{"macd": 0.00042, "signal": 0.00031, "hist": 0.00011}', 0.000870, '2025-10-28 14:00:00+00'),
    (gen_random_uuid(), 'EURUSD', 'M5', 70.00, 1.084500, 1.080000,
     '{"macd": 0.0005, "signal": 0.0004, "hist": 0.0001}', 0.000900, '2025-10-28 14:15:00+00'),
    (gen_random_uuid(), 'EURUSD', 'M1', 20.00, 2.000000, 2.000000,
     '{"macd": 0.0, "signal": 0.0, "hist": 0.0}', 0.000100, '2025-10-28 14:00:00+00'),
    (gen_random_uuid(), 'GBPUSD', 'M5', 30.00, 1.260000, 1.250000,
     '{"macd": 0.0, "signal": 0.0, "hist": 0.0}', 0.001000, '2025-10-28 14:00:00+00');

-- PCE as captured at 13:00 (no actual yet) and again after its release; an event captured
-- only after the moment; JPY (none of EURUSD's currencies, not in the news block); Friday's
-- payrolls (days away).
INSERT INTO snapshot_calendar (id, event_time, currency, impact_level, title, previous_value,
                               forecast_value, actual_value, captured_at) VALUES
    (gen_random_uuid(), '2025-10-28 14:30:00+00', 'USD', 'high', 'Core PCE Price Index m/m',
     '0.2%', '0.3%', NULL, '2025-10-28 13:00:00+00'),
    (gen_random_uuid(), '2025-10-28 14:30:00+00', 'USD', 'high', 'Core PCE Price Index m/m',
     '0.2%', '0.3%', '0.4%', '2025-10-28 14:31:00+00'),
    (gen_random_uuid(), '2025-10-28 13:50:00+00', 'EUR', 'medium', 'German Ifo Business Climate',
     '85.4', '85.8', '86.5', '2025-10-28 13:55:00+00'),
    (gen_random_uuid(), '2025-10-28 14:15:00+00', 'GBP', 'high', 'BoE Governor Bailey speaks',
     NULL, NULL, NULL, '2025-10-28 13:00:00+00'),
    (gen_random_uuid(), '2025-10-28 14:20:00+00', 'JPY', 'high', 'BoJ press conference',
     NULL, NULL, NULL, '2025-10-28 13:00:00+00'),
    (gen_random_uuid(), '2025-10-31 12:30:00+00', 'USD', 'high', 'Non-Farm Payrolls',
     NULL, NULL, NULL, '2025-10-28 13:00:00+00'),
    (gen_random_uuid(), '2025-10-28 13:59:00+00', 'EUR', 'low', 'ECB bulletin',
     NULL, NULL, NULL, '2025-10-28 14:05:00+00');

INSERT INTO snapshot_news (id, headline, source, symbols, published_at, captured_at) VALUES
    (gen_random_uuid(), 'ECB holds rates, signals patience', 'reuters', '{EURUSD}',
     '2025-10-28 13:45:00+00', '2025-10-28 13:45:20+00'),
    (gen_random_uuid(), 'Dollar firms before PCE', 'bloomberg', '{USD}',
     '2025-10-28 12:00:00+00', '2025-10-28 12:00:20+00'),
    (gen_random_uuid(), 'Markets quiet into month end', 'ft', '{}',
     '2025-10-28 11:00:00+00', '2025-10-28 11:00:20+00'),
    (gen_random_uuid(), 'Yen slides as BoJ holds', 'reuters', '{USDJPY}',
     '2025-10-28 13:00:00+00', '2025-10-28 13:00:20+00'),
    (gen_random_uuid(), 'PCE hotter than expected', 'reuters', '{EURUSD}',
     '2025-10-28 14:31:00+00', '2025-10-28 14:31:20+00'),
    (gen_random_uuid(), 'Euro area growth stalls', 'reuters', '{EURUSD}',
     '2025-10-26 10:00:00+00', '2025-10-26 10:00:20+00');

-- The approved idea is recorded executed with its human_approved row below, in this one
-- transaction: the kill switch lets it through at commit (migration 12).
INSERT INTO trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss, take_profit,
                         expected_hold, rationale, confidence_score, status, strategy_id,
                         snapshot_ref, created_at, updated_at) VALUES
    ('1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'EURUSD', 'buy', 1.085640, NULL, 1.084200,
     '{1.087800,1.089900}', 'scalp_30m', 'Breakout of the Asian range with rising RSI', 92.50,
     'auto_executed', '3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70',
     '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', '2025-10-28 14:01:00+00', '2025-10-28 14:05:00+00'),
    ('2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a', 'EURUSD', 'sell', NULL, '{1.086000,1.087000}',
     1.088500, '{1.082000}', 'swing_1d', 'Rejection at the weekly high', 88.00,
     'needs_approval', '3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70',
     '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', '2025-10-28 14:02:00+00', '2025-10-28 14:02:00+00');

INSERT INTO decision_history (id, occurred_at, symbol, action, rationale, confidence_score,
                              risk_check_result, strategy_id, trade_idea_id, snapshot_ref,
                              human_override, operator) VALUES
    ('d0000000-0000-4000-8000-000000000000', '2025-10-28 08:00:00+00', NULL, 'ai_resumed',
     'London open', NULL, 'pass', NULL, NULL, NULL, true, 'raj@desk.example'),
    ('a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', '2025-10-28 14:01:00+00', 'EURUSD', 'ai_proposed',
     'Breakout of the Asian range with rising RSI', 92.50, 'fail:news_blackout',
     '3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70', '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
     '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', false, NULL),
    ('b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e', '2025-10-28 14:05:00+00', 'EURUSD', 'human_approved',
     'approved with lot 0.30', 92.50, 'pass',
     '3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70', '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
     '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', true, 'ann@desk.example'),
    ('c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f', '2025-10-28 14:30:00+00', NULL, 'ai_halted',
     'Daily drawdown limit reached', NULL, 'fail:max_drawdown', NULL, NULL, NULL, false, NULL);

INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, requested_at, state,
                                  broker_order_id, fill_price, updated_at) VALUES
    ('0190c3a4-7b2e-7c11-9a40-5d6e7f8a9b0c', '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 0.30,
     'ann@desk.example', '2025-10-28 14:05:00+00', 'filled', 'MT5-88412', 1.085700,
     '2025-10-28 14:05:02+00');

-- The limits were edited that morning (max lot 0.75, threshold 85.50, two trades) and again
-- the next day; the strategy was renamed the next day. As tradedesk audits them.
INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, subject_id, subject_name,
                                      change, before, after) VALUES
    ('0190c3a4-0000-7000-8000-000000000001', '2025-10-28 09:00:00+00', 'raj@desk.example',
     'risk_config', NULL, NULL, 'max_lot_size=0.75 min_confidence_threshold=85.50 max_concurrent_trades=2',
     '{"ai_trading_enabled": false, "min_confidence_threshold": "90.0", "max_lot_size": "1.00",
       "max_concurrent_trades": 3, "daily_profit_target": "2000.00", "stop_after_target": true,
       "max_drawdown_amount": "1000.00", "halt_on_drawdown": true,
       "allow_off_watchlist_autotrade": false, "last_halt_reason": null}',
     '{"ai_trading_enabled": false, "min_confidence_threshold": "85.50", "max_lot_size": "0.75",
       "max_concurrent_trades": 2, "daily_profit_target": "2000.00", "stop_after_target": true,
       "max_drawdown_amount": "1000.00", "halt_on_drawdown": true,
       "allow_off_watchlist_autotrade": false, "last_halt_reason": null}'),
    ('0190c3a4-0000-7000-8000-000000000002', '2025-10-29 09:00:00+00', 'raj@desk.example',
     'risk_config', NULL, NULL, 'max_lot_size=1.00',
     '{"ai_trading_enabled": false, "min_confidence_threshold": "85.50", "max_lot_size": "0.75",
       "max_concurrent_trades": 2, "daily_profit_target": "2000.00", "stop_after_target": true,
       "max_drawdown_amount": "1000.00", "halt_on_drawdown": true,
       "allow_off_watchlist_autotrade": false, "last_halt_reason": null}',
     '{"ai_trading_enabled": false, "min_confidence_threshold": "85.50", "max_lot_size": "1.00",
       "max_concurrent_trades": 2, "daily_profit_target": "2000.00", "stop_after_target": true,
       "max_drawdown_amount": "1000.00", "halt_on_drawdown": true,
       "allow_off_watchlist_autotrade": false, "last_halt_reason": null}'),
    ('0190c3a4-0000-7000-8000-000000000003', '2025-10-29 09:00:00+00', 'raj@desk.example',
     'strategy', '3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70', 'London breakout v2', 'updated',
     '{"id": "3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70", "name": "London breakout", "is_active": true,
       "allowed_symbols": ["EURUSD", "GBPUSD"],
       "session_windows": [{"start": "00:00Z", "end": "24:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}],
       "entry_conditions": {"trend_alignment": "bullish", "rsi_below": 40},
       "exit_rules": {"stop_loss": "swing_low - 5 pips", "take_profit": "RR>=2", "time_limit_min": 30},
       "forbidden_conditions": {"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["USD", "GBP"]},
       "risk_caps": {"max_lot_size": 0.5, "max_concurrent_positions": 2}, "rr_expectation": "2.50"}',
     '{"id": "3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70", "name": "London breakout v2", "is_active": true,
       "allowed_symbols": ["EURUSD", "GBPUSD"],
       "session_windows": [{"start": "00:00Z", "end": "24:00Z", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}],
       "entry_conditions": {"trend_alignment": "bullish", "rsi_below": 40},
       "exit_rules": {"stop_loss": "swing_low - 5 pips", "take_profit": "RR>=2", "time_limit_min": 30},
       "forbidden_conditions": {"block_high_impact_news_minutes": 30, "blocked_symbols_during_news": ["USD", "GBP"]},
       "risk_caps": {"max_lot_size": 0.5, "max_concurrent_positions": 2}, "rr_expectation": "2.50"}');
"#;

/// What the cleanup of old snapshots leaves of the 14:00 cycle: its account row, the
/// EURUSD candles and indicators and every headline are gone.
const CLEANED: &str = "
DELETE FROM snapshot_account WHERE id = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
DELETE FROM snapshot_market WHERE symbol = 'EURUSD';
DELETE FROM snapshot_indicators WHERE symbol = 'EURUSD';
DELETE FROM snapshot_news;
";

fn id(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("a UUID")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a time")
        .with_timezone(&Utc)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("a decimal")
}

/// A set-up database holding the platform's rows.
async fn desk() -> (TestDb, PgPool, Store) {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.expect("setup");
    let pool = db.pool().await;
    sqlx::raw_sql(ROWS).execute(&pool).await.expect("the rows");
    let store = Store::open(&db.target(), 2).await.expect("open");
    (db, pool, store)
}

#[tokio::test]
async fn a_decision_replays_the_cycle_it_was_made_on() {
    let (_db, _pool, store) = desk().await;
    let r = store.replay(id(APPROVED)).await.unwrap();

    assert_eq!(r.decision.as_ref().map(|d| d.id), Some(id(APPROVED)));
    assert_eq!(r.idea.as_ref().map(|i| i.id), Some(id(IDEA)));
    assert_eq!(
        r.moment.at,
        at("2025-10-28T14:00:00Z"),
        "the snapshot's capture"
    );
    assert_eq!(r.moment.source, MomentSource::Snapshot);
    assert_eq!(r.moment.decided_at, at("2025-10-28T14:05:00Z"));
    assert!(r.missing.is_empty(), "{:?}", r.missing);

    // The EURUSD M5 candles around 14:00: 60 up to it, 20 after; no GBPUSD, no M1.
    let market = r.market.as_ref().expect("candles");
    assert_eq!(market.symbol, "EURUSD");
    assert_eq!(
        (market.timeframe, market.choice),
        (Timeframe::M5, TimeframeChoice::Hold)
    );
    assert_eq!(market.candles.len(), 80);
    assert_eq!(market.candles[0].captured_at, at("2025-10-28T09:05:00Z"));
    assert_eq!(market.candles[59].captured_at, at("2025-10-28T14:00:00Z"));
    assert_eq!(market.candles[59].close, dec("1.087300"));
    assert_eq!(market.candles[79].captured_at, at("2025-10-28T15:40:00Z"));
    assert!(
        market
            .candles
            .windows(2)
            .all(|w| w[1].captured_at - w[0].captured_at == chrono::Duration::minutes(5))
    );
    assert!(
        market
            .candles
            .iter()
            .all(|c| c.low > dec("1.07") && c.high < dec("1.10")),
        "EURUSD's own prices only"
    );

    // The last M5 indicators at or before 14:00.
    let ind = r.indicators.as_ref().expect("indicators");
    assert_eq!(ind.timeframe, "M5");
    assert_eq!(ind.captured_at, at("2025-10-28T14:00:00Z"));
    assert_eq!(ind.rsi_14, Some(dec("61.37")));
    assert_eq!(ind.macd.map(|m| m.hist), Some(Some(dec("0.00011"))));

    // EURUSD's currencies and the news block's (USD, GBP), within hours, as captured by
    // 14:00, with signed minutes until release.
    let events: Vec<(&str, i64, bool, Option<&str>)> = r
        .calendar
        .iter()
        .map(|e| {
            (
                e.event.currency.as_str(),
                e.minutes_until_release,
                e.in_news_block,
                e.actual.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("EUR", -10, false, Some("86.5")),
            ("GBP", 15, true, None),
            ("USD", 30, true, None),
        ]
    );
    let block = r.news_block.as_ref().expect("the strategy's news block");
    assert_eq!(
        (block.minutes, block.from, block.until),
        (30, at("2025-10-28T13:30:00Z"), at("2025-10-28T14:30:00Z"))
    );

    // Headlines for EURUSD, its currencies and the market, published and captured by 14:00.
    let news: Vec<&str> = r.news.iter().map(|h| h.headline.as_str()).collect();
    assert_eq!(
        news,
        [
            "ECB holds rates, signals patience",
            "Dollar firms before PCE",
            "Markets quiet into month end"
        ]
    );

    // The account row the snapshot_ref names, and the day up to it.
    let account = r.account.as_ref().expect("the account");
    assert_eq!(account.snapshot.id, id(SNAPSHOT));
    assert_eq!(account.source, AccountSource::SnapshotRef);
    assert_eq!(account.snapshot.equity, dec("10180.40"));
    assert_eq!(account.snapshot.margin_free, dec("9860.40"));
    let day = account.day.expect("the day's P/L");
    assert_eq!(day.opening_equity, dec("10000.00"));
    assert_eq!(day.day_pnl, dec("180.40"));
    assert_eq!(
        day.drawdown,
        dec("119.60"),
        "from the 13:00 peak; 14:10 not yet"
    );

    // The strategy as it was: renamed only the next day.
    let (strategy, as_of) = r.strategy.as_ref().expect("the strategy");
    assert_eq!(strategy.id, id(STRATEGY));
    assert_eq!(strategy.name, "London breakout");
    assert_eq!(
        *as_of,
        AsOf::ChangeAfter {
            changed_at: at("2025-10-29T09:00:00Z")
        }
    );

    // The Gate as of the approval: the limits of that morning, the switch raj resumed, the
    // order's lot; the BoE release ten minutes away is waived for a human.
    let gate = r.gate.as_ref().expect("the Gate");
    assert_eq!(gate.purpose, Purpose::HumanApproval);
    assert_eq!(gate.at, at("2025-10-28T14:05:00Z"));
    assert_eq!((gate.lot, gate.lot_from), (dec("0.30"), LotFrom::Execution));
    assert_eq!(gate.limits.max_lot_size, dec("0.75"));
    assert_eq!(
        gate.limits_as_of,
        AsOf::ChangeBefore {
            changed_at: at("2025-10-28T09:00:00Z")
        }
    );
    assert!(gate.limits.ai_trading_enabled, "resumed at 08:00");
    assert_eq!(
        gate.switch_as_of,
        SwitchAsOf::FlipBefore {
            occurred_at: at("2025-10-28T08:00:00Z")
        }
    );
    let verdict = |rule| gate.report.verdict(rule).expect("every rule is judged");
    assert!(
        verdict(Rule::LotSize).reason.contains("0.75 (risk_config)"),
        "{}",
        verdict(Rule::LotSize).reason
    );
    assert_eq!(verdict(Rule::NewsBlackout).outcome, Outcome::Waived);
    assert!(verdict(Rule::NewsBlackout).reason.contains("BoE Governor"));
    assert_eq!(
        verdict(Rule::MaxConcurrentTrades).reason,
        "1 of 2 trades are open (risk_config), 0 of 2 for the strategy (strategy cap)"
    );
    assert!(gate.report.passed());
    assert_eq!(gate.recorded.as_deref(), Some("pass"));

    let decided = r.decided.as_ref().expect("who decided");
    assert_eq!(decided.action, DecisionAction::HumanApproved);
    assert_eq!(decided.operator.as_deref(), Some("ann@desk.example"));
    let order = r.execution.as_ref().expect("the order");
    assert_eq!(order.id, id(ORDER));
    assert_eq!(order.broker_order_id.as_deref(), Some("MT5-88412"));
    assert_eq!(order.fill_price, Some(dec("1.085700")));
    assert_eq!(order.state, "filled");
}

#[tokio::test]
async fn an_ideas_replay_is_its_latest_decision_or_its_own_snapshot() {
    let (_db, _pool, store) = desk().await;
    let r = store.replay_idea(id(IDEA)).await.unwrap();
    assert_eq!(r.decision.map(|d| d.id), Some(id(APPROVED)));

    // The swing idea has no decision: its own snapshot and creation. H1 has no candles, so
    // the finest timeframe with some is shown, with its indicators.
    let r = store.replay_idea(id(SWING_IDEA)).await.unwrap();
    assert!(r.decision.is_none());
    assert_eq!(r.moment.at, at("2025-10-28T14:00:00Z"));
    assert_eq!(r.moment.decided_at, at("2025-10-28T14:02:00Z"));
    let market = r.market.as_ref().expect("candles");
    assert_eq!(
        (market.timeframe, market.choice),
        (
            Timeframe::M1,
            TimeframeChoice::Finest {
                wanted: Some(Timeframe::H1)
            }
        )
    );
    assert_eq!(market.candles.len(), 80);
    assert_eq!(market.candles[59].captured_at, at("2025-10-28T14:00:00Z"));
    assert_eq!(
        r.indicators.as_ref().map(|i| i.timeframe.as_str()),
        Some("M1")
    );
    let gate = r.gate.expect("the Gate");
    assert_eq!(gate.purpose, Purpose::Automatic);
    assert_eq!(
        (gate.lot, gate.lot_from),
        (dec("0.5"), LotFrom::Default),
        "the strategy's cap under the 0.75 of then"
    );
    assert!(r.decided.is_none() && r.execution.is_none());

    // The AI's own proposal is judged as an automatic execution.
    let r = store.replay(id(PROPOSED)).await.unwrap();
    let gate = r.gate.expect("the Gate");
    assert_eq!(gate.purpose, Purpose::Automatic);
    assert_eq!(gate.recorded.as_deref(), Some("fail:news_blackout"));
    assert_eq!(
        gate.report.verdict(Rule::NewsBlackout).map(|v| v.outcome),
        Some(Outcome::Fail),
        "BoE at 14:15 is inside the 30-minute block around 14:01"
    );
    assert_eq!(
        r.decided.map(|d| d.decision),
        Some(id(APPROVED)),
        "who decided the idea later"
    );
}

#[tokio::test]
async fn a_global_halt_replays_the_account_and_the_market_wide_context() {
    let (_db, _pool, store) = desk().await;
    let r = store.replay(id(HALTED)).await.unwrap();
    assert!(r.idea.is_none() && r.gate.is_none() && r.market.is_none());
    assert!(r.missing.is_empty(), "{:?}", r.missing);
    assert_eq!(r.moment.source, MomentSource::DecisionOccurred);
    assert_eq!(r.moment.at, at("2025-10-28T14:30:00Z"));
    let account = r.account.as_ref().expect("the account then");
    assert_eq!(account.source, AccountSource::LastBefore);
    assert_eq!(account.snapshot.captured_at, at("2025-10-28T14:10:00Z"));
    // Every currency's events: the yen's too.
    let currencies: Vec<&str> = r
        .calendar
        .iter()
        .map(|e| e.event.currency.as_str())
        .collect();
    assert_eq!(currencies, ["EUR", "EUR", "GBP", "JPY", "USD"]);
    let pce = r.calendar.last().expect("PCE");
    assert_eq!(pce.minutes_until_release, 0);
    assert_eq!(pce.actual, None, "its actual was captured a minute later");
    assert!(
        r.news
            .iter()
            .any(|h| h.headline == "Yen slides as BoJ holds")
    );
    assert!(
        !r.news
            .iter()
            .any(|h| h.headline == "PCE hotter than expected")
    );
}

#[tokio::test]
async fn removed_snapshot_rows_leave_the_rest_and_are_named() {
    let (_db, pool, store) = desk().await;
    sqlx::raw_sql(CLEANED).execute(&pool).await.unwrap();
    let r = store.replay(id(APPROVED)).await.unwrap();
    assert_eq!(
        r.missing,
        [Part::Market, Part::Indicators, Part::News, Part::Account]
    );
    // Without its account row the moment is the idea's creation.
    assert_eq!(r.moment.source, MomentSource::IdeaCreated);
    assert_eq!(r.moment.at, at("2025-10-28T14:01:00Z"));
    let minutes: Vec<i64> = r.calendar.iter().map(|e| e.minutes_until_release).collect();
    assert_eq!(minutes, [-11, 14, 29]);
    assert!(r.gate.is_some() && r.strategy.is_some() && r.execution.is_some());

    let missing = store.replay(Uuid::nil()).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
}

async fn cli() -> Cli {
    let (db, _pool, store) = desk().await;
    store.pool().close().await;
    Cli {
        db,
        home: tempfile::tempdir().unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_prints_a_replay_as_text_and_as_json() {
    let cli = cli().await;
    // Named by its short id, as the timeline shows it (its last 8 digits).
    let run = cli.run(&["replay", "3b4c5d6e"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    if std::env::var_os("REPLAY_SHOW").is_some() {
        println!("{}", run.out);
        println!("{}", cli.run(&["replay", "3b4c5d6e", "--json"]).out);
    }
    for line in [
        "Replay of decision 3b4c5d6e — human_approved EURUSD at 2025-10-28 14:05:00 UTC",
        "The AI looked at 2025-10-28 14:00:00 UTC (its snapshot's capture).",
        "Market     EURUSD M5 (from the idea's hold): 80 candles, 09:05 – 15:40 UTC",
        "Indicators M5 at 14:00 UTC (0 min before): RSI 14 61.37",
        "Calendar   news block: 30 min either side, 13:30 – 14:30 UTC, for USD, GBP",
        "Account    snapshot 9a8b7c6d at 14:00 UTC: balance 10250.00 · equity 10180.40",
        "           day P/L +180.40",
        "Strategy   London breakout (active) — as before the change of 2025-10-29 09:00 UTC",
        "Gate       re-run as of 2025-10-28 14:05:00 UTC as a human approval, lot 0.30 (the order's): pass (recorded then: pass)",
        "Decided    approved by ann@desk.example at 2025-10-28 14:05:00 UTC",
        "Execution  order 7f8a9b0c · filled · lot 0.30 · broker order MT5-88412 · fill 1.0857",
    ] {
        assert!(run.out.contains(line), "no {line:?} in:\n{}", run.out);
    }
    assert!(
        run.out
            .lines()
            .any(|l| l.contains("+15 min") && l.contains("GBP") && l.contains("HIGH")),
        "{}",
        run.out
    );
    assert!(!run.out.contains("MISSING"));

    let run = cli.run(&["replay", APPROVED, "--json"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let v = json(&run.out);
    for key in [
        "decision",
        "idea",
        "strategy",
        "market",
        "indicators",
        "calendar",
        "news",
        "account",
        "gate",
        "execution",
        "missing",
    ] {
        assert!(v.get(key).is_some(), "no {key} in {v}");
    }
    assert_eq!(v["market"]["candles"].as_array().map(Vec::len), Some(80));
    assert_eq!(v["calendar"][1]["currency"], "GBP");
    assert_eq!(v["calendar"][1]["minutes_until_release"], 15);
    assert_eq!(v["calendar"][0]["minutes_until_release"], -10);
    assert_eq!(v["account"]["snapshot"]["id"], SNAPSHOT);
    assert_eq!(v["account"]["day"]["day_pnl"], "180.40");
    assert_eq!(v["gate"]["purpose"], "human_approval");
    assert_eq!(v["gate"]["verdicts"].as_array().map(Vec::len), Some(10));
    assert_eq!(v["execution"]["broker_order_id"], "MT5-88412");
    assert_eq!(v["missing"], serde_json::json!([]));
    assert!(v.get("error").is_none());

    let run = cli.run(&["replay", "ffffffff"]);
    assert_eq!(run.code, 4, "{}", run.err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_replay_is_printed_and_exits_snapshot_not_found() {
    let cli = cli().await;
    let pool = cli.db.pool().await;
    sqlx::raw_sql(CLEANED).execute(&pool).await.unwrap();

    let run = cli.run(&["replay", APPROVED, "--json"]);
    assert_eq!(run.code, 9, "{}{}", run.out, run.err);
    let v = json(&run.out);
    assert_eq!(
        v["missing"],
        serde_json::json!(["market", "indicators", "news", "account"])
    );
    assert_eq!(v["error"]["code"], "SNAPSHOT_NOT_FOUND");
    assert!(v["market"].is_null() && v["account"].is_null());
    assert_eq!(v["calendar"][0]["minutes_until_release"], -11);
    assert_eq!(v["idea"]["id"], IDEA);
    assert_eq!(v["moment"]["source"], "idea_created");

    let run = cli.run(&["replay", APPROVED]);
    assert_eq!(run.code, 9);
    assert!(
        run.out
            .contains("MISSING    market, indicators, news, account: their rows no longer exist."),
        "{}",
        run.out
    );
    assert!(run.out.contains("Calendar   news block"), "{}", run.out);
    assert!(
        run.err
            .contains("the replay is partial: the rows of market, indicators, news, account"),
        "{}",
        run.err
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn enter_on_an_idea_or_a_timeline_row_opens_its_replay_in_the_console() {
    let (db, _pool, store) = desk().await;
    store.pool().close().await;
    let mut console = Console::start(&db.url);
    console.wait_for("1 awaiting approval");

    // The idea awaiting approval is on top: it has no decision yet, so its own snapshot.
    console.keys("\r");
    let screen = console.wait_for("(no decision yet)");
    assert!(screen.contains("EURUSD M1"), "{screen}");
    assert!(screen.contains("Esc close"), "{screen}");
    console.keys("\x1b");
    console.wait_for("Trade ideas");

    // The approved one: its human approval, on M5, with its levels.
    console.keys("j\r");
    let screen = console.wait_for("REPLAY human_approved EURUSD 2025-10-28 14:05:00 UTC");
    assert!(screen.contains("EURUSD M5"), "{screen}");
    assert!(screen.contains("entry 1.08564"), "{screen}");
    assert!(screen.contains("▲14:00"), "{screen}");
    // q closes the replay, not the console.
    console.keys("q");
    console.wait_for("Trade ideas");

    // The newest row of the timeline: the global halt.
    console.keys("4\r");
    let screen = console.wait_for("REPLAY ai_halted (global)");
    assert!(screen.contains("A global decision"), "{screen}");
    console.keys("i");
    console.keys("q");
    console.wait_for("Decision timeline");
}
